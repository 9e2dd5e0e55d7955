"""The clinic_group case: a Moscow medical group with two plastic-surgery brands.

Planted story (every number is recorded in ``truth.yml``):
- cosmetology and dentistry are regular lines with a sharp loyalty threshold after the 6th
  visit and gaps that shrink by loyalty stage; ultrasound/obstetrics is one-off (~1.12 visits
  per patient); plastic surgery and IVF rarely repeat;
- women 45+ among dentistry patients go on to cosmetology far more often than others;
- one dentist holds 40% of the dentistry patients;
- the premium brand's leads include 35% price-sensitive non-target leads (the double funnel);
- the premium funnel's bottleneck is consultation -> contract;
- three survey personas (status, price, doctor) with different choice-factor profiles;
- interview barriers, motivators and an emotion curve dipping at evaluation;
- a known number of dirty rows of each kind the loader quarantines.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from toolkit.synthetic import clinic_text, names_ru
from toolkit.synthetic.build import CASE_STREAMS, Simulated
from toolkit.synthetic.common import (LeadExport, customer_codes, day_text, lead_columns, mixed_date_cells, row_arrays,
                                      ru_money)
from toolkit.synthetic.dirty import SalesExportProblems, add_dirty_leads, add_dirty_transactions
from toolkit.synthetic.funnel import BrandFunnel, Segment, monthly_traffic, simulate_leads
from toolkit.synthetic.interviews import InterviewSpec, InterviewWorkbook, build_transcript, codebook
from toolkit.synthetic.reproducible import dump_yaml, random_streams
from toolkit.synthetic.sales import CrossRule, Demography, LineSpec, SalesSpec, Service, simulate_sales
from toolkit.synthetic.survey import Persona, SurveySpec, SurveyWorkbook
from toolkit.synthetic.writers import Sheet, frame_sheet, write_csv, write_transcript_docx, write_xlsx

NAME = "clinic_group"
DEFAULT_SEED = 20251231
HISTORY_START = dt.date(2023, 1, 1)
AS_OF = dt.date(2025, 12, 31)
HORIZON = (AS_OF - HISTORY_START).days
MAX_GAP = 180
MIN_GAP = 14
GAP_SIGMA = 0.30
LEAD_TO_OPERATION_DAYS = (10, 45)  # operation day after the lead's request
CROSS_DELAY = (14, 180)

BRANDS = ("estetika_premium", "formula", "estetika_med")
BRAND_NAME = {"estetika_premium": "Эстетика Премиум", "formula": "Формула", "estetika_med": "Эстетика Мед"}
PRICE_FLOOR = {"estetika_premium": 350_000.0, "formula": 120_000.0}
PRICE_LOST_REASONS = ("Дорого", "Не устроила цена")

S = Service
LOYAL_STAGE_STARTS = (2, 4, 7, 13)

LINES = (
    LineSpec(
        id="plastic_surgery", raw_names=(("Пластическая хирургия", 1.0),), repeat_kind="one_off",
        p_return=(0.10, 0.05), stage_starts=(2,), stage_medians=(150,), loyalty_visit=None,
        entry_customers=0, brands=(("estetika_premium", 0.5), ("formula", 0.5)),
        staff={"estetika_premium": (("Воронцов И. А.", 0.45), ("Шестаков Р. В.", 0.30), ("Полянская Е. М.", 0.25)),
               "formula": (("Данилов С. О.", 0.40), ("Ершова Л. К.", 0.35), ("Быков А. А.", 0.25))},
        main_services=(S("Маммопластика", 620_000, 2), S("Ринопластика", 480_000, 2), S("Блефаропластика", 390_000, 2),
                       S("Абдоминопластика", 700_000, 1), S("Липосакция", 420_000, 1.5), S("Подтяжка лица", 650_000, 1)),
        extra_services=(S("Анестезиологическое пособие", 45_000), S("Предоперационное обследование", 12_000),
                        S("Компрессионное бельё", 9_500), S("Пребывание в стационаре", 25_000)),
        price_multiplier={"estetika_premium": 1.0, "formula": 0.42},
        first_rows=(0.10, 0.45, 0.45), later_rows=(0.10, 0.45, 0.45),
        demography=Demography(0.86, 38, 10, 20, 70),
    ),
    LineSpec(
        id="cosmetology", raw_names=(("Косметология", 0.95), ("косметология", 0.05)), repeat_kind="regular",
        p_return=(0.55, 0.62, 0.68, 0.74, 0.80, 0.92), stage_starts=LOYAL_STAGE_STARTS,
        stage_medians=(90, 74, 55, 38), loyalty_visit=6,
        entry_customers=7200, brands=(("estetika_premium", 0.45), ("formula", 0.55)),
        staff={"estetika_premium": (("Соколова Е. В.", 0.45), ("Лебедева М. А.", 0.30), ("Орлова Н. И.", 0.25)),
               "formula": (("Белова А. С.", 0.34), ("Зуева К. Д.", 0.33), ("Фомина О. П.", 0.33))},
        main_services=(S("Ботулинотерапия", 18_000, 3), S("Контурная пластика", 24_000, 2), S("Биоревитализация", 14_000, 3),
                       S("Чистка лица", 5_500, 3), S("Пилинг", 6_500, 2), S("Мезотерапия", 9_000, 2),
                       S("Лазерное омоложение", 21_000, 1), S("Массаж лица", 4_000, 2)),
        extra_services=(S("Консультация косметолога", 2_000), S("Маска альгинатная", 1_500),
                        S("Домашний уход: сыворотка", 4_800), S("Аппликационная анестезия", 800)),
        price_multiplier={"estetika_premium": 1.35, "formula": 0.85},
        first_rows=(0.65, 0.30, 0.05), later_rows=(0.92, 0.07, 0.01),
        demography=Demography(0.88, 40, 11, 18, 75),
    ),
    LineSpec(
        id="dentistry", raw_names=(("Стоматология", 1.0),), repeat_kind="regular",
        p_return=(0.52, 0.60, 0.66, 0.72, 0.78, 0.90), stage_starts=LOYAL_STAGE_STARTS,
        stage_medians=(105, 85, 65, 48), loyalty_visit=6,
        entry_customers=3800, brands=(("estetika_med", 1.0),),
        staff={"estetika_med": (("Королёв А. В.", 0.40), ("Миронова Т. Г.", 0.18), ("Гусев Д. Н.", 0.16),
                                ("Калинина Ю. А.", 0.14), ("Тихонов П. С.", 0.12))},
        main_services=(S("Профессиональная гигиена", 6_500, 4), S("Лечение кариеса", 8_200, 4),
                       S("Лечение каналов", 16_500, 1.5), S("Коронка керамическая", 38_000, 1),
                       S("Имплантация", 62_000, 0.6), S("Удаление зуба", 5_500, 1), S("Отбеливание", 22_000, 0.8)),
        extra_services=(S("Консультация стоматолога", 1_500), S("Прицельный снимок", 700), S("Анестезия", 1_200),
                        S("Компьютерная томография", 4_500)),
        price_multiplier={"estetika_med": 1.0},
        first_rows=(0.65, 0.30, 0.05), later_rows=(0.92, 0.07, 0.01),
        demography=Demography(0.56, 44, 15, 18, 85),
    ),
    LineSpec(
        id="ivf", raw_names=(("ЭКО", 1.0),), repeat_kind="one_off",
        p_return=(0.15, 0.10), stage_starts=(2,), stage_medians=(120,), loyalty_visit=None,
        entry_customers=500, brands=(("estetika_med", 1.0),),
        staff={"estetika_med": (("Высоцкая Н. В.", 0.50), ("Гордеева С. Ю.", 0.30), ("Лаптев М. Е.", 0.20))},
        main_services=(S("Программа ЭКО", 210_000, 3), S("Криоперенос эмбрионов", 95_000, 1.5),
                       S("Программа ЭКО с ИКСИ", 260_000, 1)),
        extra_services=(S("УЗИ-мониторинг фолликулогенеза", 6_500), S("Гормональные анализы", 9_000),
                        S("Криоконсервация эмбрионов", 35_000)),
        price_multiplier={"estetika_med": 1.0},
        first_rows=(0.20, 0.50, 0.30), later_rows=(0.20, 0.50, 0.30),
        demography=Demography(1.0, 35, 5, 25, 49),
    ),
    LineSpec(
        id="ultrasound_obstetrics", raw_names=(("УЗИ и акушерство", 0.9), ("УЗИ/акушерство", 0.1)),
        repeat_kind="one_off", p_return=(0.11, 0.08), stage_starts=(2,), stage_medians=(60,), loyalty_visit=None,
        entry_customers=1800, brands=(("estetika_med", 1.0),),
        staff={"estetika_med": (("Абрамова И. Р.", 0.30), ("Захарова Е. Е.", 0.25), ("Куликова В. П.", 0.25),
                                ("Блинов Г. С.", 0.20))},
        main_services=(S("УЗИ малого таза", 2_800, 3), S("Скрининг I триместра", 5_200, 2),
                       S("Скрининг II триместра", 5_600, 1.5), S("УЗИ молочных желёз", 2_600, 2),
                       S("Приём акушера-гинеколога", 3_500, 2.5), S("УЗИ щитовидной железы", 2_300, 1)),
        extra_services=(S("Допплерометрия", 2_200), S("Мазок на флору", 900), S("Консультация по результатам", 1_500)),
        price_multiplier={"estetika_med": 1.0},
        first_rows=(0.75, 0.20, 0.05), later_rows=(0.75, 0.20, 0.05),
        demography=Demography(0.92, 31, 7, 18, 70),
    ),
)

CROSS_RULES = (
    CrossRule("dentistry", "cosmetology", 0.30, 0.04, ("F", 45, 200), "women aged 45+", CROSS_DELAY,
              (("estetika_premium", 0.5), ("formula", 0.5))),
    CrossRule("plastic_surgery", "cosmetology", 0.25, 0.25, None, "", CROSS_DELAY),
    CrossRule("cosmetology", "plastic_surgery", 0.03, 0.03, None, "", CROSS_DELAY),
    CrossRule("cosmetology", "dentistry", 0.05, 0.05, None, "", CROSS_DELAY, (("estetika_med", 1.0),)),
    CrossRule("ivf", "ultrasound_obstetrics", 0.40, 0.40, None, "", CROSS_DELAY, (("estetika_med", 1.0),)),
    CrossRule("ultrasound_obstetrics", "dentistry", 0.03, 0.03, None, "", CROSS_DELAY, (("estetika_med", 1.0),)),
)

FIRST_SOURCES = (("Рекомендация", 0.30), ("Яндекс.Директ", 0.22), ("SEO", 0.12), ("ПроДокторов", 0.12),
                 ("2ГИС", 0.08), ("ВКонтакте", 0.10), ("Вывеска", 0.06))

SALES = SalesSpec(
    history_start=HISTORY_START, as_of=AS_OF, lines=LINES, cross_rules=CROSS_RULES, brands=BRANDS,
    locations={"estetika_premium": (("Остоженка", 1.0),),
               "formula": (("Профсоюзная", 0.6), ("Химки", 0.4)),
               "estetika_med": (("Остоженка", 0.5), ("Профсоюзная", 0.5))},
    online_location=None,
    cities=(("Москва", 0.78), ("Химки", 0.07), ("Красногорск", 0.05), ("Балашиха", 0.04),
            ("Одинцово", 0.03), ("Подольск", 0.03)),
    first_sources=FIRST_SOURCES, gap_sigma=GAP_SIGMA, min_gap=MIN_GAP, max_gap=MAX_GAP,
    discounts=((0.0, 0.80), (0.05, 0.12), (0.10, 0.08)), money_step=10.0,
)

_TARGET_LOST = (
    (("Не дозвонились", 0.5), ("Не отвечает", 0.3), ("Передумал", 0.2)),
    (("Выбрал другую клинику", 0.5), ("Отложил операцию", 0.35), ("Противопоказания", 0.15)),
    (("Противопоказания", 0.5), ("Отложил операцию", 0.5)),
)
_PRICE_LOST = ((("Дорого", 0.6), ("Не устроила цена", 0.4)),) * 3

FUNNEL_STAGES = ("request", "consultation", "contract", "operation")
DEAL_STAGE = 2  # "Договор": the deal

FUNNELS = (
    BrandFunnel(
        brand="estetika_premium", leads=3000,
        stage_names=("Заявка", "Консультация", "Договор", "Операция"),
        sources=(("Яндекс.Директ", 0.35, 0.85), ("SEO", 0.25, 1.0), ("Рекомендация", 0.15, 1.35),
                 ("ВКонтакте", 0.15, 0.80), ("ПроДокторов", 0.10, 1.10)),
        segments=(Segment("target", 0.65, (0.50, 0.30, 0.88), (360_000, 1_200_000), _TARGET_LOST, 0.10),
                  Segment("nontarget", 0.35, (0.25, 0.08, 0.85), (80_000, 340_000), _PRICE_LOST, 0.0)),
        blank_budget_share=0.30, budget_step=10_000,
    ),
    BrandFunnel(
        brand="formula", leads=1500,
        stage_names=("Новая заявка", "Первичная консультация", "Договор подписан", "Операция проведена"),
        sources=(("Яндекс.Директ", 0.40, 0.90), ("SEO", 0.20, 1.0), ("Рекомендация", 0.10, 1.25),
                 ("ВКонтакте", 0.25, 0.90), ("ПроДокторов", 0.05, 1.10)),
        segments=(Segment("target", 1.0, (0.55, 0.45, 0.90), (90_000, 400_000),
                          ((("Не дозвонились", 0.6), ("Передумал", 0.4)),
                           (("Выбрал другую клинику", 0.4), ("Дорого", 0.3), ("Отложил операцию", 0.3)),
                           (("Противопоказания", 0.5), ("Отложил операцию", 0.5))), 0.10),),
        blank_budget_share=0.45, budget_step=10_000,
    ),
)

TRAFFIC_BASE = {"estetika_premium": 21_000, "formula": 4_700}  # planted sessions per month
TRAFFIC_SOURCES = (("Поиск", 0.45), ("Реклама", 0.30), ("Соцсети", 0.15), ("Прямые заходы", 0.10))
RU_MONTHS = ("янв", "фев", "мар", "апр", "май", "июн", "июл", "авг", "сен", "окт", "ноя", "дек")

FACTORS = (
    ("price", "Цена"), ("brand_status", "Статус клиники"), ("doctor_experience", "Опыт врача"),
    ("doctor_portfolio", "Портфолио врача"), ("recommendations", "Рекомендации знакомых"),
    ("service", "Сервис"), ("equipment", "Оборудование"), ("location", "Расположение"),
    ("installments", "Рассрочка"), ("safety", "Безопасность"),
)
SURVEY_TOUCHPOINTS = (
    ("site", "Сайт", 4.1, True), ("call_center", "Колл-центр", 3.6, True), ("reception", "Ресепшн", 4.3, False),
    ("cleanliness", "Чистота", 3.0, False), ("waiting", "Ожидание приёма", 3.2, False),
    ("doctor_consultation", "Консультация врача", 4.5, False), ("payment", "Оплата и рассрочка", 3.8, False),
    ("reminders", "Напоминания", 3.3, False),
)
PERSONAS = (
    Persona("status", "Статус и бренд",
            dict(price=3, brand_status=9, doctor_experience=7, doctor_portfolio=6, recommendations=8, service=9,
                 equipment=8, location=5, installments=2, safety=7), (400_000, 1_500_000), 0.85, (30, 60)),
    Persona("price", "Цена",
            dict(price=9, brand_status=3, doctor_experience=6, doctor_portfolio=5, recommendations=6, service=4,
                 equipment=4, location=7, installments=8, safety=6), (60_000, 300_000), 0.80, (22, 55)),
    Persona("doctor", "Врач и результат",
            dict(price=5, brand_status=5, doctor_experience=10, doctor_portfolio=9, recommendations=7, service=6,
                 equipment=6, location=4, installments=4, safety=9), (200_000, 900_000), 0.78, (25, 65)),
)
SURVEY = SurveySpec(
    respondents=400, scale=(1, 10), noise_sd=1.3, factors=tuple(f for f, _ in FACTORS), personas=PERSONAS,
    brands=(("estetika_premium", 0.40, {"status": 0.55, "doctor": 0.40, "price": 0.05}),
            ("formula", 0.40, {"price": 0.75, "doctor": 0.20, "status": 0.05}),
            ("estetika_med", 0.20, {"doctor": 0.5, "price": 0.3, "status": 0.2})),
    client_share=0.6, touchpoints=tuple((t, mu, nc) for t, _, mu, nc in SURVEY_TOUCHPOINTS), sat_sd=0.9,
    nps_mean={"estetika_premium": 8.4, "formula": 7.4, "estetika_med": 7.8}, nps_sd=1.8,
    budget_step=10_000, blank_budget_share=0.2,
)
IMP_COLUMN = "Важность: {}"
SURVEY_WORKBOOK = SurveyWorkbook(
    sheet="Ответы", questionnaire_id="A-{:04d}", respondent="Анкета", client="Клиент клиники", yes_no=("Да", "Нет"),
    brand="Бренд", gender="Пол", female_male=("Ж", "М"), age="Возраст", budget="Бюджет, руб.",
    importance=IMP_COLUMN, satisfaction="Оценка: {}", nps="Готовность рекомендовать (0-10)",
    resubmit_shifts=(-2, -1, 1, 2),
)

JOURNEY = (("framing", "Первичное осмысление", "Осмысление"), ("evaluation", "Оценка", "Выбор клиники"),
           ("deal", "Сделка", "Договор и оплата"), ("experience", "Опыт", "Лечение"),
           ("trigger", "Триггер", "Возврат"), ("loyalty_loop", "Петля лояльности", "Лояльность"))
LINE_NAME = {ln.id: ln.raw_names[0][0] for ln in LINES}
INTERVIEWS = InterviewSpec(
    respondents=40, id_prefix="R",
    personas=(("status", "Статус и бренд", 0.33), ("price", "Цена", 0.34), ("doctor", "Врач и результат", 0.33)),
    brands={"status": (("Эстетика Премиум", 0.8), ("Эстетика Мед", 0.2)),
            "price": (("Формула", 0.85), ("Эстетика Мед", 0.15)),
            "doctor": (("Эстетика Премиум", 0.4), ("Формула", 0.3), ("Эстетика Мед", 0.3))},
    lines={"Эстетика Премиум": (("Пластическая хирургия", 0.5), ("Косметология", 0.5)),
           "Формула": (("Пластическая хирургия", 0.4), ("Косметология", 0.6)),
           "Эстетика Мед": (("Стоматология", 0.5), ("ЭКО", 0.25), ("УЗИ и акушерство", 0.25))},
    client_share=0.7, female_share=0.85, age_range=(22, 64), codes=clinic_text.CODES,
    stages=tuple(s for s, _, _ in JOURNEY),
    age_by_line={"ЭКО": (27, 44), "УЗИ и акушерство": (22, 42)},
)
TRANSCRIPT_RESPONDENTS = 8
INTERVIEW_WORKBOOK = InterviewWorkbook(
    respondents_sheet="Респонденты",
    respondent_header=("Респондент", "Бренд", "Направление", "Персона", "Клиент", "Пол", "Возраст"),
    yes_no=("да", "нет"), female_male=("Ж", "М"),
    codes_sheet="Коды",
    code_header=("Респондент", "Этап", "Тип кода", "Код", "Точка контакта", "Тональность", "Тип фактора",
                 "Уровень", "Цитата"),
    code_widths=(11, 20, 14, 24, 22, 12, 12, 16, 90),
)

# What truth.yml highlights, and case details its shared sections need.
LANGUAGE, CURRENCY = "ru", "RUB"
CROSS_HEADLINE = {"from_line": "dentistry", "to_line": "cosmetology", "group": "women aged 45+",
                  "group_rate": 0.30, "other_rate": 0.04, "order": "cosmetology after dentistry"}
STAFF_HEADLINE = {"business_line": "dentistry", "top_staff": "Королёв А. В.", "top_staff_share_of_repeat_customers": 0.40}
AVG_CHECK_LINE = 0  # plastic surgery
AVG_CHECK_DEFINITION = "mean revenue of one plastic-surgery visit (patient-day, all its rows) at the budget brand"
REVENUE_STAGE = 3  # "Операция": the operation brings the revenue
LOWEST_TOUCHPOINT = "cleanliness"
SCRUB_TARGETS = {"phone_in_quote": "+7 916 555-12-34", "email_in_quote": "irina.m@mail.example",
                 "special_characters": ["<", "&"]}

# How the exports spell dates and lead numbers.
DATE_FORMAT = "%d.%m.%Y"
LEAD_ID_PREFIXES, LEAD_ID_WIDTH = ("ЭП-", "Ф-"), 5

# Dirty rows: exact counts, one problem per row (reason names as the loader reports them).
DIRTY = {
    "transactions": {"duplicate": 12, "refund": 9, "missing_customer_id": 7, "bad_date": 5,
                     "future_date": 6, "bad_amount": 4},
    "leads": {"duplicate_id": 8, "unknown_stage": 5, "bad_date": 4},
    "codes": {"unknown_stage": 3, "sentiment_out_of_range": 3},
    "survey": {"duplicate_id": 5},
}
BAD_DATES = ("31.02.2024", "??.05.2024", "30.02.2025", "31.04.2025", "00.00.0000", "31.06.2024")
BAD_AMOUNTS = ("н/д", "#ЗНАЧ!", "см. чек", "ошибка")
UNKNOWN_LEAD_STAGES = ("Спам", "Тестовая заявка", "Некорректный номер")
UNKNOWN_CODE_STAGES = ("Другое", "Общее впечатление", "Прочее")
OUT_OF_RANGE_SENTIMENTS = (5, -3, 4)
VISITS_PROBLEMS = SalesExportProblems(
    date="Дата", amount="Сумма, руб.", customer=("Код пациента", "ФИО", "Телефон"), bad_dates=BAD_DATES,
    bad_amounts=BAD_AMOUNTS, refund_days=(1, 20), future_days=(1, 60), row_number="№ строки")
LEADS_EXPORT = LeadExport(
    id="№ заявки", date="Дата заявки", brand="Бренд", source="Источник", stage="Этап", lost_reason="Причина отказа",
    customer="Код пациента", id_prefixes=LEAD_ID_PREFIXES, id_width=LEAD_ID_WIDTH,
    unknown_stages=UNKNOWN_LEAD_STAGES, bad_dates=BAD_DATES)


# ------------------------------------------------------------------------------------------
def simulate(seed: int, scale: float) -> Simulated:
    """Leads, then the sales history: every premium/formula lead that reached the operation is a
    plastic-surgery patient whose first visit is the operation, 10-45 days after the lead."""
    rs = random_streams(seed, CASE_STREAMS)
    leads = simulate_leads(FUNNELS, rs["leads"], scale, HORIZON - LEAD_TO_OPERATION_DAYS[1])
    operated = np.flatnonzero(leads.stage == len(FUNNEL_STAGES) - 1)
    delay = rs["leads"].integers(LEAD_TO_OPERATION_DAYS[0], LEAD_TO_OPERATION_DAYS[1] + 1, operated.size)
    source_index = {s: i for i, (s, _) in enumerate(FIRST_SOURCES)}
    ext = {"plastic_surgery": (leads.day[operated] + delay,
                               np.array([BRANDS.index(FUNNELS[b].brand) for b in leads.brand[operated]]),
                               np.array([source_index[s] for s in leads.source[operated]]))}
    sales = simulate_sales(SALES, rs["sales"], scale, ext)
    codes = customer_codes(sales, 6, rs["codes"])
    lead_customer = np.full(leads.day.size, "", dtype=object)
    lead_customer[operated] = codes[sales.external_customer["plastic_surgery"]]
    return Simulated(rs, leads, sales, codes, lead_customer)


def _date_text(days: np.ndarray) -> np.ndarray:
    return day_text(HISTORY_START, days, DATE_FORMAT)


# ------------------------------------------------------------------------------------------
def write_sales_exports(raw: Path, sim: Simulated, scale: float) -> tuple[dict, dict]:
    """The clinic's own exports: visits.csv, patients.xlsx, leads.xlsx, traffic.xlsx."""
    rs, sales, codes = sim.streams, sim.sales, sim.codes
    people = _people(sales, rs["people"])
    counts = {"transactions": _write_visits(raw / "visits.csv", sales, codes, people, rs)}
    _write_patients(raw / "patients.xlsx", sales, codes, people)
    counts["leads"] = _write_leads(raw / "leads.xlsx", sim.leads, sim.lead_customer, rs)
    traffic = _write_traffic(raw / "traffic.xlsx", rs["traffic"], scale)
    return counts, traffic


