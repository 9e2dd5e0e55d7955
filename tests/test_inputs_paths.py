"""Path confinement and the secrets file (issue 16): sources, codebook, transcripts and the
secrets file stay inside the case folder (symlinks resolved) unless allow_outside_case; a
refused path never echoes the file; no absolute path reaches metrics; outputs follow the umask,
the secrets file is 0600."""

from __future__ import annotations

import os
import stat

import pytest
import yaml

from tests.conftest import TRANSACTIONS_COLUMNS, write_case
from toolkit.cli.main import main
from toolkit.core.config import load_case
from toolkit.core.errors import CaseError
from toolkit.data.load import load_case_data

GOOD = "Дата;Код клиента;Направление;Сумма\n01.02.2024;C1;Косметология;100\n02.02.2024;C2;Косметология;200\n"
SECRET_LINE = "root-secret-line;do-not-print;xyz"


def _outside(tmp_path):
    """A readable CSV outside the case folder whose first line must never be printed."""
    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / "private.csv").write_text(SECRET_LINE + "\n" + GOOD, encoding="utf-8")
    return other / "private.csv"


def _case(tmp_path, path: str, **extra):
    return write_case(tmp_path / "case", {"transactions": {"path": path, "columns": dict(TRANSACTIONS_COLUMNS)}},
                      **extra)


@pytest.mark.parametrize("how", ["relative", "absolute", "symlink", "etc_passwd"])
def test_a_source_outside_the_case_folder_is_refused_without_echo(tmp_path, capsys, how):
    target = _outside(tmp_path)
    case_dir = tmp_path / "case"
    (case_dir / "raw").mkdir(parents=True)
    path = {"relative": "../elsewhere/private.csv", "absolute": str(target), "symlink": "raw/link.csv",
            "etc_passwd": "../../../../../../../etc/passwd"}[how]
    if how == "symlink":
        (case_dir / "raw" / "link.csv").symlink_to(target)
    _case(tmp_path, path)
    assert main(["validate", str(case_dir)]) == 2
    out = capsys.readouterr()
    assert out.out == "" and "Traceback" not in out.err
    assert "leads outside the case folder" in out.err and "allow_outside_case: true" in out.err
    assert f"sources.transactions.path" in out.err
    assert SECRET_LINE not in out.err and "root:" not in out.err and "do-not-print" not in out.err


def test_allow_outside_case_reads_it_and_shows_no_absolute_path(tmp_path):
    target = _outside(tmp_path)
    target.write_text(GOOD, encoding="utf-8")
    case = load_case(_case(tmp_path, str(target), allow_outside_case=True))
    data = load_case_data(case)
    assert data.quality["transactions"].rows_used == 2
    inputs = data.inputs()
    assert inputs["transactions"]["file"] == "private.csv"
    assert str(tmp_path) not in repr(inputs) and str(tmp_path) not in repr(data.data_quality_metrics())


def test_inside_paths_are_shown_relative_to_the_case_folder(tmp_path):
    case_dir = _case(tmp_path, "raw/v.csv")
    (case_dir / "raw").mkdir()
    (case_dir / "raw" / "v.csv").write_text(GOOD, encoding="utf-8")
    data = load_case_data(load_case(case_dir))
    assert data.inputs()["transactions"]["file"] == "raw/v.csv"


def test_a_missing_file_message_has_no_absolute_path(tmp_path, capsys):
    case_dir = _case(tmp_path, "raw/none.csv")
    assert main(["validate", str(case_dir)]) == 2
    err = capsys.readouterr().err
    assert "File raw/none.csv for the transactions table does not exist" in err and str(tmp_path) not in err


def _pseudo_case(tmp_path, secrets_file=".secrets.yml"):
    case_dir = _case(tmp_path, "raw/v.csv", privacy={"pseudonymise_ids": True, "secrets_file": secrets_file})
    (case_dir / "raw").mkdir(exist_ok=True)
    (case_dir / "raw" / "v.csv").write_text(GOOD, encoding="utf-8")
    return case_dir


