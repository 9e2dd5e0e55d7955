"""A small hand-made run folder: for the report's tests and for previewing a restyled template
without running a whole case (``python -m toolkit.report.sample OUT_DIR [ru|en]`` writes the
folder and renders ``OUT_DIR/report.docx``).

Every number here is invented for the preview and written out by hand or by plain
arithmetic from the hand-made counts (Wilson intervals via ``toolkit.core.stats``); the shapes
follow the analysis modules' outputs and METRICS.md, so the report reads it exactly as it
reads a real run.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from toolkit.core.run_folder import RunFolder, write_json
from toolkit.core.config import Case, parse_case
from toolkit.core.stats import wilson_interval
from toolkit.core.words import word

# a quote that must come out literally: XML specials and template-like braces
TRICKY_QUOTE = "Цена < обещанной & «{{ акция }}» не сработала, {% if %} — так и написали"

STAGES = ["framing", "evaluation", "deal", "experience", "trigger", "loyalty_loop"]
STAGE_NAMES = {
    "ru": ["Первичное осмысление", "Оценка", "Сделка", "Опыт", "Триггер", "Петля лояльности"],
    "en": ["Primary framing", "Evaluation", "Deal", "Experience", "Trigger", "Loyalty loop"],
}


def sample_case(language: str = "ru") -> Case:
    """The preview engagement: two brands, three business lines, the normative six stages."""
    ru = language == "ru"
    return parse_case(
        {
            "client": "Группа клиник «Эстетика» & партнёры" if ru else "Aesthetica & Partners clinic group",
            "title": "Карта пути пациента" if ru else "Patient journey map",
            "language": language,
            "currency": "RUB",
            "as_of": "2025-06-30",
            "brands": [
                {"id": "aesthetica", "name": "Эстетика" if ru else "Aesthetica", "role": "premium", "price_floor": 150000},
                {"id": "beauty_lab", "name": "Бьюти Лаб" if ru else "Beauty Lab", "role": "budget"},
            ],
            "business_lines": [
                {"id": "cosmetology", "name": "Косметология" if ru else "Cosmetology", "repeat_kind": "regular"},
                {"id": "dentistry", "name": "Стоматология" if ru else "Dentistry", "repeat_kind": "regular"},
                {"id": "plastic_surgery", "name": "Пластическая хирургия" if ru else "Plastic surgery",
                 "repeat_kind": "one_off"},
                {"id": "trichology", "name": "Трихология" if ru else "Trichology", "repeat_kind": "regular"},
            ],
            "funnel_stages": [
                {"id": "request", "name": "Заявка" if ru else "Request", "journey_stage": "evaluation"},
                {"id": "consultation", "name": "Консультация" if ru else "Consultation", "journey_stage": "evaluation"},
                {"id": "deal", "name": "Сделка" if ru else "Deal", "journey_stage": "deal"},
            ],
            "choice_factors": [
                {"id": "price", "name": "Цена" if ru else "Price", "kind": "hard"},
                {"id": "brand", "name": "Бренд клиники" if ru else "Clinic brand", "kind": "soft"},
                {"id": "doctor", "name": "Врач" if ru else "Doctor", "kind": "soft", "level": "doctor"},
                {"id": "reviews", "name": "Отзывы" if ru else "Reviews", "kind": "soft"},
                {"id": "location", "name": "Расположение" if ru else "Location", "kind": "hard"},
            ],
            "touchpoints": [
                {"id": "site", "name": "Сайт" if ru else "Website", "channel": "online", "stage": "framing"},
                {"id": "call_center", "name": "Колл-центр" if ru else "Call centre", "stage": "evaluation"},
                {"id": "reception", "name": "Ресепшн" if ru else "Reception", "stage": "experience"},
            ],
            "sources": {},
            "parameters": {"price_lost_reasons": ["Дорого"]},
        }
    )


def _ci(k, n):
    lo, hi = wilson_interval(k, n)
    return [round(lo, 4), round(hi, 4)]


def _loy(customers, vpc, rpc, p, eligible, k, gaps, window=240):
    return {
        "customers": customers,
        "visits_per_customer": vpc,
        "revenue_per_customer": rpc,
        "p_return": {str(i + 1): v for i, v in enumerate(p)},
        "p_return_ci": {str(i + 1): _ci(round(v * e), e) if v is not None else None for i, (v, e) in enumerate(zip(p, eligible))},
        "eligible": {str(i + 1): e for i, e in enumerate(eligible)},
        "loyalty_visit": k,
        "median_gap_days": {str(i + 2): g for i, g in enumerate(gaps)},
        "return_window_days": window,
        "loyalty_stages": [1, 2, k] if k else [1, 2],
    }


P_OVERALL = [0.38, 0.52, 0.61, 0.68, 0.74, 0.81, 0.82, 0.83, 0.82, 0.83]
E_OVERALL = [9100, 3400, 1720, 1010, 680, 480, 370, 290, 220, 170]
P_COSMO = [0.42, 0.55, 0.63, 0.70, 0.77, 0.84, 0.85, 0.84, 0.85, 0.85]
E_COSMO = [5200, 2150, 1150, 700, 480, 350, 280, 220, 170, 130]
P_DENT = [0.35, 0.47, 0.55, 0.61, 0.66, 0.70, 0.78, 0.79, 0.78, 0.79]
E_DENT = [3300, 1130, 520, 280, 180, 118, 82, 61, 45, 33]
P_PLAST = [0.09, 0.20, None, None, None, None, None, None, None, None]
E_PLAST = [1400, 120, 22, 0, 0, 0, 0, 0, 0, 0]


def sample_metrics(case: Case) -> dict:
    """metrics.json of the preview run (METRICS.md shape; numbers invented)."""
    ru = case.language == "ru"
    rfm_counts = {"champions": 812, "loyal": 1240, "potential_loyalists": 1530, "new": 980, "promising": 610,
                  "need_attention": 540, "about_to_sleep": 720, "at_risk": 890, "cannot_lose": 25,
                  "hibernating": 1010, "lost": 1203}  # 9 560 customers
    rfm_rev = {"champions": 0.312, "loyal": 0.221, "potential_loyalists": 0.118, "new": 0.041, "promising": 0.022,
               "need_attention": 0.048, "about_to_sleep": 0.031, "at_risk": 0.095, "cannot_lose": 0.012,
               "hibernating": 0.058, "lost": 0.042}  # sums to 1
    total = sum(rfm_counts.values())
    rfm = {s: {"customers": c, "revenue_share": rfm_rev[s], "customer_share": round(c / total, 4), "small": c < 30}
           for s, c in rfm_counts.items()}
    personas = [
        {"persona": "P1", "id": "P1", "name": "Ценят врача и отзывы" if ru else "Value the doctor and reviews",
         "share": 0.4198, "share_ci": _ci(170, 405), "respondents": 170,
         "top_factors": ["doctor", "reviews", "price"],
         "top_factor_names": ["Врач", "Отзывы", "Цена"] if ru else ["Doctor", "Reviews", "Price"], "price_driven": False},
        {"persona": "P2", "id": "P2", "name": "Ищут выгодную цену" if ru else "Look for a good price",
         "share": 0.3309, "share_ci": _ci(134, 405), "respondents": 134,
         "top_factors": ["price", "location", "brand"],
         "top_factor_names": ["Цена", "Расположение", "Бренд клиники"] if ru else ["Price", "Location", "Clinic brand"],
         "price_driven": True},
        {"persona": "P3", "id": "P3", "name": "Выбирают бренд" if ru else "Choose the brand",
         "share": 0.2494, "share_ci": _ci(101, 405), "respondents": 101,
         "top_factors": ["brand", "doctor", "price"],
         "top_factor_names": ["Бренд клиники", "Врач", "Цена"] if ru else ["Clinic brand", "Doctor", "Price"],
         "price_driven": False},
    ]
    loyalty = {
        "overall": _loy(9560, 3.42, 48200.5, P_OVERALL, E_OVERALL, 6, [95, 80, 74, 70, 62, 55, 50, 45, 40]),
        "by_line": {
            "cosmetology": _loy(5600, 3.9, 41800.0, P_COSMO, E_COSMO, 6, [60, 52, 48, 45, 41, 38, 36, 35, 35]),
            "dentistry": _loy(3600, 2.8, 52300.0, P_DENT, E_DENT, 7, [120, 110, 100, 96, 90, 88, 85, 80, 80]),
            "plastic_surgery": _loy(1450, 1.12, 310000.0, P_PLAST, E_PLAST, None, [210, None, None, None, None,
                                                                                 None, None, None, None]),
        },
    }
    # scenarios: 4 600 premium leads a year x 31 % non-target x capture x 22 % conversion x 38 500 check
    scen = []
    for c in (0.1, 0.2, 0.3, 0.4, 0.5):
        leads = 4600 * 0.31 * c
        deals = leads * 0.22
        low, high = 4600 * c * 0.285 * 0.20 * 36900, 4600 * c * 0.336 * 0.24 * 40100
        scen.append({"capture_rate": c, "leads": leads, "deals": deals, "revenue": deals * 38500,
                     "revenue_low": low, "revenue_high": high, "incremental_deals": deals * 0.7,
                     "incremental_annual_revenue": {"estimate": deals * 0.7 * 38500, "low": low * 0.7, "high": high * 0.7}})
    rec_ru = ("Из 3 120 лидов Эстетики, по которым есть данные о платёжеспособности, 31% [29–34%] — нецелевые. "
              "Объединять бренды не стоит: развивайте Бьюти Лаб как вторую воронку для ценочувствительной аудитории.")
    rec_en = ("Of the 3,120 Aesthetica leads with evidence on what they can pay, 31% [29–34%] are non-target. "
              "Keep the brands separate and develop Beauty Lab as the second funnel for the price-sensitive audience.")
    barriers = [
        {"code": "high_price", "label": "Высокая цена" if ru else "High price", "stage": "evaluation", "respondents": 21,
         "share": 21 / 48, "ci": _ci(21, 48), "severity": -1.35, "annual_impact": {"estimate": 8_450_000.0, "low": 8_450_000.0 * 0.6, "high": 8_450_000.0 * 1.5}, "rank_basis": "money", "rank": 1, "base": 48,
         "evidence": "strong", "quotes": [TRICKY_QUOTE, "Дорого, ушла в другую клинику" if ru else "Too expensive, I went elsewhere"],
         "actions": ["Показать, из чего складывается цена" if ru else "Explain what the price is made of",
                     "Предложить рассрочку" if ru else "Offer instalments"]},
        {"code": "long_wait", "label": "Долгое ожидание" if ru else "Long wait", "stage": "experience", "respondents": 14,
         "share": 14 / 48, "ci": _ci(14, 48), "severity": -1.1, "annual_impact": {"estimate": 3_200_000.0, "low": 3_200_000.0 * 0.6, "high": 3_200_000.0 * 1.5}, "rank_basis": "money", "rank": 2, "base": 48,
         "evidence": "partial", "quotes": ["Ждала врача сорок минут" if ru else "I waited forty minutes for the doctor"],
         "actions": ["Измерять время ожидания" if ru else "Measure the waiting time"]},
        {"code": "no_callback", "label": "Не перезвонили" if ru else "No call back", "stage": "evaluation",
         "respondents": 11, "share": 11 / 48, "ci": _ci(11, 48), "severity": -1.6, "annual_impact": {"estimate": 2_100_000.0, "low": 2_100_000.0 * 0.6, "high": 2_100_000.0 * 1.5}, "rank_basis": "money",
         "rank": 3, "base": 48, "evidence": "partial", "quotes": [], "actions": []},
        {"code": "unclear_prices", "label": "Непонятные цены" if ru else "Unclear prices", "stage": "framing",
         "respondents": 9, "share": 9 / 48, "ci": _ci(9, 48), "severity": -0.8, "annual_impact": None, "rank_basis": "evidence", "rank": 4,
         "base": 48, "evidence": "partial", "quotes": ["На сайте нет цен" if ru else "No prices on the website"],
         "actions": ["Опубликовать цены «от»" if ru else "Publish 'from' prices"]},
        {"code": "parking", "label": "Нет парковки" if ru else "No parking", "stage": "experience", "respondents": 6,
         "share": 6 / 48, "ci": _ci(6, 48), "severity": -0.5, "annual_impact": None, "rank_basis": "evidence", "rank": 5, "base": 48,
         "evidence": "partial", "quotes": [], "actions": []},
    ]
    return {
        "case": {
            "name": "clinic_group", "client": case.client, "language": case.language, "currency": case.currency,
            "as_of": case.as_of.isoformat(), "toolkit_version": "0.1.0",
            "inputs": {
                "transactions": {"file": "raw/sales_2023_2025.csv", "sha256": "3f5a" + "0" * 56 + "c0de", "rows": 48210},
                "leads": {"file": "raw/leads.xlsx", "sha256": "9b1e" + "1" * 56 + "beef", "rows": 6120},
                "codes": {"file": "coding/codes.xlsx", "sha256": "77aa" + "2" * 56 + "f00d", "rows": 1450},
                "survey": {"file": "raw/survey.csv", "sha256": "c3d4" + "3" * 56 + "cafe", "rows": 412},
            },
        },
        "data_quality": {
            "transactions": {"rows_read": 48210, "rows_used": 47650,
                             "quarantined": {"duplicate": 312, "refund": 148, "missing_customer_id": 57,
                                             "bad_date": 31, "future_date": 12}},
            "leads": {"rows_read": 6120, "rows_used": 6088, "quarantined": {"duplicate_id": 20, "unknown_stage": 12}},
            "codes": {"rows_read": 1450, "rows_used": 1450, "quarantined": {}},
            "survey": {"rows_read": 412, "rows_used": 405, "quarantined": {"missing_respondent_id": 7}},
        },
        "money": {"period": {"start": "2024-07-01", "end": "2025-06-30", "months": 12}, "annual_revenue": 81_600_000.0,
                  "currency": case.currency, "basis": "annual, incremental against today"},
        "segments": {"rfm": rfm, "personas": personas, "k": 3, "k_method": "gap"},
        "loyalty": loyalty,
        "cross_penetration": {
            "cosmetology": {"dentistry": 0.18, "plastic_surgery": 0.04, "trichology": 0.003},
            "dentistry": {"cosmetology": 0.12, "plastic_surgery": 0.01, "trichology": 0.001},
            "plastic_surgery": {"cosmetology": 0.31, "dentistry": 0.02, "trichology": 0.0},
            "trichology": {"cosmetology": None, "dentistry": None, "plastic_surgery": None},  # base 22 < 30: hidden
        },
        "staff_dependency": {
            "cosmetology": {"top_staff": "S014", "top_staff_share_of_repeat_customers": 0.21, "repeat_customers": 2450,
                            "attached_share": 0.64, "top_staff_customers": 515, "top_staff_revenue": 31_500_000.0,
                            "top_staff_revenue_share": 0.134, "suppressed": None},
            "dentistry": {"top_staff": "S003", "top_staff_share_of_repeat_customers": 0.09, "repeat_customers": 1310,
                          "attached_share": 0.71, "top_staff_customers": 118, "top_staff_revenue": 9_800_000.0,
                          "top_staff_revenue_share": 0.052, "suppressed": None},
            "plastic_surgery": {"top_staff": None, "top_staff_share_of_repeat_customers": None, "repeat_customers": 12,
                                "attached_share": None, "top_staff_customers": 0, "top_staff_revenue": None,
                                "top_staff_revenue_share": None, "suppressed": "repeat customers 12 < min_segment_size 30"},
        },
        "funnel": {
            "aesthetica": {"stages": ["request", "consultation", "deal"],
                           "stage_names": ["Заявка", "Консультация", "Сделка"] if ru else ["Request", "Consultation", "Deal"],
                           "counts": [4200, 1890, 620], "conversion": [1890 / 4200, 620 / 1890],
                           "conversion_ci": [_ci(1890, 4200), _ci(620, 1890)],
                           "transitions": ["request->consultation", "consultation->deal"], "leads": 4200,
                           "lost_here": [2310, 1270, 0],
                           "bottleneck": {"from": "consultation", "to": "deal", "conversion": 620 / 1890,
                                          "reference": 418 / 1020, "reference_group": "beauty_lab",
                                          "lost_leads": (418 / 1020 - 620 / 1890) * 1890, "basis": "vs_best"}},
            "beauty_lab": {"stages": ["request", "consultation", "deal"],
                           "stage_names": ["Заявка", "Консультация", "Сделка"] if ru else ["Request", "Consultation", "Deal"],
                           "counts": [1888, 1020, 418], "conversion": [1020 / 1888, 418 / 1020],
                           "conversion_ci": [_ci(1020, 1888), _ci(418, 1020)],
                           "transitions": ["request->consultation", "consultation->deal"], "leads": 1888,
                           "lost_here": [868, 602, 0],
                           "bottleneck": {"from": "request", "to": "consultation", "conversion": 1020 / 1888,
                                          "reference": None, "reference_group": None, "lost_leads": 868,
                                          "basis": "largest_drop"}},
        },
        "barriers": barriers,
        "double_funnel": {
            "premium_brand": "aesthetica", "budget_brand": "beauty_lab", "premium_leads": 4200,
            "nontarget_share": 0.31, "nontarget_share_ci": [0.285, 0.336], "nontarget_conversion_now": 0.06,
            "budget_conversion": 0.22, "budget_avg_check": 38500.0, "scenarios": scen, "merge_brands": False, "material": True,
            "recommendation": rec_ru if ru else rec_en, "recommendation_ru": rec_ru, "recommendation_en": rec_en,
            "target_conversion_now": 0.19, "premium_leads_per_year": 4600.0, "evidence_leads": 3120,
            "budget_conversion_ci": [0.20, 0.24], "budget_avg_check_ci": [36900.0, 40100.0],
        },
        "profit": _sample_profit(),
    }


def _matrix(case: Case) -> pd.DataFrame:
    """A journey matrix for the overall segment and personas P1, P2 (``journey_matrix`` columns)."""
    from toolkit.core.stages import ROWS

    lang = case.language
    ru = lang == "ru"
    texts = {
        ("goals", "framing"): "Выглядеть моложе (14); Убрать боль (6)" if ru else "Look younger (14); Stop the pain (6)",
        ("touchpoints", "framing"): "Сайт (онлайн) (18); Отзывы (11); Инстаграм (7)" if ru else "Website (online) (18); Reviews (11); Instagram (7)",
        ("touchpoints", "evaluation"): "Колл-центр (22); Консультация врача (15)" if ru else "Call centre (22); Doctor's consultation (15)",
        ("choice_factors", "evaluation"): "Врач (19); Цена (17); Отзывы (12); Бренд (8)" if ru else "Doctor (19); Price (17); Reviews (12); Brand (8)",
        ("emotions", "evaluation"): "−0,45 [−0,80; −0,10], n=30; тревога (9)" if ru else "-0.45 [-0.80; -0.10], n=30; anxiety (9)",
        ("emotions", "experience"): "+0,85 [+0,50; +1,20], n=28; радость (12)" if ru else "+0.85 [+0.50; +1.20], n=28; joy (12)",
        ("barriers", "evaluation"): f"{'Высокая цена' if ru else 'High price'} (21); {'Не перезвонили' if ru else 'No call back'} (11)",
        ("barriers", "experience"): f"{'Долгое ожидание' if ru else 'Long wait'} (14); {'Нет парковки' if ru else 'No parking'} (6)",
        ("opportunities", "evaluation"): ("Идеи: рассрочка (5)\nРекомендации: Показать, из чего складывается цена | Предложить рассрочку"
                                          if ru else "Ideas: instalments (5)\nSuggested actions: Explain the price | Offer instalments"),
        ("kpis", "evaluation"): ("конверсия Заявка → Консультация: 45% [43%; 47%], N=4200" if ru
                                 else "conversion Request → Consultation: 45% [43%; 47%], N=4200"),
        ("kpis", "deal"): ("конверсия Консультация → Сделка: 33% [31%; 35%], N=1890" if ru
                           else "conversion Consultation → Deal: 33% [31%; 35%], N=1890"),
        ("motivators", "trigger"): "Напоминание о курсе (8)" if ru else "Course reminder (8)",
        ("expectations", "experience"): "Чистота & вежливость <без очередей> (10)" if ru else "Clean & polite <no queues> (10)",
    }
    evidence = {("goals", "framing"): "strong", ("touchpoints", "framing"): "strong", ("touchpoints", "evaluation"): "strong",
                ("choice_factors", "evaluation"): "strong", ("barriers", "evaluation"): "strong",
                ("kpis", "evaluation"): "strong", ("kpis", "deal"): "strong"}
    rows = []
    for seg_type, seg, n in (("overall", "all", 48), ("persona", "P1", 20), ("persona", "P2", 16)):
        for ri, r in enumerate(ROWS):
            for si, s in enumerate(STAGES):
                text = texts.get((r, s), "")
                ev = evidence.get((r, s), "partial" if text else "none")
                if seg != "all" and ev == "strong":
                    ev = "partial"
                rows.append({"segment_type": seg_type, "segment": seg, "segment_respondents": n, "stage": s,
                             "stage_name": STAGE_NAMES[lang][si], "stage_order": si, "row": r, "row_order": ri,
                             "text": text,
                             "respondents": 10.0 if text else 0.0, "base": n, "evidence": ev,
                             "unit": "records" if r == "kpis" else "respondents"})
    return pd.DataFrame(rows)


def _emotion(case: Case) -> pd.DataFrame:
    lang = case.language
    means = {"all": [0.2, -0.45, -0.2, 0.85, 0.4, 0.9], "P1": [0.3, -0.2, 0.0, 1.1, 0.5, 1.0],
             "P2": [0.1, -0.9, -0.6, 0.5, None, 0.6]}
    rows = []
    for seg, ms in means.items():
        for si, m in enumerate(ms):
            if m is None:
                continue
            rows.append({"source": "interviews", "segment_type": "overall" if seg == "all" else "persona", "segment": seg,
                         "stage": STAGES[si], "stage_name": STAGE_NAMES[lang][si], "stage_order": si, "mean": m,
                         "lo": m - 0.35, "hi": m + 0.35, "n": 30 if seg == "all" else 12, "evidence": "partial"})
    return pd.DataFrame(rows)


def _repeat_curve(metrics: dict) -> pd.DataFrame:
    rows = []
    loy = metrics["loyalty"]
    scopes = [("all_lines", loy["overall"])] + list(loy["by_line"].items())
    for scope, d in scopes:
        for n in range(1, 11):
            p = d["p_return"][str(n)]
            ci = d["p_return_ci"][str(n)] or [np.nan, np.nan]
            e = d["eligible"][str(n)]
            rows.append({"scope": scope, "visit_number": n, "eligible": e, "returned": round((p or 0) * e),
                         "p_return": p if (e and p is not None) else np.nan, "ci_lo": ci[0] if e else np.nan,
                         "ci_hi": ci[1] if e else np.nan, "return_window_days": 240})
    return pd.DataFrame(rows)


def _gaps(metrics: dict) -> pd.DataFrame:
    rows = []
    loy = metrics["loyalty"]
    for scope, d in [("all_lines", loy["overall"])] + list(loy["by_line"].items()):
        for n in range(2, 11):
            m = d["median_gap_days"][str(n)]
            rows.append({"scope": scope, "visit_number": n, "gaps": 0 if m is None else 100,
                         "gap_q25": None if m is None else m * 0.7, "gap_median": m,
                         "gap_q75": None if m is None else m * 1.4})
    return pd.DataFrame(rows)


def _loyalty_stages() -> pd.DataFrame:
    rows = [
        ("all_lines", "1", 1, 1, 9560, 0.38, 0.37, 0.39, 95.0, 60.0, 150.0, 21000.0),
        ("all_lines", "2-5", 2, 5, 3700, 0.61, 0.60, 0.62, 74.0, 50.0, 110.0, 23500.0),
        ("all_lines", "6+", 6, None, 560, 0.82, 0.80, 0.84, 48.0, 35.0, 66.0, 26100.0),
        ("cosmetology", "1", 1, 1, 5600, 0.42, 0.41, 0.43, 60.0, 40.0, 95.0, 9800.0),
        ("cosmetology", "2-5", 2, 5, 2400, 0.64, 0.63, 0.65, 48.0, 33.0, 70.0, 10400.0),
        ("cosmetology", "6+", 6, None, 410, 0.85, 0.83, 0.87, 36.0, 28.0, 45.0, 11200.0),
    ]
    cols = ["scope", "stage", "first_visit", "last_visit", "customers", "p_return", "ci_lo", "ci_hi", "gap_median",
            "gap_q25", "gap_q75", "average_check"]
    df = pd.DataFrame(rows, columns=cols)
    df["last_visit"] = df["last_visit"].astype("Int64")
    return df


def _crm(case: Case) -> pd.DataFrame:
    from toolkit.double_funnel.crm_spec import COLUMNS

    ru = case.language == "ru"
    rows = [
        {"order": 0, "stage": "framing", "stage_name": STAGE_NAMES[case.language][0], "kind": "metric",
         "metric_id": "traffic", "metric_ru": "Трафик (сессии сайта за период)", "metric_en": "Traffic (website sessions)",
         "value": 73000.0, "n": None, "touchpoints": "Сайт" if ru else "Website", "source": "profit"},
        {"order": 1, "stage": "evaluation", "stage_name": STAGE_NAMES[case.language][1], "kind": "metric",
         "metric_id": "traffic_to_lead", "metric_ru": "Конверсия трафика в лид", "metric_en": "Traffic -> lead conversion",
         "value": 0.0839, "ci_lo": 0.0819, "ci_hi": 0.0859, "n": 73000, "touchpoints": "Колл-центр" if ru else "Call centre",
         "source": "profit"},
        {"order": 2, "stage": "deal", "stage_name": STAGE_NAMES[case.language][2], "kind": "metric",
         "metric_id": "average_check", "metric_ru": "Средний чек", "metric_en": "Average check", "value": 33400.0,
         "ci_lo": 32800.0, "ci_hi": 34000.0, "n": 47650, "source": "profit"},
        {"order": 4, "stage": "trigger", "stage_name": STAGE_NAMES[case.language][4], "kind": "reminder",
         "scope": "cosmetology", "loyalty_stage": "2-5", "median_gap_days": 48.0, "send_day": 43,
         "action_ru": "Косметология, визиты 2-5: напоминание о записи на 43-й день после визита",
         "action_en": "Cosmetology, visits 2-5: booking reminder on day 43 after the visit", "n": 1500, "source": "loyalty"},
        {"order": 4, "stage": "trigger", "stage_name": STAGE_NAMES[case.language][4], "kind": "milestone",
         "scope": "cosmetology", "loyalty_stage": "6+", "send_day": 0,
         "action_ru": "Косметология: 6-й визит — клиент стал лояльным, приглашение в программу лояльности",
         "action_en": "Cosmetology: visit 6 -- the customer has become loyal; invitation to the loyalty programme",
         "source": "loyalty"},
        {"order": 5, "stage": "loyalty_loop", "stage_name": STAGE_NAMES[case.language][5], "kind": "placeholder",
         "metric_id": "touchpoint_satisfaction", "metric_ru": "Не измеряется: записывать оценку точек контакта этапа",
         "metric_en": "Not measured: record the rating of the stage's touchpoints", "source": "none"},
    ]
    return pd.DataFrame(rows).reindex(columns=COLUMNS)


def sample_tables(case: Case, metrics: dict) -> dict[str, pd.DataFrame]:
    """The parquet artifacts of the preview run, by artifact name."""
    lang = case.language
    factors = ["price", "brand", "doctor", "reviews", "location"]
    names = {f.id: f.label for f in case.choice_factors}
    z = {"P1": [-0.4, -0.2, 0.9, 0.7, -0.1], "P2": [1.1, -0.6, -0.5, -0.2, 0.6], "P3": [-0.9, 1.2, 0.3, -0.3, -0.5]}
    profile = pd.DataFrame([
        {"persona": p, "factor_id": f, "name": names[f], "order": i, "mean_z": v}
        for p, vs in z.items() for i, (f, v) in enumerate(zip(factors, vs))
    ])
    cross = []
    bases = {"cosmetology": 5600, "dentistry": 3600, "plastic_surgery": 1450, "trichology": 22}
    for a, d in metrics["cross_penetration"].items():
        for b, v in d.items():
            cross.append({"from_line": a, "to_line": b, "base": bases[a], "share_also": v,
                          "suppressed": None if v is not None else f"base {bases[a]} < min_segment_size 30"})
    staff = pd.DataFrame([{"business_line": k, **v} for k, v in metrics["staff_dependency"].items()])
    funnel = []
    for brand, f in metrics["funnel"].items():
        for i, s in enumerate(f["stages"]):
            ci = f["conversion_ci"][i] if i < len(f["conversion_ci"]) else [None, None]
            funnel.append({"brand": brand, "stage": s, "stage_name": f["stage_names"][i], "order": i,
                           "reached": f["counts"][i], "conversion": f["conversion"][i] if i < len(f["conversion"]) else None,
                           "ci_lo": ci[0], "ci_hi": ci[1]})
    barriers = pd.DataFrame(metrics["barriers"])
    barriers["segment_type"] = "overall"
    barriers["segment"] = "all"
    barriers["stage_name"] = barriers["stage"].map(dict(zip(STAGES, STAGE_NAMES[lang])))
    barriers["stage_order"] = barriers["stage"].map({s: i for i, s in enumerate(STAGES)})
    barriers["ci_lo"] = [c[0] for c in barriers["ci"]]
    barriers["ci_hi"] = [c[1] for c in barriers["ci"]]
    barriers = barriers.drop(columns="ci")
    quality = pd.DataFrame([
        {"table": "transactions", "file": "raw/sales_2023_2025.csv", "rows_read": 48210, "rows_used": 47650,
         "problem": "", "kind": "", "rows": 0},
        {"table": "transactions", "file": "raw/sales_2023_2025.csv", "rows_read": None, "rows_used": None,
         "problem": "bad_staff_id", "kind": "value blanked/kept", "rows": 44},
    ])
    ru_quotes = ["Врача выбирала по отзывам и фотографиям работ, это решило всё.",
                 "Дорого, но мне важно, чтобы потом не переделывать."]
    en_quotes = ["I picked the doctor by the reviews and the photos of her work.",
                 "It was expensive, but I do not want to redo it later."]
    quotes = pd.DataFrame({"segment_type": ["persona", "persona"], "segment": ["P1", "P2"],
                           "code": ["doctor_reviews", "good_result"], "respondents": [9, 7],
                           "quote": ru_quotes if case.language == "ru" else en_quotes})
    return {
        "segment_quotes": quotes,
        "journey_matrix": _matrix(case),
        "emotion_curve": _emotion(case),
        "repeat_curve": _repeat_curve(metrics),
        "gap_intervals": _gaps(metrics),
        "loyalty_stages": _loyalty_stages(),
        "cross_penetration": pd.DataFrame(cross),
        "staff_dependency": staff,
        "funnel": pd.DataFrame(funnel),
        "barriers": barriers,
        "persona_profile": profile,
        "crm_spec": _crm(case),
        "quality": quality,
    }


def sample_figures(run: RunFolder, case: Case, metrics: dict, tables: dict[str, pd.DataFrame]) -> list[str]:
    """Draw the preview's figures with :mod:`toolkit.charts`; returns the figure names written."""
    from toolkit.barriers import charts as barriers_charts
    from toolkit.double_funnel import charts as double_funnel_charts
    from toolkit.loyalty import charts as loyalty_charts
    from toolkit.segmentation import charts as segmentation_charts
    from toolkit.stage_mapping import charts as stage_mapping_charts
    from toolkit.core.figures import save_figure

    lang = case.language
    lines = {b.id: b.label for b in case.business_lines}
    brands = {b.id: b.label for b in case.brands}
    personas = metrics["segments"]["personas"]
    pnames = {p["persona"]: p["name"] for p in personas}
    loy = metrics["loyalty"]
    ks = {"all_lines": loy["overall"]["loyalty_visit"], **{k: v["loyalty_visit"] for k, v in loy["by_line"].items()}}
    figs = {
        "rfm_segments": segmentation_charts.rfm_segments_chart(metrics["segments"]["rfm"], lang),
        "persona_profile": segmentation_charts.persona_profile_chart(tables["persona_profile"], personas, lang),
        "funnel": stage_mapping_charts.funnel_chart(metrics["funnel"], lang, brand_names=brands),
        "barriers": barriers_charts.barriers_chart(tables["barriers"], lang),
        "repeat_curve": loyalty_charts.repeat_curve_chart(tables["repeat_curve"], ks, lang, line_names=lines),
        "gap_intervals": loyalty_charts.gap_chart(tables["gap_intervals"], lang, line_names=lines),
        "cross_penetration": loyalty_charts.cross_penetration_chart(tables["cross_penetration"], lang, line_names=lines),
        "staff_dependency": loyalty_charts.staff_dependency_chart(tables["staff_dependency"], lang, line_names=lines),
        "double_funnel": double_funnel_charts.double_funnel_chart(metrics["double_funnel"], lang, brand_names=brands),
        "double_funnel_scenarios": double_funnel_charts.scenario_revenue_chart(metrics["double_funnel"]["scenarios"], lang),
        "profit_what_if": double_funnel_charts.profit_whatif_chart(pd.DataFrame(
            [{"factor": f, "label": word(f"money.factor.{f}", lang), "improvement": 0.1, "revenue_change": v}
             for f, v in metrics["profit"]["all"]["what_if"].items()]), lang, improvement=0.1),
    }
    figs.update(stage_mapping_charts.journey_figures(tables["journey_matrix"], tables["emotion_curve"], lang, segment_names=pnames))
    for name, fig in figs.items():
        save_figure(fig, run.figure_path(name))
    return sorted(figs)


