"""``cjm run``: execute the numbered notebooks with papermill, in order.

Each step is one notebook in ``notebooks/``; its executed copy is written to
``<out>/notebooks/`` as the record of the run (the source notebooks never
change). Steps talk only through the run folder (``toolkit.core.run_folder``), so one
step can be re-run alone on the artifacts of the others (``--only``).

A failing step stops the run with one message naming the notebook, the cell and
the error; what earlier runs produced (the previous report in particular) stays
in place, because every file is written to a temporary name and renamed.

The notebooks run one after the other in one kernel, started (and warmed up with
the first step's imports) before papermill is even imported. Between two notebooks
the kernel's namespace is emptied (``RESET``: variables, output cache, execution
count back to 1, memory handed back), so each notebook starts as in a fresh kernel
except that the libraries are already imported. (A kernel per notebook cost ~2.5 s
of CPU each for start-up and imports, which on a busy two-core laptop slowed the
whole run.)
"""

from __future__ import annotations

import asyncio
import re
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from toolkit.core.config import load_case
from toolkit.core.engine_note import run_engine_summary
from toolkit.core.errors import CaseError
from toolkit.core.run_folder import RunFolder
from toolkit.core.settings import RESOLVED_FILE, has_resolved_case, settings_differ, write_resolved_case
from toolkit.core.words import word
from toolkit.pipeline.registry import STEPS, Step, step_named
from toolkit.report.release import read_gate, read_made_labels

NOTEBOOKS_DIR = Path(__file__).resolve().parents[2] / "notebooks"

# Imported in the kernel before the first step when it is not the data audit (the module cache
# is all it leaves).
WARM_UP = (
    "import pandas, numpy, scipy.stats, duckdb, pyarrow, matplotlib.figure, seaborn, sklearn.cluster\n"
    "import toolkit.pipeline.notebook, toolkit.data.step, toolkit.segmentation.step, toolkit.stage_mapping.step, "
    "toolkit.barriers.step, toolkit.loyalty.step, toolkit.double_funnel.step, toolkit.report.step\n"
    "del pandas, numpy, scipy, duckdb, pyarrow, matplotlib, seaborn, sklearn, toolkit"
)
# The warm-up is waited for (nothing runs before it): before the data audit it imports only what
# that step uses, about a second sooner ready than the full list above.
WARM_UP_DATA_AUDIT = (
    "import pandas, numpy, duckdb, pyarrow.parquet, openpyxl, xlsxwriter\n"
    "import toolkit.pipeline.notebook, toolkit.data.step\n"
    "del pandas, numpy, duckdb, pyarrow, openpyxl, xlsxwriter, toolkit"
)


# Run between two notebooks: the next one starts with none of the previous one's variables or
# output cache and with execution count 1 (error messages name the notebook's own cell numbers),
# and the memory Arrow's allocator would keep for reuse goes back to the system. (IPython's
# %reset -f does the same plus two full garbage collections, ~0.5 s each time for nothing: the
# figures' reference cycles are collected by Python as usual.)
RESET = """\
_ip, _name, _n = get_ipython(), None, None
for _name in [n for n in _ip.user_ns if not n.startswith("_") and n not in _ip.user_ns_hidden]:
    del _ip.user_ns[_name]
for _n in range(1, _ip.displayhook.prompt_count + 1):
    _ip.user_ns.pop(f"_{_n}", None)
_ip.user_ns["_oh"].clear()
_ip.displayhook._ = _ip.displayhook.__ = _ip.displayhook.___ = ""
_ip.user_ns.update({"_": "", "__": "", "___": ""})
import pyarrow as _pa
_pa.default_memory_pool().release_unused()
_ip.execution_count = 1
del _ip, _name, _n, _pa
"""


HISTORY_OFF = ["--HistoryManager.enabled=False"]


