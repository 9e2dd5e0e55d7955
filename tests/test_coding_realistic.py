"""Acceptance of issue 19: the draft coder on realistic interviews it was not tuned on.

tests/coding_realistic holds Russian clinic and English retail interviews written as people
speak, a codebook per language and an independent hand coding (see its README). The eval
subsets (R33-R42, E33-E42: ten interviews per language) were written and committed before the
last change to the coder, which was chosen on the dev subsets (R01-R32, E01-E32) alone;
precision >= 0.8 and recall >= 0.6 of (respondent, code) pairs are required on them.
The figures are printed (run with -s to see them; `cjm code tests/coding_realistic/ru/eval
--evaluate` prints the per-code table too).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from toolkit.coding import case_codebook, case_transcripts, draft_codes, evaluate_case, print_agreement
from toolkit.core.config import load_case

ROOT = Path(__file__).resolve().parent / "coding_realistic"


def _measure(part: str):
    case = load_case(ROOT / part)
    turns = case_transcripts(case)
    draft = draft_codes(turns, case_codebook(case))
    return turns, draft, evaluate_case(case, draft)


# Measured on the fifth held-out set (R33-R42 / E33-E42, written before the last coder change):
# ru precision 0.74 (53/72), recall 0.49 (53/108); en precision 0.73 (45/62), recall 0.65 (45/69).
# (The fourth, R23-R32 / E23-E32, now in dev: ru P 0.72 R 0.51, en P 0.81 R 0.58.)
# The acceptance is NOT met; the test states it and is expected to fail until it is
# (strict: when the coder reaches it, the marker must go). See tests/coding_realistic/README.md.
ACCEPTANCE_NOT_MET = pytest.mark.xfail(
    strict=True,
    reason="issue 19 acceptance not met on held-out speech: ru P 0.74 R 0.49, en P 0.73 R 0.65",
)
# Floors just under today's held-out figures, so that a change that makes the coder worse fails.
FLOORS = {"ru": (0.72, 0.48), "en": (0.72, 0.64)}


@pytest.mark.parametrize("lang", [pytest.param("ru", marks=ACCEPTANCE_NOT_MET),
                                  pytest.param("en", marks=ACCEPTANCE_NOT_MET)])
def test_held_out_precision_and_recall(lang, capsys):
    turns, draft, a = _measure(f"{lang}/eval")
    with capsys.disabled():
        print(f"\n[{lang} held-out, {turns['respondent_id'].nunique()} interviews]")
        print_agreement(a)
    assert turns["respondent_id"].nunique() >= 10 and a.n_hand >= 60
    assert a.precision >= 0.8, f"{lang}: precision {a.precision:.2f} ({a.n_both}/{a.n_draft})"
    assert a.recall >= 0.6, f"{lang}: recall {a.recall:.2f} ({a.n_both}/{a.n_hand})"


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_held_out_figures_do_not_fall(lang):
    _, _, a = _measure(f"{lang}/eval")
    p_floor, r_floor = FLOORS[lang]
    assert a.precision >= p_floor, f"{lang}: precision {a.precision:.2f} ({a.n_both}/{a.n_draft})"
    assert a.recall >= r_floor, f"{lang}: recall {a.recall:.2f} ({a.n_both}/{a.n_hand})"


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_the_set_is_realistic_speech(lang):
    """At least 10 interviews per language of 400-800 words, with both speakers' labels."""
    files = sorted((ROOT / lang).glob("*/transcripts/*.txt"))
    assert len(files) >= 10
    for f in files:
        words = len(f.read_text(encoding="utf-8").split())
        assert 400 <= words <= 800, (f.name, words)
    turns = case_transcripts(load_case(ROOT / lang / "dev"))
    assert set(turns["speaker"]) == {"interviewer", "respondent"}


def test_dev_and_eval_do_not_share_interviews():
    for lang in ("ru", "en"):
        dev = {p.name for p in (ROOT / lang / "dev" / "transcripts").iterdir()}
        ev = {p.name for p in (ROOT / lang / "eval" / "transcripts").iterdir()}
        assert dev and ev and not dev & ev
