"""The fashion_retail case: a Dutch clothing chain with a premium and a discount brand.

A different export style from the clinic (UTF-8 CSV with BOM, ',' separator, ISO dates,
dot decimals, English headers) and its own planted story (all numbers in ``truth.yml``):
- womenswear and menswear are regular lines with a loyalty threshold after the 4th visit;
  shoes repeat moderately without a threshold; accessories are one-off;
- men under 35 who enter through menswear go on to buy shoes far more often than others;
- one stylist holds 45% of the premium brand's womenswear customers;
- 25% of the premium webshop's carts come from price-sensitive shoppers (max price filter
  below the premium price floor): the double funnel;
- the premium funnel's bottleneck is cart -> checkout, the discount one's checkout -> order;
- three survey personas (trend seeker, bargain hunter, fit & quality) on a 1-5 scale;
- interview codes with an emotion curve dipping at the fitting rooms (trying on).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from toolkit.synthetic import retail_text
from toolkit.synthetic.build import CASE_STREAMS, Simulated
from toolkit.synthetic.common import LeadExport, customer_codes, day_text, lead_columns, mixed_date_cells, row_arrays
from toolkit.synthetic.dirty import SalesExportProblems, add_dirty_leads, add_dirty_transactions
from toolkit.synthetic.funnel import BrandFunnel, Segment, monthly_traffic, simulate_leads
from toolkit.synthetic.interviews import InterviewSpec, InterviewWorkbook
from toolkit.synthetic.reproducible import random_streams
from toolkit.synthetic.sales import CrossRule, Demography, LineSpec, SalesSpec, Service, simulate_sales
from toolkit.synthetic.survey import Persona, SurveySpec, SurveyWorkbook
from toolkit.synthetic.writers import Sheet, frame_sheet, write_csv, write_xlsx

NAME = "fashion_retail"
DEFAULT_SEED = 20260101
HISTORY_START = dt.date(2022, 10, 1)
AS_OF = dt.date(2025, 9, 30)
HORIZON = (AS_OF - HISTORY_START).days
MAX_GAP = 150
MIN_GAP = 3
GAP_SIGMA = 0.35
CROSS_DELAY = (7, 120)

BRANDS = ("atelier_nord", "nord_basics")
BRAND_NAME = {"atelier_nord": "Atelier Nord", "nord_basics": "Nord Basics"}
PRICE_FLOOR = {"atelier_nord": 60.0, "nord_basics": 10.0}
PRICE_LOST_REASONS = ("Too expensive", "Price too high")

S = Service
PREMIUM_STAFF = {
    "womenswear": (("Sofia Marin", 0.45), ("Emma de Vries", 0.20), ("Lotte Bakker", 0.20), ("Noah Jansen", 0.15)),
}
LINES = (
    LineSpec(
        id="womenswear", raw_names=(("Womenswear", 0.8), ("Women", 0.2)), repeat_kind="regular",
        p_return=(0.40, 0.50, 0.60, 0.80), stage_starts=(2, 4, 8), stage_medians=(70, 50, 32), loyalty_visit=4,
        entry_customers=5200, brands=(("atelier_nord", 0.45), ("nord_basics", 0.55)),
        staff={"atelier_nord": PREMIUM_STAFF["womenswear"],
               "nord_basics": (("Mila Visser", 0.30), ("Sara Smit", 0.25), ("Tess Mulder", 0.25), ("Julia Bos", 0.20))},
        main_services=(S("Dress", 79, 2), S("Blouse", 45, 2), S("Trousers", 55, 2), S("Knit sweater", 65, 1.5),
                       S("Coat", 159, 0.7), S("Skirt", 42, 1), S("Jeans", 59, 2), S("Blazer", 99, 0.8)),
        extra_services=(S("Scarf", 19), S("Tights", 9), S("Belt", 25), S("Camisole", 15)),
        price_multiplier={"atelier_nord": 2.2, "nord_basics": 0.6},
        first_rows=(0.55, 0.32, 0.13), later_rows=(0.55, 0.32, 0.13),
        demography=Demography(0.95, 36, 11, 16, 75), channels=(("store", 0.7), ("online", 0.3)),
    ),
    LineSpec(
        id="menswear", raw_names=(("Menswear", 0.8), ("Men", 0.2)), repeat_kind="regular",
        p_return=(0.32, 0.42, 0.50, 0.68), stage_starts=(2, 4, 8), stage_medians=(85, 65, 45), loyalty_visit=4,
        entry_customers=3000, brands=(("atelier_nord", 0.4), ("nord_basics", 0.6)),
        staff={"atelier_nord": (("Daan Meijer", 0.40), ("Luuk de Boer", 0.35), ("Sem Dekker", 0.25)),
               "nord_basics": (("Finn Vos", 0.50), ("Jesse Peters", 0.50))},
        main_services=(S("Shirt", 49, 2), S("Chinos", 59, 1.5), S("Jeans", 65, 2), S("Knit sweater", 69, 1),
                       S("Jacket", 149, 0.7), S("Suit", 249, 0.3), S("T-shirt", 19, 2)),
        extra_services=(S("Socks 3-pack", 12), S("Tie", 29), S("Belt", 35)),
        price_multiplier={"atelier_nord": 2.2, "nord_basics": 0.6},
        first_rows=(0.60, 0.30, 0.10), later_rows=(0.70, 0.25, 0.05),
        demography=Demography(0.12, 35, 12, 16, 80), channels=(("store", 0.65), ("online", 0.35)),
    ),
    LineSpec(
        id="shoes", raw_names=(("Shoes", 1.0),), repeat_kind="regular",
        p_return=(0.30, 0.35, 0.40, 0.42), stage_starts=(2,), stage_medians=(120,), loyalty_visit=None,
        entry_customers=1800, brands=(("atelier_nord", 0.4), ("nord_basics", 0.6)),
        staff={"atelier_nord": (("Eva Hendriks", 0.6), ("Anna Dijkstra", 0.4)), "nord_basics": (("Lisa Kok", 1.0),)},
        main_services=(S("Sneakers", 89, 2), S("Ankle boots", 129, 1), S("Loafers", 99, 1), S("Sandals", 59, 1),
                       S("Pumps", 95, 0.7)),
        extra_services=(S("Shoe care kit", 15), S("Insoles", 12)),
        price_multiplier={"atelier_nord": 2.0, "nord_basics": 0.6},
        first_rows=(0.85, 0.15), later_rows=(0.85, 0.15),
        demography=Demography(0.60, 34, 12, 16, 80), channels=(("store", 0.6), ("online", 0.4)),
    ),
    LineSpec(
        id="accessories", raw_names=(("Accessories", 1.0),), repeat_kind="one_off",
        p_return=(0.12, 0.10), stage_starts=(2,), stage_medians=(100,), loyalty_visit=None,
        entry_customers=1500, brands=(("atelier_nord", 0.45), ("nord_basics", 0.55)),
        staff={"atelier_nord": (("Emma de Vries", 0.5), ("Lotte Bakker", 0.5)),
               "nord_basics": (("Sara Smit", 0.5), ("Tess Mulder", 0.5))},
        main_services=(S("Handbag", 89, 1), S("Scarf", 29, 2), S("Sunglasses", 59, 1), S("Wallet", 49, 1),
                       S("Hat", 35, 1)),
        extra_services=(S("Gift box", 5), S("Keyring", 9)),
        price_multiplier={"atelier_nord": 2.0, "nord_basics": 0.6},
        first_rows=(0.80, 0.20), later_rows=(0.80, 0.20),
        demography=Demography(0.80, 33, 12, 16, 80), channels=(("store", 0.6), ("online", 0.4)),
    ),
)

CROSS_RULES = (
    CrossRule("menswear", "shoes", 0.35, 0.06, ("M", 0, 34), "men under 35", CROSS_DELAY),
    CrossRule("womenswear", "accessories", 0.20, 0.20, None, "", CROSS_DELAY),
    CrossRule("womenswear", "shoes", 0.10, 0.10, None, "", CROSS_DELAY),
    CrossRule("shoes", "accessories", 0.08, 0.08, None, "", CROSS_DELAY),
    CrossRule("accessories", "womenswear", 0.05, 0.05, None, "", CROSS_DELAY),
)

SALES = SalesSpec(
    history_start=HISTORY_START, as_of=AS_OF, lines=LINES, cross_rules=CROSS_RULES, brands=BRANDS,
    locations={"atelier_nord": (("Amsterdam Flagship", 0.6), ("Rotterdam", 0.4)),
               "nord_basics": (("Utrecht", 0.35), ("Eindhoven", 0.25), ("Almere", 0.20), ("The Hague", 0.20))},
    online_location="Webshop",
    cities=(("Amsterdam", 0.35), ("Rotterdam", 0.20), ("Utrecht", 0.15), ("The Hague", 0.12),
            ("Eindhoven", 0.10), ("Almere", 0.08)),
    first_sources=(("In store", 0.55), ("Webshop", 0.30), ("Instagram", 0.10), ("Referral", 0.05)),
    gap_sigma=GAP_SIGMA, min_gap=MIN_GAP, max_gap=MAX_GAP,
    discounts=((0.0, 0.70), (0.2, 0.18), (0.3, 0.12)), money_step=1.0, qty_probs=(0.90, 0.08, 0.02),
    price_ending=0.05,
)

FUNNEL_STAGES = ("cart", "checkout", "order", "kept")
DEAL_STAGE = 2  # "Order placed"
REVENUE_STAGE = 2
_TARGET_LOST = (
    (("Abandoned cart", 0.6), ("Size not available", 0.4)),
    (("Shipping cost", 0.5), ("Payment failed", 0.3), ("Abandoned checkout", 0.2)),
    (("Returned - fit", 0.7), ("Returned - quality", 0.3)),
)
_PRICE_LOST = ((("Too expensive", 0.6), ("Price too high", 0.4)),) * 3
FUNNELS = (
    BrandFunnel(
        brand="atelier_nord", leads=5000,
        stage_names=("Added to cart", "Checkout", "Order placed", "Delivered & kept"),
        sources=(("Google Ads", 0.35, 0.9), ("Organic search", 0.25, 1.0), ("Instagram", 0.25, 0.85),
                 ("Newsletter", 0.15, 1.3)),
        segments=(Segment("target", 0.75, (0.45, 0.55, 0.85), (70, 500), _TARGET_LOST, 0.10),
                  Segment("nontarget", 0.25, (0.22, 0.20, 0.80), (15, 55), _PRICE_LOST, 0.0)),
        blank_budget_share=0.40, budget_step=5,
    ),
    BrandFunnel(
        brand="nord_basics", leads=6000,
        stage_names=("ADD_TO_CART", "CHECKOUT_STARTED", "ORDER_PLACED", "DELIVERED"),
        sources=(("Google Ads", 0.40, 0.95), ("Organic search", 0.20, 1.0), ("Instagram", 0.30, 0.9),
                 ("Newsletter", 0.10, 1.2)),
        segments=(Segment("target", 1.0, (0.60, 0.45, 0.88), (20, 150),
                          ((("Abandoned cart", 0.7), ("Size not available", 0.3)),
                           (("Shipping cost", 0.7), ("Payment failed", 0.3)),
                           (("Returned - fit", 0.6), ("Returned - quality", 0.4))), 0.10),),
        blank_budget_share=0.50, budget_step=5,
    ),
)

TRAFFIC_BASE = {"atelier_nord": 60_000, "nord_basics": 25_000}
TRAFFIC_SOURCES = (("Organic", 0.40), ("Paid", 0.30), ("Social", 0.20), ("Email", 0.10))

FACTORS = (
    ("price", "Price"), ("brand", "Brand"), ("quality", "Quality"), ("fit", "Fit"),
    ("style_newness", "New styles"), ("discounts", "Discounts"), ("service", "Service"),
    ("store_location", "Store location"), ("online_convenience", "Online shopping"), ("return_policy", "Return policy"),
)
SURVEY_TOUCHPOINTS = (
    ("webshop", "Webshop", 3.9, True), ("social", "Instagram", 4.0, True), ("shop_window", "Shop window", 4.2, True),
    ("sales_floor", "Sales floor", 3.7, False), ("fitting_rooms", "Fitting rooms", 2.7, False),
    ("staff", "Staff", 4.1, False), ("checkout", "Checkout", 3.3, False), ("returns", "Returns", 3.1, False),
    ("loyalty_card", "Loyalty card", 3.9, False),
)
PERSONAS = (
    Persona("trend", "Trend seeker",
            dict(price=2.0, brand=4.6, quality=3.8, fit=3.5, style_newness=4.8, discounts=1.8, service=4.0,
                 store_location=3.0, online_convenience=3.8, return_policy=3.0), (80, 400), 0.85, (18, 45)),
    Persona("bargain", "Bargain hunter",
            dict(price=4.8, brand=1.8, quality=2.8, fit=3.2, style_newness=2.5, discounts=4.8, service=2.5,
                 store_location=3.8, online_convenience=4.2, return_policy=4.2), (15, 80), 0.70, (18, 65)),
    Persona("fit", "Fit & quality",
            dict(price=3.0, brand=3.0, quality=4.8, fit=4.9, style_newness=2.6, discounts=2.5, service=4.4,
                 store_location=3.5, online_convenience=2.5, return_policy=3.8), (60, 250), 0.65, (30, 70)),
)
SURVEY = SurveySpec(
    respondents=300, scale=(1, 5), noise_sd=0.6, factors=tuple(f for f, _ in FACTORS), personas=PERSONAS,
    brands=(("atelier_nord", 0.5, {"trend": 0.55, "fit": 0.40, "bargain": 0.05}),
            ("nord_basics", 0.5, {"bargain": 0.75, "fit": 0.15, "trend": 0.10})),
    client_share=0.65, touchpoints=tuple((t, mu, nc) for t, _, mu, nc in SURVEY_TOUCHPOINTS), sat_sd=0.8,
    nps_mean={"atelier_nord": 8.0, "nord_basics": 7.0}, nps_sd=2.0, budget_step=5, blank_budget_share=0.15,
)
IMP_COLUMN = "Importance - {}"
SURVEY_WORKBOOK = SurveyWorkbook(
    sheet="Responses", questionnaire_id="S{:04d}", respondent="Respondent", client="Customer", yes_no=("Yes", "No"),
    brand="Brand", gender="Gender", female_male=("Female", "Male"), age="Age", budget="Budget per visit (EUR)",
    importance=IMP_COLUMN, satisfaction="Satisfaction - {}", nps="How likely are you to recommend us? (0-10)",
    resubmit_shifts=(-1, 1),
)

JOURNEY = (("store_visit", "Store visit", "Store"), ("trying_on", "Trying on", "Fitting room"),
           ("decision", "Decision", "Choice"), ("payment", "Payment", "Checkout"),
           ("after_sale", "After-sale service", "After sale"))
INTERVIEWS = InterviewSpec(
    respondents=30, id_prefix="P",
    personas=(("trend", "Trend seeker", 0.33), ("bargain", "Bargain hunter", 0.34), ("fit", "Fit & quality", 0.33)),
    brands={"trend": (("Atelier Nord", 0.85), ("Nord Basics", 0.15)),
            "bargain": (("Nord Basics", 0.85), ("Atelier Nord", 0.15)),
            "fit": (("Atelier Nord", 0.5), ("Nord Basics", 0.5))},
    lines={"Atelier Nord": (("Womenswear", 0.5), ("Menswear", 0.25), ("Shoes", 0.15), ("Accessories", 0.10)),
           "Nord Basics": (("Womenswear", 0.5), ("Menswear", 0.3), ("Shoes", 0.2))},
    client_share=0.7, female_share=0.7, age_range=(19, 66), codes=retail_text.CODES,
    stages=tuple(s for s, _, _ in JOURNEY),
)
INTERVIEW_WORKBOOK = InterviewWorkbook(
    respondents_sheet="Respondents",
    respondent_header=("Respondent", "Brand", "Category", "Persona", "Customer", "Gender", "Age"),
    yes_no=("yes", "no"), female_male=("F", "M"),
    codes_sheet="Codes",
    code_header=("Respondent", "Stage", "Code type", "Code", "Touchpoint", "Sentiment", "Hard/soft", "Level", "Quote"),
    code_widths=(11, 18, 13, 24, 16, 10, 10, 10, 80),
)

# How the exports spell dates and session numbers.
DATE_FORMAT = "%Y-%m-%d"
LEAD_ID_PREFIXES, LEAD_ID_WIDTH = ("AN-S", "NB-S"), 6

DIRTY = {
    "transactions": {"duplicate": 15, "refund": 25, "missing_customer_id": 30, "bad_date": 4,
                     "future_date": 5, "bad_amount": 6},
    "leads": {"duplicate_id": 10, "unknown_stage": 6, "bad_date": 3},
    "codes": {"unknown_stage": 4, "sentiment_out_of_range": 2},
    "survey": {"duplicate_id": 7},
}
BAD_DATES = ("2024-02-30", "2025-13-01", "2024-00-12", "2023-06-31")
BAD_AMOUNTS = ("#N/A", "n/a", "ERR", "VOID?")
UNKNOWN_LEAD_STAGES = ("TEST_ORDER", "Fraud check")
UNKNOWN_CODE_STAGES = ("Other", "General")
OUT_OF_RANGE_SENTIMENTS = (3, -5)
# a refund is a return of that line 1-28 days later; a row without the card was paid without
# scanning it; future dates are pre-orders dated on their delivery day
RECEIPTS_PROBLEMS = SalesExportProblems(
    date="date", amount="net_amount_eur", customer=("loyalty_card", "customer_email"), bad_dates=BAD_DATES,
    bad_amounts=BAD_AMOUNTS, refund_days=(1, 28), future_days=(1, 44))
SESSIONS_EXPORT = LeadExport(
    id="Session ID", date="Date", brand="Brand", source="Traffic source", stage="Furthest step",
    lost_reason="Drop-off reason",
    customer=None, id_prefixes=LEAD_ID_PREFIXES, id_width=LEAD_ID_WIDTH,
    unknown_stages=UNKNOWN_LEAD_STAGES, bad_dates=BAD_DATES)

# What truth.yml highlights, and case details its shared sections need.
LANGUAGE, CURRENCY = "en", "EUR"
CROSS_HEADLINE = {"from_line": "menswear", "to_line": "shoes", "group": "men under 35", "group_rate": 0.35,
                  "other_rate": 0.06, "order": "shoes after menswear"}
STAFF_HEADLINE = {"business_line": "womenswear", "brand": "atelier_nord", "top_staff": "Sofia Marin",
                  "top_staff_share_of_repeat_customers": 0.45,
                  "definition": ("share of the brand's womenswear repeat customers (2+ visits, at least one "
                                 "in store) whose associate is top_staff; online visits have no associate")}
AVG_CHECK_LINE = 0  # womenswear
AVG_CHECK_DEFINITION = "mean revenue of one womenswear visit (customer-day, all its receipt lines) at the budget brand"
LOWEST_TOUCHPOINT = "fitting_rooms"
SCRUB_TARGETS = {"phone_in_quote": "+31 6 1234 5678", "email_in_quote": "support@shop.example",
                 "special_characters": [">", "&"]}

TRUTH_HEADER = """\
# truth.yml — every value planted in this synthetic case, for tests and for training.
# Written by toolkit.synthetic (python -m toolkit.synthetic fashion_retail); do not edit by hand.
#
# Conventions:
# - a *visit* is one loyalty-card holder's day in one category (business line); a visit has
#   1-3 receipt lines;
# - p_return["n"] = planted probability that a customer with visit n in a line makes visit n+1;
# - every gap between visits is at most loyalty.max_gap_days, so p_return can be estimated
#   without censoring bias on customers whose visit n is at least max_gap_days before as_of
#   ("eligible"); median_gap_days["n"] is the gap before visit n, measured on returns after an
#   eligible visit n-1;
# - "planted" values are the generator's parameters; "observed" values are measured on the
#   clean simulated data (they carry sampling noise);
# - the funnel (stage reached per segment and source) and the premium brand's non-target
#   segment are planted by exact quotas: their observed values equal the planted ones up to
#   rounding; the other observed values carry sampling noise;
# - data_quality counts the dirty rows written into the raw files, per table and reason.
"""


def simulate(seed: int, scale: float) -> Simulated:
    """Webshop sessions and the sales history, independent of each other (sessions are not
    linked to loyalty cards)."""
    rs = random_streams(seed, CASE_STREAMS)
    leads = simulate_leads(FUNNELS, rs["leads"], scale, HORIZON)
    sales = simulate_sales(SALES, rs["sales"], scale)
    codes = customer_codes(sales, 8, rs["codes"], prefix="25")
    return Simulated(rs, leads, sales, codes)


def _iso(days: np.ndarray) -> np.ndarray:
    return day_text(HISTORY_START, days, DATE_FORMAT)


def write_sales_exports(raw: Path, sim: Simulated, scale: float) -> tuple[dict, dict]:
    """The chain's own exports: receipts.csv, loyalty_members.xlsx, online_funnel.xlsx, traffic.csv."""
    rs, sales, codes = sim.streams, sim.sales, sim.codes
    counts = {"transactions": _write_receipts(raw / "receipts.csv", sales, codes, rs)}
    _write_customers(raw / "loyalty_members.xlsx", sales, codes, rs)
    counts["leads"] = _write_funnel(raw / "online_funnel.xlsx", sim.leads, rs)
    traffic = _write_traffic(raw / "traffic.csv", rs["traffic"], scale)
    return counts, traffic