class _Kernel:
    """A python3 kernel started ahead of the steps over IPC (no network port, no
    plain-TCP warning), its output going to ``kernels.log`` in the run folder."""

    def __init__(self, cwd: Path, workdir: Path, log, warm_up: str = WARM_UP):
        from jupyter_client import BlockingKernelClient
        from jupyter_client.manager import AsyncKernelManager

        # papermill's client is async, so the manager it is handed must be async too
        self.km = AsyncKernelManager(kernel_name="python3", transport="ipc")
        self.km.ip = str(workdir / f"k{uuid.uuid4().hex[:8]}")
        # No IPython history: the reset between notebooks sets the execution count back to 1, which
        # the history database would refuse ("Session/line number was not unique in database").
        asyncio.run(self.km.start_kernel(cwd=str(cwd), stdout=log, stderr=log, extra_arguments=HISTORY_OFF))
        self.kc = BlockingKernelClient()
        self.kc.load_connection_info(self.km.get_connection_info())
        self.kc.start_channels()
        self.kc.execute(warm_up, silent=True, store_history=False)

    def reset(self, timeout: float = 120) -> None:
        """Empty the namespace between two notebooks (``RESET``); waits until it is done."""
        msg_id = self.kc.execute(RESET, silent=True, store_history=False)
        while True:  # replies to the warm-up and earlier resets come first
            reply = self.kc.get_shell_msg(timeout=timeout)
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        if reply["content"].get("status") != "ok":
            raise RuntimeError(f"the kernel could not be reset between two steps: {reply['content'].get('evalue')}")

    def shutdown(self) -> None:
        try:
            self.kc.stop_channels()
        finally:
            asyncio.run(self.km.shutdown_kernel(now=True))


class StepFailed(CaseError):
    """A notebook failed; the message names the notebook, the cell and the error."""


@dataclass
class RunResult:
    out_dir: Path
    steps: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    report: Path | None = None
    pdf: Path | None = None


def resolve_steps(only: list[str] | None) -> list[Step]:
    """Steps to run: all, or those named by ``--only`` ("04", "loyalty" or "04_loyalty")."""
    if not only:
        return list(STEPS)
    chosen = []
    for name in only:
        match = step_named(name)
        if not match:
            names = ", ".join(s.notebook for s in STEPS)
            raise CaseError(f"There is no step '{name}'; the steps are: {names}.")
        chosen.extend(m for m in match if m not in chosen)
    return sorted(chosen, key=STEPS.index)


def _first_line(text: str) -> str:
    text = re.sub(r"\x1b\[[0-9;]*m", "", text or "").strip()
    return text.splitlines()[0] if text else ""


def _warm_up(step: Step) -> str:
    return WARM_UP_DATA_AUDIT if step.notebook == "01_data_audit" else WARM_UP


