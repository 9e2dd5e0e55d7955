"""The review sheet: the draft a consultant reviews in Excel, and reading it back.

``write_draft_sheet`` writes three sheets:

- ``draft``: one row per drafted fragment and code (see ``toolkit.coding.autocode``),
  surest first (``confidence``), matched words bold red inside the quote, then the empty review columns
  ``accept`` (yes/no dropdown), ``change_code`` (dropdown of the codebook's codes),
  ``change_sentiment`` (-2..2) and ``comment``. Header frozen, filters on.
- ``codebook``: the codes with their type, stage and keywords, for reference.
- ``how_to_review``: the rules below, in the case language.

Reading back (``read_coding_review``) gives the canonical ``codes`` table:

- ``accept`` blank or yes (да, y, 1, true, +, ok) keeps the row: a consultant who only
  marks what is wrong does not have to type "yes" hundreds of times; no (нет, n, 0,
  false, -) drops it; anything else is an error.
- ``change_code`` replaces the code; the new code's type, stage, touchpoint,
  factor_kind and level come from the codebook. Without a change, the row keeps the
  sheet's ``stage`` cell (a consultant may move a fragment to another stage) and the
  rest from the codebook.
- ``change_sentiment`` (-2..2) replaces ``suggested_sentiment``; without it the
  suggestion (possibly edited in place) is used; both blank gives a blank sentiment.
- Rows the consultant adds at the bottom are read like any other (respondent_id and
  code required). Fully blank rows are skipped.
- Problems (unknown code, sentiment out of range, unreadable accept value, unknown
  stage, missing respondent) are all reported at once, one sentence each naming the
  sheet, the Excel row and the column.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pandas as pd

from toolkit.coding.codebook import Codebook
from toolkit.coding.text import TOKEN_RE
from toolkit.core.text import fold
from toolkit.core.errors import InputFileError
from toolkit.core.xlsx import neutralise, safe_workbook, unneutralise, write_text
from toolkit.core.zipfiles import fix_zip

DRAFT_SHEET = "draft"
REVIEW_COLUMNS = ["accept", "change_code", "change_sentiment", "comment"]
CODES_COLUMNS = [
    "respondent_id",
    "stage",
    "code_type",
    "code",
    "touchpoint",
    "sentiment",
    "factor_kind",
    "level",
    "quote",
]
YES = {"yes", "y", "да", "д", "1", "true", "+", "ok", "ок", "accept", "принять", "1.0"}
NO = {"no", "n", "нет", "н", "0", "false", "-", "reject", "отклонить", "0.0"}
# Fixed document date: the same draft gives the same bytes (xlsxwriter also fixes zip times).
FIXED_DATE = dt.datetime(2000, 1, 1)

WIDTHS = {
    "respondent_id": 12,
    "turn": 6,
    "sentence": 8,
    "stage": 14,
    "code_type": 13,
    "code": 22,
    "touchpoint": 14,
    "factor_kind": 9,
    "level": 12,
    "confidence": 10,
    "matched_words": 20,
    "quote": 60,
    "question": 40,
    "suggested_sentiment": 10,
    "accept": 8,
    "change_code": 22,
    "change_sentiment": 10,
    "comment": 30,
}

HOWTO = {
    "ru": [
        "Как проверить черновик кодировки",
        "Каждая строка листа draft — фрагмент ответа (предложение) и код, найденный по ключевым словам.",
        "Найденные слова выделены в цитате красным и перечислены в колонке matched_words.",
        "accept: пусто или «да» — строка принята; «нет» — строка отклонена.",
        "change_code: правильный код из листа codebook (тип и этап возьмутся из кодбука).",
        "change_sentiment: ваша оценка тональности от -2 до 2 (иначе берётся suggested_sentiment).",
        "Можно исправить этап прямо в колонке stage и добавить свои строки внизу (respondent_id и code обязательны).",
        "comment: любые заметки, в таблицу кодов не попадают.",
    ],
    "en": [
        "How to review the draft coding",
        "Each row of the draft sheet is a fragment of an answer (a sentence) and a code its keywords found.",
        "The matched words are red in the quote and listed in matched_words.",
        "accept: blank or 'yes' keeps the row; 'no' drops it.",
        "change_code: the right code from the codebook sheet (type and stage come from the codebook).",
        "change_sentiment: your sentiment from -2 to 2 (otherwise suggested_sentiment is used).",
        "You may fix the stage in the stage column and add rows at the bottom (respondent_id and code required).",
        "comment: free notes, not carried into the codes table.",
    ],
}


def _blank(v) -> bool:
    return v is None or (isinstance(v, float) and pd.isna(v)) or v is pd.NA or (isinstance(v, str) and not v.strip())


def _rich_quote(quote: str, matched: str, bold, plain):
    """Fragments for xlsxwriter's write_rich_string: matched words in ``bold``; ``None`` if none found."""
    words = {fold(w.strip()) for w in matched.split(",") if w.strip()}
    parts: list = []
    pos = 0
    for m in TOKEN_RE.finditer(quote):
        if fold(m.group()) in words:
            if m.start() > pos:
                parts += [plain, quote[pos : m.start()]]
            parts += [bold, m.group()]
            pos = m.end()
    if not parts:
        return None
    if pos < len(quote):
        parts += [plain, quote[pos:]]
    return parts


