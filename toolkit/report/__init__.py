"""The client's deliverable: the Word report (and its PDF) built from a run folder.

- :mod:`toolkit.report.context`: ``build_context(run_dir, case, language)`` reads
  ``metrics.json``, the parquet artifacts and the figure PNGs and turns them into the
  template's variables (sentences in ru/en, formatted numbers, table rows);
- :mod:`toolkit.report.render`: ``render_report`` fills a docxtpl template
  (``report_templates/cjm_report_<language>.docx``) and ``convert_to_pdf`` runs LibreOffice;
- :mod:`toolkit.report.build_templates`: regenerates the two templates
  (``python -m toolkit.report.build_templates``);
- :mod:`toolkit.core.fmt`: number formatting per language.

The heavy imports (docxtpl) happen only when a function is used.
"""

from __future__ import annotations

__all__ = [
    "ARTIFACTS_USED",
    "FIGURES_USED",
    "build_context",
    "convert_to_pdf",
    "render_report",
    "template_path",
    "template_variables",
]


def __getattr__(name: str):
    if name in ("build_context", "ARTIFACTS_USED", "FIGURES_USED", "METRICS_USED"):
        from toolkit.report import context

        return getattr(context, name)
    if name in ("render_report", "convert_to_pdf", "template_path", "template_variables"):
        from toolkit.report import render

        return getattr(render, name)
    raise AttributeError(f"module 'toolkit.report' has no attribute {name!r}")