def run_case(
    case_dir: str | Path,
    out_dir: str | Path | None = None,
    only: list[str] | None = None,
    language: str | None = None,
    pdf: bool = False,
    progress: bool = True,
    notebooks_dir: Path = NOTEBOOKS_DIR,
    update_settings: bool = False,
) -> RunResult:
    """Run the case's notebooks; see the module docstring."""
    case_dir = Path(case_dir).resolve()
    case = load_case(case_dir)  # a broken case.yml stops here, before any kernel starts
    out = Path(out_dir) if out_dir else Path("out") / case_dir.name
    run = RunFolder(out.resolve()).make()
    steps = resolve_steps(only)
    # The run records its settings; the steps and the report read them from the run folder.
    # A whole run (or one that includes the data audit) records case.yml as it is now; a
    # partial run keeps the recorded settings unless told to update them.
    if not only or steps[0].notebook == STEPS[0].notebook or update_settings or not has_resolved_case(run.root):
        write_resolved_case(case, run.root, note="" if not only else f"recorded by cjm run --only {' '.join(only)}")
    elif settings_differ(case, run.root):
        print(
            f"Note: {case_dir / 'case.yml'} has changed since this run recorded its settings; the steps use the "
            f"recorded ones ({run.root / RESOLVED_FILE}). Add --update-settings to use the edited file.",
            file=sys.stderr,
        )
    if only:
        for s in steps:
            missing = [n for n in s.needs if not run.table_path(n).exists()]
            if missing:
                raise CaseError(
                    f"Step {s.notebook} needs the artifacts of earlier steps ({', '.join(missing)}) in {run.root}; "
                    "run the whole pipeline once first (cjm run without --only)."
                )
    params = {
        "case_dir": case_dir.as_posix(),
        "out_dir": run.root.as_posix(),
        "language": language or case.language,
        "interactive": False,
    }
    result = RunResult(out_dir=run.root)
    for step in steps:
        if not (notebooks_dir / f"{step.notebook}.ipynb").exists():
            raise CaseError(f"Notebook {notebooks_dir / step.notebook}.ipynb is missing; the toolkit checkout is incomplete.")
    with tempfile.TemporaryDirectory(prefix="cjm-kernels-") as workdir, open(run.root / "kernels.log", "ab") as log:
        kernel = _Kernel(notebooks_dir, Path(workdir), log, _warm_up(steps[0]))
        try:
            # imported while the kernel starts and warms up
            import papermill as pm
            from papermill.exceptions import PapermillExecutionError

            for i, step in enumerate(steps, start=1):
                src = notebooks_dir / f"{step.notebook}.ipynb"
                dst = run.notebooks / src.name
                bar = {"desc": f"[{i}/{len(steps)}] {word(step.title, 'en')}", "unit": "cell", "leave": True} if progress else False
                try:
                    if i > 1:
                        kernel.reset()  # the previous notebook's variables go
                    t0 = time.perf_counter()
                    pm.execute_notebook(
                        str(src),
                        str(dst),
                        parameters=params,
                        kernel_name="python3",
                        progress_bar=bar,
                        cwd=str(notebooks_dir),
                        log_output=False,
                        km=kernel.km,
                    )
                except PapermillExecutionError as e:
                    raise StepFailed(
                        f"Step {step.notebook} failed in cell {e.exec_count} ({e.ename}: {_first_line(e.evalue)}); "
                        f"the executed notebook with the full error is {dst}."
                    ) from None
                except Exception as e:  # kernel died, could not start, ...
                    raise StepFailed(
                        f"Step {step.notebook} could not run ({type(e).__name__}: {_first_line(str(e))})."
                    ) from None
                result.seconds[step.notebook] = time.perf_counter() - t0
                result.steps.append(step.notebook)
        finally:
            kernel.shutdown()
    report = run.root / "report.docx"
    result.report = report if report.exists() else None
    if pdf:
        if result.report is None:
            raise CaseError(f"No report to convert in {run.root}; run the report step first.")
        from toolkit.report import convert_to_pdf

        result.pdf = convert_to_pdf(report)
    return result


def cmd_run(args) -> int:
    result = run_case(
        args.case_dir, out_dir=args.out, only=args.only, language=args.lang, pdf=args.pdf, progress=not args.quiet,
        update_settings=getattr(args, "update_settings", False)
    )
    total = sum(result.seconds.values())
    print(f"Done in {total:.1f} s: {', '.join(f'{k} {v:.1f}s' for k, v in result.seconds.items())}", file=sys.stderr)
    engines = run_engine_summary(RunFolder(result.out_dir))
    if engines:
        print(engines)
    print(f"Run folder: {result.out_dir}")
    if result.report:
        print(f"Report: {result.report}")
        for f in read_gate(result.out_dir):  # the report's release gate (toolkit.report.release)
            where = f"page {f['page']}" if f.get("page") else "document"
            print(f"warning: report check {f['check']} ({where}): {f['text']}", file=sys.stderr)
        made = read_made_labels(result.out_dir)
        if made:
            print(f"note: the report labelled {len(made)} code(s) from their id (add a label to the codebook or "
                  f"case.yml): {', '.join(made)}", file=sys.stderr)
    if result.pdf:
        print(f"PDF: {result.pdf}")
    return 0
