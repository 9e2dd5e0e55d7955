"""``cjm lab``: the workspace of any case without editing a notebook, exploring that writes
only under ``<out>/lab/``, notebooks that stop with the command to run first, readable tables
and live what-ifs that write nothing."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tornado.web import HTTPError

from toolkit.cli.lab import lab_arguments, prepare_workspace
from toolkit.cli.lab_contents import LabContentsManager, writable_path
from toolkit.cli.main import main
from toolkit.cli.run import NOTEBOOKS_DIR, run_case
from toolkit.core.config import load_case
from toolkit.core.run_folder import RunFolder
from toolkit.pipeline import display
from toolkit.pipeline.registry import STEPS
from toolkit.pipeline.workspace import NeedsEarlierSteps, check_needs, scratch_run, unmet_needs

ROOT = Path(__file__).resolve().parents[1]
FASHION = ROOT / "case_studies" / "fashion_retail"
CLINIC = ROOT / "case_studies" / "clinic_group"


def _digest(folder: Path, skip: str | None = None) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha1(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and (skip is None or p.relative_to(folder).parts[0] != skip)}


def _sources() -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(NOTEBOOKS_DIR.glob("*.ipynb"))}


# ----------------------------------------------------------------------------- the workspace


def test_cjm_lab_prepares_a_workspace_for_a_non_demo_case(tmp_path, capsys):
    before = _sources()
    out = tmp_path / "fashion"
    assert main(["lab", str(FASHION), "--out", str(out), "--prepare-only"]) == 0
    printed = capsys.readouterr().out
    assert "holds no run yet" in printed and "cjm run" in printed and "--ServerApp.root_dir=" in printed
    lab = out / "lab"
    for step in STEPS:
        nb = json.loads((lab / f"{step.notebook}.ipynb").read_text(encoding="utf-8"))
        injected = [c for c in nb["cells"] if "injected-parameters" in c["metadata"].get("tags", [])]
        assert len(injected) == 1
        text = "".join(injected[0]["source"])
        assert f'case_dir = "{FASHION.resolve().as_posix()}"' in text
        assert f'out_dir = "{out.resolve().as_posix()}"' in text and "interactive = True" in text
        assert all(not c.get("outputs") for c in nb["cells"] if c["cell_type"] == "code")  # nothing executed
        assert nb["metadata"]["language_info"]["version"] == platform.python_version()  # what the kernel reports
        assert nb["metadata"]["kernelspec"]["name"] == "python3"
    assert (lab / "sources").is_symlink() and (lab / "sources").resolve() == NOTEBOOKS_DIR.resolve()
    assert _sources() == before
    # a second call keeps the consultant's copies; --fresh prepares them again
    (lab / "04_loyalty.ipynb").write_text((lab / "04_loyalty.ipynb").read_text() + " ", encoding="utf-8")
    ws = prepare_workspace(FASHION, out)
    assert len(ws.kept) == len(STEPS) and not ws.prepared
    assert (lab / "04_loyalty.ipynb").read_text().endswith(" ")
    ws = prepare_workspace(FASHION, out, fresh=True)
    assert len(ws.prepared) == len(STEPS)
    assert not (lab / "04_loyalty.ipynb").read_text().endswith(" ")


def test_lab_command_line(tmp_path):
    ws = prepare_workspace(FASHION, tmp_path / "o")
    args = lab_arguments(ws, port=8899, open_browser=False, token="t")
    assert f"--ServerApp.root_dir={ws.out}" in args and "--ServerApp.ip=127.0.0.1" in args
    assert "--ServerApp.contents_manager_class=toolkit.cli.lab_contents.LabContentsManager" in args
    assert "--ServerApp.default_url=/lab/tree/lab" in args and "--ServerApp.port=8899" in args
    for a in args:  # every state JupyterLab keeps goes under <out>/lab/
        if a.endswith(("checkpoints", "workspaces", "virtual_documents")):
            assert a.split("=", 1)[1].startswith(str(ws.root))


def test_a_broken_case_stops_before_any_workspace(tmp_path, capsys):
    (tmp_path / "case").mkdir()
    (tmp_path / "case" / "case.yml").write_text("client: x\n", encoding="utf-8")
    assert main(["lab", str(tmp_path / "case"), "--out", str(tmp_path / "o"), "--prepare-only"]) == 2
    assert "Error:" in capsys.readouterr().err
    assert not (tmp_path / "o" / "lab").exists()


# ----------------------------------------------------------------------------- only lab/ is writable


@pytest.mark.parametrize("path,ok", [
    ("lab/04_loyalty.ipynb", True), ("lab", True), ("lab/scratch/x.ipynb", True), ("lab/sources/04_loyalty.ipynb", False),
    ("lab/sources", False), ("notebooks/04_loyalty.ipynb", False), ("artifacts/loyalty.json", False),
    ("report.docx", False), ("", False), ("laboratory.ipynb", False),
])
def test_writable_paths(path, ok):
    assert writable_path(path) is ok


def test_contents_manager_refuses_writes_outside_lab(tmp_path):
    (tmp_path / "lab").mkdir()
    (tmp_path / "notebooks").mkdir()
    src = tmp_path / "notebooks" / "a.ipynb"
    nb = json.loads((NOTEBOOKS_DIR / "04_loyalty.ipynb").read_text(encoding="utf-8"))
    src.write_text(json.dumps(nb), encoding="utf-8")
    cm = LabContentsManager(root_dir=str(tmp_path))

    async def go():
        model = await cm.get("notebooks/a.ipynb")
        assert model["writable"] is False
        with pytest.raises(HTTPError) as e:
            await cm.save({"type": "notebook", "format": "json", "content": model["content"]}, "notebooks/a.ipynb")
        assert e.value.status_code == 403
        with pytest.raises(HTTPError):
            await cm.delete_file("notebooks/a.ipynb")
        with pytest.raises(HTTPError):
            await cm.rename_file("notebooks/a.ipynb", "lab/a.ipynb")
        saved = await cm.save({"type": "notebook", "format": "json", "content": model["content"]}, "lab/a.ipynb")
        assert saved["writable"] is True

    before = src.read_bytes()
    asyncio.run(go())
    assert src.read_bytes() == before and (tmp_path / "lab" / "a.ipynb").exists()


# ----------------------------------------------------------------------------- scratch run folder


def _official(tmp_path: Path) -> RunFolder:
    run = RunFolder(tmp_path / "out").make()
    run.save_table("tables/transactions", pd.DataFrame({"a": [1, 2]}))
    run.save_table("loyalty_stages", pd.DataFrame({"b": [1.0]}))
    run.save_metrics_part("loyalty", {"x": 1})
    (run.figures / "repeat_curve.png").write_bytes(b"png")
    return run


def test_scratch_sees_the_official_run_and_writes_beside_it(tmp_path):
    official = _official(tmp_path)
    before = _digest(official.root)
    scratch = RunFolder(scratch_run(official.root))
    assert scratch.root == official.root / "lab" / "scratch"
    assert scratch.load_table("loyalty_stages")["b"].tolist() == [1.0]
    assert scratch.load_metrics_parts() == {"loyalty": {"x": 1}}
    # every writer renames a temporary file over the link: the official file stays as it was
    scratch.save_table("loyalty_stages", pd.DataFrame({"b": [9.0]}))
    scratch.save_metrics_part("loyalty", {"x": 2})
    from toolkit.core.run_folder import atomic_path
    with atomic_path(scratch.figure_path("repeat_curve")) as tmp:
        tmp.write_bytes(b"lab figure")
    assert _digest(official.root, skip="lab") == {k: v for k, v in before.items()}
    assert scratch.load_table("loyalty_stages")["b"].tolist() == [9.0]
    assert not (scratch.table_path("loyalty_stages")).is_symlink()
    # the lab's newer file is kept; an official file newer than the lab's replaces it
    scratch_run(official.root)
    assert scratch.load_table("loyalty_stages")["b"].tolist() == [9.0]
    time.sleep(0.02)
    official.save_table("loyalty_stages", pd.DataFrame({"b": [5.0]}))
    os.utime(official.table_path("loyalty_stages"), (time.time() + 5, time.time() + 5))
    scratch_run(official.root)
    assert scratch.load_table("loyalty_stages")["b"].tolist() == [5.0]
    # a link to an official file that is gone goes too
    official.table_path("tables/transactions").unlink()
    scratch_run(official.root)
    assert not scratch.table_path("tables/transactions").exists()
    assert not scratch.table_path("tables/transactions").is_symlink()


def test_unmet_needs_follow_the_registry(tmp_path):
    run = RunFolder(tmp_path / "out").make()
    by_name = {s.notebook: s for s in STEPS}
    assert unmet_needs(by_name["01_data_audit"], run.root) == []
    for name in ("02_segmentation", "04_loyalty", "06_double_funnel", "07_report"):
        assert unmet_needs(by_name[name], run.root) == [STEPS[0]], name
    # the data audit ran (its metrics parts) on a case without sales: the step itself reports that
    run.save_metrics_part("case", {})
    run.save_metrics_part("data_quality", {})
    assert unmet_needs(by_name["04_loyalty"], run.root) == []
    assert unmet_needs(by_name["07_report"], run.root) == []


def test_needs_message_names_the_command_in_the_case_language(tmp_path):
    with pytest.raises(NeedsEarlierSteps) as e:
        check_needs("04_loyalty", CLINIC, tmp_path / "o", tmp_path / "o", "ru")
    text = str(e.value)
    assert text.startswith("Шагу 04") and f"cjm run {CLINIC} --out {tmp_path / 'o'}" in text
    assert e.value._render_traceback_() == [text]  # IPython shows the sentence, not a traceback
    with pytest.raises(NeedsEarlierSteps) as e:
        check_needs("04_loyalty", FASHION, tmp_path / "o", tmp_path / "o", "en")
    assert str(e.value).startswith("Step 04 loyalty needs the results of 01 data audit")


@pytest.mark.slow
def test_workspace_notebook_before_the_run_stops_in_its_first_cell(tmp_path):
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    ws = prepare_workspace(FASHION, tmp_path / "empty")
    with pytest.raises(PapermillExecutionError) as e:
        pm.execute_notebook(str(ws.root / "04_loyalty.ipynb"), str(tmp_path / "x.ipynb"), progress_bar=False,
                            cwd=str(ws.root))
    assert e.value.exec_count == 3  # parameters, injected parameters, then the first cell
    assert "cjm run" in e.value.evalue and "--out" in e.value.evalue
    assert not list((tmp_path / "empty").rglob("loyalty.json"))  # no false skipped note anywhere


# ----------------------------------------------------------------------------- exploring a run


@pytest.fixture(scope="module")
def fashion_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("fashion") / "run"
    for step in ("01_data_audit", "02_segmentation", "04_loyalty"):
        run_case(FASHION, out, only=[step], progress=False)
    return out


@pytest.mark.slow
def test_a_workspace_notebook_writes_only_under_lab(fashion_run):
    import papermill as pm

    official = _digest(fashion_run, skip="lab")
    sources = _sources()
    ws = prepare_workspace(FASHION, fashion_run)
    pm.execute_notebook(str(ws.root / "04_loyalty.ipynb"), str(ws.root / "04_loyalty.ipynb"), progress_bar=False,
                        cwd=str(ws.root))
    assert _digest(fashion_run, skip="lab") == official
    assert _sources() == sources
    scratch = fashion_run / "lab" / "scratch"
    assert (scratch / "figures" / "repeat_curve.png").is_file() and not (scratch / "figures" / "repeat_curve.png").is_symlink()
    assert (scratch / "artifacts" / "metrics" / "loyalty.json").is_file()


@pytest.mark.slow
def test_live_return_window_recomputes_without_writing(fashion_run):
    from toolkit.pipeline.explore import repeat_curve_for_window, return_window_options
    from toolkit.pipeline.notebook import start_step

    ctx = start_step(str(FASHION), str(fashion_run), step="04_loyalty", interactive=True)
    before = _digest(fashion_run)
    short, loy_short = repeat_curve_for_window(ctx, 60)
    long, loy_long = repeat_curve_for_window(ctx, 365)
    assert _digest(fashion_run) == before
    assert loy_short["overall"]["return_window_days"] == 60 and loy_long["overall"]["return_window_days"] == 365
    a = short["repeat_curve"].query("scope == 'all_lines' and visit_number == 1").iloc[0]
    b = long["repeat_curve"].query("scope == 'all_lines' and visit_number == 1").iloc[0]
    assert b["p_return"] > a["p_return"]  # a longer window lets more customers count as returned
    assert 180 in return_window_options(180) and return_window_options(200)[0] == 60


def test_capture_and_recoverable_options_include_the_cases_own():
    from toolkit.pipeline.explore import capture_rate_options, recoverable_fraction_options

    case = load_case(CLINIC)
    assert set(round(r, 4) for r in case.parameters.capture_rates) <= set(capture_rate_options(case))
    rf = getattr(case.parameters, "recoverable_fraction", None)
    if rf:
        assert round(rf, 4) in recoverable_fraction_options(case)


# ----------------------------------------------------------------------------- readable tables


def test_table_frame_reads_like_a_report():
    case = load_case(CLINIC)
    frame = pd.DataFrame({
        "scope": ["all_lines", "cosmetology", "dentistry"],
        "visit_number": [1, 2, 3],
        "eligible": [11612, 5289, np.nan],
        "p_return": [0.511281, 0.592929, np.nan],
        "ci_lo": [0.502187, 0.579626, np.nan],
        "ci_hi": [0.520368, 0.606097, np.nan],
        "revenue": [1.789409e+06, 838415340.0, np.nan],
    })
    ru = display.table_frame(frame, ["scope", "eligible", "p_return", "ci_lo", "ci_hi", "revenue"], "ru", case)
    assert list(ru.columns) == ["Направление", "Клиентов под наблюдением", "Вероятность возврата",
                                "Доверительный интервал", "Выручка"]
    assert len(ru) == 2  # the row with nothing to show is dropped
    assert ru.iloc[0].tolist() == ["Все направления", "11\u00a0612", "51,1%", "50,2–52,0%", "1\u00a0789\u00a0409"]
    assert ru.iloc[1, 0] == "Косметология"
    text = " ".join(ru.astype(str).values.ravel())
    assert "e+" not in text and "0.51" not in text
    en = display.table_frame(frame, ["scope", "p_return"], "en", case)
    assert list(en.columns) == ["Business line", "Chance of return"] and en.iloc[0].tolist() == ["All lines", "51.1%"]


def test_every_header_the_notebooks_use_is_in_both_catalogs():
    import re

    from toolkit.core.words import has_word

    used = set()
    for path in NOTEBOOKS_DIR.glob("*.ipynb"):
        src = "".join("".join(c["source"]) for c in json.loads(path.read_text(encoding="utf-8"))["cells"])
        for block in re.findall(r"columns=(\[[^\]]*\])", src) + re.findall(r"_COLUMNS = (\[[^\]]*\])", src):
            used.update(re.findall(r'"([a-z_]+)"', block))
        used.update(f"{c}_{lang}" for c in re.findall(r'f"([a-z]+)_\{ctx\.language\}"', src) for lang in ("ru", "en"))
        for key in re.findall(r'show_table\(ctx, [^,]+, "([a-z_]+)"', src):
            assert has_word(f"nb.title.{key}", "ru") and has_word(f"nb.title.{key}", "en"), key
    assert len(used) > 40
    upper = {hi for lo, hi in display.INTERVALS}  # merged into the interval column of the lower bound
    missing = [(c, lang) for c in sorted(used - upper) for lang in ("ru", "en") if not has_word(f"nb.col.{c}", lang)]
    assert missing == []


def test_wide_tables_are_split_repeating_their_key_columns():
    frame = pd.DataFrame({f"c{i}": [i] for i in range(12)})
    parts = display.stylers(frame, max_columns=5, keys=2)
    cols = [list(s.data.columns) for s in parts]
    assert all(len(c) <= 5 and c[:2] == ["c0", "c1"] for c in cols)
    assert sorted({x for c in cols for x in c}) == sorted(frame.columns)
