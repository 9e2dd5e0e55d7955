"""Shared pieces of the report's sections: reading the run folder, display names, dates, "not available" lines."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from babel.dates import format_date

from toolkit.core.config import NORMATIVE_STAGES
from toolkit.core.fmt import DASH, fmt_money_short, is_number
from toolkit.core.metrics import is_skipped
from toolkit.core.run_folder import RunFolder
from toolkit.core.words import has_word, word
from toolkit.report.inputs import ALL_LINES
from toolkit.stage_mapping.journey import case_code_labels


@dataclass(frozen=True)
class FigureRef:
    """A figure PNG of the run; rendered as an image at the text width."""

    path: Path
    name: str
    width_mm: float | None = None  # None: the portrait text width; landscape pages pass their own
    max_height_mm: float | None = None

    def __str__(self) -> str:  # shown only if a template prints it outside the renderer
        return self.name

def w(language: str, key: str, **values) -> str:
    """The report's words: ``report.<key>`` of the word catalog (``toolkit.core.words``); a value
    ending in an abbreviation's full stop ("руб.") does not double the sentence's."""
    return re.sub(r"(?<=\.)\.(?=\s|$)", "", word(f"report.{key}", language, **values))


# English reason sentences some analyses still return -> their ``skip.*`` catalog key
SKIP_KEYS = {
    "no leads table in this case": "no_leads",
    "no funnel_stages declared in case.yml": "no_funnel_stages",
    "no leads table or no funnel stages in this case": "no_leads_or_stages",
    "the case has one brand": "one_brand",
    "no brand has role premium and another role budget": "no_brand_pair",
    "the premium brand has no leads": "premium_no_leads",
    "no survey table in this case": "no_survey",
    "no survey with choice-factor importances in this case": "no_survey_factors",
    "the survey has no choice-factor importance columns (imp_<factor>)": "no_survey_factors",
    "the step that computes it has not run": "not_run",
    "no transactions in this case": "no_sales",
    "no sales history (transactions) in this case": "no_sales",
    "no codes table in this case": "no_codes",
    "no coded interviews in this case": "no_codes",
}


def reason_label(reason: str, language: str) -> str:
    """Human words for a quarantine reason (``missing_customer_id`` -> "не заполнено поле customer_id")."""
    reason = str(reason)
    if has_word(f"report.reason.{reason}", language):
        return w(language, f"reason.{reason}")
    for prefix in ("missing_", "bad_", "unknown_"):
        if reason.startswith(prefix):
            name = reason[len(prefix):]
            field = w(language, f"field.{name}") if has_word(f"report.field.{name}", language) else w(language, "field.other")
            return w(language, f"reason.{prefix}any", field=field)
    return w(language, "reason.other")


def skip_reason(reason, language: str) -> str:
    """A skip reason in the report language: a ``skip.*`` key, a known English sentence mapped to
    its key; an unknown reason is never printed in the wrong language (a generic line instead)."""
    text = str(reason or "").strip().rstrip(".")
    key = text[5:] if text.startswith("skip.") else SKIP_KEYS.get(text, text)
    if key and has_word(f"skip.{key}", language):
        return word(f"skip.{key}", language)
    return word("skip.unknown", language)


def not_available(reason, language: str) -> str:
    """"Нет данных: <reason>." / "Not available: <reason>."."""
    return w(language, "not_available", reason=skip_reason(reason, language).rstrip("."))


def fmt_date(value, language: str, long: bool = False) -> str:
    """``30.06.2025`` / ``30 Jun 2025``; ``long``: ``30 июня 2025 г.`` / ``30 June 2025`` (babel)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return DASH
    try:
        d = pd.Timestamp(value).date()
    except (ValueError, TypeError):
        return str(value)
    if long:
        return format_date(d, format="long", locale=language)
    return format_date(d, format=w(language, "date_short_pattern"), locale=language)

def quoted(text: str, language: str) -> str:
    return w(language, "quoted", text=text)

def end_sentence(text: str) -> str:
    """End a sentence with one full stop (money in ru ends with "руб." already)."""
    text = text.rstrip()
    return text if text.endswith((".", "!", "?")) else text + "."

def one_line(text) -> str:
    """Table/sentence text on one line (Word shows a raw newline as a space anyway)."""
    if text is None or (isinstance(text, float) and np.isnan(text)) or text is pd.NA:
        return ""
    return re.sub(r"\s*\n\s*", "; ", str(text)).strip()

def load_metrics(run: RunFolder) -> dict:
    """``metrics.json`` of the run, else its assembled parts (nothing is written)."""
    path = run.root / "metrics.json"
    if path.exists():
        return json.loads(path.read_text(encoding="utf-8"))
    return run.load_metrics_parts()

def read_table(run: RunFolder, name: str) -> pd.DataFrame | None:
    return run.load_table(name) if run.has_table(name) else None

def read_json(run: RunFolder, name: str):
    path = run.artifacts / f"{name}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None

def figure_ref(run: RunFolder, name: str, width_mm: float | None = None,
               max_height_mm: float | None = None) -> FigureRef | None:
    path = run.figures / f"{name}.png"
    return FigureRef(path=path, name=name, width_mm=width_mm, max_height_mm=max_height_mm) if path.exists() else None

