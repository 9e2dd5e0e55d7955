"""From a run folder to the report template's variables.

``build_context(run_dir, case, language)`` reads what the pipeline's steps left in the run
folder — ``metrics.json`` (or its parts), a few parquet artifacts and the figure PNGs — and
returns one dict: formatted numbers, table rows and sentences in Russian or English. It never
computes a finding of its own: every number in the text is a value of metrics.json or of an
artifact, only formatted (``toolkit.core.fmt``) or picked (e.g. the largest share). A part
whose metrics are missing or ``{"skipped": reason}``, or whose artifact is absent, has
``available = False`` and ``na`` = "Нет данных: <reason>." / "Not available: <reason>.".

What is read is listed in one place, so the notebooks can write exactly these names:

- ``METRICS_USED``: the metrics.json keys;
- ``ARTIFACTS_USED``: ``artifacts/<name>.parquet`` tables and the columns read;
- ``JSON_ARTIFACTS_USED``: ``artifacts/<name>.json`` files;
- ``FIGURES_USED``: ``figures/<name>.png`` and the chart function that draws each
  (per-segment journey figures are named by :func:`journey_figure_name`).

Figures are passed as :class:`FigureRef` (a path); ``toolkit.report.render`` turns them into
Word images.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from toolkit.core.run_folder import RunFolder
from toolkit.core.settings import case_for_step, has_resolved_case, read_resolved_case
from toolkit.stage_mapping.charts import journey_figure_name  # noqa: F401  (re-exported: the notebooks name figures with it)
from toolkit.core.fmt import (
    DASH,
    NBSP,
    ci_label,
    fmt_days,
    fmt_int,
    fmt_money,
    fmt_money_short,
    fmt_num,
    fmt_pct,
    fmt_pct_ci,
    fmt_signed,
    is_number,
    ordinal,
    ru_plural,
)

ALL_LINES = "all_lines"

METRICS_USED = {
    "case": "client, name, as_of, currency, toolkit_version, inputs {table: {file, sha256, rows}}",
    "data_quality": "{table: {rows_read, rows_used, quarantined {reason: count}}}",
    "segments": "rfm {segment: {customers, revenue_share, customer_share, small}}, personas [...], k",
    "loyalty": "overall / by_line LOY (p_return, p_return_ci, eligible, loyalty_visit, median_gap_days, "
               "customers, visits_per_customer, revenue_per_customer)",
    "cross_penetration": "{from_line: {to_line: share or None}}",
    "staff_dependency": "{line: {top_staff, top_staff_share_of_repeat_customers, repeat_customers, attached_share, "
                        "top_staff_revenue_share, suppressed}}",
    "funnel": "{brand: {stages, stage_names, counts, conversion, conversion_ci, bottleneck, traffic_to_lead}}",
    "barriers": "[{code, label, stage, respondents, base, share, ci, severity, revenue_at_stake, rank, evidence, "
                "quotes, actions}]",
    "double_funnel": "premium_brand, budget_brand, premium_leads, premium_leads_per_year, nontarget_share(_ci), "
                     "nontarget_conversion_now, target_conversion_now, budget_conversion(_ci), budget_avg_check, "
                     "scenarios [{capture_rate, leads, deals, revenue, revenue_low, revenue_high}], merge_brands, "
                     "verdict, evidence_leads",
    "profit": "(optional extra part) factor_stages, what_if_improvement, brands {brand: {line: {traffic, "
              "traffic_source, conversion, average_check, average_check_ci, purchases_per_customer, "
              "formula_revenue, measured_revenue, reconciliation, what_if {factor: revenue_change}}}}",
}

ARTIFACTS_USED: dict[str, tuple[str, ...]] = {
    # toolkit.stage_mapping.journey.journey_matrix (every segment: overall, personas, business lines)
    "journey_matrix": ("segment_type", "segment", "segment_respondents", "stage", "stage_name", "stage_order",
                       "row", "row_order", "row_label_ru", "row_label_en", "text", "evidence"),
    # toolkit.loyalty.repeat.intervals_by_stage (loyalty_tables()["stages"])
    "loyalty_stages": ("scope", "stage", "first_visit", "customers", "p_return", "ci_low", "ci_high",
                       "gap_median", "gap_q25", "gap_q75", "average_check"),
    # toolkit.double_funnel.crm_spec.crm_spec
    "crm_spec": ("stage", "stage_name", "kind", "metric_id", "metric_ru", "metric_en", "value", "ci_low", "ci_high",
                 "n", "touchpoints", "action_ru", "action_en", "send_day"),
    # toolkit.data.load.quality_table (only kind == "value blanked/kept" rows: the warnings)
    "quality": ("table", "problem", "kind", "rows"),
}

JSON_ARTIFACTS_USED = {
    "periods": "{table: {from, to, rows}}: the date range of each table (data-audit step)",
}

FIGURES_USED = {
    "rfm_segments": "charts.rfm_segments_chart",
    "persona_profile": "charts.persona_profile_chart",
    "journey_matrix_<segment_type>_<segment>": "charts.journey_matrix_chart (all at once: charts.journey_figures)",
    "emotion_curve_<segment_type>_<segment>": "charts.emotion_curve_chart (all at once: charts.journey_figures)",
    "funnel": "charts.funnel_chart",
    "barriers": "charts.barriers_chart",
    "repeat_curve": "charts.repeat_curve_chart",
    "gap_intervals": "charts.gap_chart",
    "cross_penetration": "charts.cross_penetration_chart",
    "staff_dependency": "charts.staff_dependency_chart",
    "double_funnel": "charts.double_funnel_chart",
    "double_funnel_scenarios": "charts.scenario_revenue_chart",
    "profit_what_if": "charts.profit_whatif_chart",
}

MAX_BARRIERS_TABLE = 10
MAX_BARRIER_DETAILS = 5
MAX_ROADMAP_BARRIERS = 5


@dataclass(frozen=True)
class FigureRef:
    """A figure PNG of the run; rendered as an image at the text width."""

    path: Path
    name: str

    def __str__(self) -> str:  # shown only if a template prints it outside the renderer
        return self.name


# --------------------------------------------------------------------------- words


def _w(language: str, ru: str, en: str) -> str:
    return ru if language == "ru" else en


TABLE_LABELS = {
    "transactions": ("Продажи (визиты, чеки)", "Sales (visits, receipts)"),
    "customers": ("Клиенты", "Customers"),
    "leads": ("Лиды (воронка)", "Leads (funnel)"),
    "traffic": ("Трафик сайта", "Website traffic"),
    "respondents": ("Респонденты", "Respondents"),
    "codes": ("Кодированные интервью", "Coded interviews"),
    "survey": ("Опрос", "Survey"),
}

REASON_LABELS = {
    "duplicate": ("полный дубликат строки", "exact duplicate row"),
    "duplicate_id": ("повтор идентификатора", "repeated id"),
    "refund": ("возврат (отрицательная сумма)", "refund (negative amount)"),
    "bad_date": ("нечитаемая дата", "unreadable date"),
    "future_date": ("дата позже даты анализа", "date after the analysis date"),
    "unknown_stage": ("этап не из списка кейса", "stage not declared in the case"),
    "unknown_brand": ("бренд не из списка кейса", "brand not declared in the case"),
    "sentiment_out_of_range": ("оценка вне шкалы −2…+2", "sentiment outside −2…+2"),
    "malformed_row": ("повреждённая строка файла", "malformed file row"),
}
REASON_PATTERNS = (
    ("missing_", ("не заполнено поле {}", "missing {}")),
    ("bad_", ("нечитаемое значение поля {}", "unreadable {}")),
    ("unknown_", ("значение поля {} не из списка кейса", "undeclared {}")),
)

SKIP_REASONS_RU = {
    "no leads table in this case": "в кейсе нет таблицы лидов",
    "no funnel_stages declared in case.yml": "в case.yml не объявлены этапы воронки",
    "the case has one brand": "в кейсе один бренд",
    "no brand has role premium and another role budget": "нет пары брендов с ролями premium и budget",
    "the premium brand has no leads": "у премиального бренда нет лидов",
    "no survey table in this case": "в кейсе нет опроса",
    "the survey has no choice-factor importance columns (imp_<factor>)":
        "в опросе нет столбцов важности факторов выбора (imp_<фактор>)",
    "the step that computes it has not run": "шаг анализа, который это считает, не выполнялся",
    "no transactions in this case": "в кейсе нет продаж (транзакций)",
    "no codes table in this case": "в кейсе нет кодированных интервью",
}

EVIDENCE_WORDS = {
    "strong": ("сильные", "strong"),
    "partial": ("частичные", "partial"),
    "none": ("нет", "none"),
}

MONTHS_RU = ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября", "октября",
             "ноября", "декабря")
MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
             "November", "December")


def reason_label(reason: str, language: str) -> str:
    """Human words for a quarantine reason (``missing_customer_id`` -> "не заполнено поле customer_id")."""
    i = 0 if language == "ru" else 1
    if reason in REASON_LABELS:
        return REASON_LABELS[reason][i]
    for prefix, words in REASON_PATTERNS:
        if reason.startswith(prefix):
            return words[i].format(reason[len(prefix):])
    return reason


def skip_reason(reason, language: str) -> str:
    text = str(reason or "").strip() or _w(language, "причина не указана", "no reason given")
    return SKIP_REASONS_RU.get(text, text) if language == "ru" else text


def not_available(reason, language: str) -> str:
    """"Нет данных: <reason>." / "Not available: <reason>."."""
    r = skip_reason(reason, language).rstrip(".")
    return f"{_w(language, 'Нет данных', 'Not available')}: {r}."


def fmt_date(value, language: str, long: bool = False) -> str:
    """``30.06.2025`` / ``30 Jun 2025``; ``long``: ``30 июня 2025 г.`` / ``30 June 2025``."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return DASH
    try:
        d = pd.Timestamp(value).date()
    except (ValueError, TypeError):
        return str(value)
    if long:
        return (f"{d.day} {MONTHS_RU[d.month - 1]} {d.year} г." if language == "ru"
                else f"{d.day} {MONTHS_EN[d.month - 1]} {d.year}")
    return d.strftime("%d.%m.%Y") if language == "ru" else f"{d.day} {MONTHS_EN[d.month - 1][:3]} {d.year}"