def write_sample_run(out_dir, language: str = "ru", figures: bool = True, skip: tuple[str, ...] = ()) -> tuple[RunFolder, Case]:
    """Write the preview run folder (metrics.json, metrics parts, artifacts, figures).

    ``skip``: metrics keys to write as ``{"skipped": reason}`` (to preview the "not available" text).
    """
    case = sample_case(language)
    run = RunFolder(out_dir).make()
    full = sample_metrics(case)
    tables = sample_tables(case, full)
    metrics = dict(full)
    for key in skip:
        metrics[key] = {"skipped": "no leads table in this case" if key in ("funnel", "double_funnel")
                        else "the step that computes it has not run"}
    for name, frame in tables.items():
        run.save_table(name, frame)
    for key, value in metrics.items():
        run.save_metrics_part(key, value)
    write_json(run.root / "metrics.json", metrics)
    run.save_json("periods", {
        "transactions": {"from": "2023-01-09", "to": "2025-06-28", "rows": 47650},
        "leads": {"from": "2024-07-01", "to": "2025-06-27", "rows": 6088},
    })
    if figures:
        names = sample_figures(run, case, full, tables)
        for key in skip:  # a skipped step draws no figure
            for name in names:
                if name == key or name.startswith(f"{key}_"):
                    run.figure_path(name).unlink()
    return run, case


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:
        print("usage: python -m toolkit.report.sample OUT_DIR [ru|en]")
        return 2
    out = Path(argv[0])
    lang = argv[1] if len(argv) > 1 else "ru"
    run, case = write_sample_run(out, lang)
    from toolkit.report.render import render_report

    path = render_report(run.root, case, lang)
    print(path)
    return 0



