"""The lab in a real browser: ``cjm lab``'s JupyterLab on a free loopback port, driven by
Debian's Chromium through playwright (never ``playwright install``).

A consultant's session on a run of the fashion-retail case (a non-demo case, English): open
the loyalty notebook of the lab workspace, Run All, change the business-line drop-down, and
check that the figure was redrawn, that no error output appeared, that the official run folder
did not change, that opening a source notebook marks nothing modified, and that the sources
in ``notebooks/`` are byte-identical to git's afterwards.

Set ``CJM_SCREENSHOTS=DIR`` to keep screenshots of the lab.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from toolkit.cli.lab import lab_arguments, prepare_workspace
from toolkit.cli.run import run_case

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TOKEN = "cjm-browser-test"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"Chromium is not installed ({CHROMIUM} is absent; "
                                                           "Debian package 'chromium')"),
]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _digest(folder: Path, skip: str) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha1(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and not p.relative_to(folder).parts[0] == skip}


def _git_status(path: str) -> str:
    return subprocess.run(["git", "status", "--porcelain", path], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: the sources cannot be compared with git")
    tmp = tmp_path_factory.mktemp("lab")
    out = tmp / "fashion_retail"
    for step in ("01_data_audit", "04_loyalty"):  # the loyalty notebook's run: the data audit, then loyalty
        run_case(ROOT / "case_studies" / "fashion_retail", out, only=[step], progress=False)
    ws = prepare_workspace(ROOT / "case_studies" / "fashion_retail", out)
    official = _digest(out, skip="lab")
    port = _free_port()
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp / "jupyter_config"), "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"),
           "IPYTHONDIR": str(tmp / "ipython")}
    args = lab_arguments(ws, port=port, open_browser=False, token=TOKEN) + ["--LabApp.expose_app_in_browser=True"]
    log = open(tmp / "jupyter.log", "wb")
    server = subprocess.Popen(args, cwd=tmp, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={TOKEN}", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
            if server.poll() is not None:
                pytest.fail(f"JupyterLab exited: {(tmp / 'jupyter.log').read_text(errors='replace')[-2000:]}")
        else:
            pytest.fail("JupyterLab did not answer within two minutes")
        yield {"base": base, "out": out, "ws": ws, "official": official, "tmp": tmp}
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.fixture(scope="module")
def browser(lab):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(lab["tmp"] / "chromium-profile"), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 1000})
        try:
            yield context
        finally:
            context.close()


def _shot(page, name: str) -> None:
    folder = os.environ.get("CJM_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=False)


def _wait_idle(page, timeout_s: float = 300) -> None:
    """Until every code cell has run and the kernel is idle."""
    page.wait_for_function(
        """() => {
            const app = window.jupyterapp;
            const panel = app && app.shell.currentWidget;
            if (!panel || !panel.sessionContext || !panel.sessionContext.session) return false;
            const kernel = panel.sessionContext.session.kernel;
            if (!kernel || kernel.status !== 'idle') return false;
            const prompts = [...document.querySelectorAll('.jp-InputArea-prompt')].map(e => e.textContent);
            return prompts.length > 0 && !prompts.some(t => t.includes('*'));
        }""", timeout=timeout_s * 1000, polling=500)


def _open(page, lab, path: str) -> None:
    """Open ``path`` alone (``reset``: not beside the tabs a previous page left in the layout)."""
    page.goto(f"{lab['base']}/lab/tree/{path}?reset&token={TOKEN}")
    page.wait_for_function("""(p) => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
                              return w && w.context && w.context.path === p && w.sessionContext
                                     && w.sessionContext.isReady; }""", arg=path, timeout=120_000)
    page.wait_for_selector(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell", timeout=120_000)


def _errors(page) -> list[str]:
    return page.eval_on_selector_all(
        ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']", "els => els.map(e => e.innerText)")


def test_loyalty_notebook_runs_and_its_dropdown_redraws_the_figure(lab, browser):
    page = browser.new_page()
    _open(page, lab, "lab/04_loyalty.ipynb")
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_selector(".jp-OutputArea-output img", timeout=300_000)
    _wait_idle(page)
    picker = page.locator(".widget-vbox", has=page.locator(".widget-dropdown select")).first
    picker.wait_for(timeout=120_000)
    picker.scroll_into_view_if_needed()
    select = picker.locator(".widget-dropdown select")
    options = select.locator("option").all_inner_texts()
    assert len(options) >= 2, options
    assert all("_" not in o for o in options), f"raw codes in the drop-down: {options}"
    before = picker.locator("img").first.get_attribute("src")
    _shot(page, "lab_loyalty_before")
    select.select_option(index=1)
    page.wait_for_function(
        """([before]) => {
            const box = [...document.querySelectorAll('.widget-vbox')].find(b => b.querySelector('.widget-dropdown select'));
            const img = box && box.querySelector('img');
            return img && img.getAttribute('src') !== before;
        }""", arg=[before], timeout=120_000)
    after = picker.locator("img").first.get_attribute("src")
    assert after and after != before, "the figure did not change with the drop-down"
    _wait_idle(page)
    _shot(page, "lab_loyalty_after")
    assert _errors(page) == [], "error output in the lab"
    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    page.wait_for_timeout(1500)
    page.close()
    # the workspace copy was saved in lab/; the official run did not change; the sources did not change
    saved = json.loads((lab["ws"].root / "04_loyalty.ipynb").read_text(encoding="utf-8"))
    assert any(c.get("outputs") for c in saved["cells"] if c["cell_type"] == "code")
    assert _digest(lab["out"], skip="lab") == lab["official"], "exploring changed the official run folder"
    assert _git_status("notebooks/") == "", "the source notebooks changed"


def _kernel_idle(page) -> None:
    page.wait_for_function("() => { const s = window.jupyterapp.shell.currentWidget.sessionContext; "
                           "return s.session && s.session.kernel && s.session.kernel.status === 'idle'; }",
                           timeout=120_000)
    page.wait_for_timeout(2000)  # JupyterLab fills in the kernel's metadata once it knows the kernel


@pytest.mark.parametrize("which", ["source", "workspace prepared from another Python's sources"])
def test_opening_a_notebook_marks_nothing_modified(lab, browser, which, tmp_path):
    """A source's metadata is complete (the project kernel, nothing for JupyterLab to fill in);
    a workspace copy gets the running Python's language_info, whichever Python wrote the sources."""
    page = browser.new_page()
    if which == "source":
        stored = json.loads((ROOT / "notebooks" / "04_loyalty.ipynb").read_text(encoding="utf-8"))
        if stored["metadata"]["language_info"]["version"] != platform.python_version():
            pytest.skip(f"the sources' metadata names Python {stored['metadata']['language_info']['version']}, "
                        f"this kernel is {platform.python_version()}: opening a source would fill in the version")
        _open(page, lab, "lab/sources/04_loyalty.ipynb")
    else:
        other = tmp_path / "notebooks"
        other.mkdir()
        for src in sorted((ROOT / "notebooks").glob("*.ipynb")):
            nb = json.loads(src.read_text(encoding="utf-8"))
            nb["metadata"]["language_info"]["version"] = "3.11.0" if platform.python_version() != "3.11.0" else "3.11.1"
            (other / src.name).write_text(json.dumps(nb), encoding="utf-8")
        check = tmp_path / "check"
        prepare_workspace(ROOT / "case_studies" / "fashion_retail", check, notebooks_dir=other)
        (lab["ws"].root / "version_check.ipynb").write_bytes((check / "lab" / "04_loyalty.ipynb").read_bytes())
        _open(page, lab, "lab/version_check.ipynb")
    _kernel_idle(page)
    dirty = page.evaluate("() => window.jupyterapp.shell.currentWidget.context.model.dirty")
    _shot(page, "lab_source_opened")
    assert dirty is False, "opening a source notebook marked it modified"
    if which == "source":
        writable = page.evaluate("() => window.jupyterapp.shell.currentWidget.context.contentsModel.writable")
        assert writable is False, "a source notebook opened writable in the lab"
    page.close()
    assert _git_status("notebooks/") == ""