# ------------------------------------------------------------------------------------------
def _people(sales, rng) -> dict[str, np.ndarray]:
    """Synthetic personal data of every patient: full name, phone, e-mail (30% blank)."""
    fio, stem = names_ru.full_names(rng, sales.gender == "F")
    phone = names_ru.phones(rng, sales.n_customers)
    email = names_ru.emails(rng, stem)
    email = np.where(rng.random(sales.n_customers) < 0.3, None, email)
    return {"fio": fio, "phone": phone, "email": email}


def _write_visits(path: Path, sales, codes, people, rs) -> dict:
    """visits.csv as the clinic's medical information system exports it (1C-style).

    cp1251, ';', CRLF, dd.mm.yyyy, amounts '12 500,00' with a space, NBSP or no thousands
    separator, one row per service. Dirty rows are copies of clean rows with exactly one
    problem each; duplicates repeat a row (and its line number) verbatim.
    """
    rng = rs["people"]
    rows = row_arrays(sales, SALES)
    n = rows["day"].size
    fio, phone = people["fio"], people["phone"]
    order = np.lexsort((np.arange(n), codes[rows["customer"]].astype(str), rows["day"]))
    line_raw = np.empty(n, dtype=object)
    for li, ln in enumerate(LINES):
        sel = np.flatnonzero(rows["line"] == li)
        names = np.array([r[0] for r in ln.raw_names], dtype=object)
        w = np.array([r[1] for r in ln.raw_names])
        line_raw[sel] = names[rng.choice(names.size, sel.size, p=w / w.sum())]
    seps = np.array(["", " ", "\u00a0"], dtype=object)[rng.choice(3, n, p=[0.3, 0.45, 0.25])]
    frame = pd.DataFrame({
        "Дата": _date_text(rows["day"]),
        "Код пациента": codes[rows["customer"]],
        "ФИО": fio[rows["customer"]],
        "Телефон": phone[rows["customer"]],
        "Бренд": np.array([BRAND_NAME[b] for b in BRANDS], dtype=object)[rows["brand"]],
        "Направление": line_raw,
        "Услуга": sales.service_names[rows["service"]],
        "Врач": sales.staff_names[rows["staff"]],
        "Филиал": sales.location_names[rows["location"]],
        "Сумма, руб.": ru_money(rows["amount"], seps),
    }).iloc[order].reset_index(drop=True)
    frame = add_dirty_transactions(frame, rows["day"][order], rows["amount"][order], DIRTY["transactions"],
                                   rs["dirty"], HORIZON, VISITS_PROBLEMS, _date_text,
                                   lambda v: ru_money(v, np.full(v.size, " ", dtype=object)))
    write_csv(path, frame, sep=";", encoding="cp1251", crlf=True)
    return {"rows_clean": int(n), "rows_written": int(len(frame))}