def metrics_part(metrics: Mapping, key: str, language: str):
    """(value, na): the metrics part, or None with the "not available" sentence."""
    if key not in metrics:
        return None, not_available("skip.not_run", language)
    v = metrics[key]
    if is_skipped(v):
        return None, not_available(v.get("skipped"), language)
    if v is None or (hasattr(v, "__len__") and len(v) == 0):
        return None, not_available("skip.empty", language)
    return v, ""

def missing_artifact(name: str, language: str) -> str:
    return not_available("skip.not_run", language)

SNAKE = re.compile(r"(?<![\w./-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w/-])")


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
        self.factor_levels: dict[str, str] = {}
        self.touchpoints: dict[str, str] = {}
        self.code_names: dict[str, str] = {}
        self.made_labels: set[str] = set()  # codes shown with a label made from the id (a warning)
        if matrix is not None and len(matrix) and {"stage", "stage_name"} <= set(matrix.columns):
            st = matrix.drop_duplicates("stage")
            self.stages.update(dict(zip(st["stage"].astype(str), st["stage_name"].astype(str))))
            if "stage_order" in st.columns:
                self.stage_order.update(dict(zip(st["stage"].astype(str), st["stage_order"].astype(int))))
        if case is not None:
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
            self.factor_levels = {f.id: f.level for f in case.choice_factors if f.level}
            self.touchpoints = {t.id: t.label for t in case.touchpoints}
            self.code_names = case_code_labels(case)
            self.funnel = {f.id: f.label for f in case.funnel_stages}
        personas = (metrics.get("segments") or {}).get("personas") if isinstance(metrics.get("segments"), Mapping) else None
        self.personas = {str(p.get("persona", p.get("id"))): str(p.get("name") or p.get("persona"))
                         for p in (personas or []) if isinstance(p, Mapping)}

    def stage(self, s) -> str:
        return self.stages.get(str(s), str(s))

    def line(self, s) -> str:
        if s == ALL_LINES:
            return w(self.language, "all_lines")
        return self.lines.get(str(s), str(s))

    def brand(self, b) -> str:
        return self.brands.get(str(b), str(b))

    def factor(self, f) -> str:
        return self.factors.get(str(f)) or self.code(f)

    def factor_level(self, f) -> str:
        return self.factor_levels.get(str(f)) or "company"

    def code(self, code, label=None) -> str:
        """A human label for a code id: the codebook's label, the case's vocabulary (touchpoints,
        factors), the label the analysis gave, else a label made from the id (recorded in
        ``made_labels`` for the data-quality warning)."""
        c = str(code)
        for book in (self.code_names, self.touchpoints, self.factors):
            if book.get(c):
                return book[c]
        if label and str(label) != c and not SNAKE.fullmatch(str(label)):
            return str(label)
        if not re.fullmatch(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)+", c):
            return c
        self.made_labels.add(c)
        c = re.sub(r"^(?:emotion|idea|barrier|motivator|touchpoint|factor|jtbd|expectation)_", "", c)
        return c.replace("_", " ").strip().capitalize()


# --------------------------------------------------------------------------- money basis


def impact_range(impact, currency: str, language: str) -> str | None:
    """``≈ 4,4–6,5 млн руб. в год`` from an ``{estimate, low, high}`` mapping (METRICS.md money
    basis); None when the impact is not measured."""
    if not isinstance(impact, Mapping):
        return None
    lo, hi, est = impact.get("low"), impact.get("high"), impact.get("estimate")
    if is_number(lo) and is_number(hi) and hi > lo:
        return w(language, "money.range_year", low=fmt_money_short(lo, currency, language),
                 high=fmt_money_short(hi, currency, language))
    if is_number(est):
        return w(language, "money.about_year", value=fmt_money_short(est, currency, language))
    return None


def impact_estimate(impact) -> float | None:
    if isinstance(impact, Mapping) and is_number(impact.get("estimate")):
        return float(impact["estimate"])
    return None


def scenario_impact(scenario) -> dict | None:
    """The annual incremental revenue of a double-funnel scenario: ``incremental_annual_revenue``
    (money basis) when the run has it, else the scenario's revenue with its interval bounds."""
    if not isinstance(scenario, Mapping):
        return None
    inc = scenario.get("incremental_annual_revenue")
    if isinstance(inc, Mapping) and is_number(inc.get("estimate")):
        return dict(inc)
    if is_number(scenario.get("revenue")):
        return {"estimate": scenario["revenue"], "low": scenario.get("revenue_low"), "high": scenario.get("revenue_high")}
    return None


def evidence_word(level, language: str) -> str:
    level = str(level or "none")
    return w(language, f"evidence.{level}") if has_word(f"report.evidence.{level}", language) else w(language, "evidence.none")


def k_method_text(segments, language: str) -> str:
    """How the number of personas was chosen, in words, from metrics ``segments.k_method`` (or
    ``segments.persona_method.k_method``): the gap statistic, with the stability check when both
    decided; never the silhouette unless the run says so."""
    seg = segments if isinstance(segments, Mapping) else {}
    pm = seg.get("persona_method") if isinstance(seg.get("persona_method"), Mapping) else {}
    k = str(seg.get("k_method") or pm.get("k_method") or "gap_only")
    key = {"stability_and_gap": "k_stability_and_gap", "gap_only": "k_gap", "gap": "k_gap",
           "silhouette": "k_silhouette"}.get(k, "k_gap")
    return w(language, f"method.{key}")
