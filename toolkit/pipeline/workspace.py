"""Where a notebook explored in JupyterLab writes, and what it needs before it can run.

A run folder ``<out>`` holds the official results (``cjm run``). ``cjm lab`` prepares copies
of the notebooks in ``<out>/lab/``; a notebook run there (``interactive``) writes its tables,
figures and workbooks into the lab's scratch run folder ``<out>/lab/scratch/``, never into
``<out>/artifacts``, ``<out>/figures`` or the official workbooks. The scratch folder sees the
official results through symbolic links (:func:`scratch_run`): every writer of the run folder
writes to a temporary file and renames it over the final name, which replaces the link and
leaves the official file as it was. A file the lab wrote itself is kept until the official
run has a newer one.

:func:`unmet_needs` tells, from the step registry, which earlier steps have not run yet, so
that a notebook stops in its first cell with one sentence naming the command to run first
instead of writing a false "skipped" note.
"""

from __future__ import annotations

import os
from pathlib import Path

from toolkit.core.errors import CaseError
from toolkit.core.words import word
from toolkit.pipeline.registry import STEPS, Step

LAB_DIR = "lab"
SCRATCH_DIR = "scratch"
SHARED = ("artifacts", "figures")  # what the scratch folder links from the official run
SHARED_FILES = ("case.resolved.yml",)


def lab_root(out_dir: str | Path) -> Path:
    return Path(out_dir) / LAB_DIR


def scratch_root(out_dir: str | Path) -> Path:
    return lab_root(out_dir) / SCRATCH_DIR


def _link(target: Path, link: Path) -> None:
    link.parent.mkdir(parents=True, exist_ok=True)
    tmp = link.with_name(f".{link.name}.link")
    tmp.unlink(missing_ok=True)
    os.symlink(target, tmp)
    os.replace(tmp, link)


def scratch_run(out_dir: str | Path) -> Path:
    """Bring ``<out>/lab/scratch`` up to date with the official run and return it: a link to
    every official file, except where the lab wrote a file newer than the official one."""
    official = Path(out_dir).resolve()
    scratch = scratch_root(official)
    scratch.mkdir(parents=True, exist_ok=True)
    sources: list[Path] = [official / f for f in SHARED_FILES if (official / f).is_file()]
    for folder in SHARED:
        base = official / folder
        if base.is_dir():
            sources.extend(p for p in sorted(base.rglob("*")) if p.is_file() and not p.name.startswith("."))
    wanted = set()
    for src in sources:
        rel = src.relative_to(official)
        dst = scratch / rel
        wanted.add(rel)
        if dst.is_symlink():
            if Path(os.readlink(dst)) != src:
                _link(src, dst)
        elif not dst.exists() or dst.stat().st_mtime < src.stat().st_mtime:
            _link(src, dst)
    for folder in SHARED:  # links to official files that are gone
        base = scratch / folder
        if base.is_dir():
            for p in sorted(base.rglob("*")):
                if p.is_symlink() and not p.exists():
                    p.unlink()
    return scratch


def _exists(run_root: Path, artifact: str) -> bool:
    if artifact.startswith("metrics/"):
        return (run_root / "artifacts" / "metrics" / f"{artifact[8:]}.json").exists()
    if artifact.endswith("/*"):
        folder = run_root / "artifacts" / artifact[:-2]
        return folder.is_dir() and any(folder.iterdir())
    base = run_root / "artifacts" / artifact
    return base.with_suffix(base.suffix + ".parquet").exists() or base.with_suffix(base.suffix + ".json").exists() \
        or (run_root / artifact).exists()


def _producer(artifact: str) -> Step | None:
    folder = artifact.split("/", 1)[0] + "/*" if "/" in artifact and not artifact.startswith("metrics/") else None
    for s in STEPS:
        if artifact in s.makes or (folder and folder in s.makes):
            return s
    return None


def has_run(step: Step, run_root: Path) -> bool:
    """A step has run when the metrics parts it makes are there (a skipped step writes its part
    too); a step without metrics parts, when any of its single artifacts is there."""
    marks = [m for m in step.makes if m.startswith("metrics/")] or [m for m in step.makes if not m.endswith("/*")]
    return all(_exists(run_root, m) for m in marks)


def unmet_needs(step: Step, run_root: str | Path) -> list[Step]:
    """The earlier steps that must run before ``step`` can: the producers of its ``needs``
    that have not run (a need missing although its producer ran is a property of the case,
    e.g. no sales history, which the step reports itself). Every step after the data audit
    needs the data audit."""
    root = Path(run_root)
    producers: list[Step] = []
    needs = list(step.needs)
    if step is not STEPS[0] and not needs:
        needs = [m for m in STEPS[0].makes if m.startswith("metrics/")][:1]
    for need in needs:
        p = _producer(need)
        if p is not None and p is not step and not has_run(p, root) and p not in producers:
            producers.append(p)
    return producers


class NeedsEarlierSteps(CaseError):
    """Raised in a notebook's first cell; shown as its one sentence, without a traceback."""

    def _render_traceback_(self):  # IPython shows this instead of the traceback
        return [str(self)]


def check_needs(step_name: str, case_dir: str | Path, out_dir: str | Path, run_root: str | Path, language: str) -> None:
    """Stop with one sentence naming the command to run first when earlier steps have not run."""
    step = next((s for s in STEPS if s.notebook == step_name), None)
    if step is None:
        return
    missing = unmet_needs(step, run_root)
    if missing:
        steps = ", ".join(f"{s.number} {word(s.title, language)}" for s in missing)
        command = f"cjm run {Path(case_dir)} --out {Path(out_dir)}"
        raise NeedsEarlierSteps(word("nb.needs_first", language, step=f"{step.number} {word(step.title, language)}",
                                     steps=steps, out=str(Path(out_dir)), command=command))
