"""The one-page visual journey map (landscape A4): stages as columns, three bands.

- **Lens** (top strip): who the persona is, the job they want done, what they expect;
- **Experience**: per stage the top touchpoints (online/offline marked), and the emotion curve
  drawn as one line across all stages on the −2..+2 scale (the lowest point labelled);
- **Insights**: per stage the top barriers and the top ideas or actions in plain words, and the
  stage's KPI.

Each statement carries an evidence marker (● strong, ◐ partial, ○ none), explained in the
footer; there are no intervals, counts or "n=" inside the map (they are in the appendix).

Which data a persona's map shows (the rule, stated in the report): the persona's own interviews
when the interviewees were assigned to this persona (an interview segment with the persona's
name or id) and at least ``evidence_min_respondents`` of them stand behind it; otherwise the
map of all interviewees, with the persona's own lens. One map per survey persona; without
survey personas one map of all interviewees.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from toolkit.core.figures import PALETTE, apply_theme, save_figure
from toolkit.core.fmt import is_number
from toolkit.core.run_folder import RunFolder
from toolkit.core.words import word
from toolkit.stage_mapping.charts import journey_figure_name

MARKERS = {"strong": "●", "partial": "◐", "none": "○"}
WIDTH_IN, HEIGHT_IN = 9.6, 5.3
FONT = 7.0
_COUNT = re.compile(r"\s*\((?:\d+|n\s*=\s*\d+)\)")
_STATS = re.compile(r"\s*[\[(][^\])]*[;–][^\])]*[\])]|,?\s*[Nn]\s*=\s*\d+")
_CODE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")


def _w(language: str, key: str, **v) -> str:
    return word(f"report.map.{key}", language, **v)


def map_items(text, names, language: str, limit: int = 2) -> list[str]:
    """Plain statements from a journey-matrix cell: counts, intervals and prefixes dropped, code
    ids turned into labels, online/offline in words."""
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return []
    out = []
    for line in str(text).split("\n"):
        line = _STATS.sub("", line)
        line = re.sub(r"^[^:|;]{1,40}:\s+(?=\D)", "", line.strip()) if ":" in line[:42] else line.strip()
        for part in re.split(r"\s*\|\s*|;\s+", line):
            part = _STATS.sub("", _COUNT.sub("", part)).strip(" .;")
            part = re.sub(r"\s*\[(?:online|онлайн)\]", f" ({_w(language, 'online')})", part)
            part = re.sub(r"\s*\[(?:offline|офлайн)\]", "", part).strip()
            part = _CODE.sub(lambda m: names.code(m.group(0)), part)
            if part and not re.fullmatch(r"[−+\-]?\d+([.,]\d+)?", part) and part not in out:
                out.append(part)
    return out[:limit]


def _wrap(lines: list[str], width_chars: int, max_lines: int) -> str:
    out: list[str] = []
    for ln in lines:
        out += textwrap.wrap(ln, width=max(8, width_chars), break_long_words=False, break_on_hyphens=False)
    if len(out) > max_lines:
        out = out[:max_lines]
        out[-1] = out[-1].rstrip(" ,;") + " …" if not out[-1].endswith("…") else out[-1]
    return "\n".join(out)


def _cell(m: pd.DataFrame, stage: str, row: str):
    sel = m[(m["stage"] == stage) & (m["row"] == row)]
    if not len(sel):
        return None, "none"
    return sel["text"].iloc[0], str(sel["evidence"].iloc[0])


def draw_journey_map(matrix: pd.DataFrame, curve: pd.DataFrame | None, stages: list[tuple[str, str]], lens: Mapping,
                     names, language: str) -> Figure:
    """The map of one persona (``matrix``: the journey-matrix rows of the segment shown;
    ``curve``: its emotion-curve rows; ``stages``: (id, name) in order; ``lens``: portrait,
    job, expects)."""
    apply_theme()
    fig = Figure(figsize=(WIDTH_IN, HEIGHT_IN))
    k = max(1, len(stages))
    left, right = 0.125, 0.995
    col_w = (right - left) / k
    chars = int(col_w * WIDTH_IN * 72 / (FONT * 0.62))  # DejaVu Sans: about 0.6 em a letter
    # lens strip
    lens_text = "   ".join(f"{_w(language, key)}: {lens.get(key) or word('report.not_researched', language)}"
                           for key in ("portrait", "job", "expects"))
    fig.text(0.005, 0.985, _wrap([lens_text], int(WIDTH_IN * 72 / (FONT * 0.55)), 2), va="top", ha="left",
             fontsize=FONT + 0.6, color="#262626",
             bbox={"facecolor": "#e8eef5", "edgecolor": "none", "boxstyle": "round,pad=0.35"})
    bands = [("stage", 0.90, 0.05), ("touchpoints", 0.845, 0.13), ("emotions", 0.705, 0.20),
             ("barriers", 0.495, 0.15), ("opportunities", 0.335, 0.17), ("kpis", 0.155, 0.09)]
    for key, top, height in bands:
        if key != "stage":
            label = _w(language, f"row_{key}")
            if key == "emotions":
                label += "\n" + _w(language, "scale")
            fig.text(0.005, top - 0.005, _wrap([label], 16, 4), va="top", ha="left", fontsize=FONT + 0.3,
                     fontweight="bold", color=PALETTE[0])
            fig.add_artist(_line(fig, top + 0.004))
    for j, (sid, sname) in enumerate(stages):
        x = left + j * col_w
        fig.text(x + col_w / 2, 0.905, _wrap([sname], chars, 2), ha="center", va="top", fontsize=FONT + 1,
                 fontweight="bold", color="white",
                 bbox={"facecolor": PALETTE[0], "edgecolor": "none", "boxstyle": "square,pad=0.3"})
        for key, top, height, limit, lines in (("touchpoints", 0.845, 0.13, 3, 6), ("barriers", 0.495, 0.15, 2, 7),
                                               ("opportunities", 0.335, 0.17, 1, 8), ("kpis", 0.155, 0.09, 1, 4)):
            text, ev = _cell(matrix, sid, key)
            items = map_items(text, names, language, limit)
            if items:
                body = "\n".join(_wrap([f"{MARKERS.get(ev, '○')} {it}"], chars, lines) for it in items)
                body = "\n".join(body.split("\n")[:lines])
            else:
                body = f"○ {_w(language, 'not_researched')}"
            fig.text(x + 0.004, top - 0.004, body, va="top", ha="left", fontsize=FONT, color="#262626",
                     linespacing=1.15)
    # the emotion curve across the stages
    ax = fig.add_axes((left, 0.505, right - left, 0.19))
    ax.set_xlim(0, k)
    ax.set_ylim(-2.2, 2.2)
    ax.axhline(0, color="#bfbfbf", lw=0.6)
    ax.set_yticks([-2, 0, 2], labels=["−2", "0", "+2"], fontsize=FONT)
    ax.set_xticks([])
    for j in range(1, k):
        ax.axvline(j, color="#e0e0e0", lw=0.5)
    ax.grid(False)
    if curve is not None and len(curve):
        by = {str(r["stage"]): r for r in curve.to_dict("records")}
        xs, ys, evs = [], [], []
        for j, (sid, _) in enumerate(stages):
            r = by.get(sid)
            if r is not None and is_number(r.get("mean")):
                xs.append(j + 0.5)
                ys.append(float(np.clip(r["mean"], -2, 2)))
                evs.append(str(r.get("evidence") or "none"))
        if xs:
            ax.plot(xs, ys, color=PALETTE[1], lw=2.0, marker="o", ms=4, zorder=3)
            lo = int(np.argmin(ys))
            if ys[lo] < 0:
                ax.annotate(_w(language, "dip"), (xs[lo], ys[lo]), xytext=(0, -11), textcoords="offset points",
                            ha="center", fontsize=FONT, color=PALETTE[1])
            for x_, y_, e in zip(xs, ys, evs):
                ax.annotate(MARKERS.get(e, "○"), (x_, y_), xytext=(7, 3), textcoords="offset points", fontsize=FONT)
    else:
        ax.text(k / 2, 0, _w(language, "no_emotions"), ha="center", va="center", fontsize=FONT, color="#7f7f7f")
    for s in ("top", "right"):
        ax.spines[s].set_visible(False)
    fig.text(0.005, 0.012, _w(language, "legend"), fontsize=FONT, color="#595959", va="bottom")
    return fig


def _line(fig, y):
    return Line2D([0.005, 0.995], [y, y], transform=fig.transFigure, color="#d9d9d9", lw=0.6)


def segment_for(matrix: pd.DataFrame, persona: Mapping, min_respondents: int) -> tuple[str, str]:
    """(segment_type, segment) whose rows a persona's map shows (module rule)."""
    keys = {str(persona.get("persona") or ""), str(persona.get("id") or ""), str(persona.get("name") or "")} - {""}
    seg = matrix[(matrix["segment_type"] == "persona") & matrix["segment"].astype(str).isin(keys)]
    if len(seg) and "segment_respondents" in seg.columns:
        n = seg["segment_respondents"].iloc[0]
        if is_number(n) and n >= min_respondents:
            return "persona", str(seg["segment"].iloc[0])
    return "overall", "all"