def _quote(text: str, language: str) -> str:
    return f"«{text}»" if language == "ru" else f"“{text}”"


def _dot(text: str) -> str:
    """End a sentence with one full stop (money in ru ends with "руб." already)."""
    text = text.rstrip()
    return text if text.endswith((".", "!", "?")) else text + "."


def _clean(text) -> str:
    """Table/sentence text on one line (Word shows a raw newline as a space anyway)."""
    if text is None or (isinstance(text, float) and np.isnan(text)) or text is pd.NA:
        return ""
    return re.sub(r"\s*\n\s*", "; ", str(text)).strip()


# --------------------------------------------------------------------------- reading the run


def is_skipped(value) -> bool:
    return isinstance(value, Mapping) and "skipped" in value


def load_metrics(run: RunFolder) -> dict:
    """``metrics.json`` of the run, else its assembled parts (nothing is written)."""
    path = run.root / "metrics.json"
    if path.exists():
        return json.loads(path.read_text(encoding="utf-8"))
    return run.load_metrics_parts()


def _table(run: RunFolder, name: str) -> pd.DataFrame | None:
    return run.load_table(name) if run.has_table(name) else None


def _json(run: RunFolder, name: str):
    path = run.artifacts / f"{name}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def _figure(run: RunFolder, name: str) -> FigureRef | None:
    path = run.figures / f"{name}.png"
    return FigureRef(path=path, name=name) if path.exists() else None


def _part(metrics: Mapping, key: str, language: str):
    """(value, na): the metrics part, or None with the "not available" sentence."""
    if key not in metrics:
        return None, not_available(_w(language, "шаг анализа, который это считает, не выполнялся",
                                      "the step that computes it has not run"), language)
    v = metrics[key]
    if is_skipped(v):
        return None, not_available(v.get("skipped"), language)
    if v is None or (hasattr(v, "__len__") and len(v) == 0):
        return None, not_available(_w(language, "результат пуст", "the result is empty"), language)
    return v, ""


def _missing_artifact(name: str, language: str) -> str:
    return not_available(_w(language, f"нет артефакта {name} (шаг анализа не выполнялся)",
                            f"artifact {name} is missing (the analysis step has not run)"), language)


class Names:
    """Display names of stages, lines, brands, personas in the report language."""

    def __init__(self, case, language: str, metrics: Mapping, matrix: pd.DataFrame | None):
        self.language = language
        self.stages: dict[str, str] = {}
        self.stage_order: dict[str, int] = {}
        self.lines: dict[str, str] = {}
        self.brands: dict[str, str] = {}
        self.factors: dict[str, str] = {}
        self.funnel: dict[str, str] = {}
        if matrix is not None and len(matrix) and {"stage", "stage_name"} <= set(matrix.columns):
            st = matrix.drop_duplicates("stage")
            self.stages.update(dict(zip(st["stage"].astype(str), st["stage_name"].astype(str))))
            if "stage_order" in st.columns:
                self.stage_order.update(dict(zip(st["stage"].astype(str), st["stage_order"].astype(int))))
        if case is not None:
            from toolkit.core.config import NORMATIVE_STAGES

            normative = {i: n for i, n in NORMATIVE_STAGES[case.language]}
            translated = {i: n for i, n in NORMATIVE_STAGES[language]}
            for i, s in enumerate(case.journey_stages):
                label = s.label
                if language != case.language and normative.get(s.id) == label:
                    label = translated[s.id]  # the default stage names exist in both languages
                self.stages[s.id] = label
                self.stage_order[s.id] = i
            self.lines = {b.id: b.label for b in case.business_lines}
            self.brands = {b.id: b.label for b in case.brands}
            self.factors = {f.id: f.label for f in case.choice_factors}
            self.funnel = {f.id: f.label for f in case.funnel_stages}
        personas = (metrics.get("segments") or {}).get("personas") if isinstance(metrics.get("segments"), Mapping) else None
        self.personas = {str(p.get("persona", p.get("id"))): str(p.get("name") or p.get("persona"))
                         for p in (personas or []) if isinstance(p, Mapping)}

    def stage(self, s) -> str:
        return self.stages.get(str(s), str(s))

    def line(self, s) -> str:
        if s == ALL_LINES:
            return _w(self.language, "Все направления", "All lines")
        return self.lines.get(str(s), str(s))

    def brand(self, b) -> str:
        return self.brands.get(str(b), str(b))


# --------------------------------------------------------------------------- sections


def _meta(case, metrics: Mapping, language: str, prepared_by: str | None) -> dict:
    c = metrics.get("case") if isinstance(metrics.get("case"), Mapping) else {}
    client = (case.client if case is not None else None) or c.get("client") or c.get("name") or DASH
    as_of = (case.as_of if case is not None else None) or c.get("as_of")
    version = c.get("toolkit_version")
    if not version:
        from toolkit import __version__ as version
    title = case.title if case is not None and case.title else _w(
        language, "Карта пути клиента (CJM): выводы и рекомендации", "Customer journey map (CJM): findings and recommendations")
    currency = (case.currency if case is not None else None) or c.get("currency") or "RUB"
    return {
        "client": client,
        "title": title,
        "date": fmt_date(as_of, language, long=True),
        "as_of": fmt_date(as_of, language),
        "as_of_iso": str(as_of) if as_of is not None else "",
        "prepared_by": prepared_by or _w(language, f"CJM-инструментарий, версия {version}", f"CJM toolkit, version {version}"),
        "version": str(version),
        "currency": currency,
        "case_name": c.get("name") or (case.name if case is not None else DASH),
        "language": language,
    }