def write_draft_sheet(draft: pd.DataFrame, codebook: Codebook, out_path: str | Path, language: str = "ru") -> Path:
    """Write the review workbook for a draft (``draft_codes`` output). Same draft -> same bytes.

    Rows are sorted by ``confidence``, surest first (ties keep the draft's order), so a
    reviewer can accept the top quickly and read the doubtful rows at the bottom closely.
    """
    out_path = Path(out_path)
    if "confidence" in draft.columns:
        draft = draft.sort_values("confidence", ascending=False, kind="stable").reset_index(drop=True)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(out_path.name + ".tmp")
    columns = list(draft.columns) + REVIEW_COLUMNS
    wb = safe_workbook(tmp, title="Coding draft")
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "top"})
    review_head = wb.add_format({"bold": True, "bg_color": "#FFF2CC", "border": 1, "text_wrap": True,
                                 "valign": "top"})
    wrap = wb.add_format({"text_wrap": True, "valign": "top"})
    top = wb.add_format({"valign": "top"})
    red_bold = wb.add_format({"bold": True, "font_color": "#C00000"})
    plain = wb.add_format({})
    review_cell = wb.add_format({"bg_color": "#FFFBEA", "valign": "top", "border": 1, "border_color": "#D9D9D9"})

    ws = wb.add_worksheet(DRAFT_SHEET)
    for j, col in enumerate(columns):
        ws.write_string(0, j, col, review_head if col in REVIEW_COLUMNS else head)
        fmt = review_cell if col in REVIEW_COLUMNS else (wrap if col in ("quote", "question", "matched_words") else top)
        ws.set_column(j, j, WIDTHS.get(col, 12), fmt)
    quote_col = columns.index("quote") if "quote" in columns else None
    for i, row in enumerate(draft.itertuples(index=False), start=1):
        rec = row._asdict()
        for j, col in enumerate(draft.columns):
            v = rec[col]
            if _blank(v):
                continue
            if j == quote_col:
                parts = _rich_quote(neutralise(str(v)), str(rec.get("matched_words") or ""), red_bold, plain)
                if parts and len(parts) > 2:
                    ws.write_rich_string(i, j, *parts, wrap)
                    continue
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                ws.write_number(i, j, v)
            else:
                write_text(ws, i, j, v)
    n = len(draft)
    last = max(n, 1) + 200  # room for rows the consultant adds
    ws.freeze_panes(1, 1)
    ws.autofilter(0, 0, max(n, 1), len(columns) - 1)
    ws.set_row(0, 30)
    c_acc = columns.index("accept")
    ws.data_validation(1, c_acc, last, c_acc, {
        "validate": "list", "source": ["yes", "no", "да", "нет"],
        "error_title": "accept", "error_message": "yes / no (blank = yes)"})
    c_code = columns.index("change_code")
    n_codes = len(codebook.codes)
    ws.data_validation(1, c_code, last, c_code, {
        "validate": "list", "source": f"=codebook!$A$2:$A${n_codes + 1}",
        "error_title": "change_code", "error_message": "a code of the codebook sheet"})
    c_sent = columns.index("change_sentiment")
    ws.data_validation(1, c_sent, last, c_sent, {
        "validate": "decimal", "criteria": "between", "minimum": -2, "maximum": 2,
        "error_title": "change_sentiment", "error_message": "a number from -2 to 2"})

    cb = codebook.table()
    ws2 = wb.add_worksheet("codebook")
    for j, col in enumerate(cb.columns):
        ws2.write_string(0, j, col, head)
        ws2.set_column(j, j, 60 if col == "keywords" else 18, wrap if col == "keywords" else top)
    for i, row in enumerate(cb.itertuples(index=False), start=1):
        for j, v in enumerate(row):
            if not _blank(v):
                write_text(ws2, i, j, v)
    ws2.freeze_panes(1, 1)

    ws3 = wb.add_worksheet("how_to_review")
    ws3.set_column(0, 0, 110, wrap)
    for i, line in enumerate(HOWTO.get(language, HOWTO["en"])):
        ws3.write_string(i, 0, line, head if i == 0 else wrap)
    wb.close()
    fix_zip(tmp)
    tmp.replace(out_path)  # never leave a half-written sheet under the real name
    return out_path


