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

from collections.abc import Mapping
from pathlib import Path

from toolkit.core.run_folder import RunFolder
from toolkit.core.settings import case_for_step, has_resolved_case, read_resolved_case
from toolkit.core.vocabulary import load_recommendations
from toolkit.report.common import FigureRef, Names, fmt_date, load_metrics, not_available, read_table, reason_label, w
from toolkit.report.inputs import ARTIFACTS_USED, FIGURES_USED, JSON_ARTIFACTS_USED, METRICS_USED
from toolkit.report.sections.brands import double_funnel_section
from toolkit.report.sections.clients import personas_section, rfm_section
from toolkit.report.sections.cover import appendix_section, meta_section, method_section
from toolkit.report.sections.data import data_section
from toolkit.report.sections.decisions import decisions_section
from toolkit.report.sections.journeys import journeys_section
from toolkit.report.sections.losses import barriers_section, funnel_section
from toolkit.report.sections.loyalty import loyalty_section
from toolkit.report.sections.profit import crm_section, profit_section
from toolkit.report.sections.roadmap import roadmap_items, roadmap_section
from toolkit.report.template_sections import HEADINGS, heading
from toolkit.stage_mapping.charts import journey_figure_name


def build_context(run_dir, case=None, language: str | None = None, prepared_by: str | None = None,
                  pages: Mapping[str, int] | None = None) -> dict:
    """Every variable of the report template, from the run folder ``run_dir``.

    ``case``: a ``toolkit.core.config.Case`` (or a case folder) for display names and parameters;
    without it, ids stand in for names and the default parameters are shown. ``language``:
    "ru" or "en" (default: the case's, else metrics.json's). ``pages``: heading text -> page
    number of a previous render (``toolkit.report.release``), for the contents and the
    decisions' "see p. N". Writes only the journey-map figures (``toolkit.report.journey_map``)
    into the run's figures.
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
    matrix = read_table(run, "journey_matrix")
    names = Names(case, language, metrics, matrix)
    meta = meta_section(case, metrics, language, prepared_by)
    currency = meta["currency"]
    conf = case.parameters.confidence if case is not None else 0.95
    min_segment = case.parameters.min_segment_size if case is not None else 30
    evidence_min = case.parameters.evidence_min_respondents if case is not None else 5
    library = load_recommendations(case.case_dir if case is not None else None, meta["industry"])
    ctx = {
        "meta": meta,
        "method": method_section(case, metrics, language),
        "data": data_section(metrics, run, language),
        "rfm": rfm_section(metrics, run, language),
        "personas": personas_section(metrics, run, names, language, currency),
        "funnel": funnel_section(metrics, run, names, language, conf),
        "barriers": barriers_section(metrics, run, names, language, currency, conf, library),
        "loyalty": loyalty_section(metrics, run, names, language, currency, conf, min_segment),
        "double_funnel": double_funnel_section(metrics, run, names, language, currency, conf),
        "profit": profit_section(metrics, run, names, language, currency),
        "crm": crm_section(run, names, language, currency, conf, meta["industry"]),
    }
    ctx["journeys"] = journeys_section(run, matrix, metrics, names, language, evidence_min, ctx["personas"]["cards"])
    ctx["roadmap"] = roadmap_section(metrics, ctx, names, language, currency)
    ctx["decisions"] = decisions_section(metrics, ctx, names, language, currency, pages)
    ctx["appendix"] = appendix_section(case, metrics, meta, language)
    ctx["toc"] = toc_entries(language, pages)
    ctx["made_labels"] = sorted(names.made_labels)  # codes shown with a label made from the id (warned by the step)
    return ctx

def toc_entries(language: str, pages: Mapping[str, int] | None = None) -> list[dict]:
    """The table of contents as shown before Word refreshes the field: every heading of the
    template, with its page when ``pages`` (heading text -> page, from the rendered PDF) has it."""
    out = []
    for level, key in HEADINGS:
        title = heading(key, language)
        page = (pages or {}).get(title)
        out.append({"level": level, "title": title, "page": str(page) if page else ""})
    return out


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
    "FigureRef",
    "build_context",
    "context_figures",
    "fmt_date",
    "journey_figure_name",
    "load_metrics",
    "not_available",
    "reason_label",
    "roadmap_items",
]
