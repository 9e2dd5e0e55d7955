"""What every notebook does first and last, so the notebooks stay thin.

``start_step(case_dir, out_dir, language, step=..., interactive=...)`` loads the case, checks
that the steps this one needs have run (otherwise it stops with one sentence naming the
command to run first) and opens the run folder: the official one for ``cjm run``
(``interactive=False``), the lab's scratch folder ``<out>/lab/scratch`` when a consultant
explores in JupyterLab (``toolkit.pipeline.workspace``), so exploring never overwrites the
run's figures, artifacts or workbooks. The display helpers (``show_table``, ``show_figure``,
``show_markdown``, ``picker``, ``live_control``) live in ``toolkit.pipeline.display``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from toolkit.core.config import Case
from toolkit.core.figures import save_figure
from toolkit.core.run_folder import RunFolder
from toolkit.core.settings import case_for_step
from toolkit.core.words import word
from toolkit.data.load import CaseData, SavedTables
from toolkit.pipeline import display as _display
from toolkit.pipeline.display import live_control, picker, show_figure, show_markdown, show_table  # noqa: F401
from toolkit.pipeline.workspace import check_needs, scratch_run


@dataclass
class StepContext:
    case: Case
    run: RunFolder  # where the step reads and writes: the official run, or the lab's scratch folder
    language: str
    official: RunFolder | None = None  # the official run folder (the same as ``run`` outside the lab)
    interactive: bool = False

    def table(self, name: str) -> pd.DataFrame:
        return self.run.load_table(name)

    def data(self):
        """The canonical tables and refunds saved by the data-audit step, as a ``CaseData``:
        each table is read when first used; ``paths`` gives the parquet files themselves."""
        folder = self.run.artifacts / "tables"
        files = {p.stem: p for p in sorted(folder.glob("*.parquet"))}
        refunds = self.run.load_table("refunds") if self.run.has_table("refunds") else pd.DataFrame()
        quarantine = self.run.load_table("quarantine") if self.run.has_table("quarantine") else pd.DataFrame()
        paths = dict(files)
        if self.run.has_table("refunds"):
            paths["refunds"] = self.run.table_path("refunds")
        return CaseData(case=self.case, tables=SavedTables(files), refunds=refunds, quarantine=quarantine,
                        quality={}, paths=paths)

    def figure(self, name: str, fig) -> Path:
        """Save a report figure under ``figures/<name>.png``."""
        path = save_figure(fig, self.run.figure_path(name))
        fig._cjm_saved_png = path  # show_figure shows this file rather than drawing the figure again
        return path

    def word(self, key: str, **values) -> str:
        return word(key, self.language, **values)

    def names(self, kind: str) -> dict[str, str]:
        """The case's names of its codes: ``line``, ``brand``, ``stage``, ``segment_type``."""
        return _display.names(self.case, self.language)[kind]

    def loyalty_sentence(self, loyalty: dict) -> str:
        return _display.loyalty_sentence(loyalty, self.case, self.language)

    def recommendation(self, metrics: dict) -> str:
        return _display.recommendation(metrics, self.language)

    def metrics_status(self, metrics: dict) -> pd.DataFrame:
        return _display.metrics_status(metrics, self.language)


def start_step(case_dir: str, out_dir: str, language: str = "", *, step: str | None = None,
               interactive: bool = False) -> StepContext:
    """The step's context. ``step`` (the notebook's name) checks the registry's needs first;
    ``interactive`` (a notebook explored in JupyterLab) makes the step write into the lab's
    scratch folder under ``<out>/lab/`` instead of the official run folder."""
    official = RunFolder(out_dir)
    root = scratch_run(out_dir) if interactive else official.root
    if step is not None:
        check_needs(step, case_dir, out_dir, root, language or _case_language(case_dir, out_dir))
    case = case_for_step(case_dir, out_dir)  # the run's recorded settings (case.resolved.yml)
    run = RunFolder(root).make()
    pd.set_option("display.max_columns", 30)
    pd.set_option("display.width", 160)
    return StepContext(case=case, run=run, language=language or case.language, official=official,
                       interactive=interactive)


def _case_language(case_dir: str, out_dir: str) -> str:
    try:
        return case_for_step(case_dir, out_dir).language
    except Exception:  # a broken case.yml is reported by the step itself
        return "en"
