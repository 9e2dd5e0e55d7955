"""The whole demo through papermill: every notebook executes, metrics.json keeps the
contract, the Word report is complete, clean of personal data and template tags, and two
runs give the same numbers and the same text."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from docx import Document

from toolkit.core.errors import CaseError
from toolkit.core.metrics import METRIC_KEYS
from toolkit.cli.run import STEPS, StepFailed, run_case

ROOT = Path(__file__).resolve().parents[1]
CASES = {"clinic_group": "ru", "fashion_retail": "en"}

pytestmark = pytest.mark.slow

LOY_KEYS = {"customers", "visits_per_customer", "revenue_per_customer", "p_return", "p_return_ci", "eligible",
            "loyalty_visit", "median_gap_days"}
DF_KEYS = {"premium_brand", "budget_brand", "premium_leads", "nontarget_share", "nontarget_share_ci",
           "nontarget_conversion_now", "budget_conversion", "budget_avg_check", "scenarios", "merge_brands",
           "recommendation"}


def _case_dir(name: str) -> Path:
    path = ROOT / "case_studies" / name
    if not (path / "case.yml").exists():
        pytest.skip(f"case study {name} is not generated yet")
    return path


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Each case run once (and the clinic twice, for determinism)."""
    out = {}
    for name in CASES:
        case_dir = ROOT / "case_studies" / name
        if not (case_dir / "case.yml").exists():
            continue
        folder = tmp_path_factory.mktemp(name)
        out[name] = run_case(case_dir, out_dir=folder / "run1", progress=False)
    return out


def _run(runs, name):
    _case_dir(name)
    return runs[name]


def document_text(path: Path) -> str:
    doc = Document(path)
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    return "\n".join(parts)


@pytest.mark.parametrize("name", list(CASES))
def test_every_notebook_executed_without_error(runs, name):
    result = _run(runs, name)
    assert result.steps == [s.notebook for s in STEPS]
    for step in STEPS:
        nb = nbformat.read(result.out_dir / "notebooks" / f"{step.notebook}.ipynb", as_version=4)
        assert nb.metadata["papermill"]["exception"] in (False, None), step.notebook
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert all(o.get("output_type") != "error" for o in cell.get("outputs", [])), step.notebook
        injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
        assert len(injected) == 1


@pytest.mark.parametrize("name", list(CASES))
def test_metrics_json_keeps_the_contract(runs, name):
    m = json.loads((_run(runs, name).out_dir / "metrics.json").read_text(encoding="utf-8"))
    assert list(m)[: len(METRIC_KEYS)] == list(METRIC_KEYS)
    assert {"name", "language", "currency", "as_of", "toolkit_version", "inputs"} <= set(m["case"])
    for table, dq in m["data_quality"].items():
        assert dq["rows_read"] == dq["rows_used"] + sum(dq["quarantined"].values()), table
        assert set(m["case"]["inputs"][table]) == {"file", "sha256", "rows"}
    assert {"rfm", "personas", "k"} <= set(m["segments"])
    assert LOY_KEYS <= set(m["loyalty"]["overall"])
    for line, loy in m["loyalty"]["by_line"].items():
        assert LOY_KEYS <= set(loy), line
        assert set(loy["p_return"]) == set(loy["p_return_ci"]) == set(loy["eligible"])
    for brand, f in m["funnel"].items():
        assert len(f["conversion"]) == len(f["conversion_ci"]) == len(f["stages"]) - 1
    assert m["barriers"] and {"code", "stage", "respondents", "share", "ci", "severity", "annual_impact",
                              "rank_basis"} <= set(m["barriers"][0])
    assert {"period", "annual_revenue", "currency", "basis"} <= set(m["money"])
    assert m["profit"]["all"]["actual_revenue"] > 0 and isinstance(m["roadmap"], list)
    assert DF_KEYS <= set(m["double_funnel"])
    for scenario in m["double_funnel"]["scenarios"]:
        assert {"capture_rate", "leads", "deals", "revenue", "incremental_deals", "incremental_annual_revenue"} <= set(scenario)
    assert {"leak_to_competitors", "material"} <= set(m["double_funnel"])
    for key in ("cross_penetration", "staff_dependency"):
        assert m[key] and "skipped" not in m[key]