def _data_section(metrics: Mapping, run: RunFolder, language: str) -> dict:
    dq, na = _part(metrics, "data_quality", language)
    out = {"available": dq is not None, "na": na, "sources": [], "quality": [], "text": ""}
    if dq is None:
        return out
    inputs = ((metrics.get("case") or {}).get("inputs") or {}) if isinstance(metrics.get("case"), Mapping) else {}
    periods = _json(run, "periods") or {}
    i = 0 if language == "ru" else 1
    total_read = total_used = 0
    for table, q in dq.items():
        if not isinstance(q, Mapping):
            continue
        quarantined = q.get("quarantined") or {}
        n_q = sum(v for v in quarantined.values() if is_number(v))
        p = periods.get(table) or {}
        period = f"{fmt_date(p.get('from'), language)} – {fmt_date(p.get('to'), language)}" if p.get("from") else DASH
        out["sources"].append({
            "table": TABLE_LABELS.get(table, (table, table))[i],
            "file": str((inputs.get(table) or {}).get("file") or DASH),
            "rows_read": fmt_int(q.get("rows_read"), language),
            "rows_used": fmt_int(q.get("rows_used"), language),
            "quarantined": fmt_int(n_q, language),
            "period": period,
        })
        total_read += q.get("rows_read") or 0
        total_used += q.get("rows_used") or 0
        for reason, n in sorted(quarantined.items(), key=lambda kv: (-(kv[1] or 0), kv[0])):
            if n:
                out["quality"].append({"table": TABLE_LABELS.get(table, (table, table))[i],
                                       "reason": reason_label(reason, language), "code": reason,
                                       "rows": fmt_int(n, language),
                                       "kind": _w(language, "строка отложена", "row quarantined")})
    quality = _table(run, "quality")
    if quality is not None and len(quality) and {"kind", "problem", "rows"} <= set(quality.columns):
        warn = quality[quality["kind"].astype(str) == "value blanked/kept"]
        for r in warn.itertuples(index=False):
            out["quality"].append({"table": TABLE_LABELS.get(r.table, (r.table, r.table))[i],
                                   "reason": reason_label(str(r.problem), language), "code": str(r.problem),
                                   "rows": fmt_int(r.rows, language),
                                   "kind": _w(language, "значение очищено, строка в анализе",
                                              "value blanked, row kept")})
    n_q = total_read - total_used
    out["text"] = _w(
        language,
        f"Прочитано {fmt_int(total_read, 'ru')} строк из {len(out['sources'])} "
        f"{ru_plural(len(out['sources']), 'источника', 'источников', 'источников')}; в анализ вошли "
        f"{fmt_int(total_used, 'ru')}, ещё {fmt_int(n_q, 'ru')} отложены с указанием причины (таблица ниже, "
        "построчно — в файле data_quality.xlsx). Ни одна строка не отброшена молча.",
        f"{fmt_int(total_read, 'en')} rows were read from {len(out['sources'])} "
        f"source{'s' if len(out['sources']) != 1 else ''}; {fmt_int(total_used, 'en')} entered the analysis and "
        f"{fmt_int(n_q, 'en')} were set aside with their reason (table below; row by row in data_quality.xlsx). "
        "No row was dropped silently.",
    )
    return out


def _method(case, language: str) -> dict:
    from toolkit.core.config import Parameters

    p = case.parameters if case is not None else Parameters()
    visit = _w(language, "один клиенто-день (все услуги клиента за день — один визит)",
               "one customer-day (all of a customer's services on one day make one visit)") \
        if p.visit_definition == "customer_day" else _w(language, "одна строка выгрузки", "one row of the export")
    return {
        "confidence": fmt_pct(p.confidence, language, 0),
        "ci": ci_label(p.confidence, language),
        "min_segment": fmt_int(p.min_segment_size, language),
        "evidence_min": fmt_int(p.evidence_min_respondents, language),
        "visit": visit,
        "max_visit": fmt_int(p.max_visit_number, language),
    }


def _rfm_section(metrics: Mapping, run: RunFolder, language: str) -> dict:
    seg, na = _part(metrics, "segments", language)
    rfm = seg.get("rfm") if isinstance(seg, Mapping) else None
    if is_skipped(rfm):
        na, rfm = not_available(rfm.get("skipped"), language), None
    elif seg is not None and not rfm:
        na = not_available(_w(language, "RFM-сегментация не выполнялась", "the RFM segmentation has not run"), language)
    out = {"available": bool(rfm), "na": na, "figure": _figure(run, "rfm_segments"), "rows": [], "text": ""}
    if not rfm:
        return out
    try:
        from toolkit.segmentation.rfm import SEGMENTS
    except ImportError:  # pragma: no cover
        SEGMENTS = {}
    i = 0 if language == "ru" else 1
    total = sum(v.get("customers") or 0 for v in rfm.values() if isinstance(v, Mapping))
    small = {"customers": 0, "customer_share": 0.0, "revenue_share": 0.0, "n": 0}
    for s, v in rfm.items():
        if not isinstance(v, Mapping) or not v.get("customers"):
            continue
        if v.get("small"):
            small["customers"] += v.get("customers") or 0
            small["customer_share"] += v.get("customer_share") or 0
            small["revenue_share"] += v.get("revenue_share") or 0
            small["n"] += 1
            continue
        cs = v.get("customer_share") if is_number(v.get("customer_share")) else (v["customers"] / total if total else None)
        out["rows"].append({"name": SEGMENTS.get(s, (s, s))[i], "customers": fmt_int(v["customers"], language),
                            "customer_share": fmt_pct(cs, language), "revenue_share": fmt_pct(v.get("revenue_share"), language)})
    if small["n"]:
        out["rows"].append({"name": _w(language, "Прочие (малые сегменты)", "Other (small segments)"),
                            "customers": fmt_int(small["customers"], language),
                            "customer_share": fmt_pct(small["customer_share"], language),
                            "revenue_share": fmt_pct(small["revenue_share"], language)})
    out["text"] = _w(
        language,
        f"Клиентская база ({fmt_int(total, 'ru')} клиентов) разделена на RFM-сегменты по давности последнего визита, "
        "частоте визитов и сумме покупок на дату анализа.",
        f"The customer base ({fmt_int(total, 'en')} customers) is split into RFM segments by recency of the last "
        "visit, frequency of visits and money spent at the analysis date.",
    )
    return out


def _personas_section(metrics: Mapping, run: RunFolder, names: Names, language: str) -> dict:
    seg, na = _part(metrics, "segments", language)
    personas = seg.get("personas") if isinstance(seg, Mapping) else None
    if is_skipped(personas):
        na, personas = not_available(personas.get("skipped"), language), None
    elif seg is not None and not personas:
        na = not_available(_w(language, "персоны не строились (нет опроса)", "no personas were built (no survey)"), language)
    out = {"available": bool(personas), "na": na, "figure": _figure(run, "persona_profile"), "rows": [], "text": ""}
    if not personas:
        return out
    for p in personas:
        factors = p.get("top_factor_names") or [names.factors.get(f, f) for f in p.get("top_factors") or []]
        out["rows"].append({
            "id": str(p.get("persona", p.get("id", ""))),
            "name": str(p.get("name") or ""),
            "share": fmt_pct_ci(p.get("share"), p.get("share_ci"), language, 0),
            "respondents": fmt_int(p.get("respondents"), language),
            "factors": ", ".join(map(str, factors)),
            "price": _w(language, "да", "yes") if p.get("price_driven") else "",
        })
    k = seg.get("k") or len(personas)
    out["text"] = _w(
        language,
        f"По важности факторов выбора в опросе выделено {fmt_int(k, 'ru')} "
        f"{ru_plural(k, 'персона', 'персоны', 'персон')}; число персон выбрано по коэффициенту силуэта, группы "
        "меньше минимального размера не показываются отдельно.",
        f"The importance of choice factors in the survey gives {fmt_int(k, 'en')} persona{'s' if k != 1 else ''}; "
        "their number is chosen by the silhouette score and groups below the minimum size are not shown separately.",
    )
    return out


def _journeys(run: RunFolder, matrix: pd.DataFrame | None, metrics: Mapping, names: Names, language: str) -> dict:
    if matrix is None or not len(matrix):
        return {"available": False, "na": _missing_artifact("journey_matrix", language), "maps": []}
    i = 0 if language == "ru" else 1
    label_col = "row_label_ru" if language == "ru" else "row_label_en"
    if label_col not in matrix.columns:
        label_col = "row"
    rank = {"overall": 0, "persona": 1, "business_line": 2}
    segs = matrix[["segment_type", "segment"]].drop_duplicates()
    segs = segs.assign(_r=segs["segment_type"].map(rank).fillna(3)).sort_values(["_r", "segment"], kind="stable")
    items = []
    from toolkit.core.figures import EVIDENCE_COLOURS

    for seg_type, seg in segs[["segment_type", "segment"]].itertuples(index=False):
        m = matrix[(matrix["segment_type"] == seg_type) & (matrix["segment"] == seg)]
        n = m["segment_respondents"].iloc[0] if "segment_respondents" in m.columns and len(m) else None
        n_txt = f" (n{NBSP}={NBSP}{fmt_int(n, language)})" if is_number(n) else ""
        if seg_type == "overall":
            title = _w(language, "Общая карта: все респонденты", "Core map: all respondents") + n_txt
        elif seg_type == "persona":
            known = names.personas.get(str(seg))  # a survey persona id (P1) has a name; a name stands alone
            title = _w(language, "Персона", "Persona") + (f" {seg}: {known}" if known and known != str(seg)
                                                             else f": {seg}") + n_txt
        else:
            title = _w(language, "Направление", "Business line") + f": {names.line(seg)}{n_txt}"
        m = m.sort_values(["stage_order", "row_order"], kind="stable")
        rows, last_stage = [], None
        for r in m.itertuples(index=False):
            text = _clean(r.text)
            if not text:
                continue
            ev = str(r.evidence)
            rows.append({
                "stage": names.stage(r.stage) if r.stage != last_stage else "",
                "row": str(getattr(r, label_col)),
                "text": text,
                "evidence": EVIDENCE_WORDS.get(ev, (ev, ev))[i],
                "colour": EVIDENCE_COLOURS.get(ev, EVIDENCE_COLOURS["none"]).lstrip("#").upper(),
            })
            last_stage = r.stage
        items.append({
            "title": title,
            "matrix_figure": _figure(run, journey_figure_name("journey_matrix", seg_type, seg)),
            "emotion_figure": _figure(run, journey_figure_name("emotion_curve", seg_type, seg)),
            "rows": rows,
        })
    return {"available": bool(items), "na": "" if items else _missing_artifact("journey_matrix", language), "maps": items}


