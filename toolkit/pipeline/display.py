"""What the notebooks show and how: tables a consultant reads, figures, Markdown, drop-downs
and live parameter controls.

Every table goes through :func:`show_table`: the columns the notebook chose, headers from the
word catalog (``nb.col.<column>``) in the case's language, codes (business lines, brands,
stages) replaced by the case's names, fractions as percentages, counts and money with
thousands separators, never scientific notation, rows with nothing to show dropped, a lower
and upper bound merged into one interval column, and tables wider than ``MAX_COLUMNS`` split
into parts that repeat the first (key) column. The result is a pandas Styler, so the executed
notebook (the run's record) keeps it as HTML.

Widgets (:func:`picker`, :func:`live_control`) only add exploration in JupyterLab on top of
the static output: papermill does not keep widget state, so a result is always shown
statically first. A widget redraws its table and figure together and writes nothing.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import io
import re
from pathlib import Path
from typing import Callable, Sequence

import pandas as pd

from toolkit.core.figures import DPI
from toolkit.core.fmt import fmt_int, fmt_num, fmt_pct, fmt_range
from toolkit.core.words import has_word, word
from toolkit.double_funnel.recommendation import recommendation_text

MAX_COLUMNS = 8  # wider tables are shown in parts
PERCENT = {  # fractions shown as percentages
    "share", "customer_share", "revenue_share", "p_return", "conversion", "capture_rate", "share_also",
    "share_after", "attached_share", "top_staff_share_of_repeat_customers", "top_staff_revenue_share",
    "mention_share", "client_share", "nontarget_share", "improvement", "traffic_to_lead", "lead_to_deal",
    "budget_conversion", "implied_conversion", "reconciliation",
}
INTEGER = {  # counts: whole numbers
    "visit_number", "eligible", "returned", "customers", "visits", "gaps", "first_visit", "last_visit",
    "respondents", "base", "reached", "lost_here", "next_reached", "rows", "rows_read", "rows_used", "leads",
    "repeat_customers", "top_staff_customers", "attached_customers", "also_bought", "bought_after", "row",
    "rank", "fragments", "n", "traffic", "deals", "return_window_days", "lost_leads", "new_customers",
    "returning_customers", "repeat_visits", "incremental_deals",
}
MONEY = {
    "revenue", "average_check", "revenue_per_customer", "revenue_low", "revenue_high", "revenue_ltv",
    "top_staff_revenue", "annual_impact_high", "formula_revenue", "actual_revenue", "other", "measured_revenue", "revenue_base",
    "revenue_new", "revenue_change", "mean_monetary", "budget_median", "annual_impact", "annual_impact_low",
    "stage_annual_loss", "first_visit_check", "repeat_check", "first_visit_revenue", "repeat_revenue",
    "incremental_annual_revenue", "incremental_low",
}
DAYS = {"gap_q25", "gap_median", "gap_q75", "mean_recency_days", "median_gap_days"}
P_VALUES = {"p_value", "p_holm"}
# columns holding codes named by the catalog: column -> key prefix
VALUE_WORDS = {c: f"nb.value.{c}." for c in ("magnitude", "evidence", "code_type", "kind", "status", "rank_basis")}
VALUE_WORDS["segment"] = "rfm.segment."
# (lower, upper) column pairs merged into one interval column named by the first element
INTERVALS = (
    ("ci_lo", "ci_hi"), ("share_lo", "share_hi"), ("severity_lo", "severity_hi"),
    ("share_also_ci_lo", "share_also_ci_hi"), ("share_after_ci_lo", "share_after_ci_hi"),
    ("attached_share_ci_lo", "attached_share_ci_hi"), ("revenue_low", "revenue_high"),
    ("client_share_lo", "client_share_hi"), ("nps_lo", "nps_hi"), ("annual_impact_low", "annual_impact_high"),
    ("incremental_low", "incremental_high"),
)
MONEY_INTERVALS = {"revenue_low", "annual_impact_low", "incremental_low"}
CODE_COLUMNS = {  # columns holding codes -> what kind of name replaces them
    "scope": "line", "business_line": "line", "from_line": "line", "to_line": "line",
    "brand": "brand", "stage": "stage", "next_stage": "stage", "segment_type": "segment_type", "higher_for": "brand",
}


def names(case, language: str) -> dict[str, dict[str, str]]:
    """The case's names of its codes, per kind (``line``, ``brand``, ``stage``, ...)."""
    lines = {b.id: b.label for b in case.business_lines}
    lines["all_lines"] = lines["all"] = word("nb.all_lines", language)
    stages = {s.id: s.label for s in (case.journey_stages or [])}
    stages.update({s.id: s.label for s in case.funnel_stages})
    brands = {b.id: b.label for b in case.brands}
    brands["all"] = word("nb.all_brands", language)
    segment_types = {k: word(f"nb.segment_type.{k}", language)
                     for k in ("overall", "business_line", "persona", "brand", "segment")}
    return {"line": lines, "brand": brands, "stage": stages,
            "segment_type": segment_types}


