"""Shared pieces of the report's sections: reading the run folder, display names, dates, "not available" lines."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
import json
import re

import numpy as np
import pandas as pd

from toolkit.core.fmt import DASH
from toolkit.core.run_folder import RunFolder
from toolkit.report.inputs import ALL_LINES


@dataclass(frozen=True)
class FigureRef:
    """A figure PNG of the run; rendered as an image at the text width."""

    path: Path
    name: str

    def __str__(self) -> str:  # shown only if a template prints it outside the renderer
        return self.name

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

def quoted(text: str, language: str) -> str:
    return f"«{text}»" if language == "ru" else f"“{text}”"

def end_sentence(text: str) -> str:
    """End a sentence with one full stop (money in ru ends with "руб." already)."""
    text = text.rstrip()
    return text if text.endswith((".", "!", "?")) else text + "."

def one_line(text) -> str:
    """Table/sentence text on one line (Word shows a raw newline as a space anyway)."""
    if text is None or (isinstance(text, float) and np.isnan(text)) or text is pd.NA:
        return ""
    return re.sub(r"\s*\n\s*", "; ", str(text)).strip()

def is_skipped(value) -> bool:
    return isinstance(value, Mapping) and "skipped" in value

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

def figure_ref(run: RunFolder, name: str) -> FigureRef | None:
    path = run.figures / f"{name}.png"
    return FigureRef(path=path, name=name) if path.exists() else None

def metrics_part(metrics: Mapping, key: str, language: str):
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

def missing_artifact(name: str, language: str) -> str:
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