def _write_patients(path: Path, sales, codes, people) -> None:
    fio, phone, email = people["fio"], people["phone"], people["email"]
    order = np.argsort(codes.astype(str), kind="stable")
    gender = np.where(sales.gender == "F", "Ж", "М").astype(object)
    write_xlsx(path, [Sheet("Пациенты", ["Код пациента", "ФИО", "Пол", "Год рождения", "Город",
                                         "Источник первого обращения", "Телефон", "E-mail"],
                            [list(codes[order]), list(fio[order]), list(gender[order]),
                             list(sales.birth_year[order]), list(sales.city[order]),
                             list(sales.first_source[order]), list(phone[order]), list(email[order])],
                            widths=[13, 36, 6, 13, 14, 24, 20, 30])])


def _write_leads(path: Path, leads, lead_customer, rs) -> dict:
    """leads.xlsx: both brands' CRMs in one sheet; dates partly real Excel dates, partly text."""
    rng = rs["dirty"]
    n = leads.day.size
    date_cells = mixed_date_cells(HISTORY_START, leads.day, rng.random(n) < 0.3, DATE_FORMAT)
    budget_text = rng.random(n) < 0.1
    b_text = pd.Series(leads.budget).map(lambda v: f"{int(v):,}".replace(",", " ") if v == v else None)
    budget_cells = np.where(budget_text & ~np.isnan(leads.budget), b_text.to_numpy(dtype=object),
                            np.where(np.isnan(leads.budget), None, leads.budget.astype(object)))
    _, stem = names_ru.full_names(rng, rng.random(n) < 0.8)
    email = names_ru.emails(rng, stem)
    email = np.where(rng.random(n) < 0.25, None, email)
    frame = pd.DataFrame({
        **lead_columns(leads, date_cells, FUNNELS, BRAND_NAME, LEADS_EXPORT),
        "Бюджет, руб.": budget_cells, "E-mail": email,
        "Код пациента": np.where(lead_customer == "", None, lead_customer),
    })
    frame = add_dirty_leads(frame, leads, DIRTY["leads"], rng, FUNNELS, BRAND_NAME, LEADS_EXPORT)
    write_xlsx(path, [frame_sheet("Заявки", frame, widths=[12, 13, 18, 16, 24, 24, 14, 30, 13])])
    return {"rows_clean": int(n), "rows_written": int(len(frame))}