def _funnel_section(metrics: Mapping, run: RunFolder, names: Names, language: str, conf: float) -> dict:
    f, na = _part(metrics, "funnel", language)
    brands = {b: v for b, v in (f or {}).items() if isinstance(v, Mapping) and "stages" in v}
    if f is not None and not brands:
        na = not_available(next((v.get("skipped") for v in f.values() if is_skipped(v)), "—"), language)
    out = {"available": bool(brands), "na": na, "figure": _figure(run, "funnel"), "rows": [], "bottlenecks": []}
    for brand, v in brands.items():
        stage_names = v.get("stage_names") or [names.funnel.get(s, s) for s in v["stages"]]
        counts = v.get("counts") or []
        conv = v.get("conversion") or []
        cis = v.get("conversion_ci") or []
        for j in range(len(stage_names) - 1):
            out["rows"].append({
                "brand": names.brand(brand) if j == 0 else "",
                "transition": f"{stage_names[j]} → {stage_names[j + 1]}",
                "entered": fmt_int(counts[j] if j < len(counts) else None, language),
                "moved": fmt_int(counts[j + 1] if j + 1 < len(counts) else None, language),
                "conversion": fmt_pct_ci(conv[j] if j < len(conv) else None, cis[j] if j < len(cis) else None,
                                         language, 1, conf),
            })
        bn = v.get("bottleneck")
        if isinstance(bn, Mapping) and bn.get("from"):
            idx = {s: k for k, s in enumerate(v["stages"])}
            a = stage_names[idx[bn["from"]]] if bn["from"] in idx else bn["from"]
            b = stage_names[idx[bn["to"]]] if bn.get("to") in idx else bn.get("to")
            k = idx.get(bn["from"])
            ci = cis[k] if k is not None and k < len(cis) else None
            conv_txt = fmt_pct_ci(bn.get("conversion"), ci, language, 1, conf)
            B = names.brand(brand)
            if bn.get("basis") == "largest_drop":
                s = _w(language,
                       f"{B}: наибольший отток — на переходе «{a} → {b}» (конверсия {conv_txt}, "
                       f"потеряно {fmt_int(bn.get('lost_leads'), 'ru')} лидов).",
                       f"{B}: the largest drop-out is at “{a} → {b}” (conversion {conv_txt}, "
                       f"{fmt_int(bn.get('lost_leads'), 'en')} leads lost).")
            else:
                ref_who = bn.get("reference_group")
                if ref_who and ref_who != "benchmark":
                    ref_who = _quote(names.brand(ref_who), language)
                else:
                    ref_who = _w(language, "ориентира", "the benchmark")
                s = _w(language,
                       f"{B}: узкое место — переход «{a} → {b}»: конверсия {conv_txt} против "
                       f"{fmt_pct(bn.get('reference'), 'ru')} у {ref_who}; разница стоит около "
                       f"{fmt_int(bn.get('lost_leads'), 'ru')} лидов.",
                       f"{B}: the bottleneck is “{a} → {b}”: conversion {conv_txt} against "
                       f"{fmt_pct(bn.get('reference'), 'en')} at {ref_who}; the gap costs about "
                       f"{fmt_int(bn.get('lost_leads'), 'en')} leads.")
            out["bottlenecks"].append(s)
        ttl = v.get("traffic_to_lead")
        if isinstance(ttl, Mapping) and is_number(ttl.get("rate")):
            out["bottlenecks"].append(_w(
                language,
                f"{names.brand(brand)}: из {fmt_int(ttl.get('sessions'), 'ru')} сессий сайта получено "
                f"{fmt_int(ttl.get('leads'), 'ru')} лидов — {fmt_pct_ci(ttl['rate'], ttl.get('ci'), 'ru', 2, conf)} на сессию.",
                f"{names.brand(brand)}: {fmt_int(ttl.get('sessions'), 'en')} website sessions gave "
                f"{fmt_int(ttl.get('leads'), 'en')} leads, {fmt_pct_ci(ttl['rate'], ttl.get('ci'), 'en', 2, conf)} per session."))
    return out


def _barriers_section(metrics: Mapping, run: RunFolder, names: Names, language: str, currency: str, conf: float) -> dict:
    bars, na = _part(metrics, "barriers", language)
    bars = [b for b in (bars or []) if isinstance(b, Mapping)]
    out = {"available": bool(bars), "na": na, "figure": _figure(run, "barriers"), "rows": [], "details": [], "text": ""}
    if not bars:
        return out
    i = 0 if language == "ru" else 1
    for b in bars[:MAX_BARRIERS_TABLE]:
        out["rows"].append({
            "rank": str(b.get("rank") or ""),
            "label": str(b.get("label") or b.get("code")),
            "stage": names.stage(b.get("stage")),
            "share": fmt_pct_ci(b.get("share"), b.get("ci"), language, 0, conf),
            "respondents": f"{fmt_int(b.get('respondents'), language)}"
                           + (f" / {fmt_int(b.get('base'), language)}" if is_number(b.get("base")) else ""),
            "severity": fmt_signed(b.get("severity"), language, 1),
            "revenue": fmt_money(b.get("revenue_at_stake"), currency, language),
            "evidence": EVIDENCE_WORDS.get(str(b.get("evidence")), (DASH, DASH))[i],
        })
    for b in bars[:MAX_BARRIER_DETAILS]:
        out["details"].append({
            "title": f"{b.get('rank')}. {b.get('label') or b.get('code')} ({names.stage(b.get('stage'))})",
            "quotes": [_quote(_clean(q), language) for q in (b.get("quotes") or []) if _clean(q)],
            "actions": [_clean(a) for a in (b.get("actions") or []) if _clean(a)],
        })
    with_money = [b for b in bars if is_number(b.get("revenue_at_stake"))]
    out["text"] = _w(
        language,
        f"Барьеры упорядочены по выручке под угрозой (верхняя оценка: потерянные на этапе клиенты × ценность клиента × "
        f"доля упоминаний барьера), затем по доле респондентов. Выручка под угрозой оценена для {len(with_money)} "
        f"из {len(bars)} барьеров.",
        f"Barriers are ranked by revenue at stake (an upper bound: customers lost at the stage × value per customer × "
        f"the barrier's share of mentions), then by the share of respondents. Revenue at stake is estimated for "
        f"{len(with_money)} of {len(bars)} barriers.",
    )
    return out


def _loy_row(scope: str, d: Mapping, names: Names, language: str, currency: str, conf: float) -> dict:
    p = d.get("p_return") or {}
    ci = d.get("p_return_ci") or {}
    k = d.get("loyalty_visit")
    gaps = d.get("median_gap_days") or {}
    return {
        "line": names.line(scope),
        "customers": fmt_int(d.get("customers"), language),
        "visits": fmt_num(d.get("visits_per_customer"), language, 2),
        "ltv": fmt_money(d.get("revenue_per_customer"), currency, language),
        "p1": fmt_pct_ci(p.get("1"), ci.get("1"), language, 0, conf),
        "k": ordinal(k, language) if is_number(k) else _w(language, "не выявлен", "none found"),
        "pk": fmt_pct_ci(p.get(str(k)), ci.get(str(k)), language, 0, conf) if is_number(k) else DASH,
        "gap2": fmt_days(gaps.get("2"), language),
    }


