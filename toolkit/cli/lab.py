"""``cjm lab CASE_DIR [--out DIR]``: explore a case's notebooks in JupyterLab.

1. Prepares a workspace ``<out>/lab/``: a copy of each step notebook with the case's paths
   put in by papermill's prepare-only parameterisation (nothing is executed), so that any
   case opens without editing a notebook. A workspace notebook the consultant already has
   is kept (``--fresh`` prepares it again).
2. Starts JupyterLab on the loopback interface, rooted at the run folder ``<out>`` so that
   the workspace (``lab/``), the executed notebooks of the last ``cjm run`` (``notebooks/``)
   and the source notebooks (``lab/sources``, a link to the toolkit's ``notebooks/``) are all
   reachable, and opens the workspace.

Exploring writes only under ``<out>/lab/``: the workspace notebooks write their results into
``<out>/lab/scratch`` (``toolkit.pipeline.workspace``), the lab's file manager refuses to
save anywhere else (``toolkit.cli.lab_contents``), checkpoints and JupyterLab's layouts are
kept in ``<out>/lab/.jupyter``. The sources are never written.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from toolkit.cli.run import NOTEBOOKS_DIR
from toolkit.core.config import load_case
from toolkit.core.errors import CaseError
from toolkit.pipeline.registry import STEPS
from toolkit.pipeline.workspace import lab_root

SETTINGS = {"@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False}}
KERNEL = "python3"  # the project's kernel: the Python of the environment the toolkit is installed in


@dataclass
class Workspace:
    root: Path  # <out>/lab
    out: Path
    prepared: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)


def default_out(case_dir: Path) -> Path:
    return Path("out") / case_dir.name


def prepare_workspace(case_dir: str | Path, out_dir: str | Path | None = None, fresh: bool = False,
                      language: str = "", notebooks_dir: Path = NOTEBOOKS_DIR) -> Workspace:
    """The lab workspace of a case (module docstring, point 1); the sources are only read."""
    import papermill as pm  # heavy: imported when a workspace is prepared

    case_dir = Path(case_dir).resolve()
    load_case(case_dir)  # a broken case.yml stops here with its own message
    out = Path(out_dir or default_out(case_dir)).resolve()
    ws = Workspace(root=lab_root(out), out=out)
    ws.root.mkdir(parents=True, exist_ok=True)
    (out / "notebooks").mkdir(parents=True, exist_ok=True)
    link = ws.root / "sources"
    if link.is_symlink() and Path(os.readlink(link)) != notebooks_dir.resolve():
        link.unlink()
    if not link.exists() and not link.is_symlink():
        os.symlink(notebooks_dir.resolve(), link, target_is_directory=True)
    params = {"case_dir": case_dir.as_posix(), "out_dir": out.as_posix(), "language": language, "interactive": True}
    for step in STEPS:
        src = notebooks_dir / f"{step.notebook}.ipynb"
        if not src.exists():
            raise CaseError(f"Notebook {src} is missing; the toolkit checkout is incomplete.")
        dst = ws.root / src.name
        if dst.exists() and not fresh:
            ws.kept.append(dst)
            continue
        pm.execute_notebook(str(src), str(dst), parameters=params, prepare_only=True, progress_bar=False,
                            cwd=str(ws.root))
        _match_kernel(dst)
        ws.prepared.append(dst)
    return ws


def _match_kernel(path: Path) -> None:
    """Give a workspace notebook the language_info its kernel will report (the Python running
    cjm is the project kernel), so that JupyterLab has nothing to fill in when it opens it and
    marks nothing modified, whichever Python patch release wrote the sources."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    info = nb.setdefault("metadata", {}).setdefault("language_info", {"name": "python"})
    if info.get("version") != platform.python_version():
        info["version"] = platform.python_version()
        path.write_text(json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def lab_arguments(ws: Workspace, port: int | None = None, open_browser: bool = True, token: str | None = None) -> list[str]:
    """The ``jupyter lab`` command line of a workspace (module docstring, point 2)."""
    state = ws.root / ".jupyter"
    settings = state / "settings"  # no news feed, no update check: the lab asks nothing and fetches nothing
    settings.mkdir(parents=True, exist_ok=True)
    (settings / "overrides.json").write_text(json.dumps(SETTINGS, indent=1) + "\n", encoding="utf-8")
    args = [
        sys.executable, "-m", "jupyterlab",
        f"--ServerApp.root_dir={ws.out}",
        "--ServerApp.ip=127.0.0.1",
        "--ServerApp.default_url=/lab/tree/lab",
        "--ServerApp.contents_manager_class=toolkit.cli.lab_contents.LabContentsManager",
        f"--FileCheckpoints.root_dir={state / 'checkpoints'}",
        f"--AsyncFileCheckpoints.root_dir={state / 'checkpoints'}",
        f"--LabApp.workspaces_dir={state / 'workspaces'}",
        f"--LabApp.app_settings_dir={settings}",
        f"--LanguageServerManager.virtual_documents_dir={state / 'virtual_documents'}",
        f"--KernelSpecManager.allowed_kernelspecs={KERNEL}",
        f"--MappingKernelManager.default_kernel_name={KERNEL}",
    ]
    if port:
        args.append(f"--ServerApp.port={port}")
    if not open_browser:
        args.append("--ServerApp.open_browser=False")
    if token is not None:
        args.append(f"--IdentityProvider.token={token}")
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # containers, CI machines
        args.append("--allow-root")
    return args


def cmd_lab(args) -> int:
    ws = prepare_workspace(args.case_dir, args.out, fresh=args.fresh, language=args.lang or "")
    for p in ws.prepared:
        print(f"Prepared {p}")
    for p in ws.kept:
        print(f"Kept {p} (yours; --fresh prepares it again)")
    if not (ws.out / "artifacts" / "metrics").is_dir():
        print(f"Note: {ws.out} holds no run yet; run `cjm run {args.case_dir} --out {ws.out}` first to see results "
              "(the notebooks say so in their first cell).")
    command = lab_arguments(ws, port=args.port, open_browser=not args.no_browser)
    if args.prepare_only:
        print("JupyterLab would start with: " + " ".join(command))
        return 0
    if shutil.which(sys.executable) is None:
        raise CaseError("The Python running cjm cannot be found; reinstall the toolkit (make install).")
    print(f"Starting JupyterLab on the workspace {ws.root} (Ctrl+C stops it)", flush=True)
    os.execv(sys.executable, command)  # JupyterLab takes over this process (its own Ctrl+C handling)
    return 0  # not reached