def _profit_scope(brand: str, line: str, new: float, first: float, returning: float, visits: float, repeat: float,
                  refunds: float, leads: float | None = None, conversion: float | None = None) -> dict:
    """One scope of metrics.json's ``profit`` (toolkit.double_funnel.profit), consistent by construction."""
    stages = {"leads": ["framing"], "lead_to_deal": ["evaluation", "deal"], "deals": ["deal"], "new_customers": ["deal"],
              "first_visit_check": ["deal"], "returning_customers": ["experience", "trigger"],
              "visits_per_returning_customer": ["loyalty_loop"], "repeat_check": ["deal"]}
    values = {"new_customers": new, "first_visit_check": first, "returning_customers": returning,
              "visits_per_returning_customer": visits, "repeat_check": repeat}
    if leads is not None:
        values.update(leads=leads, lead_to_deal=conversion, deals=leads * conversion)
    formula = new * first + returning * visits * repeat
    actual = formula + refunds
    first_rev, repeat_rev = new * first, returning * visits * repeat
    what_if = {"new_customers": 0.1 * first_rev, "first_visit_check": 0.1 * first_rev,
               "returning_customers": 0.1 * repeat_rev, "visits_per_returning_customer": 0.1 * repeat_rev,
               "repeat_check": 0.1 * repeat_rev}
    if leads is not None:
        what_if.update(leads=0.1 * leads * conversion * first, lead_to_deal=0.1 * leads * conversion * first)
    return {"scope": {"brand": brand, "business_line": line},
            "factors": {k: {"value": v, "stage": stages[k][0], "stages": stages[k]} for k, v in values.items()},
            "formula_revenue": formula, "actual_revenue": actual, "other": refunds,
            "other_reason": "money.profit.other_refunds" if refunds else None, "reconciliation": formula / actual,
            "annual_actual_revenue": actual, "what_if": what_if}


def _sample_profit() -> dict:
    return {
        "all": _profit_scope("all", "all", 1320, 32_900.0, 960, 2.1, 19_010.0, -150_000.0, 4800, 0.21),
        "aesthetica": _profit_scope("aesthetica", "all", 620, 52_000.0, 540, 1.9, 28_200.0, -110_000.0, 3100, 0.16),
        "beauty_lab": _profit_scope("beauty_lab", "all", 700, 14_800.0, 420, 2.3, 10_300.0, -40_000.0, 1700, 0.30),
        "period": {"start": "2024-07-01", "end": "2025-06-30", "months": 12},
        "what_if_improvement": 0.1,
    }

if __name__ == "__main__":
    raise SystemExit(main())
