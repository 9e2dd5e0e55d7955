"""Shared drawing helpers of the report's figures: labels, wrapping, number formatters,
legends, the common colours. Each step package draws its own figures with these
(``<step>/charts.py``); every figure is a ``matplotlib.figure.Figure`` built with
:func:`toolkit.core.figures.new_figure` (no pyplot state, no backend switching).

Legibility rule: figures are drawn at the report's text width (``A4_TEXT_WIDTH_IN``) and
inserted at that width, so a font size here is the printed size; no text is smaller than
``MIN_FONT`` (7 pt). Privacy rule: cells, rows or segments the analysis suppressed (fewer
than ``min_segment_size`` customers) are drawn as suppressed, never as 0.
"""
from __future__ import annotations

import hashlib
import math
import re
import textwrap
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Patch, Rectangle
from matplotlib.ticker import FuncFormatter, MaxNLocator

from toolkit.core.figures import A4_TEXT_WIDTH_IN, EVIDENCE_COLOURS, PALETTE, new_figure
from toolkit.core.fmt import CURRENCY_RU, fmt_int, fmt_num, fmt_pct, fmt_range, is_number

MIN_FONT = 7.0  # pt, at print size
ALL_LINES = "all_lines"
SUPPRESSED_COLOUR = "#d9d9d9"
HEADER_COLOUR = PALETTE[0]
LABEL_COLOUR = "#deeaf6"

# label id -> (ru, en)
LABELS: dict[str, tuple[str, str]] = {
    "rfm_title": ("RFM-сегменты: доля клиентов и выручки", "RFM segments: share of customers and revenue"),
    "customers": ("Клиенты", "Customers"),
    "revenue": ("Выручка", "Revenue"),
    "share_pct": ("Доля, %", "Share, %"),
    "small_segments": ("Прочие (малые сегменты)", "Other (small segments)"),
    "persona_title": ("Профили персон: важность факторов выбора (z)", "Persona profiles: importance of choice factors (z)"),
    "z_label": ("Отклонение от среднего, SD", "Difference from the mean, SD"),
    "matrix_title": ("Карта пути клиента", "Customer journey map"),
    "ev_strong": ("Сильные данные", "Strong evidence"),
    "ev_partial": ("Частичные данные", "Partial evidence"),
    "ev_none": ("Нет данных", "No evidence"),
    "row": ("Строка карты", "Map row"),
    "emotion_title": ("Эмоциональная кривая: средняя оценка по этапам", "Emotion curve: mean sentiment by stage"),
    "sentiment": ("Оценка (−2…+2), среднее и ДИ", "Sentiment (−2…+2), mean and CI"),
    "all_respondents": ("Все респонденты", "All respondents"),
    "funnel_title": ("Воронка лидов по брендам", "Lead funnel by brand"),
    "leads": ("Лиды, дошедшие до этапа", "Leads that reached the stage"),
    "barriers_title": ("Главные барьеры: доля респондентов", "Top barriers: share of respondents"),
    "barrier_share": ("Доля респондентов, % (с ДИ)", "Share of respondents, % (with CI)"),
    "repeat_title": ("Вероятность возврата после визита n", "Probability of returning after visit n"),
    "p_return": ("P(возврат), % (с ДИ Уилсона)", "P(return), % (Wilson CI)"),
    "visit_n": ("Номер визита n", "Visit number n"),
    "loyalty_visit": ("порог лояльности", "loyalty visit"),
    "all_lines": ("Все направления", "All lines"),
    "gap_title": ("Интервал перед визитом n: медиана и IQR", "Gap before visit n: median and IQR"),
    "gap_days": ("Дней с предыдущего визита", "Days since the previous visit"),
    "cross_title": ("Кросс-проникновение направлений", "Cross-penetration between lines"),
    "cross_from": ("Клиенты направления", "Customers of the line"),
    "cross_to": ("…также покупали", "…also bought"),
    "suppressed": ("скрыто", "hidden"),
    "suppressed_small": ("скрыто: меньше минимального размера сегмента", "hidden: below the minimum segment size"),
    "staff_title": ("Зависимость повторных клиентов от специалистов", "Repeat customers' dependency on staff"),
    "attached_any": ("Закреплены за одним специалистом", "Attached to one staff member"),
    "attached_top": ("Закреплены за топ-специалистом", "Attached to the top staff member"),
    "repeat_share": ("Доля повторных клиентов, % (с ДИ)", "Share of repeat customers, % (with CI)"),
    "df_title": ("Двойная воронка: нецелевой поток премиального бренда", "Double funnel: the premium brand's non-target flow"),
    "df_leads": ("лидов", "leads"),
    "df_target": ("Целевые", "Target"),
    "df_nontarget": ("Нецелевые (цена)", "Non-target (price)"),
    "df_captured": ("Перехват", "Captured by"),
    "df_lost": ("Уходят к конкурентам", "Leak to competitors"),
    "df_deals": ("сделок", "deals"),
    "df_per_year": ("в год", "a year"),
    "df_conv_now": ("конверсия сейчас", "conversion now"),
    "df_capture": ("доля перехвата", "capture rate"),
    "df_of_nontarget": ("нецелевых", "of non-target"),
    "scen_title": ("Сценарии: выручка бюджетного бренда в год", "Scenarios: the budget brand's revenue a year"),
    "scen_x": ("Доля перехвата нецелевых лидов, %", "Share of non-target leads captured, %"),
    "scen_band": ("Диапазон (границы интервалов)", "Range (interval bounds)"),
    "profit_title": ("Формула прибыли: эффект роста множителей", "Profit formula: effect of raising each factor"),
    "profit_x": ("Прирост выручки", "Change in revenue"),
    "no_data": ("нет данных", "no data"),
    "millions": ("млн", "m"),
    "thousands": ("тыс.", "k"),
}