def test_secrets_file_is_created_owner_only(tmp_path):
    case_dir = _pseudo_case(tmp_path)
    old = os.umask(0o022)
    try:
        load_case_data(load_case(case_dir))
    finally:
        os.umask(old)
    mode = stat.S_IMODE((case_dir / ".secrets.yml").stat().st_mode)
    assert mode == 0o600


def test_secrets_file_outside_the_case_is_refused(tmp_path, capsys):
    case_dir = _pseudo_case(tmp_path, secrets_file="../../keys.yml")
    assert main(["validate", str(case_dir)]) == 2
    err = capsys.readouterr().err
    assert "privacy.secrets_file" in err and "leads outside the case folder" in err
    assert not (tmp_path / "keys.yml").exists()


@pytest.mark.parametrize("content", ["- just\n- a list\n", "plain text line\n", "a: [unclosed\n", "other: 1\n"])
def test_secrets_file_without_a_key_is_one_clear_sentence(tmp_path, capsys, content):
    case_dir = _pseudo_case(tmp_path)
    (case_dir / ".secrets.yml").write_text(content, encoding="utf-8")
    assert main(["validate", str(case_dir)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Error: The secrets file .secrets.yml (privacy.secrets_file in case.yml) holds no "
                          "'pseudonymisation_key: ...' line")
    assert "AttributeError" not in err and "unexpected" not in err
    assert content.strip() not in err


def test_codebook_and_transcripts_outside_are_refused(tmp_path):
    from toolkit.coding import case_codebook, case_transcripts

    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "codebook.yml").write_text("codes: {}\n", encoding="utf-8")
    (outside / "R01.txt").write_text("Интервьюер: Как вы?\nРеспондент: Хорошо.\n", encoding="utf-8")
    case_dir = tmp_path / "case"
    (case_dir / "transcripts").mkdir(parents=True)
    (case_dir / "transcripts" / "R01.txt").symlink_to(outside / "R01.txt")
    write_case(case_dir, {"transcripts": {"path": "transcripts", "codebook": "../elsewhere/codebook.yml"}})
    case = load_case(case_dir)
    with pytest.raises(CaseError, match="sources.transcripts.codebook.*leads outside the case folder"):
        case_codebook(case)
    with pytest.raises(CaseError, match="sources.transcripts.path.*leads outside the case folder"):
        case_transcripts(case)


def test_outputs_follow_the_umask(tmp_path):
    import pandas as pd

    from toolkit.core.run_folder import write_json
    from toolkit.core.xlsx import write_csv, write_frames

    old = os.umask(0o022)
    try:
        write_frames(tmp_path / "a.xlsx", {"s": pd.DataFrame({"x": [1]})})
        write_csv(pd.DataFrame({"x": [1]}), tmp_path / "a.csv")
        write_json(tmp_path / "a.json", {"x": 1})
        os.umask(0o077)
        write_json(tmp_path / "private.json", {"x": 1})
    finally:
        os.umask(old)
    for name in ("a.xlsx", "a.csv", "a.json"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o644, name
    assert stat.S_IMODE((tmp_path / "private.json").stat().st_mode) == 0o600


def test_yaml_aliases_are_refused_in_case_yml(tmp_path, capsys):
    case_dir = _case(tmp_path, "raw/v.csv")
    text = (case_dir / "case.yml").read_text(encoding="utf-8")
    bomb = "x_a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1]\nx_b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
    (case_dir / "case.yml").write_text(bomb + text, encoding="utf-8")
    assert main(["validate", str(case_dir)]) == 2
    err = capsys.readouterr().err
    assert "line 2: YAML aliases (*a) are not accepted; write the values out in full" in err
    assert yaml.safe_load(bomb)  # plain YAML would have accepted it
