"""Reading interview transcripts into speaker turns.

- A **transcript** is one interview: a ``.docx`` (paragraphs, line breaks inside a
  paragraph, and two-column tables "speaker | text" are read in document order) or a
  ``.txt`` file (UTF-8, with or without BOM, else cp1251).
- A **turn** starts at a line that begins with a speaker label and runs, over any
  number of lines/paragraphs, until the next labelled line. A label is one of the
  case's ``interviewer_labels`` / ``respondent_labels`` (case-insensitive), optionally
  preceded by a timestamp (``[00:12:05]``) and followed by a name or number
  («Респондент (Ольга):», «Респондент 3:», «R1:»; name words start with a capital or a
  digit), then ``:`` (or a dash for full-word labels: «Интервьюер — ...»). Text before
  the first label (title, date, notes) is the preamble and is not coded.
- **Respondent id**: declared in the preamble by a line such as «ID респондента: R07»,
  «Код респондента: R07», "Respondent ID: R07", or a title naming the interview by an
  id that holds a digit and is not a date («Интервью R07», "Interview #7"); otherwise the file name
  without extension and without a leading «interview_»/«интервью_»/«transcript_»
  (``interview_R07.docx`` -> ``R07``).
- **Turn number**: 1, 2, ... over all turns of the interview, both speakers, in
  order. Respondent turns are coded; each keeps as ``question`` the text of the
  nearest interviewer turn before it.
"""

from __future__ import annotations

import re
from pathlib import Path

import docx
import pandas as pd
from tqdm.auto import tqdm

from toolkit.core.config import TranscriptSource
from toolkit.core.errors import InputFileError
from toolkit.core.limits import DEFAULTS as DEFAULT_LIMITS
from toolkit.core.limits import check_zip

TRANSCRIPT_SUFFIXES = (".docx", ".txt")
TURN_COLUMNS = ["respondent_id", "turn", "speaker", "text", "question", "file"]

DECLARED_ID = re.compile(
    r"^\s*(?:(?:id\s+респондента|код\s+респондента|номер\s+респондента|респондент\s+id|"
    r"respondent[\s_]+(?:id|code)|respondent_id)\s*[:=№#]\s*(?P<id>[\w\-.]+)"
    # a title naming the interview by an id holding a digit: «Интервью R01», "Interview #7"
    r"|(?:интервью|interview|транскрипт|transcript)\s*(?:№|#|no\.)?\s*(?P<title_id>[\w\-.]*\d[\w\-.]*))\s*$",
    re.IGNORECASE,
)
DATE = re.compile(r"\d{1,4}[./\-]\d{1,2}[./\-]\d{1,4}")  # «Интервью 12.03.2024» names a date, not an id
# File-name prefixes that are not part of the respondent id: interview_R01.docx -> R01
FILE_PREFIX = re.compile(r"^(?:interview|интервью|transcript|транскрипт|расшифровка)[\s_\-.]*(?=\S)", re.IGNORECASE)
TIMESTAMP = r"(?:[\[(]?\d{1,2}:\d{2}(?::\d{2})?[\])]?\s*)?"
NAME = r"(?:\s*[(\[]?\s*[A-ZА-ЯЁ0-9][\w.\-]*(?:\s+[A-ZА-ЯЁ0-9][\w.\-]*){0,2}\s*[)\]]?)?"


def label_pattern(interviewer_labels: list[str], respondent_labels: list[str]) -> re.Pattern:
    """Regex matching a labelled line; group ``i`` or ``r`` says which speaker, ``rest`` the text."""

    def alt(labels):
        return "|".join(re.escape(x.strip()) for x in sorted(labels, key=len, reverse=True) if x.strip())

    # Single-letter labels (I, R) need a colon: "I think..." is not a turn.
    def group(name, labels):
        long = [x for x in labels if len(x.strip()) > 1]
        short = [x for x in labels if len(x.strip()) == 1]
        parts = []
        if long:
            parts.append(rf"(?i:{alt(long)})(?![\w]){NAME}\s*(?:[:：]|\s[-–—]\s)")
        if short:
            parts.append(rf"(?i:{alt(short)})(?:\s*\d+)?\s*[:：]")
        return rf"(?P<{name}>{'|'.join(parts)})" if parts else None

    groups = [g for g in (group("i", interviewer_labels), group("r", respondent_labels)) if g]
    return re.compile(rf"^\s*{TIMESTAMP}(?:\*\*)?(?:{'|'.join(groups)})(?:\*\*)?\s*(?P<rest>.*)$", re.DOTALL)