def _write_traffic(path: Path, rng, scale: float) -> dict:
    months = pd.period_range(HISTORY_START, AS_OF, freq="M")
    season = 1 + 0.15 * np.sin(2 * np.pi * (months.month.to_numpy() - 2) / 12)
    text = np.array([f"{RU_MONTHS[p.month - 1]} {p.year}" for p in months], dtype=object)
    frame, truth = monthly_traffic(months, season, TRAFFIC_BASE, TRAFFIC_SOURCES, scale, rng, text, BRAND_NAME,
                                   ("Месяц", "Бренд", "Источник трафика", "Визиты"))
    write_xlsx(path, [frame_sheet("Визиты по месяцам", frame, widths=[11, 18, 18, 10])])
    return truth


def write_transcripts(raw: Path, iv, rng) -> list[dict]:
    """codebook.yml, the first respondents' interviews as docx transcripts and their hand coding."""
    (raw / "transcripts").mkdir(parents=True, exist_ok=True)
    book = codebook(INTERVIEWS, "ru")
    header = ("# Кодбук интервью клиники: код -> тип, этап пути, точка контакта, ключевые слова.\n"
              "# keywords: слова в начальной форме (лемматизируйте текст перед сравнением);\n"
              "# phrases: устойчивые фразы в начальной форме. Отрицание ('не дорого') код НЕ означает.\n")
    (raw / "codebook.yml").write_text(dump_yaml(book, header), encoding="utf-8")
    files, hand_r, hand_c = [], [], []
    for r in range(TRANSCRIPT_RESPONDENTS):
        turns, present = build_transcript(iv, r, INTERVIEWS, clinic_text.TRANSCRIPTS, rng)
        rid = str(iv.resp_id[r])
        name = f"{rid}.docx"  # the file name is the respondent id
        write_transcript_docx(raw / "transcripts" / name, clinic_text.TRANSCRIPTS.title.format(rid=rid), turns)
        traps = sum(1 for _, t in turns for c in INTERVIEWS.codes for neg in c.negations if neg in t)
        files.append({"file": f"raw/transcripts/{name}", "respondent": rid, "codes": present, "negation_traps": traps})
        hand_r += [rid] * len(present)
        hand_c += present
    write_xlsx(raw / "transcripts_hand_coding.xlsx",
               [Sheet("Кодировка", ["Респондент", "Код"], [hand_r, hand_c], widths=[12, 28])])
    return files