def _loyalty_sentence(scope: str, d: Mapping, names: Names, language: str, conf: float) -> str:
    p = d.get("p_return") or {}
    ci = d.get("p_return_ci") or {}
    el = d.get("eligible") or {}
    k = d.get("loyalty_visit")
    who = names.line(scope)
    p1 = fmt_pct_ci(p.get("1"), ci.get("1"), language, 0, conf)
    if is_number(k):
        pk = fmt_pct_ci(p.get(str(k)), ci.get(str(k)), language, 0, conf)
        return _w(
            language,
            f"{who}: после первого визита возвращаются {p1} клиентов (n{NBSP}={NBSP}{fmt_int(el.get('1'), 'ru')}); "
            f"порог лояльности — {ordinal(k, 'ru')} визит: после него вероятность возврата выходит на плато, "
            f"{pk}.",
            f"{who}: {p1} of customers return after the first visit (n{NBSP}={NBSP}{fmt_int(el.get('1'), 'en')}); "
            f"the loyalty visit is the {ordinal(k, 'en')}: after it the return probability reaches its plateau, {pk}.",
        )
    return _w(
        language,
        f"{who}: после первого визита возвращаются {p1} клиентов; устойчивого порога лояльности данные не показывают.",
        f"{who}: {p1} of customers return after the first visit; the data show no stable loyalty threshold.",
    )


def _loyalty_section(metrics: Mapping, run: RunFolder, names: Names, language: str, currency: str, conf: float) -> dict:
    loy, na = _part(metrics, "loyalty", language)
    out = {"available": loy is not None, "na": na, "repeat_figure": _figure(run, "repeat_curve"),
           "gap_figure": _figure(run, "gap_intervals"), "rows": [], "findings": [], "stages": []}
    if loy is not None:
        scopes = []
        if isinstance(loy.get("overall"), Mapping):
            scopes.append((ALL_LINES, loy["overall"]))
        scopes += [(s, d) for s, d in (loy.get("by_line") or {}).items() if isinstance(d, Mapping)]
        for scope, d in scopes:
            out["rows"].append(_loy_row(scope, d, names, language, currency, conf))
            out["findings"].append(_loyalty_sentence(scope, d, names, language, conf))
        st = _table(run, "loyalty_stages")
        if st is not None and len(st):
            st = st.assign(_o=(st["scope"] != ALL_LINES).astype(int))
            st = st.sort_values(["_o", "scope", "first_visit"], kind="stable")
            last = None
            for r in st.to_dict("records"):
                iqr = (f"{fmt_int(r.get('gap_q25'), language)}–{fmt_int(r.get('gap_q75'), language)}"
                       if is_number(r.get("gap_q25")) and is_number(r.get("gap_q75")) else DASH)
                out["stages"].append({
                    "line": names.line(r["scope"]) if r["scope"] != last else "",
                    "visits": str(r.get("stage")).replace("-", "–"),
                    "customers": fmt_int(r.get("customers"), language),
                    "p_return": fmt_pct_ci(r.get("p_return"), [r.get("ci_low"), r.get("ci_high")], language, 0, conf),
                    "gap": fmt_days(r.get("gap_median"), language),
                    "iqr": iqr,
                    "check": fmt_money(r.get("average_check"), currency, language),
                })
                last = r["scope"]
    # cross-penetration
    cp, cna = _part(metrics, "cross_penetration", language)
    cross = {"available": bool(cp), "na": cna, "figure": _figure(run, "cross_penetration"), "text": ""}
    if cp:
        pairs = [(a, b, v) for a, d in cp.items() if isinstance(d, Mapping) for b, v in d.items()]
        shown = [x for x in pairs if is_number(x[2])]
        hidden = len(pairs) - len(shown)
        if shown:
            a, b, v = max(shown, key=lambda x: (x[2], x[0], x[1]))
            lo = min(shown, key=lambda x: (x[2], x[0], x[1]))
            cross["text"] = _w(
                language,
                f"Сильнее всего связаны направления «{names.line(a)}» → «{names.line(b)}»: {fmt_pct(v, 'ru')} клиентов "
                f"первого покупали и второе; слабее всего — «{names.line(lo[0])}» → «{names.line(lo[1])}» "
                f"({fmt_pct(lo[2], 'ru')}).",
                f"The strongest link is “{names.line(a)}” → “{names.line(b)}”: {fmt_pct(v, 'en')} of the first line's "
                f"customers also bought the second; the weakest is “{names.line(lo[0])}” → “{names.line(lo[1])}” "
                f"({fmt_pct(lo[2], 'en')}).",
            )
        if hidden:
            cross["text"] += " " + _w(
                language,
                f"{hidden} {ru_plural(hidden, 'ячейка скрыта', 'ячейки скрыты', 'ячеек скрыто')}: база меньше "
                "минимального размера сегмента.",
                f"{hidden} cell{'s are' if hidden != 1 else ' is'} hidden: the base is below the minimum segment size.",
            )
    out["cross"] = cross
    # staff dependency
    sd, sna = _part(metrics, "staff_dependency", language)
    staff = {"available": bool(sd), "na": sna, "figure": _figure(run, "staff_dependency"), "rows": [], "text": ""}
    if sd:
        best = None
        for line, d in sd.items():
            if not isinstance(d, Mapping):
                continue
            hidden = isinstance(d.get("suppressed"), str) and d.get("suppressed")
            staff["rows"].append({
                "line": names.line(line),
                "repeat": fmt_int(d.get("repeat_customers"), language),
                "attached": DASH if hidden else fmt_pct(d.get("attached_share"), language, 0),
                "top_staff": _w(language, "скрыто", "hidden") if hidden else str(d.get("top_staff") or DASH),
                "top_share": DASH if hidden else fmt_pct(d.get("top_staff_share_of_repeat_customers"), language, 0),
                "revenue_share": DASH if hidden else fmt_pct(d.get("top_staff_revenue_share"), language, 0),
            })
            v = d.get("top_staff_share_of_repeat_customers")
            if not hidden and is_number(v) and (best is None or v > best[1]):
                best = (line, v, d)
        if best:
            line, v, d = best
            staff["text"] = _w(
                language,
                f"Сильнее всего от одного специалиста зависит направление «{names.line(line)}»: за специалистом "
                f"{d.get('top_staff')} закреплены {fmt_pct(v, 'ru', 0)} повторных клиентов направления"
                + (f" и {fmt_pct(d.get('top_staff_revenue_share'), 'ru', 0)} его выручки" if is_number(d.get("top_staff_revenue_share")) else "")
                + ". Если этот специалист уйдёт, поток может уйти вместе с ним.",
                f"The line most dependent on one person is “{names.line(line)}”: staff member {d.get('top_staff')} holds "
                f"{fmt_pct(v, 'en', 0)} of the line's repeat customers"
                + (f" and {fmt_pct(d.get('top_staff_revenue_share'), 'en', 0)} of its revenue" if is_number(d.get("top_staff_revenue_share")) else "")
                + ". If they leave, the flow may leave with them.",
            )
    out["staff"] = staff
    return out


def _headline_scenario(d: Mapping) -> dict | None:
    from toolkit.double_funnel.charts import headline_scenario

    return headline_scenario(d)