@pytest.mark.parametrize("name", list(CASES))
def test_report_has_every_section_no_tags_and_figures(runs, name):
    from toolkit.report.render import template_path

    result = _run(runs, name)
    report = result.out_dir / "report.docx"
    doc = Document(report)
    template = Document(template_path(CASES[name]))
    wanted = [p.text for p in template.paragraphs if p.style.name == "Heading 1" and "{" not in p.text]
    got = [p.text for p in doc.paragraphs if p.style.name == "Heading 1"]
    assert wanted and all(h in got for h in wanted), set(wanted) - set(got)
    text = document_text(report)
    assert "{{" not in text and "{%" not in text and "%}" not in text and "}}" not in text
    assert len(doc.tables) >= 8
    assert len(doc.inline_shapes) >= 8  # figures
    if CASES[name] == "ru":
        assert "Петля лояльности" in text or "петля лояльности" in text.lower()


def _personal_values(case_dir: Path) -> set[str]:
    """Names, phones and e-mails from the raw exports, read with plain pandas."""
    import yaml

    case = yaml.safe_load((case_dir / "case.yml").read_text(encoding="utf-8"))
    values: set[str] = set()
    for table, src in case["sources"].items():
        if not isinstance(src, dict) or not src.get("personal"):
            continue
        path = case_dir / src["path"]
        if path.suffix == ".csv":
            enc = src.get("encoding") or ("cp1251" if table == "transactions" and case["language"] == "ru" else "utf-8")
            try:
                frame = pd.read_csv(path, sep=None, engine="python", encoding=enc, dtype=str)
            except UnicodeDecodeError:
                frame = pd.read_csv(path, sep=None, engine="python", encoding="cp1251", dtype=str)
        else:
            frame = pd.read_excel(path, sheet_name=src.get("sheet") or 0, dtype=str)
        for col in src["personal"]:
            if col in frame:
                values |= {v.strip() for v in frame[col].dropna().unique() if len(v.strip()) >= 6}
    # A customer's surname can also be a staff member's (an associate "Jesse Peters"): staff
    # names are business data the client needs (staff dependency), so values that occur in
    # the non-personal columns anyway are not evidence of a leak.
    from toolkit.core.config import load_case
    from toolkit.data.load import load_case_data

    data = load_case_data(load_case(case_dir))
    public = set()
    for frame in data.tables.values():
        for col in frame.columns:
            if pd.api.types.is_string_dtype(frame[col].dtype):
                for v in frame[col].dropna().unique():
                    public |= set(str(v).split())
                    public.add(str(v))
    return {v for v in values if v not in public}


@pytest.mark.parametrize("name", list(CASES))
def test_no_personal_data_in_anything_written(runs, name):
    result = _run(runs, name)
    secrets = _personal_values(_case_dir(name))
    assert len(secrets) > 100
    written = [document_text(result.out_dir / "report.docx"), (result.out_dir / "metrics.json").read_text(encoding="utf-8")]
    for nb in (result.out_dir / "notebooks").glob("*.ipynb"):
        written.append(nb.read_text(encoding="utf-8"))
    blob = "\n".join(written)
    leaked = [s for s in secrets if s in blob]
    assert not leaked, leaked[:5]


def test_two_runs_same_numbers_same_text(runs, tmp_path):
    first = _run(runs, "clinic_group")
    second = run_case(_case_dir("clinic_group"), out_dir=tmp_path / "run2", progress=False)
    a = json.loads((first.out_dir / "metrics.json").read_text(encoding="utf-8"))
    b = json.loads((second.out_dir / "metrics.json").read_text(encoding="utf-8"))
    assert a == b
    assert document_text(first.out_dir / "report.docx") == document_text(second.out_dir / "report.docx")


def test_english_report_of_a_russian_case(runs, tmp_path):
    first = _run(runs, "clinic_group")
    shutil.copytree(first.out_dir / "artifacts", tmp_path / "artifacts")
    shutil.copytree(first.out_dir / "figures", tmp_path / "figures")
    result = run_case(_case_dir("clinic_group"), out_dir=tmp_path, only=["07"], language="en", progress=False)
    assert result.steps == ["07_report"]
    text = document_text(tmp_path / "report.docx")
    assert "Decisions" in text and "Решения" not in text


def test_only_reruns_one_step_on_the_others_artifacts(runs, tmp_path):
    first = _run(runs, "clinic_group")
    shutil.copytree(first.out_dir, tmp_path / "run", dirs_exist_ok=True)
    before = (tmp_path / "run" / "artifacts" / "metrics" / "funnel.json").read_bytes()
    result = run_case(_case_dir("clinic_group"), out_dir=tmp_path / "run", only=["loyalty"], progress=False)
    assert result.steps == ["04_loyalty"]
    assert (tmp_path / "run" / "artifacts" / "metrics" / "funnel.json").read_bytes() == before


