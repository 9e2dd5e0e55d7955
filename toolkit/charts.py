"""The report's figures: one function per figure, each returning a ``matplotlib.figure.Figure``.

Every function takes the analysis results as they are saved in the run folder (the
DataFrames of the analysis modules, or the corresponding part of metrics.json) plus
``language`` ("ru" or "en") for the labels, and builds its figure with
:func:`toolkit.figures.new_figure` (no pyplot state, no backend switching). Save with
:func:`toolkit.figures.save_figure` (reproducible bytes).

Legibility rule: figures are drawn at the report's text width (``A4_TEXT_WIDTH_IN``) and
inserted at that width, so a font size here is the printed size; no text is smaller than
``MIN_FONT`` (7 pt). Labels are in the report language; Cyrillic comes from the theme's font.

Privacy rule: cells, rows or segments the analysis suppressed (fewer than
``min_segment_size`` customers) are drawn as suppressed, never as 0.

Figures (function -> input):

- :func:`rfm_segments_chart` -> ``toolkit.rfm.segment_table`` (one scope) or metrics ``segments.rfm``
- :func:`persona_profile_chart` -> ``PersonaResult.profile`` (+ ``PersonaResult.personas``)
- :func:`journey_matrix_chart` -> ``toolkit.stages.journey_matrix`` (one segment per figure)
- :func:`emotion_curve_chart` -> ``toolkit.stages.emotion_curve``
- :func:`journey_figures` -> every per-segment map and emotion curve, named for the report
- :func:`funnel_chart` -> ``toolkit.funnel.funnel_table(by=("brand",))`` or metrics ``funnel``
- :func:`barriers_chart` -> ``toolkit.barriers.barrier_table`` or metrics ``barriers``
- :func:`repeat_curve_chart` -> ``toolkit.loyalty.repeat_curve`` (+ loyalty visits)
- :func:`gap_chart` -> ``toolkit.loyalty.gap_intervals``
- :func:`cross_penetration_chart` -> ``toolkit.loyalty.cross_penetration`` or metrics ``cross_penetration``
- :func:`staff_dependency_chart` -> ``toolkit.loyalty.staff_dependency`` or metrics ``staff_dependency``
- :func:`double_funnel_chart` -> metrics ``double_funnel``
- :func:`scenario_revenue_chart` -> metrics ``double_funnel.scenarios``
- :func:`profit_whatif_chart` -> ``toolkit.profit.what_if`` or metrics ``profit.brands[b].all.what_if``
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

from toolkit.figures import A4_TEXT_WIDTH_IN, EVIDENCE_COLOURS, PALETTE, new_figure
from toolkit.report.fmt import CURRENCY_RU, fmt_int, fmt_num, fmt_pct, fmt_range, is_number

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


def _name(names: Mapping | None, key, language: str = "ru") -> str:
    if key == ALL_LINES:
        return (names or {}).get(key, t("all_lines", language))
    return str((names or {}).get(key, key))


def _pct_formatter(language: str, digits: int = 0) -> FuncFormatter:
    return FuncFormatter(lambda v, _pos: fmt_pct(v, language, digits))


def _title(ax, text: str) -> None:
    """Axes title, wrapped to the figure width (bold 10 pt: about 60 characters a line)."""
    ax.set_title(wrap(text, 60, 2))


def _legend_below(ax, ncol: int = 2, handles=None) -> None:
    """Legend under the axes (never over the data)."""
    if handles is None:
        handles, labels = ax.get_legend_handles_labels()
    else:
        labels = [h.get_label() for h in handles]
    if handles:
        ax.figure.legend(handles, labels, loc="outside lower center", ncol=max(1, ncol), frameon=False)


def _no_data(ax, language: str) -> None:
    ax.text(0.5, 0.5, t("no_data", language), ha="center", va="center", fontsize=9, color="#7f7f7f", transform=ax.transAxes)
    ax.set_axis_off()


def _records(x) -> pd.DataFrame:
    """A list of dicts (metrics.json) or a DataFrame as a DataFrame."""
    if isinstance(x, pd.DataFrame):
        return x.copy()
    return pd.DataFrame(list(x or []))


def _num_array(s) -> np.ndarray:
    return pd.to_numeric(pd.Series(s), errors="coerce").to_numpy(dtype=float)


def _unit_scale(values: np.ndarray, language: str) -> tuple[float, str]:
    """Divide money by 1e6 or 1e3 for axes when the numbers are large."""
    finite = values[np.isfinite(values)]
    top = float(np.max(np.abs(finite))) if finite.size else 0.0
    if top >= 1e6:
        return 1e6, t("millions", language)
    if top >= 1e4:
        return 1e3, t("thousands", language)
    return 1.0, ""


def _currency_label(currency: str, language: str) -> str:
    return CURRENCY_RU.get(currency, currency) if language == "ru" else currency


def _fmt_compact(v: float, language: str, digits: int = 1) -> str:
    return fmt_num(v, language, digits) if abs(v) < 100 else fmt_int(v, language)


# --------------------------------------------------------------------------- segments


def rfm_segments_chart(segments, language: str = "ru", title: str | None = None) -> Figure:
    """RFM segment sizes and revenue shares: two bars per segment (share of customers, share of
    net revenue), best segments on top. Segments flagged ``small`` (fewer customers than
    ``min_segment_size``) are pooled into one "other" row.

    ``segments``: ``toolkit.rfm.segment_table`` (columns ``segment``, ``customers``,
    ``customer_share``, ``revenue_share``, optional ``name_ru``/``name_en``, ``small``, ``scope``:
    only ``all_lines`` is drawn when several scopes are given) or metrics ``segments.rfm``
    (``{segment: {customers, revenue_share, customer_share, small}}``).
    """
    if isinstance(segments, Mapping):
        df = pd.DataFrame([{"segment": k, **(v or {})} for k, v in segments.items()])
    else:
        df = segments.copy()
    if "scope" in df.columns and df["scope"].nunique() > 1:
        df = df[df["scope"] == ALL_LINES]
    fig, ax = new_figure(height_in=3.2)
    if df.empty:
        _no_data(ax, language)
        return fig
    df["customers"] = _num_array(df.get("customers", np.nan))
    if "customer_share" not in df.columns or df["customer_share"].isna().all():
        total = np.nansum(df["customers"])
        df["customer_share"] = df["customers"] / total if total > 0 else np.nan
    df["customer_share"] = _num_array(df["customer_share"])
    df["revenue_share"] = _num_array(df.get("revenue_share", np.nan))
    name_col = f"name_{language}"
    if name_col not in df.columns:
        try:
            from toolkit.rfm import segment_name

            df[name_col] = [segment_name(s, language) if s in _rfm_ids() else s for s in df["segment"]]
        except ImportError:
            df[name_col] = df["segment"].astype(str)
    small = df["small"].fillna(False).astype(bool) if "small" in df.columns else pd.Series(False, index=df.index)
    shown = df[~small & (df["customers"] > 0)]
    if small.any() and df.loc[small, "customers"].sum() > 0:
        other = pd.DataFrame(
            {
                name_col: [t("small_segments", language)],
                "customers": [df.loc[small, "customers"].sum()],
                "customer_share": [df.loc[small, "customer_share"].sum()],
                "revenue_share": [df.loc[small, "revenue_share"].sum(min_count=1)],
            }
        )
        shown = pd.concat([shown, other], ignore_index=True)
    n = len(shown)
    fig.set_size_inches(A4_TEXT_WIDTH_IN, 0.9 + 0.34 * n)
    y = np.arange(n)
    h = 0.38
    ax.barh(y - h / 2, shown["customer_share"], height=h, color=PALETTE[5], label=t("customers", language))
    ax.barh(y + h / 2, shown["revenue_share"].fillna(0), height=h, color=PALETTE[1], label=t("revenue", language))
    for yi, (c, r) in enumerate(zip(shown["customer_share"], shown["revenue_share"])):
        ax.text(c, yi - h / 2, " " + fmt_pct(c, language, 0), va="center", fontsize=MIN_FONT)
        ax.text(r if is_number(r) else 0, yi + h / 2, " " + fmt_pct(r, language, 0), va="center", fontsize=MIN_FONT)
    labels = [f"{wrap(nm, 26)}\n(n={fmt_int(c, language)})" for nm, c in zip(shown[name_col], shown["customers"])]
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    top = np.nanmax(np.r_[shown["customer_share"].to_numpy(float), shown["revenue_share"].to_numpy(float), 0.05])
    ax.set_xlim(0, top * 1.18)
    ax.xaxis.set_major_formatter(_pct_formatter(language))
    ax.set_xlabel(t("share_pct", language))
    _title(ax, title or t("rfm_title", language))
    _legend_below(ax, ncol=2)
    ax.grid(axis="y", visible=False)
    return fig


def _rfm_ids() -> set[str]:
    try:
        from toolkit.rfm import SEGMENTS

        return set(SEGMENTS)
    except ImportError:  # pragma: no cover - rfm is part of the toolkit
        return set()


def persona_profile_chart(
    profile: pd.DataFrame,
    personas=None,
    language: str = "ru",
    value: str = "mean_z",
    title: str | None = None,
) -> Figure:
    """Heatmap of the personas' standardised importances: personas in rows, choice factors in
    columns, cell = mean z of the persona (0 = the sample mean; +1 = one SD above it).

    ``profile``: ``PersonaResult.profile`` (``persona``, ``factor_id``, ``name`` (factor display
    name), ``mean_z``, optional ``order``); ``personas``: ``PersonaResult.personas`` or metrics
    ``segments.personas`` (``persona``/``id``, ``name``, ``share``) for the row labels.
    """
    fig, ax = new_figure(height_in=3.0)
    if profile is None or not len(profile):
        _no_data(ax, language)
        return fig
    p = profile.copy()
    if "name" not in p.columns:
        p["name"] = p["factor_id"]
    if "order" not in p.columns:
        p["order"] = p["factor_id"].map({f: i for i, f in enumerate(dict.fromkeys(p["factor_id"]))})
    factors = p.drop_duplicates("factor_id").sort_values("order", kind="stable")
    persona_ids = sorted(p["persona"].astype(str).unique(), key=lambda s: (len(s), s))
    grid = p.pivot_table(index="persona", columns="factor_id", values=value, aggfunc="first")
    grid = grid.reindex(index=persona_ids, columns=list(factors["factor_id"]))
    meta = {}
    if personas is not None:
        pr = _records(personas)
        key = "persona" if "persona" in pr.columns else "id"
        if key in pr.columns:
            meta = {str(r[key]): r for r in pr.to_dict("records")}
    row_labels = []
    for pid in persona_ids:
        m = meta.get(pid, {})
        nm = m.get("name")
        share = m.get("share")
        lab = f"{pid}: {nm}" if nm else pid
        lab = wrap(lab, 26, 2)
        if is_number(share):
            lab += f" ({fmt_pct(share, language, 0)})"
        row_labels.append(lab)
    z = grid.to_numpy(dtype=float)
    vmax = max(0.5, float(np.nanmax(np.abs(z))) if np.isfinite(z).any() else 1.0)
    nrow, ncol = z.shape
    fig.set_size_inches(A4_TEXT_WIDTH_IN, 1.3 + 0.45 * nrow)
    im = ax.imshow(z, cmap="RdBu_r", vmin=-vmax, vmax=vmax, aspect="auto")
    for i in range(nrow):
        for j in range(ncol):
            v = z[i, j]
            if np.isfinite(v):
                colour = "white" if abs(v) > 0.6 * vmax else "black"
                ax.text(j, i, fmt_num(v, language, 1), ha="center", va="center", fontsize=MIN_FONT, color=colour)
    if ncol > 6:  # many factors: slanted labels instead of words broken into syllables
        ax.set_xticks(range(ncol), [wrap(n, 18, 2) for n in factors["name"]], fontsize=MIN_FONT,
                      rotation=35, ha="right", rotation_mode="anchor")
    else:
        ax.set_xticks(range(ncol), [wrap(n, max(8, int(60 / max(ncol, 1))), 3) for n in factors["name"]],
                      fontsize=MIN_FONT)
    ax.set_yticks(range(nrow), row_labels, fontsize=MIN_FONT + 0.5)
    ax.grid(False)
    ax.tick_params(axis="x", length=0)
    cb = fig.colorbar(im, ax=ax, shrink=0.9, pad=0.02)
    cb.set_label(t("z_label", language), fontsize=MIN_FONT)
    cb.ax.tick_params(labelsize=MIN_FONT)
    _title(ax, title or t("persona_title", language))
    return fig


# --------------------------------------------------------------------------- journey


_ITEM_SPLIT = re.compile(r";\s+(?![^\[]*\])|\s\|\s")


def _cell_lines(text: str, width: int, max_items: int, max_lines: int) -> str:
    """Short cell text: at most ``max_items`` items (split on '; ' outside brackets, on ' | '
    and on new lines), each wrapped to ``width``; at most ``max_lines`` lines in all."""
    items: list[str] = []
    for part in str(text or "").split("\n"):
        items.extend(i.strip() for i in _ITEM_SPLIT.split(part) if i.strip())
    more = len(items) > max_items
    lines: list[str] = []
    for it in items[:max_items]:
        # code ids (look_younger) read as words; the bullet is an indent, so it never sits alone on a line
        it = re.sub(r"(?<=[^\W_])_(?=[^\W_])", " ", it)
        head = re.match(r"^([^:;]{2,24}):\s+(.+)$", it)  # "Рекомендации: ..." keeps its colon on the first line
        if head and len(head.group(1)) + 3 > width:
            label = head.group(1) + ":"
            lines.extend(textwrap.wrap(label, width=width, break_long_words=True,
                                       initial_indent="• " if len(label) + 2 <= width else "",
                                       subsequent_indent="  "))
            lines.extend(textwrap.wrap(head.group(2), width=width, break_long_words=True,
                                       initial_indent="  ", subsequent_indent="  "))
        else:
            lines.extend(textwrap.wrap(it, width=width, break_long_words=True, initial_indent="• ",
                                       subsequent_indent="  "))
    if len(lines) > max_lines or (more and lines):
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: max(1, width - 1)].rstrip() + "…"
    return "\n".join(lines)


def journey_matrix_chart(
    matrix: pd.DataFrame,
    segment: str = "all",
    segment_type: str | None = None,
    language: str = "ru",
    title: str | None = None,
    max_items: int = 3,
    max_lines: int = 6,
    font_size: float = MIN_FONT,
) -> Figure:
    """The journey matrix of one segment as a coloured table: stages in columns, the matrix
    rows (goals, touchpoints, ..., KPIs) in rows, each cell coloured by its evidence level
    (``EVIDENCE_COLOURS``: strong / partial / none) with its text cut to the top
    ``max_items`` items and ``max_lines`` wrapped lines (the full text is in the Word table).

    ``matrix``: ``toolkit.stages.journey_matrix`` (``segment``, ``segment_type``, ``stage``,
    ``stage_name``, ``stage_order``, ``row``, ``row_order``, ``row_label_ru``/``row_label_en``,
    ``text``, ``evidence``).
    """
    m = matrix.loc[matrix["segment"].astype(str) == str(segment)] if matrix is not None and len(matrix) else pd.DataFrame()
    if segment_type is not None and len(m):
        m = m.loc[m["segment_type"] == segment_type]
    fig, ax = new_figure(height_in=2.0)
    if not len(m):
        _no_data(ax, language)
        return fig
    stages = m.drop_duplicates("stage").sort_values("stage_order", kind="stable")
    rows = m.drop_duplicates("row").sort_values("row_order", kind="stable")
    label_col = f"row_label_{language}" if f"row_label_{language}" in m.columns else "row"
    cells = m.set_index(["row", "stage"])
    W = A4_TEXT_WIDTH_IN
    label_w = 0.95
    n_st = len(stages)
    col_w = (W - label_w) / max(n_st, 1)
    pad = 0.04
    char_in = font_size * 0.57 / 72  # average glyph width of DejaVu Sans on Cyrillic (measured 0.54 em) + margin
    bold_in = font_size * 0.64 / 72  # the same for DejaVu Sans Bold
    chars = max(6, int((col_w - 2 * pad) / char_in))
    label_chars = max(6, int((label_w - 2 * pad) / bold_in))
    header_chars = max(6, int((col_w - 2 * pad) / bold_in))
    line_h = font_size * 1.12 / 72  # baseline-to-baseline at linespacing 1.15 (measured)
    header = [wrap(nm, header_chars, 3) for nm in stages["stage_name"].astype(str)]
    header_h = max(h.count("\n") + 1 for h in header) * line_h + 2 * pad + 0.02
    body = []
    for r in rows.itertuples(index=False):
        texts, colours = [], []
        for s in stages["stage"]:
            key = (r.row, s)
            if key in cells.index:
                c = cells.loc[key]
                c = c.iloc[0] if isinstance(c, pd.DataFrame) else c
                texts.append(_cell_lines(c["text"], chars, max_items, max_lines))
                colours.append(EVIDENCE_COLOURS.get(str(c["evidence"]), EVIDENCE_COLOURS["none"]))
            else:
                texts.append("")
                colours.append(EVIDENCE_COLOURS["none"])
        lab = wrap(getattr(r, label_col), label_chars, 4)
        n_lines = max([tx.count("\n") + 1 if tx else 1 for tx in texts] + [lab.count("\n") + 1])
        body.append((lab, texts, colours, n_lines * line_h + 2 * pad))
    title_h = 0.3
    legend_h = 0.3
    H = title_h + header_h + sum(b[3] for b in body) + legend_h
    fig.set_size_inches(W, H)
    fig.set_layout_engine("none")
    ax.set_position([0, 0, 1, 1])
    ax.set_xlim(0, W)
    ax.set_ylim(H, 0)
    ax.set_axis_off()
    ax.text(0.02, title_h / 2, title or t("matrix_title", language), fontsize=10, fontweight="bold", va="center")
    y = title_h
    ax.add_patch(Rectangle((0, y), label_w, header_h, facecolor=HEADER_COLOUR, edgecolor="white", lw=0.8))
    ax.text(pad, y + pad, wrap(t("row", language), label_chars), fontsize=font_size, color="white",
            fontweight="bold", va="top")
    for j, h in enumerate(header):
        x = label_w + j * col_w
        ax.add_patch(Rectangle((x, y), col_w, header_h, facecolor=HEADER_COLOUR, edgecolor="white", lw=0.8))
        ax.text(x + pad, y + pad, h, fontsize=font_size, color="white", fontweight="bold", va="top")
    y += header_h
    for lab, texts, colours, h in body:
        ax.add_patch(Rectangle((0, y), label_w, h, facecolor=LABEL_COLOUR, edgecolor="white", lw=0.8))
        ax.text(pad, y + pad, lab, fontsize=font_size, fontweight="bold", va="top")
        for j, (tx, col) in enumerate(zip(texts, colours)):
            x = label_w + j * col_w
            ax.add_patch(Rectangle((x, y), col_w, h, facecolor=col, edgecolor="white", lw=0.8))
            if tx:
                ax.text(x + pad, y + pad, tx, fontsize=font_size, va="top", linespacing=1.15)
        y += h
    handles = [
        Patch(facecolor=EVIDENCE_COLOURS[k], edgecolor="#7f7f7f", label=t(f"ev_{k}", language))
        for k in ("strong", "partial", "none")
    ]
    ax.legend(handles=handles, loc="lower left", bbox_to_anchor=(0.0, 0.0), ncol=3, frameon=False,
              fontsize=font_size + 0.5, borderaxespad=0.1)
    return fig


def journey_figure_name(kind: str, segment_type: str, segment) -> str:
    """File stem of a per-segment journey figure: ``journey_matrix_persona_P1``,
    ``emotion_curve_overall_all``, ``journey_matrix_business_line_cosmetology``. Ids that are
    not plain latin get a short hash so that two segments never share a file."""
    seg = str(segment)
    slug = re.sub(r"[^A-Za-z0-9_-]+", "_", seg).strip("_") or "x"
    if slug != seg:
        slug += "_" + hashlib.sha1(seg.encode("utf-8")).hexdigest()[:6]
    return f"{kind}_{segment_type}_{slug}"


def journey_figures(
    matrix: pd.DataFrame,
    curve: pd.DataFrame | None = None,
    language: str = "ru",
    segment_names: Mapping | None = None,
    source: str | None = "interviews",
) -> dict[str, Figure]:
    """Every per-segment journey figure the report shows, by file stem (:func:`journey_figure_name`):
    for each segment of ``matrix`` (overall, personas, business lines) its map
    (``journey_matrix_<type>_<segment>``) and, when ``curve`` has data for it, its emotion curve
    (``emotion_curve_<type>_<segment>``: the overall line plus the segment's own line).
    ``segment_names``: display names of personas/lines for titles and legends."""
    out: dict[str, Figure] = {}
    if matrix is None or not len(matrix):
        return out
    names = dict(segment_names or {})
    c = curve if curve is not None else pd.DataFrame()
    if len(c) and source is not None and "source" in c.columns:
        c = c[c["source"] == source]
    for seg_type, seg in matrix[["segment_type", "segment"]].drop_duplicates().itertuples(index=False):
        title = None if seg_type == "overall" else f"{t('matrix_title', language)}: {names.get(seg, seg)}"
        out[journey_figure_name("journey_matrix", seg_type, seg)] = journey_matrix_chart(
            matrix, seg, seg_type, language, title=title)
        if len(c):
            own = c[(c["segment_type"] == "overall") | ((c["segment_type"] == seg_type) & (c["segment"] == seg))]
            if len(own) and (seg_type == "overall" or (own["segment"] == seg).any()):
                types = ("overall",) if seg_type == "overall" else ("overall", seg_type)
                out[journey_figure_name("emotion_curve", seg_type, seg)] = emotion_curve_chart(
                    own, language, source=None, segment_types=types, segment_names=names)
    return out


def emotion_curve_chart(
    curve: pd.DataFrame,
    language: str = "ru",
    source: str | None = "interviews",
    segment_types: Sequence[str] = ("overall", "persona"),
    segment_names: Mapping | None = None,
    stages: Sequence[tuple[str, str]] | None = None,
    title: str | None = None,
) -> Figure:
    """Mean sentiment (−2..+2) per journey stage with its interval, one line per segment
    (overall and each persona by default), points slightly offset so intervals do not hide
    each other; stages without data leave a gap, never a zero.

    ``curve``: ``toolkit.stages.emotion_curve`` (``source``, ``segment_type``, ``segment``,
    ``stage``, ``stage_name``, ``stage_order``, ``mean``, ``lo``, ``hi``, ``n``); ``stages``:
    ``[(id, name), ...]`` for the x axis (default: the stages present in ``curve``).
    """
    fig, ax = new_figure(height_in=3.0)
    c = curve.copy() if curve is not None else pd.DataFrame()
    if len(c) and source is not None and "source" in c.columns:
        c = c[c["source"] == source]
    if len(c) and segment_types:
        c = c[c["segment_type"].isin(list(segment_types))]
    if not len(c):
        _no_data(ax, language)
        return fig
    if stages is None:
        st = c.drop_duplicates("stage").sort_values("stage_order", kind="stable")
        stages = list(zip(st["stage"], st["stage_name"].astype(str)))
    pos = {s: i for i, (s, _) in enumerate(stages)}
    groups = list(dict.fromkeys(zip(c["segment_type"], c["segment"])))
    k = len(groups)
    for gi, (stype, seg) in enumerate(groups):
        g = c[(c["segment_type"] == stype) & (c["segment"] == seg)].set_index("stage").reindex([s for s, _ in stages])
        x = np.arange(len(stages)) + (gi - (k - 1) / 2) * min(0.08, 0.5 / max(k, 1))
        mean = g["mean"].to_numpy(dtype=float)
        # an interval of a mean on the -2..+2 scale is drawn within the scale
        lo = np.clip(g["lo"].to_numpy(dtype=float), -2.0, 2.0)
        hi = np.clip(g["hi"].to_numpy(dtype=float), -2.0, 2.0)
        colour = PALETTE[gi % len(PALETTE)]
        label = t("all_respondents", language) if stype == "overall" else _name(segment_names, seg, language)
        ax.plot(x, mean, "-o", color=colour, ms=4, lw=1.6 if stype == "overall" else 1.1, label=wrap(label, 30, 2))
        ok = np.isfinite(lo) & np.isfinite(hi) & np.isfinite(mean)
        ax.errorbar(x[ok], mean[ok], yerr=[mean[ok] - lo[ok], hi[ok] - mean[ok]], fmt="none", ecolor=colour,
                    elinewidth=0.8, capsize=2)
    ax.axhline(0, color="#7f7f7f", lw=0.8)
    ax.set_ylim(-2.2, 2.2)
    ax.set_yticks([-2, -1, 0, 1, 2], ["−2", "−1", "0", "+1", "+2"])
    width = max(8, int(90 / max(len(stages), 1)))
    ax.set_xticks(range(len(stages)), [wrap(n, width, 3) for _, n in stages])
    ax.set_xlim(-0.5, len(stages) - 0.5)
    ax.set_ylabel(t("sentiment", language))
    _title(ax, title or t("emotion_title", language))
    _legend_below(ax, ncol=min(3, k))
    return fig


# --------------------------------------------------------------------------- funnel and barriers


def funnel_frame(funnel_metrics: Mapping) -> pd.DataFrame:
    """metrics ``funnel`` (``{brand: {stages, stage_names, counts, conversion, conversion_ci}}``)
    as the long table of ``toolkit.funnel.funnel_table`` (brand, stage, stage_name, order,
    reached, conversion, ci_lo, ci_hi). Skipped brands are left out."""
    rows = []
    for brand, f in (funnel_metrics or {}).items():
        if not isinstance(f, Mapping) or "stages" not in f:
            continue
        names = f.get("stage_names") or f["stages"]
        conv = list(f.get("conversion") or [])
        cis = list(f.get("conversion_ci") or [])
        for i, s in enumerate(f["stages"]):
            ci = cis[i] if i < len(cis) and cis[i] else [None, None]
            rows.append({
                "brand": brand, "stage": s, "stage_name": names[i], "order": i, "reached": f["counts"][i],
                "conversion": conv[i] if i < len(conv) else None, "ci_lo": ci[0], "ci_hi": ci[1],
            })
    return pd.DataFrame(rows, columns=["brand", "stage", "stage_name", "order", "reached", "conversion", "ci_lo", "ci_hi"])


def funnel_chart(funnel, language: str = "ru", brand_names: Mapping | None = None, title: str | None = None) -> Figure:
    """Lead funnel per brand: horizontal bars of the leads that reached each stage, with the
    count, and between consecutive stages the conversion with its Wilson interval.

    ``funnel``: ``toolkit.funnel.funnel_table(..., by=("brand",))`` or metrics ``funnel``.
    """
    df = funnel_frame(funnel) if isinstance(funnel, Mapping) else (funnel.copy() if funnel is not None else pd.DataFrame())
    brands = list(dict.fromkeys(df["brand"])) if len(df) else []
    ncols = max(1, min(len(brands), 3))
    nrows = max(1, math.ceil(len(brands) / ncols))
    n_stages = int(df.groupby("brand").size().max()) if len(df) else 1
    fig, axes = new_figure(height_in=0.8 + nrows * (0.55 * n_stages + 0.5), ncols=ncols, nrows=nrows)
    axes = np.atleast_1d(axes).ravel()
    if not brands:
        _no_data(axes[0], language)
        return fig
    for ax, brand in zip(axes, brands):
        g = df[df["brand"] == brand].sort_values("order", kind="stable")
        y = np.arange(len(g))
        reached = g["reached"].to_numpy(dtype=float)
        ax.barh(y, reached, height=0.55, color=PALETTE[0])
        top = float(np.nanmax(reached)) if len(reached) else 1.0
        for yi, v in zip(y, reached):
            ax.text(v + top * 0.02, yi, fmt_int(v, language), va="center", fontsize=MIN_FONT)
        conv = g["conversion"].to_numpy(dtype=float)
        lo = g["ci_lo"].to_numpy(dtype=float)
        hi = g["ci_hi"].to_numpy(dtype=float)
        for yi in range(len(g) - 1):
            if np.isfinite(conv[yi]):
                txt = f"↓ {fmt_pct(conv[yi], language, 0)}"
                if np.isfinite(lo[yi]) and np.isfinite(hi[yi]):
                    txt += f" [{fmt_range(lo[yi], hi[yi], language, 0, nobreak=False)}]"
                ax.text(top * 0.98, yi + 0.5, txt, va="center", ha="right", fontsize=MIN_FONT, color=PALETTE[1])
        chars = 16 if ncols > 1 else 26
        ax.set_yticks(y, [wrap(s, chars, 2) for s in g["stage_name"].astype(str)])
        ax.invert_yaxis()
        ax.set_xlim(0, top * 1.22)
        ax.xaxis.set_major_locator(MaxNLocator(3, integer=True))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: fmt_int(v, language)))
        ax.set_title(wrap(_name(brand_names, brand, language), 30, 2))
        ax.grid(axis="y", visible=False)
    for ax in axes[len(brands):]:
        ax.set_axis_off()
    fig.suptitle(title or t("funnel_title", language), fontsize=10, fontweight="bold")
    fig.supxlabel(t("leads", language), fontsize=8)
    return fig


def barrier_frame(barriers) -> pd.DataFrame:
    """metrics ``barriers`` (list of dicts with ``ci: [lo, hi]``) or ``barrier_table`` as one
    frame with ``ci_lo``/``ci_hi``; only the overall segment of a barrier table."""
    b = _records(barriers)
    if not len(b):
        return b
    if "segment_type" in b.columns:
        b = b[b["segment_type"] == "overall"]
    if "ci" in b.columns and "ci_lo" not in b.columns:
        b["ci_lo"] = [c[0] if isinstance(c, (list, tuple, np.ndarray)) and len(c) == 2 else None for c in b["ci"]]
        b["ci_hi"] = [c[1] if isinstance(c, (list, tuple, np.ndarray)) and len(c) == 2 else None for c in b["ci"]]
    if "label" not in b.columns:
        b["label"] = b["code"]
    if "rank" not in b.columns:
        b["rank"] = np.arange(1, len(b) + 1)
    return b.sort_values("rank", kind="stable").reset_index(drop=True)


def barriers_chart(
    barriers,
    language: str = "ru",
    top_n: int = 10,
    stage_names: Mapping | None = None,
    stage_order: Sequence[str] | None = None,
    title: str | None = None,
) -> Figure:
    """The top ``top_n`` barriers in priority order: horizontal bars of the share of
    interviewed respondents naming each, with Wilson-interval whiskers, coloured by journey
    stage (legend), the share written beside each bar.

    ``barriers``: ``toolkit.barriers.barrier_table`` (overall rows are used) or metrics
    ``barriers``; ``stage_names``: ``{stage id: name}``; ``stage_order``: stage ids in order
    (for the colours; default: ``stage_order`` column or first appearance).
    """
    b = barrier_frame(barriers).head(top_n)
    fig, ax = new_figure(height_in=1.0 + 0.33 * max(len(b), 1))
    if not len(b):
        _no_data(ax, language)
        return fig
    if stage_order is None:
        if "stage_order" in b.columns:
            stage_order = list(b.drop_duplicates("stage").sort_values("stage_order")["stage"])
        else:
            stage_order = list(dict.fromkeys(b["stage"]))
    colour = {s: PALETTE[i % len(PALETTE)] for i, s in enumerate(stage_order)}
    names = dict(stage_names or {})
    if "stage_name" in b.columns:
        for s, nm in zip(b["stage"], b["stage_name"]):
            names.setdefault(s, nm)
    y = np.arange(len(b))
    share = _num_array(b["share"])
    lo = _num_array(b["ci_lo"])
    hi = _num_array(b["ci_hi"])
    ax.barh(y, np.nan_to_num(share), height=0.6, color=[colour.get(s, PALETTE[-1]) for s in b["stage"]])
    ok = np.isfinite(lo) & np.isfinite(hi) & np.isfinite(share)
    ax.errorbar(share[ok], y[ok], xerr=[share[ok] - lo[ok], hi[ok] - share[ok]], fmt="none", ecolor="#404040",
                elinewidth=0.8, capsize=2)
    right = np.where(np.isfinite(hi), hi, share)
    for yi, (s, r) in enumerate(zip(share, right)):
        ax.text((r if np.isfinite(r) else 0) + 0.01, yi, fmt_pct(s, language, 0), va="center", fontsize=MIN_FONT)
    ax.set_yticks(y, [wrap(f"{int(r)}. {lab}", 34, 2) for r, lab in zip(b["rank"], b["label"])])
    ax.invert_yaxis()
    xmax = float(np.nanmax(np.r_[right[np.isfinite(right)], 0.1]))
    ax.set_xlim(0, min(1.0, xmax * 1.15 + 0.05))
    ax.xaxis.set_major_formatter(_pct_formatter(language))
    ax.set_xlabel(t("barrier_share", language))
    present = [s for s in stage_order if s in set(b["stage"])]
    _legend_below(ax, ncol=min(3, len(present)),
                  handles=[Patch(color=colour[s], label=wrap(names.get(s, s), 30)) for s in present])
    _title(ax, title or t("barriers_title", language))
    ax.grid(axis="y", visible=False)
    return fig


# --------------------------------------------------------------------------- loyalty


def _scope_order(scopes) -> list:
    s = list(dict.fromkeys(scopes))
    return ([ALL_LINES] if ALL_LINES in s else []) + [x for x in s if x != ALL_LINES]


def repeat_curve_chart(
    curve: pd.DataFrame,
    loyalty_visits: Mapping | None = None,
    language: str = "ru",
    line_names: Mapping | None = None,
    scopes: Sequence[str] | None = None,
    min_eligible: int = 1,
    title: str | None = None,
) -> Figure:
    """P(return after visit n) per scope (all lines and each business line) with its Wilson
    band; the loyalty visit of a scope is marked with a star and a dotted vertical line.

    ``curve``: ``toolkit.loyalty.repeat_curve`` (``scope``, ``visit_number``, ``eligible``,
    ``p_return``, ``ci_low``, ``ci_high``); ``loyalty_visits``: ``{scope: k or None}``;
    points with fewer than ``min_eligible`` eligible customers are not drawn.
    """
    fig, ax = new_figure(height_in=3.2)
    c = curve.copy() if curve is not None else pd.DataFrame()
    if len(c):
        c = c[(c["eligible"] >= min_eligible) & c["p_return"].notna()]
    if not len(c):
        _no_data(ax, language)
        return fig
    order = list(scopes) if scopes else _scope_order(c["scope"])
    kv = dict(loyalty_visits or {})
    for i, scope in enumerate(order):
        g = c[c["scope"] == scope].sort_values("visit_number")
        if not len(g):
            continue
        colour = PALETTE[i % len(PALETTE)]
        x = g["visit_number"].to_numpy(dtype=float)
        ax.fill_between(x, g["ci_low"].to_numpy(float), g["ci_high"].to_numpy(float), color=colour, alpha=0.15, lw=0)
        k = kv.get(scope)
        label = _name(line_names, scope, language)
        hit = g[g["visit_number"] == int(k)] if is_number(k) else g.iloc[0:0]
        if len(hit):
            label += f" ({t('loyalty_visit', language)}: {int(k)})"  # in the legend: annotations would hide the curves
        ax.plot(x, g["p_return"].to_numpy(float), "-o", ms=3, color=colour, lw=1.8 if scope == ALL_LINES else 1.2,
                label=wrap(label, 48))
        if len(hit):
            pk = float(hit["p_return"].iloc[0])
            ax.axvline(int(k), color=colour, ls=":", lw=1)
            ax.plot([int(k)], [pk], marker="*", ms=11, color=colour, mec="black", mew=0.5, zorder=5)
    ax.set_ylim(0, 1)
    ax.yaxis.set_major_formatter(_pct_formatter(language))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(t("visit_n", language))
    ax.set_ylabel(t("p_return", language))
    _title(ax, title or t("repeat_title", language))
    _legend_below(ax, ncol=2)
    return fig


def gap_chart(
    gaps: pd.DataFrame,
    language: str = "ru",
    line_names: Mapping | None = None,
    scopes: Sequence[str] | None = None,
    min_gaps: int = 1,
    title: str | None = None,
) -> Figure:
    """Days between visits by visit number: the median gap before visit n with its
    interquartile band (25th-75th percentile), per scope.

    ``gaps``: ``toolkit.loyalty.gap_intervals`` (``scope``, ``visit_number``, ``gaps``,
    ``gap_q25``, ``gap_median``, ``gap_q75``).
    """
    fig, ax = new_figure(height_in=3.0)
    g0 = gaps.copy() if gaps is not None else pd.DataFrame()
    if len(g0):
        g0 = g0[(g0["gaps"] >= min_gaps) & g0["gap_median"].notna()]
    if not len(g0):
        _no_data(ax, language)
        return fig
    order = list(scopes) if scopes else _scope_order(g0["scope"])
    for i, scope in enumerate(order):
        g = g0[g0["scope"] == scope].sort_values("visit_number")
        if not len(g):
            continue
        colour = PALETTE[i % len(PALETTE)]
        x = g["visit_number"].to_numpy(float)
        ax.fill_between(x, g["gap_q25"].to_numpy(float), g["gap_q75"].to_numpy(float), color=colour, alpha=0.15, lw=0)
        ax.plot(x, g["gap_median"].to_numpy(float), "-o", ms=3, color=colour, label=wrap(_name(line_names, scope, language), 28))
    ax.set_ylim(bottom=0)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: fmt_int(v, language)))
    ax.set_xlabel(t("visit_n", language))
    ax.set_ylabel(t("gap_days", language))
    _title(ax, title or t("gap_title", language))
    _legend_below(ax, ncol=2)
    return fig


def cross_frame(cross) -> pd.DataFrame:
    """metrics ``cross_penetration`` (``{from: {to: share or None}}``) or the
    ``cross_penetration`` table as (from_line, to_line, share_also, base, suppressed)."""
    if isinstance(cross, Mapping):
        rows = [
            {"from_line": a, "to_line": b, "share_also": v, "base": None,
             "suppressed": None if is_number(v) else "suppressed"}
            for a, d in cross.items() if isinstance(d, Mapping) for b, v in d.items()
        ]
        return pd.DataFrame(rows, columns=["from_line", "to_line", "share_also", "base", "suppressed"])
    c = cross.copy()
    for col in ("base", "suppressed"):
        if col not in c.columns:
            c[col] = None
    return c


def cross_penetration_chart(
    cross, language: str = "ru", line_names: Mapping | None = None, title: str | None = None
) -> Figure:
    """Heatmap of cross-penetration: row = the line whose customers are the base, column =
    the other line, cell = share of the base who also bought it. Suppressed cells (base below
    ``min_segment_size``) are grey, hatched and labelled "hidden", never 0.

    ``cross``: ``toolkit.loyalty.cross_penetration`` (``from_line``, ``to_line``, ``base``,
    ``share_also``, ``suppressed``) or metrics ``cross_penetration``.
    """
    c = cross_frame(cross) if cross is not None else pd.DataFrame()
    fig, ax = new_figure(height_in=3.0)
    if not len(c):
        _no_data(ax, language)
        return fig
    if "by" in c.columns:
        c = c[c["by"].isna()]
    lines = list(dict.fromkeys(list(c["from_line"]) + list(c["to_line"])))
    n = len(lines)
    idx = {x: i for i, x in enumerate(lines)}
    z = np.full((n, n), np.nan)
    hidden = np.zeros((n, n), dtype=bool)
    base = {}
    for r in c.itertuples(index=False):
        i, j = idx[r.from_line], idx[r.to_line]
        if is_number(r.share_also) and not (isinstance(r.suppressed, str) and r.suppressed):
            z[i, j] = float(r.share_also)
        else:
            hidden[i, j] = True
        if is_number(r.base):
            base[r.from_line] = int(r.base)
    fig.set_size_inches(A4_TEXT_WIDTH_IN, 1.4 + 0.5 * n)
    vmax = max(0.05, float(np.nanmax(z)) if np.isfinite(z).any() else 1.0)
    im = ax.imshow(np.ma.masked_invalid(z), cmap="Blues", vmin=0, vmax=vmax, aspect="auto")
    for i in range(n):
        for j in range(n):
            if i == j:
                ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, facecolor="white", edgecolor="none"))
                ax.text(j, i, "—", ha="center", va="center", fontsize=MIN_FONT + 1, color="#7f7f7f")
            elif hidden[i, j]:
                ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, facecolor=SUPPRESSED_COLOUR, edgecolor="white",
                                       hatch="///", lw=0))
                ax.text(j, i, t("suppressed", language), ha="center", va="center", fontsize=MIN_FONT, color="#404040")
            elif np.isfinite(z[i, j]):
                colour = "white" if z[i, j] > 0.6 * vmax else "black"
                ax.text(j, i, fmt_pct(z[i, j], language, 1), ha="center", va="center", fontsize=MIN_FONT + 0.5, color=colour)
    rows = [wrap(_name(line_names, x, language), 22, 2) + (f"\n(n={fmt_int(base[x], language)})" if x in base else "")
            for x in lines]
    ax.set_yticks(range(n), rows)
    ax.set_xticks(range(n), [wrap(_name(line_names, x, language), max(8, int(60 / max(n, 1))), 3) for x in lines])
    ax.set_ylabel(t("cross_from", language))
    ax.set_xlabel(t("cross_to", language))
    ax.xaxis.set_label_position("top")
    ax.xaxis.tick_top()
    ax.grid(False)
    cb = fig.colorbar(im, ax=ax, shrink=0.9, pad=0.02, format=_pct_formatter(language))
    cb.ax.tick_params(labelsize=MIN_FONT)
    _title(ax, title or t("cross_title", language))
    return fig


def staff_frame(staff) -> pd.DataFrame:
    """metrics ``staff_dependency`` (``{line: {...}}``) or the ``staff_dependency`` table as one frame."""
    if isinstance(staff, Mapping):
        return pd.DataFrame([{"business_line": k, **(v or {})} for k, v in staff.items() if isinstance(v, Mapping)])
    return staff.copy()


def staff_dependency_chart(
    staff, language: str = "ru", line_names: Mapping | None = None, title: str | None = None
) -> Figure:
    """Per business line: the share of its repeat customers attached to one staff member
    (more than half of their visits with them) and to the line's top staff member, with
    Wilson whiskers. A line with too few repeat customers is shown as hidden.

    ``staff``: ``toolkit.loyalty.staff_dependency`` or metrics ``staff_dependency``.
    """
    s = staff_frame(staff) if staff is not None else pd.DataFrame()
    fig, ax = new_figure(height_in=1.1 + 0.6 * max(len(s), 1))
    if not len(s):
        _no_data(ax, language)
        return fig
    y = np.arange(len(s))
    h = 0.36
    series = [("attached_share", PALETTE[5], "attached_any", -h / 2),
              ("top_staff_share_of_repeat_customers", PALETTE[1], "attached_top", h / 2)]
    for col, colour, lab, dy in series:
        v = _num_array(s[col]) if col in s.columns else np.full(len(s), np.nan)
        ax.barh(y + dy, np.nan_to_num(v), height=h, color=colour, label=t(lab, language))
        lo_c, hi_c = f"{col}_ci_low", f"{col}_ci_high"
        if lo_c in s.columns and hi_c in s.columns:
            lo, hi = _num_array(s[lo_c]), _num_array(s[hi_c])
            ok = np.isfinite(lo) & np.isfinite(hi) & np.isfinite(v)
            ax.errorbar(v[ok], (y + dy)[ok], xerr=[v[ok] - lo[ok], hi[ok] - v[ok]], fmt="none", ecolor="#404040",
                        elinewidth=0.8, capsize=2)
            right = np.where(np.isfinite(hi), hi, v)
        else:
            right = v
        for yi, (val, r) in enumerate(zip(v, right)):
            if np.isfinite(val):
                ax.text(r + 0.01, yi + dy, fmt_pct(val, language, 0), va="center", fontsize=MIN_FONT)
    supp = s["suppressed"] if "suppressed" in s.columns else pd.Series([None] * len(s))
    for yi, why in enumerate(supp):
        if isinstance(why, str) and why:
            ax.text(0.01, yi, t("suppressed_small", language), va="center", fontsize=MIN_FONT, color="#404040")
    rep = s["repeat_customers"] if "repeat_customers" in s.columns else pd.Series([None] * len(s))
    labels = [wrap(_name(line_names, line, language), 22, 2) + (f"\n(n={fmt_int(n, language)})" if is_number(n) else "")
              for line, n in zip(s["business_line"], rep)]
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    ax.set_xlim(0, 1.08)
    ax.xaxis.set_major_formatter(_pct_formatter(language))
    ax.set_xlabel(t("repeat_share", language))
    _title(ax, title or t("staff_title", language))
    _legend_below(ax, ncol=2)
    ax.grid(axis="y", visible=False)
    return fig


# --------------------------------------------------------------------------- double funnel


def headline_scenario(double_funnel: Mapping, capture_rate: float | None = None) -> dict | None:
    """The scenario quoted in text and diagram: the one nearest ``capture_rate``, by default
    the median capture rate of the grid (as ``toolkit.double_funnel`` does)."""
    sc = [s for s in (double_funnel or {}).get("scenarios") or [] if is_number(s.get("capture_rate"))]
    if not sc:
        return None
    rates = [float(s["capture_rate"]) for s in sc]
    target = float(np.median(rates)) if capture_rate is None else float(capture_rate)
    return sc[int(np.argmin([abs(r - target) for r in rates]))]


def _box(ax, x, y, w, h, text, colour, text_colour="white", size=8.0):
    ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.02,rounding_size=0.12", facecolor=colour,
                                edgecolor="none"))
    ax.text(x + w / 2, y + h / 2, text, ha="center", va="center", fontsize=size, color=text_colour, linespacing=1.2)


def _arrow(ax, a, b, width, colour, text=None, text_xy=None, rad=0.0):
    ax.add_patch(FancyArrowPatch(a, b, arrowstyle="-|>", mutation_scale=12, lw=width, color=colour,
                                 connectionstyle=f"arc3,rad={rad}", shrinkA=2, shrinkB=2))
    if text:
        x, y = text_xy or ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)
        ax.text(x, y, text, ha="center", va="center", fontsize=MIN_FONT, color="#262626",
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 1.0})


def double_funnel_chart(
    double_funnel: Mapping,
    language: str = "ru",
    brand_names: Mapping | None = None,
    capture_rate: float | None = None,
    currency: str = "RUB",
    title: str | None = None,
) -> Figure:
    """The double-funnel diagram: the premium brand's leads split into target and non-target
    (priced out; share with its interval); the non-target flow either leaks to competitors or,
    at the scenario capture rate, is caught by the budget brand, where it becomes deals and
    revenue a year. Arrow widths follow the flows.

    ``double_funnel``: metrics ``double_funnel`` (``premium_brand``, ``budget_brand``,
    ``premium_leads``, ``nontarget_share``, ``nontarget_share_ci``,
    ``nontarget_conversion_now``, ``budget_conversion``, ``scenarios``, optional
    ``premium_leads_per_year``, ``target_conversion_now``); ``capture_rate``: the scenario
    shown (default: the median capture rate).
    """
    d = dict(double_funnel or {})
    fig, ax = new_figure(height_in=3.6)
    if not d or "skipped" in d or not is_number(d.get("nontarget_share")):
        _no_data(ax, language)
        return fig
    fig.set_layout_engine("none")
    ax.set_position([0, 0, 1, 0.9])
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 6)
    ax.set_axis_off()
    L = lambda k: t(k, language)  # noqa: E731
    prem = _name(brand_names, d.get("premium_brand", "premium"), language)
    bud = _name(brand_names, d.get("budget_brand", "budget"), language)
    share = float(d["nontarget_share"])
    ci = d.get("nontarget_share_ci") or [None, None]
    per_year = d.get("premium_leads_per_year")
    leads = per_year if is_number(per_year) else d.get("premium_leads")
    unit = f"{L('df_leads')} {L('df_per_year')}" if is_number(per_year) else L("df_leads")
    sc = headline_scenario(d, capture_rate) or {}
    c = sc.get("capture_rate")
    # boxes
    _box(ax, 0.1, 2.3, 2.2, 1.4, f"{wrap(prem, 20, 2)}\n{fmt_int(leads, language)} {unit}", PALETTE[0])
    tgt = f"{L('df_target')}: {fmt_pct(1 - share, language, 0)}"
    if is_number(d.get("target_conversion_now")):
        tgt += f"\n{L('df_conv_now')}: {fmt_pct(d['target_conversion_now'], language, 0)}"
    _box(ax, 3.4, 4.1, 2.6, 1.3, tgt, PALETTE[5])
    nt = f"{L('df_nontarget')}: {fmt_pct(share, language, 0)}"
    if is_number(ci[0]) and is_number(ci[1]):
        nt += f"\n[{fmt_range(ci[0], ci[1], language, 0, nobreak=False)}]"
    if is_number(d.get("nontarget_conversion_now")):
        nt += f"\n{L('df_conv_now')}: {fmt_pct(d['nontarget_conversion_now'], language, 0)}"
    _box(ax, 3.4, 0.6, 2.6, 1.5, nt, PALETTE[1])
    lost_share = (1 - c) if is_number(c) else None
    cap = f"{wrap(bud, 22, 2)}\n{L('df_capture')}: {fmt_pct(c, language, 0)}"
    if is_number(sc.get("leads")):
        cap += f"\n≈ {fmt_int(sc['leads'], language)} {L('df_leads')}, {fmt_int(sc.get('deals'), language)} {L('df_deals')}"
    if is_number(sc.get("revenue")):
        cap += f"\n≈ {fmt_int(sc['revenue'], language)} {_currency_label(currency, language)} {L('df_per_year')}"
    _box(ax, 7.0, 2.1, 2.9, 1.9, cap, PALETTE[2], size=7.5)
    lost = f"{L('df_lost')}\n{fmt_pct(lost_share, language, 0)} {L('df_of_nontarget')}"
    _box(ax, 7.0, 0.1, 2.9, 1.0, lost, SUPPRESSED_COLOUR, text_colour="black")
    # arrows: widths follow the flows (at least 1 pt)
    wmax = 9.0
    _arrow(ax, (2.3, 3.3), (3.4, 4.6), max(1.0, wmax * (1 - share)), PALETTE[5], rad=-0.15)
    _arrow(ax, (2.3, 2.7), (3.4, 1.4), max(1.0, wmax * share), PALETTE[1], rad=0.15)
    if is_number(c):
        _arrow(ax, (6.0, 1.6), (7.0, 2.8), max(1.0, wmax * share * c), PALETTE[2], rad=-0.1)
        _arrow(ax, (6.0, 1.0), (7.0, 0.6), max(1.0, wmax * share * (1 - c)), "#a5a5a5", rad=0.1)
    if is_number(d.get("budget_conversion")):
        ax.text(8.45, 4.25, f"{L('df_conv_now')} {bud}: {fmt_pct(d['budget_conversion'], language, 0)}",
                ha="center", va="bottom", fontsize=MIN_FONT, color="#262626")
    fig.suptitle(title or L("df_title"), fontsize=10, fontweight="bold", y=0.98)
    return fig


def scenario_revenue_chart(
    scenarios,
    language: str = "ru",
    currency: str = "RUB",
    title: str | None = None,
) -> Figure:
    """Revenue a year by capture rate (point estimate, line) with its range (band from
    ``revenue_low`` to ``revenue_high``); each point labelled with its revenue and deals.

    ``scenarios``: metrics ``double_funnel.scenarios`` or ``DoubleFunnelResult.scenarios``
    (``capture_rate``, ``revenue``, optional ``revenue_low``, ``revenue_high``, ``deals``).
    """
    s = _records(scenarios)
    fig, ax = new_figure(height_in=3.0)
    if not len(s) or "revenue" not in s.columns:
        _no_data(ax, language)
        return fig
    s = s.sort_values("capture_rate", kind="stable")
    x = _num_array(s["capture_rate"])
    rev = _num_array(s["revenue"])
    lo = _num_array(s["revenue_low"]) if "revenue_low" in s.columns else np.full(len(s), np.nan)
    hi = _num_array(s["revenue_high"]) if "revenue_high" in s.columns else np.full(len(s), np.nan)
    scale, unit = _unit_scale(np.r_[rev, hi], language)
    if np.isfinite(lo).any() and np.isfinite(hi).any():
        ax.fill_between(x, lo / scale, hi / scale, color=PALETTE[2], alpha=0.18, lw=0, label=t("scen_band", language))
    ax.plot(x, rev / scale, "-o", color=PALETTE[2], ms=4, label=t("revenue", language))
    deals = _num_array(s["deals"]) if "deals" in s.columns else np.full(len(s), np.nan)
    for xi, r, dl in zip(x, rev, deals):
        if np.isfinite(r):
            lab = _fmt_compact(r / scale, language)
            if np.isfinite(dl):
                lab += f"\n{fmt_int(dl, language)} {t('df_deals', language)}"
            ax.annotate(lab, (xi, r / scale), xytext=(0, 6), textcoords="offset points", ha="center", va="bottom",
                        fontsize=MIN_FONT)
    ax.xaxis.set_major_formatter(_pct_formatter(language))
    ax.set_xticks(x)
    ax.margins(x=0.08)
    ax.set_xlabel(t("scen_x", language))
    top = np.nanmax(np.r_[rev, hi]) / scale if np.isfinite(np.r_[rev, hi]).any() else 1.0
    ax.set_ylim(0, top * 1.25)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: _fmt_compact(v, language)))
    ax.set_ylabel(f"{t('revenue', language)}, {unit + ' ' if unit else ''}{_currency_label(currency, language)}")
    _title(ax, title or t("scen_title", language))
    ax.legend(loc="upper left", frameon=True)
    return fig


def profit_whatif_chart(
    whatif,
    language: str = "ru",
    currency: str = "RUB",
    improvement: float | None = None,
    brand: str | None = None,
    title: str | None = None,
) -> Figure:
    """What-if of the profit formula (traffic x conversion x average check x purchases per
    customer): the change in revenue when each lever improves by its step, largest first.
    Because the formula is a product, every single lever moved by the same step gives the same
    change; a row moving several levers together (``factor`` ``"a+b"``) shows their compound.

    ``whatif``: ``toolkit.profit.what_if`` (``factor``, ``improvement``, ``revenue_change``;
    rows of ``business_line == "all"`` of ``brand`` are drawn, default brand ``all`` or the
    first) or metrics ``profit.brands[brand].all.what_if`` (``{factor: revenue_change}``, with
    ``improvement`` the step).
    """
    if isinstance(whatif, Mapping):
        w = pd.DataFrame({"factor": list(whatif), "revenue_change": list(whatif.values())})
        w["improvement"] = improvement
    else:
        w = _records(whatif)
        if len(w) and "business_line" in w.columns:
            w = w[w["business_line"] == "all"]
        if len(w) and "brand" in w.columns:
            pick = brand if brand is not None else ("all" if (w["brand"] == "all").any() else w["brand"].iloc[0])
            w = w[w["brand"] == pick]
        if "revenue_change" not in w.columns and "profit_delta" in w.columns:
            w = w.rename(columns={"profit_delta": "revenue_change"})
        if "factor" not in w.columns and "lever" in w.columns:
            w = w.rename(columns={"lever": "factor"})
    fig, ax = new_figure(height_in=1.0 + 0.4 * max(len(w), 1))
    if not len(w) or "revenue_change" not in w.columns:
        _no_data(ax, language)
        return fig
    w = w.assign(_d=_num_array(w["revenue_change"])).sort_values("_d", ascending=False, kind="stable")
    labels = []
    together = "все вместе" if language == "ru" else "together"
    for r in w.to_dict("records"):
        parts = str(r.get("factor")).split("+")
        names = [LEVER_LABELS.get(f, (f, f))[0 if language == "ru" else 1] for f in parts]
        lab = r.get("label") or (names[0] if len(names) == 1 else f"{' + '.join(names)} ({together})")
        if is_number(r.get("improvement")):
            x = float(r["improvement"])
            lab = f"{lab}: {'+' if x >= 0 else '−'}{fmt_pct(abs(x), language, 0)}"
        labels.append(wrap(lab, 30, 3))
    d = w["_d"].to_numpy(float)
    scale, unit = _unit_scale(d, language)
    y = np.arange(len(w))
    ax.barh(y, np.nan_to_num(d) / scale, height=0.6, color=[PALETTE[2] if v >= 0 else PALETTE[1] for v in np.nan_to_num(d)])
    span = float(np.nanmax(np.abs(d)) / scale) if np.isfinite(d).any() else 1.0
    for yi, v in zip(y, d):
        if np.isfinite(v):
            ax.text(v / scale + (0.02 if v >= 0 else -0.02) * span, yi, _fmt_compact(v / scale, language),
                    va="center", ha="left" if v >= 0 else "right", fontsize=MIN_FONT)
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    lo = min(0.0, float(np.nanmin(d)) / scale) if np.isfinite(d).any() else 0.0
    ax.set_xlim(lo * 1.25, span * 1.25)
    ax.axvline(0, color="#7f7f7f", lw=0.8)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: _fmt_compact(v, language)))
    ax.set_xlabel(f"{t('profit_x', language)}, {unit + ' ' if unit else ''}{_currency_label(currency, language)}")
    _title(ax, title or t("profit_title", language))
    ax.grid(axis="y", visible=False)
    return fig


__all__ = [
    "LABELS",
    "MIN_FONT",
    "barrier_frame",
    "barriers_chart",
    "cross_frame",
    "cross_penetration_chart",
    "double_funnel_chart",
    "emotion_curve_chart",
    "funnel_chart",
    "funnel_frame",
    "gap_chart",
    "headline_scenario",
    "journey_figure_name",
    "journey_figures",
    "journey_matrix_chart",
    "persona_profile_chart",
    "profit_whatif_chart",
    "repeat_curve_chart",
    "rfm_segments_chart",
    "scenario_revenue_chart",
    "staff_dependency_chart",
    "staff_frame",
    "t",
    "wrap",
]
