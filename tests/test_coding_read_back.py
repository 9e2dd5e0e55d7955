"""The consultant's round trip from the command line: draft -> review -> codes table the
loader reads as the case's coded interviews."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from toolkit.cli.main import main
from toolkit.core.config import load_case
from toolkit.data.load import load_case_data

ROOT = Path(__file__).resolve().parents[1]


def test_read_back_gives_a_codes_table_the_loader_uses(tmp_path, capsys):
    case_dir = tmp_path / "clinic"
    shutil.copytree(ROOT / "case_studies" / "clinic_group", case_dir)
    assert main(["code", str(case_dir)]) == 0
    assert main(["code", str(case_dir), "--read-back"]) == 0
    out = capsys.readouterr().out
    snippet = out[out.index("sources:"):]
    data = yaml.safe_load((case_dir / "case.yml").read_text(encoding="utf-8"))
    data["sources"]["codes"] = yaml.safe_load(snippet)["sources"]["codes"]
    (case_dir / "case.yml").write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    loaded = load_case_data(load_case(case_dir), tables=["codes"])
    codes = loaded.tables["codes"]
    assert loaded.quality["codes"].quarantined == {}
    assert len(codes) == int(out.split("Read back ")[1].split()[0]) > 0
    assert set(codes["stage"]) <= set(load_case(case_dir).stage_ids())


def test_read_back_of_a_missing_sheet_is_one_clear_line(tmp_path, capsys):
    case_dir = tmp_path / "clinic"
    shutil.copytree(ROOT / "case_studies" / "clinic_group", case_dir)
    assert main(["code", str(case_dir), "--read-back", str(tmp_path / "nope.xlsx")]) == 2
    err = capsys.readouterr().err
    assert "does not exist" in err and "Traceback" not in err