def _header(column: str, language: str) -> str:
    return word(f"nb.col.{column}", language)


def _fmt_value(column: str, value, language: str, currency: str) -> str:
    if isinstance(value, (pd.Timestamp, _dt.date)):
        return value.strftime("%Y-%m-%d")
    if column in P_VALUES and isinstance(value, (int, float)) and pd.notna(value):
        return "< " + fmt_num(0.001, language, 3) if value < 0.001 else fmt_num(value, language, 3)
    if column in VALUE_WORDS and isinstance(value, str) and has_word(f"{VALUE_WORDS[column]}{value}", language):
        return word(f"{VALUE_WORDS[column]}{value}", language)
    if column == "cohort" and value == "all":
        return word("nb.col.cohort_all", language)
    if column == "value" and isinstance(value, (int, float)) and pd.notna(value):
        return _fmt_mixed(float(value), language)
    if column in PERCENT:
        return fmt_pct(value, language)
    if column in INTEGER:
        return fmt_int(value, language)
    if column in MONEY:
        return fmt_int(value, language)
    if column in DAYS:
        return fmt_num(value, language, 0)
    if isinstance(value, float):
        return fmt_num(value, language, 2)
    if isinstance(value, (list, tuple)):
        return "; ".join(str(v) for v in value)
    if hasattr(value, "tolist") and not isinstance(value, str):  # numpy arrays in parquet lists
        return "; ".join(str(v) for v in value.tolist())
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "—"
    return str(value).replace("\n", "; ")


def _fmt_mixed(value: float, language: str) -> str:
    """A value column holding different quantities (the CRM specification's metrics): a
    fraction as a percentage, a large number whole, others with two decimals."""
    if 0 <= value <= 1 and not value.is_integer():
        return fmt_pct(value, language)
    if abs(value) >= 100 or value.is_integer():
        return fmt_int(value, language)
    return fmt_num(value, language, 2)


def _fmt_interval(lo_col: str, lo, hi, language: str) -> str:
    if lo_col in MONEY_INTERVALS:
        return f"{fmt_int(lo, language)}–{fmt_int(hi, language)}" if pd.notna(lo) and pd.notna(hi) else "—"
    if lo_col.startswith(("severity", "nps")):
        return f"{fmt_num(lo, language, 2)}–{fmt_num(hi, language, 2)}" if pd.notna(lo) and pd.notna(hi) else "—"
    return fmt_range(lo, hi, language, nobreak=False)


def table_frame(frame: pd.DataFrame, columns: Sequence[str] | None, language: str, case=None) -> pd.DataFrame:
    """The text table shown: chosen columns, codes named, numbers formatted, intervals merged,
    rows with no value dropped, headers from the catalog."""
    cols = [c for c in (columns or list(frame.columns)) if c in frame.columns]
    f = frame[cols].copy()
    # rows whose value columns are all empty say nothing
    values = [c for c in cols if c not in CODE_COLUMNS and not pd.api.types.is_string_dtype(f[c])]
    if values:
        f = f[f[values].notna().any(axis=1)]
    named = names(case, language) if case is not None else {}
    currency = getattr(case, "currency", "")
    out = pd.DataFrame(index=f.index)
    pairs = {lo: hi for lo, hi in INTERVALS if lo in cols and hi in cols}
    his = set(pairs.values())
    for c in cols:
        if c in his:
            continue
        if c in pairs:
            out[_header(c, language)] = [_fmt_interval(c, lo, hi, language) for lo, hi in zip(f[c], f[pairs[c]])]
            continue
        kind = CODE_COLUMNS.get(c)
        if kind and kind in named:
            out[_header(c, language)] = [named[kind].get(str(v), "—" if pd.isna(v) else str(v)) for v in f[c]]
        else:
            out[_header(c, language)] = [_fmt_value(c, v, language, currency) for v in f[c]]
    return out.reset_index(drop=True)