def draw_journey_maps(run: RunFolder, personas: list[Mapping], cards: Mapping[str, Mapping], stages, names,
                      language: str, min_respondents: int) -> list[dict]:
    """Draw one map per persona (or one overall map) into the run's figures; returns
    ``[{persona, name, figure, segment_type, segment}]`` in persona order."""
    matrix = run.load_table("journey_matrix") if run.has_table("journey_matrix") else None
    if matrix is None or not len(matrix):
        return []
    curve = run.load_table("emotion_curve") if run.has_table("emotion_curve") else None
    out = []
    targets = [p for p in personas if isinstance(p, Mapping)] or [{"persona": "all", "name": ""}]
    for p in targets:
        pid = str(p.get("persona") or p.get("id") or "all")
        seg_type, seg = segment_for(matrix, p, min_respondents) if p.get("name") else ("overall", "all")
        m = matrix[(matrix["segment_type"] == seg_type) & (matrix["segment"].astype(str) == seg)]
        c = None
        if curve is not None and len(curve):
            c = curve[(curve["segment_type"] == seg_type) & (curve["segment"].astype(str) == seg)]
            if "source" in c.columns and (c["source"] == "interviews").any():
                c = c[c["source"] == "interviews"]
        card = cards.get(pid, {})
        goals = map_items(" | ".join(str(t) for t in m.loc[m["row"] == "goals", "text"] if str(t).strip()), names,
                          language, 2)
        expects = map_items(" | ".join(str(t) for t in m.loc[m["row"] == "expectations", "text"] if str(t).strip()),
                            names, language, 2)
        lens = {"portrait": card.get("main") if card else None, "job": "; ".join(goals) or None,
                "expects": "; ".join(expects) or None}
        fig = draw_journey_map(m, c, stages, lens, names, language)
        name = journey_figure_name("journey_map", "persona" if p.get("name") else "overall", pid)
        save_figure(fig, run.figures / f"{name}.png")
        out.append({"persona": pid, "name": str(p.get("name") or ""), "figure": name, "segment_type": seg_type,
                    "segment": seg})
    return out