def _write_receipts(path: Path, sales, codes, rs) -> dict:
    """receipts.csv as the POS/webshop data warehouse exports it: UTF-8 with BOM, ',', ISO dates,
    one row per receipt line, e-mail only on online orders. Dirty rows as in the clinic case."""
    rng = rs["people"]
    rows = row_arrays(sales, SALES)
    n = rows["day"].size
    # one receipt per visit, numbered by date within brand
    v_brand = sales.j_brand[sales.v_journey]
    v_order = np.lexsort((np.arange(v_brand.size), sales.v_day))
    receipt_seq = np.empty(v_brand.size, dtype=np.int64)
    for b in range(len(BRANDS)):
        sel = v_order[v_brand[v_order] == b]
        receipt_seq[sel] = 100_000 + np.arange(sel.size)
    prefix = np.array(["AN", "NB"], dtype=object)[v_brand]
    receipt_no = prefix + "-" + pd.Series(receipt_seq).astype(str).to_numpy(dtype=object)
    first_row = np.r_[0, np.flatnonzero(np.diff(rows["visit"])) + 1]
    line_no = np.arange(n) - np.repeat(first_row, np.diff(np.r_[first_row, n]))
    # each brand's POS spells the categories its own way ("Womenswear" vs "Women")
    line_raw = np.empty(n, dtype=object)
    for li, ln in enumerate(LINES):
        for bi in range(len(BRANDS)):
            sel = (rows["line"] == li) & (rows["brand"] == bi)
            line_raw[sel] = ln.raw_names[min(bi, len(ln.raw_names) - 1)][0]
    online = sales.channel_names[rows["channel"]] == "online"
    stem = pd.Series(codes).str[-6:].to_numpy(dtype=object)
    email = np.where(online, "member" + stem[rows["customer"]] + "@mail.example", "")
    staff = np.where(rows["staff"] >= 0, sales.staff_names[np.maximum(rows["staff"], 0)], "")
    receipt = receipt_no[rows["visit"]]
    frame = pd.DataFrame({
        "receipt_line_id": receipt + "-" + pd.Series(line_no + 1).astype(str).to_numpy(dtype=object),
        "receipt_no": receipt,
        "date": _iso(rows["day"]),
        "store": sales.location_names[rows["location"]],
        "channel": np.where(online, "Online", "Store"),
        "loyalty_card": codes[rows["customer"]],
        "customer_email": email,
        "brand": np.array([BRAND_NAME[b] for b in BRANDS], dtype=object)[rows["brand"]],
        "category": line_raw,
        "item": sales.service_names[rows["service"]],
        "associate": staff,
        "qty": rows["qty"].astype(str),
        "net_amount_eur": pd.Series(rows["amount"]).map("{:.2f}".format).to_numpy(dtype=object),
    })
    order = np.lexsort((line_no, receipt, rows["day"]))
    frame = frame.iloc[order].reset_index(drop=True)
    frame = add_dirty_transactions(frame, rows["day"][order], rows["amount"][order], DIRTY["transactions"],
                                   rs["dirty"], HORIZON, RECEIPTS_PROBLEMS, _iso,
                                   lambda v: [f"{a:.2f}" for a in v], _return_receipt)
    write_csv(path, frame, sep=",", encoding="utf-8-sig", crlf=False)  # utf-8-sig: with a BOM
    return {"rows_clean": int(n), "rows_written": int(len(frame))}