LEVER_LABELS: dict[str, tuple[str, str]] = {
    "traffic": ("Трафик", "Traffic"),
    "conversion": ("Конверсия", "Conversion"),
    "average_check": ("Средний чек", "Average check"),
    "purchases": ("Число покупок", "Number of purchases"),
    "purchases_per_customer": ("Покупок на клиента", "Purchases per customer"),
    "costs": ("Затраты", "Costs"),
    "margin": ("Маржа", "Margin"),
}


def t(key: str, language: str = "ru") -> str:
    """The label ``key`` in ``language``."""
    ru, en = LABELS[key]
    return ru if language == "ru" else en


def wrap(text, width: int, max_lines: int | None = None) -> str:
    """Wrap ``text`` to ``width`` characters; cut to ``max_lines`` lines with an ellipsis."""
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return ""
    lines = textwrap.wrap(str(text), width=max(4, width), break_long_words=True, break_on_hyphens=True)
    if max_lines is not None and len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: max(1, width - 1)].rstrip() + "…"
    return "\n".join(lines)


def display_name(names: Mapping | None, key, language: str = "ru") -> str:
    if key == ALL_LINES:
        return (names or {}).get(key, t("all_lines", language))
    return str((names or {}).get(key, key))


def pct_formatter(language: str, digits: int = 0) -> FuncFormatter:
    return FuncFormatter(lambda v, _pos: fmt_pct(v, language, digits))


def set_title(ax, text: str) -> None:
    """Axes title, wrapped to the figure width (bold 10 pt: about 60 characters a line)."""
    ax.set_title(wrap(text, 60, 2))


def legend_below(ax, ncol: int = 2, handles=None) -> None:
    """Legend under the axes (never over the data)."""
    if handles is None:
        handles, labels = ax.get_legend_handles_labels()
    else:
        labels = [h.get_label() for h in handles]
    if handles:
        ax.figure.legend(handles, labels, loc="outside lower center", ncol=max(1, ncol), frameon=False)


def draw_no_data(ax, language: str) -> None:
    ax.text(0.5, 0.5, t("no_data", language), ha="center", va="center", fontsize=9, color="#7f7f7f", transform=ax.transAxes)
    ax.set_axis_off()


def as_records(x) -> pd.DataFrame:
    """A list of dicts (metrics.json) or a DataFrame as a DataFrame."""
    if isinstance(x, pd.DataFrame):
        return x.copy()
    return pd.DataFrame(list(x or []))


def num_array(s) -> np.ndarray:
    return pd.to_numeric(pd.Series(s), errors="coerce").to_numpy(dtype=float)


def unit_scale(values: np.ndarray, language: str) -> tuple[float, str]:
    """Divide money by 1e6 or 1e3 for axes when the numbers are large."""
    finite = values[np.isfinite(values)]
    top = float(np.max(np.abs(finite))) if finite.size else 0.0
    if top >= 1e6:
        return 1e6, t("millions", language)
    if top >= 1e4:
        return 1e3, t("thousands", language)
    return 1.0, ""


def currency_label(currency: str, language: str) -> str:
    return CURRENCY_RU.get(currency, currency) if language == "ru" else currency


def fmt_compact(v: float, language: str, digits: int = 1) -> str:
    return fmt_num(v, language, digits) if abs(v) < 100 else fmt_int(v, language)


# --------------------------------------------------------------------------- segments