def _double_funnel_section(metrics: Mapping, run: RunFolder, names: Names, language: str, currency: str, conf: float) -> dict:
    d, na = _part(metrics, "double_funnel", language)
    ok = d is not None and is_number(d.get("nontarget_share"))
    if d is not None and not ok:
        na = not_available(_w(language, "доля нецелевых лидов не измерена", "the non-target share is not measured"), language)
    out = {"available": ok, "na": na, "figure": _figure(run, "double_funnel"),
           "scenario_figure": _figure(run, "double_funnel_scenarios"), "facts": [], "rows": [], "recommendation": ""}
    if not ok:
        return out
    P, B = names.brand(d.get("premium_brand")), names.brand(d.get("budget_brand"))
    share = fmt_pct_ci(d["nontarget_share"], d.get("nontarget_share_ci"), language, 0, conf)
    ev = d.get("evidence_leads")
    out["facts"].append(_w(
        language,
        f"Нецелевые лиды бренда «{P}» (бюджет ниже порога цены или отказ из-за цены): {share}"
        + (f" из {fmt_int(ev, 'ru')} лидов, по которым это известно" if is_number(ev) else "") + ".",
        f"Non-target {P} leads (budget below the price floor or lost over price): {share}"
        + (f" of the {fmt_int(ev, 'en')} leads where this is known" if is_number(ev) else "") + ".",
    ))
    if is_number(d.get("nontarget_conversion_now")):
        tgt = d.get("target_conversion_now")
        out["facts"].append(_w(
            language,
            f"Сейчас нецелевые лиды доходят до сделки в {fmt_pct(d['nontarget_conversion_now'], 'ru')} случаев"
            + (f" против {fmt_pct(tgt, 'ru')} у целевых" if is_number(tgt) else "") + ".",
            f"Today non-target leads reach a deal {fmt_pct(d['nontarget_conversion_now'], 'en')} of the time"
            + (f" against {fmt_pct(tgt, 'en')} for target leads" if is_number(tgt) else "") + ".",
        ))
    if is_number(d.get("budget_conversion")):
        out["facts"].append(_w(
            language,
            _dot(f"«{B}» превращает свои лиды в сделки в {fmt_pct_ci(d['budget_conversion'], d.get('budget_conversion_ci'), 'ru', 1, conf)} "
                 f"случаев; средний чек первого визита — {fmt_money(d.get('budget_avg_check'), currency, 'ru')}"),
            _dot(f"{B} converts its own leads at {fmt_pct_ci(d['budget_conversion'], d.get('budget_conversion_ci'), 'en', 1, conf)}; "
                 f"the average first-visit check is {fmt_money(d.get('budget_avg_check'), currency, 'en')}"),
        ))
    for s in d.get("scenarios") or []:
        rng = (f"{fmt_money(s.get('revenue_low'), currency, language)} – {fmt_money(s.get('revenue_high'), currency, language)}"
               if is_number(s.get("revenue_low")) and is_number(s.get("revenue_high")) else DASH)
        out["rows"].append({
            "capture": fmt_pct(s.get("capture_rate"), language, 0),
            "leads": fmt_int(s.get("leads"), language),
            "deals": fmt_int(s.get("deals"), language),
            "revenue": fmt_money(s.get("revenue"), currency, language),
            "range": rng,
        })
    sc = _headline_scenario(d)
    parts = []
    if sc and is_number(sc.get("revenue")):
        parts.append(_w(
            language,
            f"Если инструменты неявного перехвата переведут в «{B}» {fmt_pct(sc.get('capture_rate'), 'ru', 0)} нецелевого "
            f"потока, группа сохранит около {fmt_int(sc.get('leads'), 'ru')} лидов и {fmt_int(sc.get('deals'), 'ru')} "
            f"сделок в год — {fmt_money_short(sc.get('revenue'), currency, 'ru')} выручки в год.",
            f"If implicit-capture tools move {fmt_pct(sc.get('capture_rate'), 'en', 0)} of the non-target flow to {B}, "
            f"the group keeps about {fmt_int(sc.get('leads'), 'en')} leads and {fmt_int(sc.get('deals'), 'en')} deals a "
            f"year, {fmt_money_short(sc.get('revenue'), currency, 'en')} of revenue a year.",
        ))
    verdict = d.get("verdict") if isinstance(d.get("verdict"), Mapping) else {}
    diff = []
    for key, whose in (("higher_for_premium", P), ("higher_for_budget", B)):
        ids = verdict.get(key) or []
        if ids:
            diff.append(_w(language, f"аудитория «{whose}» выше ценит: {', '.join(names.factors.get(f, f) for f in ids)}",
                           f"{whose} respondents rate {', '.join(names.factors.get(f, f) for f in ids)} higher"))
    if diff:
        parts.append(_w(language, "Аудитории брендов различаются: ", "The brands' audiences differ: ") + "; ".join(diff) + ".")
    if d.get("merge_brands") is False:
        parts.append(_w(language,
                        f"Рекомендация: бренды не объединять, а развивать «{B}» как вторую воронку для ценочувствительной "
                        "аудитории, чтобы тёплые контакты оставались внутри группы.",
                        f"Recommendation: keep the brands separate and develop {B} as the second funnel for the "
                        "price-sensitive audience, so that warm contacts stay inside the group."))
    elif d.get("merge_brands") is True:
        parts.append(_w(language, "Существенных различий аудиторий не видно: объединение брендов можно рассматривать.",
                        "The audiences do not differ materially: merging the brands can be considered."))
    out["recommendation"] = " ".join(parts)
    return out


def _profit_section(metrics: Mapping, run: RunFolder, names: Names, language: str, currency: str) -> dict:
    pr = metrics.get("profit")
    if pr is None:
        na = not_available(_w(language, "формула прибыли не рассчитывалась", "the profit formula has not been computed"),
                           language)
        pr = None
    elif is_skipped(pr):
        na, pr = not_available(pr.get("skipped"), language), None
    else:
        na = ""
    brands = (pr or {}).get("brands") or {}
    out = {"available": bool(brands), "na": na or (not_available("—", language) if not brands else ""),
           "figure": _figure(run, "profit_what_if"), "rows": [], "text": ""}
    if not brands:
        return out
    step = pr.get("what_if_improvement")
    for brand, lines in brands.items():
        r = (lines or {}).get("all")
        if not isinstance(r, Mapping):
            continue
        src = r.get("traffic_source")
        src_txt = {"sessions": _w(language, "сессии", "sessions"), "leads": _w(language, "лиды", "leads")}.get(src, "")
        out["rows"].append({
            "brand": _w(language, "Все бренды", "All brands") if brand == "all" else names.brand(brand),
            "traffic": fmt_int(r.get("traffic"), language) + (f" ({src_txt})" if src_txt else ""),
            "conversion": fmt_pct(r.get("conversion"), language, 2),
            "check": fmt_money(r.get("average_check"), currency, language),
            "purchases": fmt_num(r.get("purchases_per_customer"), language, 2),
            "formula": fmt_money(r.get("formula_revenue"), currency, language),
            "measured": fmt_money(r.get("measured_revenue"), currency, language),
            "reconciliation": fmt_pct(r.get("reconciliation"), language, 0),
        })
    if is_number(step):
        out["text"] = _w(
            language,
            f"Формула — произведение множителей, поэтому рост любого из них на {fmt_pct(step, 'ru', 0)} даёт такой же "
            "рост выручки по формуле; выбирать, что улучшать, стоит по цене улучшения и по барьерам этапов, которые "
            "двигают множитель.",
            f"The formula is a product, so improving any factor by {fmt_pct(step, 'en', 0)} raises formula revenue by "
            "the same share; choose what to improve by the cost of the improvement and by the barriers of the stages "
            "that move the factor.",
        )
    return out


KIND_WORDS = {
    "metric": ("Метрика", "Metric"),
    "placeholder": ("Начать измерять", "Start measuring"),
    "reminder": ("Напоминание", "Reminder"),
    "win_back": ("Возврат клиента", "Win-back"),
    "milestone": ("Веха лояльности", "Loyalty milestone"),
}


def _crm_value(r: Mapping, language: str, currency: str, conf: float) -> str:
    mid = str(r.get("metric_id") or "")
    v = r.get("value")
    if not is_number(v):
        return DASH
    if mid == "traffic":
        return fmt_int(v, language)
    if mid == "average_check":
        return fmt_money(v, currency, language)
    if mid == "purchases_per_customer":
        return fmt_num(v, language, 2)
    txt = fmt_pct_ci(v, [r.get("ci_low"), r.get("ci_high")], language, 1, conf)
    if is_number(r.get("n")):
        txt += f", n{NBSP}={NBSP}{fmt_int(r.get('n'), language)}"
    return txt


def _crm_section(run: RunFolder, names: Names, language: str, currency: str, conf: float) -> dict:
    spec = _table(run, "crm_spec")
    if spec is None or not len(spec):
        return {"available": False, "na": _missing_artifact("crm_spec", language), "rows": []}
    i = 0 if language == "ru" else 1
    rows, last = [], None
    for r in spec.to_dict("records"):
        what = r.get(f"metric_{language}") if r.get("kind") in ("metric", "placeholder") else r.get(f"action_{language}")
        what = _clean(what) or _clean(r.get("metric_ru" if language == "ru" else "metric_en"))
        stage_name = r.get("stage_name") if isinstance(r.get("stage_name"), str) else names.stage(r.get("stage"))
        day = r.get("send_day")
        rows.append({
            "stage": stage_name if r.get("stage") != last else "",
            "kind": KIND_WORDS.get(str(r.get("kind")), (str(r.get("kind")),) * 2)[i],
            "what": what,
            "value": _crm_value(r, language, currency, conf),
            "touchpoints": _clean(r.get("touchpoints")) or DASH,
            "day": fmt_int(day, language) if is_number(day) else DASH,
        })
        last = r.get("stage")
    return {"available": True, "na": "", "rows": rows}