def _text(col: pd.Series) -> pd.Series:
    """Cells as stripped text ("" for blanks; 2.0 -> "2", so typed numbers read as written)."""
    def one(v):
        if _blank(v):
            return ""
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        return unneutralise(str(v).strip())

    return col.map(one).astype("string")


def read_coding_review(path: str | Path, codebook: Codebook, stages: list[str] | None = None) -> pd.DataFrame:
    """The canonical codes table from a reviewed draft sheet (rules in the module docstring).

    ``stages``: the journey-stage ids a stage edit may use (default: the codebook's stages).
    """
    path = Path(path)
    try:
        df = pd.read_excel(path, sheet_name=DRAFT_SHEET, dtype=object)
    except FileNotFoundError:
        raise InputFileError(f"The reviewed coding sheet {path} does not exist.") from None
    except ValueError as e:
        if "not found" in str(e).lower() or "worksheet" in str(e).lower():
            raise InputFileError(f"{path.name} has no sheet '{DRAFT_SHEET}'; it is not a coding draft.") from None
        raise InputFileError(f"{path.name} cannot be read: {e}.") from None
    df.columns = [str(c).strip() for c in df.columns]
    missing = [c for c in ("respondent_id", "code", "quote") if c not in df.columns]
    if missing:
        raise InputFileError(f"{path.name}, sheet '{DRAFT_SHEET}': column(s) {', '.join(missing)} are missing.")
    df.index = df.index + 2  # Excel row numbers: the header is row 1
    cells = pd.DataFrame({c: _text(df[c]) if c in df.columns else pd.Series("", index=df.index, dtype="string")
                          for c in ["respondent_id", "stage", "code", "quote", "suggested_sentiment", *REVIEW_COLUMNS]})
    cells = cells[(cells != "").any(axis=1)]  # fully blank rows are skipped
    where = f"{path.name}, sheet '{DRAFT_SHEET}'"
    problems: list[tuple[int, str]] = []

    def report(mask: pd.Series, column: str, what) -> None:
        for row in mask[mask].index:
            problems.append((row, f"{where}, row {row}, column {column}: {what(row)}"))

    accept = cells["accept"].str.lower()
    bad_accept = (accept != "") & ~accept.isin(YES | NO)
    report(bad_accept, "accept", lambda r: f"'{cells.at[r, 'accept']}' is neither yes nor no (blank means yes)")
    rows = cells[~accept.isin(NO) & ~bad_accept]  # kept rows (blank or yes)

    changed = rows["change_code"] != ""
    code = rows["change_code"].where(changed, rows["code"])
    known = code.isin(list(codebook.codes))
    report(~known & changed, "change_code", lambda r: f"'{code[r]}' is not a code of the codebook")
    report(~known & ~changed & (code != ""), "code", lambda r: f"'{code[r]}' is not a code of the codebook")
    report(code == "", "code", lambda r: "the code is missing")
    report(rows["respondent_id"] == "", "respondent_id", lambda r: "the respondent is missing")

    book = codebook.table().set_index("code")
    book_stage = code.map(book["stage"])
    sheet_stage = rows["stage"]
    known_stages = set(stages) if stages is not None else set(book["stage"])
    edited = ~changed & (sheet_stage != "") & (sheet_stage != book_stage) & known
    bad_stage = edited & ~sheet_stage.isin(list(known_stages))
    report(bad_stage, "stage", lambda r: f"'{sheet_stage[r]}' is not a journey stage ({', '.join(sorted(known_stages))})")
    stage = sheet_stage.where(edited, book_stage)

    use_change = rows["change_sentiment"] != ""
    raw = rows["change_sentiment"].where(use_change, rows["suggested_sentiment"])
    sentiment = pd.to_numeric(raw.str.replace(",", ".", regex=False), errors="coerce").astype("float64")
    bad_sent = (raw != "") & ~sentiment.between(-2, 2)
    for col, mask in (("change_sentiment", bad_sent & use_change), ("suggested_sentiment", bad_sent & ~use_change)):
        report(mask, col, lambda r: f"'{raw[r]}' is not a sentiment from -2 to 2")

    if problems:
        msgs = [m for _, m in sorted(problems, key=lambda p: p[0])]
        if len(msgs) == 1:
            raise InputFileError(msgs[0] + ".")
        lines = "\n".join(f"  - {m}." for m in msgs)
        raise InputFileError(f"The reviewed sheet {path.name} has {len(msgs)} problem(s):\n{lines}")

    def from_book(col):
        return code.map(book[col]).replace("", pd.NA)

    codes = pd.DataFrame({
        "respondent_id": rows["respondent_id"],
        "stage": stage,
        "code_type": from_book("code_type"),
        "code": code,
        "touchpoint": from_book("touchpoint"),
        "sentiment": sentiment,
        "factor_kind": from_book("factor_kind"),
        "level": from_book("level"),
        "quote": rows["quote"].replace("", pd.NA),
    }).reset_index(drop=True)
    for c in CODES_COLUMNS:
        codes[c] = codes[c].astype("float64") if c == "sentiment" else codes[c].astype("string")
    return codes