def _return_receipt(copy: pd.DataFrame, start: int) -> pd.DataFrame:
    """Dirty receipt lines get receipts of their own (RT-900001, ...), numbered in order."""
    new_receipt = np.array([f"RT-{900_000 + 1 + start + i}" for i in range(len(copy))], dtype=object)
    copy["receipt_no"] = new_receipt
    copy["receipt_line_id"] = new_receipt + "-1"
    return copy


def _write_customers(path: Path, sales, codes, rs) -> None:
    rng = rs["people"]
    n = sales.n_customers
    first_f = np.array(["Anna", "Emma", "Sophie", "Julia", "Lisa", "Eva", "Sara", "Noor", "Fleur", "Iris",
                        "Lotte", "Anouk", "Femke", "Maud", "Roos"], dtype=object)
    first_m = np.array(["Daan", "Sem", "Lucas", "Milan", "Levi", "Thomas", "Bram", "Ruben", "Jesse", "Tim",
                        "Lars", "Niels", "Jasper"], dtype=object)
    last = np.array(["de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Janssen", "Visser",
                     "Smit", "Meijer", "de Boer", "Mulder", "de Groot", "Bos", "Vos", "Peters", "Hendriks",
                     "van Leeuwen", "Dekker", "Brouwer", "de Wit", "Dijkstra", "Smits", "de Graaf"], dtype=object)
    female = sales.gender == "F"
    first = np.where(female, first_f[rng.integers(0, first_f.size, n)], first_m[rng.integers(0, first_m.size, n)])
    surname = last[rng.integers(0, last.size, n)]
    stem = pd.Series(codes).str[-6:].to_numpy(dtype=object)
    email = np.where(rng.random(n) < 0.15, None, "member" + stem + "@mail.example")
    phone = ("+31 6 " + pd.Series(rng.integers(10_000_000, 99_999_999, n)).astype(str)).to_numpy(dtype=object)
    gender = np.where(female, "Female", "Male").astype(object)
    # a few members did not fill in the gender or the year of birth
    gender = np.where(rng.random(n) < 0.03, None, gender)
    year = np.where(rng.random(n) < 0.05, None, sales.birth_year.astype(object))
    order = np.argsort(codes.astype(str), kind="stable")
    cols = ["card_no", "first_name", "last_name", "email", "phone", "gender", "year_of_birth", "city", "signup_source"]
    data = [codes, first, surname, email, phone, gender, year, sales.city, sales.first_source]
    write_xlsx(path, [Sheet("Members", cols, [list(c[order]) for c in data], widths=[13, 12, 14, 26, 16, 8, 12, 12, 14])])