def _docx_lines(path: Path) -> list[str]:
    check_zip(path, DEFAULT_LIMITS.max_docx_unzipped_mb, DEFAULT_LIMITS.max_zip_ratio, "max_docx_unzipped_mb")
    try:
        doc = docx.Document(str(path))
    except Exception as e:
        raise InputFileError(f"The transcript {path.name} is not a readable .docx file ({e}).") from None
    lines: list[str] = []
    for block in doc.iter_inner_content():
        if hasattr(block, "rows"):  # a table: "speaker | text" rows, else cells in order
            for row in block.rows:
                cells = [c.text.strip() for c in row.cells]
                cells = [c for i, c in enumerate(cells) if c and (i == 0 or c != cells[i - 1])]
                if len(cells) >= 2 and len(cells[0]) <= 40 and not cells[0].endswith(":"):
                    lines.append(f"{cells[0]}: {' '.join(cells[1:])}")
                else:
                    lines.append(" ".join(cells))
        else:
            lines.extend(block.text.split("\n"))
    return lines


def _txt_lines(path: Path) -> list[str]:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1251", errors="replace")
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def split_turns(
    lines: list[str],
    respondent_id: str,
    interviewer_labels: list[str],
    respondent_labels: list[str],
) -> tuple[pd.DataFrame, str]:
    """Turns of one interview from its lines; returns (turns, respondent id actually used)."""
    pattern = label_pattern(interviewer_labels, respondent_labels)
    turns: list[list] = []  # [speaker, [texts]]
    for line in lines:
        line = line.replace("\xa0", " ").strip()
        if not line:
            continue
        if not turns:  # preamble: a declared id first («Respondent ID: R12» also looks like a label)
            d = DECLARED_ID.match(line)
            if d and not DATE.fullmatch(d.group("id") or d.group("title_id")):
                respondent_id = d.group("id") or d.group("title_id")
                continue
        m = pattern.match(line)
        if m:
            speaker = "interviewer" if m.group("i") is not None else "respondent"
            turns.append([speaker, [m.group("rest").strip()]])
        elif turns:
            turns[-1][1].append(line)
    rows = []
    question = ""
    for n, (speaker, texts) in enumerate(turns, start=1):
        text = "\n".join(t for t in texts if t)
        rows.append([respondent_id, n, speaker, text, question if speaker == "respondent" else ""])
        if speaker == "interviewer":
            question = text
    df = pd.DataFrame(rows, columns=TURN_COLUMNS[:-1])
    return df, respondent_id


def file_respondent_id(path: str | Path) -> str:
    """Respondent id from a file name: the stem without an «interview_»/«транскрипт_» prefix."""
    stem = Path(path).stem.strip()
    return FILE_PREFIX.sub("", stem) or stem


def read_transcript(
    path: str | Path,
    interviewer_labels: list[str] | None = None,
    respondent_labels: list[str] | None = None,
) -> pd.DataFrame:
    """Turns of one transcript file: respondent_id, turn, speaker, text, question, file."""
    defaults = TranscriptSource(path=".")
    interviewer_labels = interviewer_labels or defaults.interviewer_labels
    respondent_labels = respondent_labels or defaults.respondent_labels
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".docx":
        lines = _docx_lines(path)
    elif suffix == ".txt":
        lines = _txt_lines(path)
    else:
        raise InputFileError(f"The transcript {path.name} is neither .docx nor .txt.")
    df, _ = split_turns(lines, file_respondent_id(path), interviewer_labels, respondent_labels)
    df["file"] = path.name
    if not (df["speaker"] == "respondent").any():
        labels = ", ".join(f"'{x}:'" for x in respondent_labels)
        raise InputFileError(
            f"The transcript {path.name} has no respondent turn: no line starts with a respondent label "
            f"({labels}); set sources.transcripts.respondent_labels in case.yml."
        )
    return df


def transcript_files(folder: str | Path) -> list[Path]:
    """Transcript files of a folder, sorted by name (Word lock files ``~$...`` skipped)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputFileError(f"The transcripts folder {folder} does not exist; check sources.transcripts.path.")
    files = sorted(
        (p for p in folder.iterdir() if p.suffix.lower() in TRANSCRIPT_SUFFIXES and not p.name.startswith("~$")),
        key=lambda p: p.name,
    )
    if not files:
        raise InputFileError(f"The transcripts folder {folder} holds no .docx or .txt file.")
    return files


def read_transcripts(
    folder: str | Path,
    interviewer_labels: list[str] | None = None,
    respondent_labels: list[str] | None = None,
    progress: bool = False,
) -> pd.DataFrame:
    """Turns of every transcript in ``folder`` (see ``read_transcript``), files in name order.

    Two files declaring the same respondent id are an error (their codes would merge).
    """
    files = transcript_files(folder)
    if progress:
        files_iter = tqdm(files, desc="reading transcripts", unit="file", disable=None)  # off when not a terminal
    else:
        files_iter = files
    frames = [read_transcript(p, interviewer_labels, respondent_labels) for p in files_iter]
    df = pd.concat(frames, ignore_index=True)
    owners = df.groupby("respondent_id")["file"].unique()
    clash = owners[owners.map(len) > 1]
    if len(clash):
        rid = clash.index[0]
        raise InputFileError(
            f"The transcripts {', '.join(clash.iloc[0])} all declare respondent id '{rid}'; give each its own id."
        )
    df["turn"] = df["turn"].astype("int64")
    return df