# ------------------------------------------------------------------------------------------
TRUTH_HEADER = """\
# truth.yml — every value planted in this synthetic case, for tests and for training.
# Written by toolkit.synthetic (python -m toolkit.synthetic clinic_group); do not edit by hand.
#
# Conventions:
# - a *visit* is one patient-day in one business line (a visit has 1-3 service rows);
# - p_return["n"] = planted probability that a patient with visit n in a line makes visit n+1;
# - every gap between visits is at most loyalty.max_gap_days, so p_return can be estimated
#   without censoring bias on patients whose visit n is at least max_gap_days before as_of
#   ("eligible"); median_gap_days["n"] is the gap before visit n (between visits n-1 and n),
#   measured on returns after an eligible visit n-1;
# - "planted" values are the generator's parameters; "observed" values are measured on the
#   clean simulated data with the rules stated next to them (they carry sampling noise);
# - the funnel (stage reached per segment and source) and the premium brand's non-target
#   segment are planted by exact quotas: their observed values equal the planted ones up to
#   rounding; the other observed values carry sampling noise;
# - data_quality counts the dirty rows written into the raw files, per table and reason.
"""


def case_yaml_text() -> str:
    """The hand-written case.yml shipped with the package (copied next to generated data)."""
    return (Path(__file__).parent / "case_files" / f"{NAME}.yml").read_text(encoding="utf-8")


__all__ = ["simulate", "write_sales_exports", "write_transcripts", "DEFAULT_SEED", "NAME"]