EVIDENCE_RANK = {"strong": 0, "partial": 1, "none": 2}
SOURCE_RANK = {"barrier": 0, "double_funnel": 1, "loyalty": 2}

ROADMAP_RULE = (
    "Порядок: сначала пункты с денежной оценкой, от большей к меньшей (для барьера — выручка под угрозой, верхняя "
    "оценка; для двойной воронки — выручка в год в центральном сценарии перехвата); затем пункты без денежной оценки. "
    "При равенстве выше пункт с более сильными данными (сильные, частичные, нет), затем по источнику (барьер, "
    "двойная воронка, лояльность) и по исходному порядку (ранг барьера, размер направления).",
    "Order: first the items with a money estimate, largest first (a barrier: revenue at stake, an upper bound; the "
    "double funnel: revenue a year in the central capture scenario); then the items without one. Ties go to the "
    "stronger evidence (strong, partial, none), then by source (barrier, double funnel, loyalty) and by the original "
    "order (barrier rank, size of the line).",
)


def roadmap_items(metrics: Mapping, names: Names, language: str, currency: str, conf: float) -> list[dict]:
    """The prioritised roadmap (rule: ``ROADMAP_RULE``): top barriers, the double funnel, loyalty
    triggers per line with a loyalty visit; each item with the number that justifies it."""
    items = []
    bars, _ = _part(metrics, "barriers", language)
    for b in [b for b in (bars or []) if isinstance(b, Mapping)][:MAX_ROADMAP_BARRIERS]:
        label = b.get("label") or b.get("code")
        actions = [a for a in (b.get("actions") or []) if _clean(a)]
        action = _clean(actions[0]) if actions else _w(language, f"Найти и проверить решение барьера «{label}»",
                                                        f"Find and test a fix for the barrier “{label}”")
        money = b.get("revenue_at_stake") if is_number(b.get("revenue_at_stake")) else None
        why = _w(language,
                 f"Барьер «{label}» ({names.stage(b.get('stage'))}): {fmt_pct_ci(b.get('share'), b.get('ci'), 'ru', 0, conf)} респондентов",
                 f"Barrier “{label}” ({names.stage(b.get('stage'))}): {fmt_pct_ci(b.get('share'), b.get('ci'), 'en', 0, conf)} of respondents")
        items.append({"action": action, "why": why, "money": money, "evidence": str(b.get("evidence") or "none"),
                      "source": "barrier", "order": int(b.get("rank") or 0)})
    d, _ = _part(metrics, "double_funnel", language)
    if d is not None and is_number(d.get("nontarget_share")) and d.get("merge_brands") is not True:
        sc = _headline_scenario(d)
        P, B = names.brand(d.get("premium_brand")), names.brand(d.get("budget_brand"))
        ci = d.get("nontarget_share_ci") or [None, None]
        width = (ci[1] - ci[0]) if is_number(ci[0]) and is_number(ci[1]) else None
        items.append({
            "action": _w(language, f"Двойная воронка: неявно перенаправлять ценочувствительные лиды бренда «{P}» в «{B}»",
                         f"Double funnel: route price-sensitive {P} leads to {B} by implicit capture"),
            "why": _w(language, f"{fmt_pct_ci(d['nontarget_share'], ci, 'ru', 0, conf)} лидов бренда «{P}» нецелевые по цене",
                      f"{fmt_pct_ci(d['nontarget_share'], ci, 'en', 0, conf)} of {P} leads are priced out"),
            "money": sc.get("revenue") if sc and is_number(sc.get("revenue")) else None,
            "evidence": "strong" if width is not None and width <= 0.3 else "partial",
            "source": "double_funnel", "order": 0,
        })
    loy, _ = _part(metrics, "loyalty", language)
    if loy is not None:
        lines = [(s, v) for s, v in (loy.get("by_line") or {}).items() if isinstance(v, Mapping)]
        if not lines and isinstance(loy.get("overall"), Mapping):
            lines = [(ALL_LINES, loy["overall"])]
        lines = sorted(lines, key=lambda x: (-(x[1].get("customers") or 0), x[0]))
        for pos, (scope, v) in enumerate(lines):
            k = v.get("loyalty_visit")
            if not is_number(k):
                continue
            gap = (v.get("median_gap_days") or {}).get("2")
            p1 = (v.get("p_return") or {}).get("1")
            items.append({
                "action": _w(language,
                             f"{names.line(scope)}: триггерные напоминания до {ordinal(k, 'ru', genitive=True)} визита (порог лояльности)"
                             + (f"; медианный интервал до 2-го визита — {fmt_days(gap, 'ru')}" if is_number(gap) else ""),
                             f"{names.line(scope)}: trigger reminders up to the {ordinal(k, 'en')} visit (loyalty threshold)"
                             + (f"; median gap to the 2nd visit: {fmt_days(gap, 'en')}" if is_number(gap) else "")),
                "why": _w(language, f"после первого визита возвращаются {fmt_pct(p1, 'ru', 0)} клиентов",
                          f"{fmt_pct(p1, 'en', 0)} of customers return after the first visit"),
                "money": None, "evidence": "strong", "source": "loyalty", "order": pos,
            })
    items.sort(key=lambda it: (it["money"] is None, -(it["money"] or 0.0), EVIDENCE_RANK.get(it["evidence"], 3),
                               SOURCE_RANK[it["source"]], it["order"]))
    i = 0 if language == "ru" else 1
    src_words = {"barrier": ("барьер", "barrier"), "double_funnel": ("двойная воронка", "double funnel"),
                 "loyalty": ("лояльность", "loyalty")}
    return [
        {"priority": str(n), "action": it["action"], "why": it["why"],
         "money": fmt_money_short(it["money"], currency, language), "evidence": EVIDENCE_WORDS.get(it["evidence"], ("", ""))[i],
         "source": src_words[it["source"]][i]}
        for n, it in enumerate(items, start=1)
    ]


def _appendix(case, metrics: Mapping, meta: dict, language: str) -> dict:
    params = []
    if case is not None:
        for k, v in case.parameters.model_dump().items():
            if isinstance(v, (list, tuple)):
                v = ", ".join(str(x) for x in v) or DASH
            params.append({"name": k, "value": DASH if v is None else str(v)})
    inputs = []
    c = metrics.get("case") if isinstance(metrics.get("case"), Mapping) else {}
    for t, v in (c.get("inputs") or {}).items():
        if isinstance(v, Mapping):
            inputs.append({"table": t, "file": str(v.get("file") or DASH), "sha256": str(v.get("sha256") or DASH),
                           "rows": fmt_int(v.get("rows"), language)})
    return {"parameters": params, "inputs": inputs, "version": meta["version"], "case_name": str(meta["case_name"])}


# --------------------------------------------------------------------------- executive summary


