"""Auto-coding on the clinic case's transcripts against its shipped hand coding.

Acceptance: precision >= 0.8 and recall >= 0.7 of (respondent, code) pairs.
"""

from __future__ import annotations

from pathlib import Path

import pytest

CASE = Path(__file__).resolve().parents[1] / "case_studies" / "clinic_group"


def _case_or_skip():
    from toolkit.core.config import load_case

    if not (CASE / "case.yml").is_file():
        pytest.skip("the clinic case (case_studies/clinic_group/case.yml) is not in the repository yet")
    case = load_case(CASE)
    src = case.sources.transcripts
    if src is None or not src.codebook or not src.hand_coding:
        pytest.skip("the clinic case declares no transcripts with a codebook and hand coding")
    return case


@pytest.fixture(scope="module")
def clinic():
    from toolkit.coding import case_codebook, case_transcripts, draft_codes

    case = _case_or_skip()
    turns = case_transcripts(case)
    codebook = case_codebook(case)
    return case, turns, codebook, draft_codes(turns, codebook)


def test_clinic_draft_agrees_with_hand_coding(clinic):
    from toolkit.coding import evaluate_case

    case, _, _, draft = clinic
    a = evaluate_case(case, draft)
    assert a.n_hand > 0
    assert a.precision >= 0.8, f"precision {a.precision:.3f} ({a.n_both}/{a.n_draft})"
    assert a.recall >= 0.7, f"recall {a.recall:.3f} ({a.n_both}/{a.n_hand})"


def test_clinic_every_transcript_has_respondent_turns_and_every_draft_row_a_quote(clinic):
    _, turns, codebook, draft = clinic
    assert (turns.groupby("respondent_id")["speaker"].apply(lambda s: (s == "respondent").any())).all()
    assert draft["quote"].str.len().min() > 0
    assert set(draft["code"]) <= set(codebook.codes)
    assert set(draft["stage"]) <= set(_case_or_skip().stage_ids())


def test_clinic_unreviewed_draft_reads_back_as_a_valid_codes_table(clinic, tmp_path):
    from toolkit.coding import read_reviewed_codes, write_draft_sheet
    from toolkit.data.schemas import check_contract

    case, _, codebook, draft = clinic
    path = write_draft_sheet(draft, codebook, tmp_path / "coding_draft.xlsx", language=case.language)
    codes = read_reviewed_codes(case, path)  # nothing reviewed: blank accept = every row accepted
    check_contract("codes", codes)  # dtypes, code types, levels, sentiment range of the contract
    assert len(codes) == len(draft)
    # the workbook lists the draft surest first
    assert codes["code"].tolist() == draft.sort_values("confidence", ascending=False, kind="stable")["code"].tolist()
    from toolkit.data.privacy import contains_personal

    # the transcripts hold an e-mail and a phone; no quote or question keeps them
    assert not any(contains_personal(q) for q in [*codes["quote"], *draft["question"]])
    assert draft["quote"].str.contains("[телефон]", regex=False).any()
