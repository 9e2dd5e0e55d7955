"""Interview auto-coding: a first draft of the codes table that a consultant reviews.

Flow::

    transcripts (.docx/.txt) --read_transcripts--> turns
    turns + codebook --draft_codes--> draft rows (one per sentence x code)
    draft --write_draft_sheet--> coding_draft.xlsx --(consultant reviews in Excel)-->
    read_coding_review --> canonical ``codes`` table
    draft vs hand coding --evaluate_coding--> precision / recall / kappa

The draft is explainable: every row lists the words that triggered it (keywords,
phrases in or out of order, verb families) and carries a confidence; context rules drop
or weaken hits that are not the respondent's own experience. It is a first draft to
review, not a coding: on the two latest sets of realistic held-out interviews it reaches
precision 0.72-0.74 (ru) and 0.73-0.81 (en), recall 0.49-0.51 and 0.58-0.65
(tests/coding_realistic/README.md). A codebook may add a sentence classifier trained on
hand-coded interviews (``classifier``: more recall, a little less precision). See the
modules for the exact definitions (``text`` for matching, negation and sentiment;
``families`` for word families; ``rules`` for the context rules; ``similar`` for
meaning-based candidates; ``classifier`` for the optional trained classifier; ``autocode``
for confidence; ``transcripts`` for turns; ``sheet`` for review rules; ``agreement`` for
the figures).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from toolkit.coding.agreement import CodingAgreement, evaluate_coding
from toolkit.coding.autocode import DRAFT_COLUMNS, draft_codes
from toolkit.coding.codebook import Code, Codebook, read_codebook
from toolkit.coding.sheet import CODES_COLUMNS, read_coding_review, read_hand_coding, write_draft_sheet
from toolkit.coding.transcripts import read_transcript, read_transcripts, split_turns, transcript_files
from toolkit.core.config import load_case
from toolkit.core.errors import CaseError, InputFileError
from toolkit.core.limits import check_file_size, check_zip
from toolkit.core.xlsx import write_frames

DRAFT_FILE = "coding_draft.xlsx"

__all__ = [
    "CODES_COLUMNS",
    "DRAFT_COLUMNS",
    "Code",
    "Codebook",
    "CodingAgreement",
    "case_codebook",
    "case_transcripts",
    "draft_codes",
    "evaluate_case",
    "evaluate_coding",
    "read_codebook",
    "read_coding_review",
    "read_hand_coding",
    "read_reviewed_codes",
    "read_transcript",
    "read_transcripts",
    "print_agreement",
    "run_code_command",
    "split_turns",
    "write_coding_draft",
    "write_draft_sheet",
]


def _case(case):
    if isinstance(case, (str, Path)):
        return load_case(case)
    return case


def _source(case):
    src = case.sources.transcripts
    if src is None:
        raise InputFileError(f"The case {case.name} declares no interview transcripts (sources.transcripts in case.yml).")
    return src


def case_codebook(case) -> Codebook:
    """The case's codebook (``sources.transcripts.codebook``), stages checked against the case."""
    case = _case(case)
    src = _source(case)
    if not src.codebook:
        raise InputFileError(
            f"The case {case.name} has transcripts but no codebook; set sources.transcripts.codebook in case.yml."
        )
    return read_codebook(case.path(src.codebook, "sources.transcripts.codebook"), case)


def case_transcripts(case, progress: bool = False) -> pd.DataFrame:
    """Turns of the case's transcripts (``read_transcripts`` with the case's speaker labels)."""
    case = _case(case)
    src = _source(case)
    folder = case.path(src.path, "sources.transcripts.path")
    for f in transcript_files(folder):  # each file inside the case folder (symlinks resolved), bounded
        case.path(str(f), "sources.transcripts.path")
        check_file_size(f, case.limits)
        if f.suffix.lower() == ".docx":
            check_zip(f, case.limits.max_docx_unzipped_mb, case.limits.max_zip_ratio, "max_docx_unzipped_mb")
    return read_transcripts(folder, src.interviewer_labels, src.respondent_labels, progress=progress)


def write_coding_draft(case, out_path=None, progress: bool = False) -> Path:
    """Write the review workbook ``coding_draft.xlsx`` (default: in the case folder); returns its path."""
    case = _case(case)
    out_path = Path(out_path) if out_path else case.path(DRAFT_FILE)
    codebook = case_codebook(case)
    draft = draft_codes(case_transcripts(case, progress), codebook)
    return write_draft_sheet(draft, codebook, out_path, language=case.language)


def read_reviewed_codes(case, path=None) -> pd.DataFrame:
    """The canonical codes table from the case's reviewed draft (default ``<case>/coding_draft.xlsx``)."""
    case = _case(case)
    path = Path(path) if path else case.path(DRAFT_FILE)
    return read_coding_review(path, case_codebook(case), stages=case.stage_ids())


REVIEWED_FILE = "codes_reviewed.xlsx"
REVIEWED_SHEET = "codes"


def write_codes_table(codes: pd.DataFrame, path) -> Path:
    """Write a canonical codes table as an xlsx (sheet ``codes``, canonical column names) that
    ``sources.codes`` in case.yml can read with an identity mapping; byte-identical for the
    same table."""
    return write_frames(Path(path), {REVIEWED_SHEET: codes}, freeze_header=False)


