"""What every notebook does first and last, so the notebooks stay thin.

``start_step(case_dir, out_dir, language)`` loads the case and opens the run
folder; ``show_table`` / ``show_figure`` display results statically (visible in the
executed copy papermill writes); ``picker`` adds an ipywidgets drop-down for
exploring in JupyterLab, on top of the static output, never instead of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from toolkit.core.run_folder import RunFolder
from toolkit.core.config import Case, load_case


@dataclass
class StepContext:
    case: Case
    run: RunFolder
    language: str

    def table(self, name: str) -> pd.DataFrame:
        return self.run.load_table(name)

    def tables(self) -> dict[str, pd.DataFrame]:
        """The canonical tables saved by the data-audit step."""
        folder = self.run.artifacts / "tables"
        return {p.stem: pd.read_parquet(p) for p in sorted(folder.glob("*.parquet"))}

    def data(self):
        """The canonical tables and refunds saved by the data-audit step, as a ``CaseData``:
        each table is read when first used; ``paths`` gives the parquet files themselves."""
        from toolkit.data.load import CaseData, SavedTables

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
        from toolkit.core.figures import save_figure

        path = save_figure(fig, self.run.figure_path(name))
        fig._cjm_saved_png = path  # show_figure shows this file rather than drawing the figure again
        return path

    def label(self, ru: str, en: str) -> str:
        return ru if self.language == "ru" else en


def start_step(case_dir: str, out_dir: str, language: str = "") -> StepContext:
    case = load_case(Path(case_dir))
    run = RunFolder(out_dir).make()
    pd.set_option("display.max_columns", 30)
    pd.set_option("display.width", 160)
    return StepContext(case=case, run=run, language=language or case.language)


def show_table(frame: pd.DataFrame, title: str | None = None, max_rows: int = 30) -> None:
    from IPython.display import Markdown, display

    if title:
        display(Markdown(f"**{title}**"))
    display(frame.head(max_rows))


def show_figure(fig, path: Path | None = None) -> None:
    """Display a Figure inline (as PNG) and, when a path is given, save it for the report. A
    figure already saved for the report (``StepContext.figure``) is shown from its file, scaled
    down (``_screen_png``), not drawn a second time."""
    from IPython.display import Image, display

    from toolkit.core.figures import save_figure

    saved = getattr(fig, "_cjm_saved_png", None)
    if path is None and saved is not None and Path(saved).exists():
        display(Image(data=_screen_png(Path(saved)), width=720))
    elif path is not None:
        save_figure(fig, path)
        display(Image(filename=str(path), width=720))
    else:
        import io

        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110)
        display(Image(data=buf.getvalue(), width=720))


def _screen_png(path: Path) -> bytes:
    """A report PNG made light for the notebook: half the resolution (box filter) and a 256-colour
    palette, ~60 KB instead of ~350 KB, in ~0.05 s instead of drawing the figure again."""
    import io

    from PIL import Image as PILImage

    from toolkit.core.figures import DPI

    with PILImage.open(path) as im:
        small = im.convert("RGB").reduce(max(1, DPI // 100)).quantize(colors=256)
    buf = io.BytesIO()
    small.save(buf, format="png")
    return buf.getvalue()


def picker(label: str, options: list, render, interactive: bool = True) -> None:
    """Interactive exploration: a drop-down over ``options`` calling ``render(option)``.

    Static output for every option is the notebook's own job (papermill does not
    save widget state); this only adds the live control in JupyterLab.
    """
    if not interactive or not options:
        return
    import ipywidgets as widgets
    from IPython.display import display

    dropdown = widgets.Dropdown(options=options, description=label)
    out = widgets.Output()

    def update(change=None):
        out.clear_output(wait=True)
        with out:
            render(dropdown.value)

    dropdown.observe(update, names="value")
    update()
    display(widgets.VBox([dropdown, out]))