def summary_findings(ctx_parts: dict, metrics: Mapping, names: Names, language: str, currency: str, conf: float,
                     limit: int = 7) -> list[str]:
    """5-7 findings, each one sentence with its number, in a fixed order of importance:
    loyalty threshold, top barrier, funnel bottleneck, double funnel, RFM, personas,
    cross-penetration, staff dependency (each only when its part is available)."""
    out: list[str] = []
    loy, _ = _part(metrics, "loyalty", language)
    if loy is not None and isinstance(loy.get("overall"), Mapping):
        d = loy["overall"]
        p, ci = d.get("p_return") or {}, d.get("p_return_ci") or {}
        k = d.get("loyalty_visit")
        if is_number(k):
            out.append(_w(language,
                          f"Клиент становится лояльным после {ordinal(k, 'ru', genitive=True)} визита: после него возвращаются "
                          f"{fmt_pct_ci(p.get(str(k)), ci.get(str(k)), 'ru', 0, conf)} клиентов, а после первого визита — "
                          f"лишь {fmt_pct_ci(p.get('1'), ci.get('1'), 'ru', 0, conf)}.",
                          f"A customer becomes loyal after the {ordinal(k, 'en')} visit: "
                          f"{fmt_pct_ci(p.get(str(k)), ci.get(str(k)), 'en', 0, conf)} return after it, against only "
                          f"{fmt_pct_ci(p.get('1'), ci.get('1'), 'en', 0, conf)} after the first visit."))
        elif is_number(p.get("1")):
            out.append(_w(language,
                          f"После первого визита возвращаются {fmt_pct_ci(p.get('1'), ci.get('1'), 'ru', 0, conf)} клиентов; "
                          "устойчивого порога лояльности по всей базе нет.",
                          f"{fmt_pct_ci(p.get('1'), ci.get('1'), 'en', 0, conf)} of customers return after the first "
                          "visit; the whole base shows no stable loyalty threshold."))
    bars, _ = _part(metrics, "barriers", language)
    bars = [b for b in (bars or []) if isinstance(b, Mapping)]
    if bars:
        b = bars[0]
        money = b.get("revenue_at_stake")
        out.append(_w(language,
                      f"Главный барьер — «{b.get('label') or b.get('code')}» на этапе «{names.stage(b.get('stage'))}»: его "
                      f"называют {fmt_pct_ci(b.get('share'), b.get('ci'), 'ru', 0, conf)} опрошенных"
                      + (f"; под угрозой до {fmt_money_short(money, currency, 'ru')} выручки" if is_number(money) else "") + ".",
                      f"The main barrier is “{b.get('label') or b.get('code')}” at the “{names.stage(b.get('stage'))}” "
                      f"stage: {fmt_pct_ci(b.get('share'), b.get('ci'), 'en', 0, conf)} of interviewees name it"
                      + (f"; up to {fmt_money_short(money, currency, 'en')} of revenue is at stake" if is_number(money) else "")
                      + "."))
    fb = ctx_parts["funnel"]["bottlenecks"]
    if fb:
        out.append(fb[0])
    d, _ = _part(metrics, "double_funnel", language)
    if d is not None and is_number(d.get("nontarget_share")):
        sc = _headline_scenario(d)
        P, B = names.brand(d.get("premium_brand")), names.brand(d.get("budget_brand"))
        s = _w(language,
               f"{fmt_pct_ci(d['nontarget_share'], d.get('nontarget_share_ci'), 'ru', 0, conf)} лидов бренда «{P}» — нецелевые по цене",
               f"{fmt_pct_ci(d['nontarget_share'], d.get('nontarget_share_ci'), 'en', 0, conf)} of {P} leads are priced out")
        if sc and is_number(sc.get("revenue")):
            s += _w(language,
                    f"; перехват {fmt_pct(sc.get('capture_rate'), 'ru', 0)} этого потока брендом «{B}» сохранит в группе "
                    f"около {fmt_money_short(sc.get('revenue'), currency, 'ru')} выручки в год",
                    f"; capturing {fmt_pct(sc.get('capture_rate'), 'en', 0)} of this flow with {B} keeps about "
                    f"{fmt_money_short(sc.get('revenue'), currency, 'en')} of revenue a year in the group")
        out.append(s + ".")
    seg, _ = _part(metrics, "segments", language)
    rfm = seg.get("rfm") if isinstance(seg, Mapping) else None
    if isinstance(rfm, Mapping) and not is_skipped(rfm):
        cand = [(s, v) for s, v in rfm.items() if isinstance(v, Mapping) and is_number(v.get("revenue_share"))
                and not v.get("small")]
        if cand:
            s, v = max(cand, key=lambda x: (x[1]["revenue_share"], x[0]))
            try:
                from toolkit.segmentation.rfm import segment_name

                nm = segment_name(s, language)
            except (ImportError, KeyError):
                nm = s
            out.append(_w(language,
                          f"Сегмент «{nm}» — {fmt_pct(v.get('customer_share'), 'ru', 0)} клиентов — приносит "
                          f"{fmt_pct(v['revenue_share'], 'ru', 0)} выручки.",
                          f"The “{nm}” segment, {fmt_pct(v.get('customer_share'), 'en', 0)} of customers, brings "
                          f"{fmt_pct(v['revenue_share'], 'en', 0)} of revenue."))
    personas = seg.get("personas") if isinstance(seg, Mapping) else None
    if isinstance(personas, list) and personas:
        top = max(personas, key=lambda p: (p.get("share") or 0))
        k = seg.get("k") or len(personas)
        out.append(_w(language,
                      f"Аудитория делится на {fmt_int(k, 'ru')} {ru_plural(k, 'персону', 'персоны', 'персон')}; крупнейшая — "
                      f"«{top.get('name')}», {fmt_pct_ci(top.get('share'), top.get('share_ci'), 'ru', 0, conf)} опрошенных.",
                      f"The audience splits into {fmt_int(k, 'en')} persona{'s' if k != 1 else ''}; the largest is "
                      f"“{top.get('name')}”, {fmt_pct_ci(top.get('share'), top.get('share_ci'), 'en', 0, conf)} of respondents."))
    if ctx_parts["loyalty"]["cross"]["text"]:
        out.append(ctx_parts["loyalty"]["cross"]["text"].split(";")[0].rstrip(".") + ".")
    if ctx_parts["loyalty"]["staff"]["text"]:
        out.append(ctx_parts["loyalty"]["staff"]["text"].split(". ")[0].rstrip(".") + ".")
    return out[:limit]


# --------------------------------------------------------------------------- the context


def build_context(run_dir, case=None, language: str | None = None, prepared_by: str | None = None) -> dict:
    """Every variable of the report template, from the run folder ``run_dir``.

    ``case``: a ``toolkit.core.config.Case`` (or a case folder) for display names and parameters;
    without it, ids stand in for names and the default parameters are shown. ``language``:
    "ru" or "en" (default: the case's, else metrics.json's). Nothing is written.
    """
    if case is not None and not hasattr(case, "parameters"):
        case = case_for_step(case, run_dir)
    elif case is None and has_resolved_case(Path(run_dir)):
        case = read_resolved_case(Path(run_dir))
    run = RunFolder(run_dir)
    metrics = load_metrics(run)
    c = metrics.get("case") if isinstance(metrics.get("case"), Mapping) else {}
    language = language or (case.language if case is not None else None) or c.get("language") or "ru"
    if language not in ("ru", "en"):
        raise ValueError(f"language must be 'ru' or 'en', got {language!r}")
    matrix = _table(run, "journey_matrix")
    names = Names(case, language, metrics, matrix)
    meta = _meta(case, metrics, language, prepared_by)
    currency = meta["currency"]
    conf = case.parameters.confidence if case is not None else 0.95
    ctx = {
        "meta": meta,
        "method": _method(case, language),
        "data": _data_section(metrics, run, language),
        "rfm": _rfm_section(metrics, run, language),
        "personas": _personas_section(metrics, run, names, language),
        "journeys": _journeys(run, matrix, metrics, names, language),
        "funnel": _funnel_section(metrics, run, names, language, conf),
        "barriers": _barriers_section(metrics, run, names, language, currency, conf),
        "loyalty": _loyalty_section(metrics, run, names, language, currency, conf),
        "double_funnel": _double_funnel_section(metrics, run, names, language, currency, conf),
        "profit": _profit_section(metrics, run, names, language, currency),
        "crm": _crm_section(run, names, language, currency, conf),
    }
    rows = roadmap_items(metrics, names, language, currency, conf)
    ctx["roadmap"] = {"available": bool(rows), "rows": rows, "rule": ROADMAP_RULE[0 if language == "ru" else 1],
                      "na": "" if rows else not_available(_w(language, "нет барьеров, двойной воронки и порогов лояльности",
                                                              "no barriers, double funnel or loyalty thresholds"), language)}
    findings = summary_findings(ctx, metrics, names, language, currency, conf)
    ctx["summary"] = {"available": bool(findings), "findings": findings,
                      "na": "" if findings else not_available(_w(language, "ни один шаг анализа не дал результата",
                                                                 "no analysis step produced a result"), language)}
    ctx["appendix"] = _appendix(case, metrics, meta, language)
    return ctx


def context_figures(ctx) -> list[FigureRef]:
    """Every FigureRef in a context, in document order."""
    out: list[FigureRef] = []

    def walk(x):
        if isinstance(x, FigureRef):
            out.append(x)
        elif isinstance(x, Mapping):
            for v in x.values():
                walk(v)
        elif isinstance(x, (list, tuple)):
            for v in x:
                walk(v)

    walk(ctx)
    return out


__all__ = [
    "ARTIFACTS_USED",
    "FIGURES_USED",
    "JSON_ARTIFACTS_USED",
    "METRICS_USED",
    "ROADMAP_RULE",
    "FigureRef",
    "build_context",
    "context_figures",
    "fmt_date",
    "journey_figure_name",
    "load_metrics",
    "not_available",
    "reason_label",
    "roadmap_items",
    "summary_findings",
]