def codes_source_snippet(path: str, columns) -> str:
    """The case.yml lines that make the analyses read a reviewed codes table."""
    cols = ", ".join(f"{c}: {c}" for c in columns)
    return f"sources:\n  codes:\n    path: {path}\n    sheet: {REVIEWED_SHEET}\n    columns: {{{cols}}}"


def run_read_back_command(case_dir, reviewed=None, out=None) -> int:
    """``cjm code CASE_DIR --read-back [REVIEWED]``: the reviewed draft -> the canonical codes
    table (``codes_reviewed.xlsx`` in the case folder, or ``--out``), plus the case.yml lines
    that point the analyses at it."""
    try:
        case = _case(case_dir)
        codes = read_reviewed_codes(case, reviewed)
        out_path = Path(out) if out else case.path(REVIEWED_FILE)
        write_codes_table(codes, out_path)
        try:
            rel = out_path.resolve().relative_to(case.case_dir).as_posix()
        except ValueError:
            rel = out_path.resolve().as_posix()
        print(f"Read back {len(codes)} coded fragments of {codes['respondent_id'].nunique()} respondents; wrote {out_path}.")
        print("To analyse them, put this in case.yml (replacing sources.codes):")
        print(codes_source_snippet(rel, codes.columns))
        return 0
    except CaseError as e:
        print(f"Error: {e}", file=sys.stderr)
        return 2


def _fmt(x: float) -> str:
    return "  —  " if pd.isna(x) else f"{x:5.2f}"


def print_agreement(a: CodingAgreement, out=None) -> None:
    """The agreement figures and the per-code table (hits, misses, false alarms), as text."""
    out = out or sys.stdout
    pl, ph = a.precision_interval
    rl, rh = a.recall_interval
    kl, kh = a.kappa_interval
    print(f"(respondent, code) pairs: draft {a.n_draft}, hand {a.n_hand}, both {a.n_both}", file=out)
    print(f"precision {_fmt(a.precision)}  (95% CI {_fmt(pl)}-{_fmt(ph)}, n={a.n_draft})", file=out)
    print(f"recall    {_fmt(a.recall)}  (95% CI {_fmt(rl)}-{_fmt(rh)}, n={a.n_hand})", file=out)
    print(f"Cohen's kappa {_fmt(a.kappa)}  (95% CI {_fmt(kl)}-{_fmt(kh)}, bootstrap over respondents; "
          f"respondent x code presence matrix)", file=out)
    print(file=out)
    w = max([len("code"), *(len(c) for c in a.per_code["code"])])
    print(f"{'code':<{w}}  {'hand':>5} {'draft':>5} {'hits':>5} {'misses':>6} {'false alarms':>12}  "
          f"{'prec':>5} {'recall':>6} {'kappa':>5}", file=out)
    for r in a.per_code.itertuples(index=False):
        print(f"{r.code:<{w}}  {r.n_hand:>5} {r.n_draft:>5} {r.hits:>5} {r.misses:>6} {r.false_alarms:>12}  "
              f"{_fmt(r.precision)} {_fmt(r.recall):>6} {_fmt(r.kappa)}", file=out)


def evaluate_case(case, draft: pd.DataFrame | None = None) -> CodingAgreement:
    """Agreement of the case's draft with its hand coding (``sources.transcripts.hand_coding``).

    The matrix spans every transcript respondent and every codebook code.
    """
    case = _case(case)
    src = _source(case)
    if not src.hand_coding:
        raise InputFileError(
            f"The case {case.name} has no hand coding to compare with; set sources.transcripts.hand_coding."
        )
    codebook = case_codebook(case)
    turns = case_transcripts(case)
    if draft is None:
        draft = draft_codes(turns, codebook)
    hand = read_hand_coding(case.path(src.hand_coding, "sources.transcripts.hand_coding"))
    respondents = sorted(turns["respondent_id"].unique())
    unknown = sorted(set(hand["respondent_id"]) - set(respondents))
    if unknown:
        raise InputFileError(
            f"The hand coding names respondent(s) {', '.join(unknown[:5])} that no transcript has "
            f"(transcript ids: {', '.join(respondents[:5])}...); make the ids match."
        )
    return evaluate_coding(draft, hand, codes=list(codebook.codes), respondents=respondents)


def run_code_command(case_dir, out=None, evaluate: bool = False) -> int:
    """``cjm code CASE_DIR [--out FILE] [--evaluate]``: write the draft, optionally measure agreement.

    Returns the exit code (0 fine, 2 a problem printed as one clear message on stderr, as every command).
    """
    try:
        case = _case(case_dir)
        if evaluate and not _source(case).hand_coding:
            raise InputFileError(
                f"The case {case.name} has no hand coding to compare with; set sources.transcripts.hand_coding."
            )
        codebook = case_codebook(case)
        turns = case_transcripts(case, progress=True)
        draft = draft_codes(turns, codebook)
        out_path = Path(out) if out else case.path(DRAFT_FILE)
        write_draft_sheet(draft, codebook, out_path, language=case.language)
        n_resp = turns["respondent_id"].nunique()
        n_turns = int((turns["speaker"] == "respondent").sum())
        print(f"Coded {n_resp} interviews ({n_turns} respondent turns): {len(draft)} draft rows, "
              f"{draft['code'].nunique()} of {len(codebook.codes)} codes used.")
        print(f"Wrote {out_path}: review it (accept / change_code / change_sentiment) and read it back.")
        if evaluate:
            print()
            print_agreement(evaluate_case(case, draft))
        return 0
    except CaseError as e:
        print(f"Error: {e}", file=sys.stderr)
        return 2