def _write_funnel(path: Path, leads, rs) -> dict:
    """online_funnel.xlsx: one row per webshop session that put something in the cart."""
    rng = rs["dirty"]
    n = leads.day.size
    date_cells = mixed_date_cells(HISTORY_START, leads.day, rng.random(n) < 0.25, DATE_FORMAT)
    email = np.where(rng.random(n) < 0.5, None,
                     "shopper" + pd.Series(rng.integers(100_000, 999_999, n)).astype(str).to_numpy(dtype=object)
                     + "@mail.example")
    frame = pd.DataFrame({
        **lead_columns(leads, date_cells, FUNNELS, BRAND_NAME, SESSIONS_EXPORT),
        "Max price filter (EUR)": np.where(np.isnan(leads.budget), None, leads.budget.astype(object)),
        "Customer e-mail": email,
    })
    frame = add_dirty_leads(frame, leads, DIRTY["leads"], rng, FUNNELS, BRAND_NAME, SESSIONS_EXPORT)
    write_xlsx(path, [frame_sheet("Sessions", frame, date_format="yyyy-mm-dd",
                                  widths=[14, 12, 14, 16, 18, 20, 20, 28])])
    return {"rows_clean": int(n), "rows_written": int(len(frame))}


def _write_traffic(path: Path, rng, scale: float) -> dict:
    months = pd.period_range(HISTORY_START, AS_OF, freq="M")
    # fashion seasonality: peaks around the sales (January, July) and before Christmas
    season = 1 + 0.12 * np.cos(2 * np.pi * (months.month.to_numpy() - 1) / 6)
    frame, truth = monthly_traffic(months, season, TRAFFIC_BASE, TRAFFIC_SOURCES, scale, rng, months.strftime("%Y-%m"),
                                   BRAND_NAME, ("month", "brand", "channel_group", "sessions"))
    write_csv(path, frame, sep=",", encoding="utf-8", crlf=False)
    return truth


__all__ = ["simulate", "write_sales_exports", "DEFAULT_SEED", "NAME"]