HAND_RESPONDENT = ("respondent_id", "respondent", "респондент", "id респондента", "id")
HAND_CODE = ("code", "код", "code_id")


def read_hand_coding(path: str | Path) -> pd.DataFrame:
    """(respondent_id, code) pairs of a hand-coding sheet (xlsx/csv), duplicates removed, sorted.

    Column names: respondent / respondent_id / респондент and code / код (any case).
    """
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"The hand-coding sheet {path} does not exist; check sources.transcripts.hand_coding.")
    try:
        if path.suffix.lower() == ".csv":
            df = pd.read_csv(path, sep=None, engine="python", dtype=str, encoding="utf-8-sig")
        else:
            df = pd.read_excel(path, sheet_name=0, dtype=str)
    except Exception as e:
        raise InputFileError(f"The hand-coding sheet {path.name} cannot be read: {e}.") from None
    norm = {re.sub(r"[\s_]+", " ", str(c).strip().lower()): c for c in df.columns}

    def pick(names, what):
        for n in names:
            if n.replace("_", " ") in norm:
                return norm[n.replace("_", " ")]
        raise InputFileError(
            f"The hand-coding sheet {path.name} has no {what} column (expected one of {', '.join(names)})."
        )

    rcol, ccol = pick(HAND_RESPONDENT, "respondent"), pick(HAND_CODE, "code")
    out = pd.DataFrame({"respondent_id": df[rcol].str.strip(), "code": df[ccol].str.strip()}).dropna()
    out = out[(out["respondent_id"] != "") & (out["code"] != "")]
    out = out.drop_duplicates().sort_values(["respondent_id", "code"], kind="stable").reset_index(drop=True)
    return out.astype("string")