STYLES = [
    {"selector": "th", "props": [("text-align", "left"), ("font-weight", "600"), ("white-space", "normal"),
                                 ("max-width", "14em"), ("vertical-align", "bottom")]},
    {"selector": "td", "props": [("text-align", "right"), ("white-space", "nowrap"), ("padding", "2px 8px"),
                                 ("vertical-align", "top")]},
]
TEXT_CELL = {"text-align": "left", "white-space": "normal", "min-width": "8em", "max-width": "24em"}
_NUMBER = re.compile(r"^[\s\u00a0<>+\-−–—0-9.,%]*$")


def _text_columns(frame: pd.DataFrame) -> list:
    """Columns holding words (left-aligned, wrapped), not numbers (right-aligned)."""
    return [c for c in frame.columns if not all(_NUMBER.match(str(v)) for v in frame[c])]


def stylers(frame: pd.DataFrame, max_columns: int = MAX_COLUMNS, keys: int = 1) -> list:
    """Stylers of a formatted table, split into parts of at most ``max_columns`` columns that
    each repeat the first ``keys`` (naming) columns."""
    cols = list(frame.columns)
    if len(cols) <= max_columns:
        parts = [cols]
    else:
        key, rest = cols[:keys], cols[keys:]
        step = max_columns - len(key)
        parts = [key + rest[i:i + step] for i in range(0, len(rest), step)]
    text = set(_text_columns(frame))
    out = []
    for p in parts:
        part = frame[p]
        uid = hashlib.sha1(part.to_json(force_ascii=False).encode("utf-8")).hexdigest()[:10]  # same input, same HTML
        styler = part.style.set_uuid(uid).hide(axis="index").set_table_styles(STYLES)
        words = [c for c in p if c in text]
        out.append(styler.set_properties(subset=words, **TEXT_CELL) if words else styler)
    return out


def show_markdown(text: str) -> None:
    from IPython.display import Markdown, display

    display(Markdown(text))


def labelled_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A table whose headers are already words (a pivot with stage names as columns): only the
    cells are made readable (line breaks inside a cell as "; ", no empty rows)."""
    f = frame.dropna(how="all", subset=list(frame.columns[1:]) or None)
    f = f.map(lambda v: "—" if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v).replace("\n", "; "))
    return f.reset_index(drop=True)


def show_table(ctx, frame: pd.DataFrame | None, title: str | None = None, columns: Sequence[str] | None = None,
               max_rows: int = 30, labelled: bool = False) -> None:
    """Show ``frame`` readably (module docstring); ``title`` is a catalog key under ``nb.title.``;
    ``labelled``: the headers are already words in the case's language."""
    from IPython.display import display

    if title:
        show_markdown(f"**{word('nb.title.' + title, ctx.language)}**")
    if frame is None or not len(frame):
        show_markdown(f"*{word('nb.no_rows', ctx.language)}*")
        return
    text = labelled_frame(frame) if labelled else table_frame(frame, columns, ctx.language, ctx.case)
    chosen = [c for c in (columns or list(frame.columns)) if c in frame.columns]
    keys = 1
    while keys < min(2, len(chosen)) and chosen[keys] in CODE_COLUMNS:  # e.g. brand, then business line
        keys += 1
    rest = len(text) - max_rows
    for s in stylers(text.head(max_rows), keys=keys):
        display(s)
    if rest > 0:
        show_markdown(f"*{word('nb.more_rows', ctx.language, n=rest)}*")


def figure_png(fig, dpi: int = 110) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, facecolor="white")
    return buf.getvalue()


