"""What the demo's executed notebooks (the run's record) show, and what the run leaves of the
sources: no error or warning stream, no IPython history error after the kernel reset, table
headers in the case's words (never a raw column id), no scientific notation, no literal line
breaks, and the source notebooks in ``notebooks/`` byte-identical before and after the run
(and to git's where the checkout has them unmodified)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from toolkit.cli.run import NOTEBOOKS_DIR, run_case
from toolkit.pipeline.registry import STEPS

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "case_studies" / "clinic_group"

pytestmark = pytest.mark.slow


def _sources() -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(NOTEBOOKS_DIR.glob("*.ipynb"))}


def _git(*args) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    if not (DEMO / "case.yml").exists():
        pytest.skip("the demo case is not generated")
    before = _sources()
    clean = _git("status", "--porcelain", "notebooks/")
    out = tmp_path_factory.mktemp("demo") / "run"
    run_case(DEMO, out, progress=False)
    return {"out": out, "before": before, "git_clean": clean.returncode == 0 and not clean.stdout}


def _outputs(out: Path):
    for step in STEPS:
        nb = json.loads((out / "notebooks" / f"{step.notebook}.ipynb").read_text(encoding="utf-8"))
        for cell in nb["cells"]:
            for o in cell.get("outputs", []):
                yield step.notebook, o


def _raw_columns(out: Path) -> set[str]:
    cols = set()
    for p in (out / "artifacts").rglob("*.parquet"):
        cols.update(pq.read_schema(p).names)
    return cols


def test_no_error_or_stderr_output_and_no_history_error(demo):
    problems = []
    for name, o in _outputs(demo["out"]):
        if o["output_type"] == "error":
            problems.append((name, o["ename"]))
        if o["output_type"] == "stream" and (o["name"] == "stderr" or "not unique in database" in "".join(o["text"])):
            problems.append((name, "".join(o["text"])[:200]))
    assert problems == []


def test_table_headers_are_words_not_column_ids(demo):
    raw = _raw_columns(demo["out"])
    tables = headers = 0
    bad = []
    for name, o in _outputs(demo["out"]):
        html = "".join(o.get("data", {}).get("text/html", []))
        if "<table" not in html:
            continue
        tables += 1
        for th in re.findall(r"<th[^>]*>(.*?)</th>", html, flags=re.S):
            text = re.sub(r"<[^>]+>", "", th).strip()
            if not text:
                continue
            headers += 1
            if text in raw or re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)+", text):
                bad.append((name, text))
    assert tables >= 15 and headers >= 80, (tables, headers)
    assert bad == []


def test_table_cells_are_readable(demo):
    bad = []
    for name, o in _outputs(demo["out"]):
        html = "".join(o.get("data", {}).get("text/html", []))
        for td in re.findall(r"<td[^>]*>(.*?)</td>", html, flags=re.S):
            if re.search(r"\d[eE][+-]\d\d", td) or "\\n" in td or td.strip() in ("nan", "NaN", "None", "<NA>"):
                bad.append((name, td[:80]))
            if re.fullmatch(r"-?\d+\.\d{4,}", td.strip()):  # an unformatted float
                bad.append((name, td))
    assert bad == []


def test_every_table_is_styled_and_results_have_prose(demo):
    for step in STEPS:
        nb = json.loads((demo["out"] / "notebooks" / f"{step.notebook}.ipynb").read_text(encoding="utf-8"))
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        shown = [c for c in code if any(o.get("data", {}).get("image/png") or "<table" in "".join(
            o.get("data", {}).get("text/html", [])) for o in c.get("outputs", []))]
        for cell in shown:  # a Markdown cell of prose before each cell that shows a result
            i = nb["cells"].index(cell)
            before = nb["cells"][i - 1]
            assert before["cell_type"] == "markdown" and len("".join(before["source"]).split()) >= 8, \
                (step.notebook, "".join(cell["source"])[:80])


def test_double_funnel_recommendation_is_markdown_not_a_string(demo):
    nb = json.loads((demo["out"] / "notebooks" / "06_double_funnel.ipynb").read_text(encoding="utf-8"))
    texts = ["".join(o.get("data", {}).get("text/markdown", [])) for c in nb["cells"] for o in c.get("outputs", [])]
    assert any(t.startswith("> ") and len(t) > 200 for t in texts)
    plain = ["".join(o.get("data", {}).get("text/plain", [])) for c in nb["cells"] for o in c.get("outputs", [])
             if o.get("output_type") == "execute_result"]
    assert not any("\\xa0" in t for t in plain)


def test_loyalty_notebook_states_the_loyalty_visit(demo):
    nb = json.loads((demo["out"] / "notebooks" / "04_loyalty.ipynb").read_text(encoding="utf-8"))
    texts = ["".join(o.get("data", {}).get("text/markdown", [])) for c in nb["cells"] for o in c.get("outputs", [])]
    assert any(t.startswith("**Визит лояльности:") for t in texts)


def test_sources_unchanged_by_the_run(demo):
    assert _sources() == demo["before"]
    if demo["git_clean"]:
        for name, data in _sources().items():
            assert _git("show", f"HEAD:notebooks/{name}").stdout == data, name


def test_sources_are_stored_clean_with_complete_metadata():
    for path in sorted(NOTEBOOKS_DIR.glob("*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        assert nb["metadata"]["kernelspec"] == {"display_name": "Python 3 (ipykernel)", "language": "python",
                                                "name": "python3"}, path.name
        info = nb["metadata"]["language_info"]
        assert {"codemirror_mode", "file_extension", "mimetype", "name", "nbconvert_exporter", "pygments_lexer",
                "version"} <= set(info), path.name
        assert nb["nbformat"] == 4 and nb["nbformat_minor"] >= 5
        for cell in nb["cells"]:
            assert cell.get("id"), path.name
            if cell["cell_type"] == "code":
                assert cell["outputs"] == [] and cell["execution_count"] is None, path.name
        params = [c for c in nb["cells"] if "parameters" in c["metadata"].get("tags", [])]
        assert len(params) == 1
        # written as nbformat writes it, so a save by Jupyter changes nothing
        assert path.read_text(encoding="utf-8") == json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False) + "\n"
