"""Stage-mapping figures: journey matrices, emotion curves, the lead funnel."""

from __future__ import annotations

import hashlib
import math
import numpy as np
import pandas as pd
import re
import textwrap

from collections.abc import Mapping, Sequence
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import FuncFormatter, MaxNLocator
from toolkit.core.figures import A4_TEXT_WIDTH_IN, EVIDENCE_COLOURS, PALETTE, new_figure
from toolkit.core.fmt import fmt_int, fmt_pct, fmt_range
from toolkit.core.stages import row_label
from toolkit.core.plot import MIN_FONT, HEADER_COLOUR, LABEL_COLOUR, t, wrap, display_name, set_title, legend_below, draw_no_data


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

    ``matrix``: ``toolkit.stage_mapping.journey.journey_matrix`` (``segment``, ``segment_type``, ``stage``,
    ``stage_name``, ``stage_order``, ``row``, ``row_order``, ``row_label_ru``/``row_label_en``,
    ``text``, ``evidence``).
    """
    m = matrix.loc[matrix["segment"].astype(str) == str(segment)] if matrix is not None and len(matrix) else pd.DataFrame()
    if segment_type is not None and len(m):
        m = m.loc[m["segment_type"] == segment_type]
    fig, ax = new_figure(height_in=2.0)
    if not len(m):
        draw_no_data(ax, language)
        return fig
    stages = m.drop_duplicates("stage").sort_values("stage_order", kind="stable")
    rows = m.drop_duplicates("row").sort_values("row_order", kind="stable")
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
        lab = wrap(row_label(r.row, language), label_chars, 4)
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

    ``curve``: ``toolkit.stage_mapping.journey.emotion_curve`` (``source``, ``segment_type``, ``segment``,
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
        draw_no_data(ax, language)
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
        label = t("all_respondents", language) if stype == "overall" else display_name(segment_names, seg, language)
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
    set_title(ax, title or t("emotion_title", language))
    legend_below(ax, ncol=min(3, k))
    return fig


# --------------------------------------------------------------------------- funnel and barriers


def funnel_frame(funnel_metrics: Mapping) -> pd.DataFrame:
    """metrics ``funnel`` (``{brand: {stages, stage_names, counts, conversion, conversion_ci}}``)
    as the long table of ``toolkit.stage_mapping.funnel.funnel_table`` (brand, stage, stage_name, order,
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

    ``funnel``: ``toolkit.stage_mapping.funnel.funnel_table(..., by=("brand",))`` or metrics ``funnel``.
    """
    df = funnel_frame(funnel) if isinstance(funnel, Mapping) else (funnel.copy() if funnel is not None else pd.DataFrame())
    brands = list(dict.fromkeys(df["brand"])) if len(df) else []
    ncols = max(1, min(len(brands), 3))
    nrows = max(1, math.ceil(len(brands) / ncols))
    n_stages = int(df.groupby("brand").size().max()) if len(df) else 1
    fig, axes = new_figure(height_in=0.8 + nrows * (0.55 * n_stages + 0.5), ncols=ncols, nrows=nrows)
    axes = np.atleast_1d(axes).ravel()
    if not brands:
        draw_no_data(axes[0], language)
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
        ax.set_title(wrap(display_name(brand_names, brand, language), 30, 2))
        ax.grid(axis="y", visible=False)
    for ax in axes[len(brands):]:
        ax.set_axis_off()
    fig.suptitle(title or t("funnel_title", language), fontsize=10, fontweight="bold")
    fig.supxlabel(t("leads", language), fontsize=8)
    return fig