def show_figure(fig) -> None:
    """Display a Figure inline as PNG. A figure already saved for the report
    (``StepContext.figure``) is shown from its file, scaled down, not drawn a second time."""
    from IPython.display import Image, display

    if fig is None:
        return
    saved = getattr(fig, "_cjm_saved_png", None)
    if saved is not None and Path(saved).exists():
        display(Image(data=screen_png(Path(saved)), width=720))
    else:
        display(Image(data=figure_png(fig), width=720))


def screen_png(path: Path) -> bytes:
    """A report PNG made light for the notebook: half the resolution (box filter) and a 256-colour
    palette, ~60 KB instead of ~350 KB, in ~0.05 s instead of drawing the figure again."""
    from PIL import Image as PILImage


    with PILImage.open(path) as im:
        small = im.convert("RGB").reduce(max(1, DPI // 100)).quantize(colors=256)
    buf = io.BytesIO()
    small.save(buf, format="png")
    return buf.getvalue()


def _label_widget(text: str):
    import ipywidgets as widgets

    return widgets.HTML(f"<b>{text}</b>")


def picker(ctx, label: str, options: Sequence[tuple[str, object]], render: Callable[[object], None],
           value=None, interactive: bool = True) -> None:
    """A drop-down (``label``: catalog key under ``nb.pick.``) over ``(shown name, value)`` pairs,
    in the order given (journey order: the caller's job); ``render(value)`` draws the table and
    the figure of the chosen value into one output area, redrawn together on every change.
    ``value``: the first choice shown (default: the first option)."""
    if not interactive or not options:
        return
    import ipywidgets as widgets

    dropdown = widgets.Dropdown(options=list(options), value=value if value is not None else options[0][1],
                                layout=widgets.Layout(width="max-content", min_width="18em"))
    _show_control(word("nb.pick." + label, ctx.language), dropdown, render)


def live_control(ctx, label: str, options: Sequence[tuple[str, object]], compute: Callable[[object], None],
                 value=None, interactive: bool = True) -> None:
    """A control over an analysis parameter (``label``: catalog key under ``nb.param.``):
    ``compute(value)`` recomputes the result in memory and shows it; nothing is written."""
    if not interactive or not options:
        return
    import ipywidgets as widgets

    slider = widgets.SelectionSlider(options=list(options), value=value if value is not None else options[0][1],
                                     continuous_update=False, layout=widgets.Layout(width="32em"))
    _show_control(word("nb.param." + label, ctx.language), slider, compute)


def loyalty_sentence(loyalty: dict, case, language: str) -> str:
    """The loyalty visit of all lines and of each line, as one Markdown sentence."""
    overall = loyalty.get("overall", {})
    lines = names(case, language)["line"]

    def visit(k):
        return str(k) if k else word("nb.no_loyalty_visit", language)

    by_line = "; ".join(f"{lines.get(code, code)}: {visit(v.get('loyalty_visit'))}"
                        for code, v in loyalty.get("by_line", {}).items())
    return word("nb.loyalty_sentence", language, visit=visit(overall.get("loyalty_visit")),
                days=overall.get("return_window_days", "—"), by_line=by_line or "—")


def recommendation(metrics: dict, language: str) -> str:
    """The double funnel's recommendation as a Markdown quote."""
    text = recommendation_text(metrics, language)
    return "> " + str(text).replace("\n", "\n> ") if text else word("nb.no_rows", language)


def metrics_status(metrics: dict, language: str) -> pd.DataFrame:
    """One row per part of metrics.json: its name and whether it was computed or skipped (why)."""
    rows = []
    for key, value in metrics.items():
        part = word(f"nb.part.{key}", language) if has_word(f"nb.part.{key}", language) else key
        if isinstance(value, dict) and "skipped" in value:
            status = word("nb.status_skipped", language, reason=value["skipped"])
        else:
            status = word("nb.status_ok", language)
        rows.append({"part": part, "status": status})
    return pd.DataFrame(rows, columns=["part", "status"])


def _show_control(label: str, control, render: Callable[[object], None]) -> None:
    """Show ``control`` with its label and an output area that ``render(value)`` fills now and
    again at every change of the value."""
    import ipywidgets as widgets
    from IPython.display import display

    out = widgets.Output()

    def update(change=None):
        with out:
            out.clear_output(wait=True)
            render(control.value)

    control.observe(update, names="value")
    update()
    display(widgets.VBox([widgets.HBox([_label_widget(label), control]), out]))