def test_only_without_earlier_artifacts_is_a_clear_error(tmp_path):
    with pytest.raises(CaseError, match=r"needs the artifacts of earlier steps .* run the whole pipeline once first"):
        run_case(_case_dir("clinic_group"), out_dir=tmp_path, only=["04"], progress=False)


def test_unknown_step_lists_the_steps(tmp_path):
    with pytest.raises(CaseError, match="There is no step 'loyality'; the steps are: 01_data_audit"):
        run_case(_case_dir("clinic_group"), out_dir=tmp_path, only=["loyality"], progress=False)


def test_a_failing_step_names_notebook_and_cell_and_keeps_the_old_report(runs, tmp_path):
    first = _run(runs, "clinic_group")
    shutil.copytree(first.out_dir, tmp_path / "run", dirs_exist_ok=True)
    old_report = (tmp_path / "run" / "report.docx").read_bytes()
    notebooks = tmp_path / "notebooks"
    shutil.copytree(ROOT / "notebooks", notebooks)
    nb = nbformat.read(notebooks / "07_report.ipynb", as_version=4)
    # a template whose tags were split by Word: the renderer finds a leftover tag after rendering
    nb.cells.insert(3, nbformat.v4.new_code_cell(
        "import toolkit.report.render as r\nr.leftover_tags = lambda data: ['word/document.xml: {{ client }']"))
    nbformat.write(nb, notebooks / "07_report.ipynb")
    with pytest.raises(StepFailed) as e:
        run_case(_case_dir("clinic_group"), out_dir=tmp_path / "run", only=["07"], progress=False, notebooks_dir=notebooks)
    msg = str(e.value)
    assert msg.startswith("Step 07_report failed in cell ")
    assert "ReportError: The rendered report still contains template tags" in msg and "07_report.ipynb" in msg
    assert (tmp_path / "run" / "report.docx").read_bytes() == old_report


def test_cli_run_reports_a_failure_in_one_sentence(tmp_path, capsys):
    from toolkit.cli.main import main

    (tmp_path / "case.yml").write_text("client: X\n", encoding="utf-8")
    assert main(["run", str(tmp_path), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Error: ") and "Traceback" not in err and "brands: Field required" in err


def test_only_report_after_an_edit_of_case_yml_keeps_the_runs_settings(runs, tmp_path, capsys):
    """The run records its settings (case.resolved.yml); re-running the report alone after
    case.yml was edited dates and parametrises it with the values that produced its numbers."""
    import yaml

    first = _run(runs, "clinic_group")
    shutil.copytree(first.out_dir, tmp_path / "run")
    case_dir = tmp_path / "case"
    shutil.copytree(_case_dir("clinic_group"), case_dir)
    recorded = yaml.safe_load((tmp_path / "run" / "case.resolved.yml").read_text(encoding="utf-8"))
    assert recorded["case"]["parameters"]["min_segment_size"] >= 1 and recorded["inputs"]["transactions"]["sha256"]
    original = json.loads((first.out_dir / "metrics.json").read_text(encoding="utf-8"))["case"]
    edited = yaml.safe_load((case_dir / "case.yml").read_text(encoding="utf-8"))
    edited["as_of"] = "2031-01-15"
    edited.setdefault("parameters", {})["confidence"] = 0.8
    (case_dir / "case.yml").write_text(yaml.safe_dump(edited, allow_unicode=True), encoding="utf-8")

    run_case(case_dir, out_dir=tmp_path / "run", only=["report"], progress=False)
    assert "has changed since this run recorded its settings" in capsys.readouterr().err
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text(encoding="utf-8"))["case"]
    assert metrics["as_of"] == original["as_of"] != "2031-01-15"
    assert metrics["parameters"] == original["parameters"] and metrics["parameters"]["confidence"] == 0.95
    text = document_text(tmp_path / "run" / "report.docx")
    assert "2031" not in text
    # asked to, the run records the edited file first
    run_case(case_dir, out_dir=tmp_path / "run", only=["report"], progress=False, update_settings=True)
    assert json.loads((tmp_path / "run" / "metrics.json").read_text(encoding="utf-8"))["case"]["parameters"]["confidence"] == 0.8
