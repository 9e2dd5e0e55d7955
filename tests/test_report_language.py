"""The report speaks one language: no English sentence in a Russian report (a transactions-only
case, where most parts say why they are missing), no Cyrillic in the English report of the retail
case outside the names the client supplied; every report word exists in both catalogs."""

from __future__ import annotations

import re

import docx
import pytest

from report_runs import ROOT, case_study_run, transactions_only_run
from toolkit.core.config import load_case
from toolkit.core.words import catalog
from toolkit.report.common import SKIP_KEYS, not_available, reason_label
from toolkit.report.gate import ENGLISH
from toolkit.report.release import allowed_names

pytestmark = pytest.mark.slow
LATIN_WORD = re.compile(r"\b[A-Za-z]{2,}\b")


def report_text(run) -> str:
    d = docx.Document(str(run / "report.docx"))
    parts = [p.text for p in d.paragraphs]
    for t in d.tables:
        for row in t.rows:
            parts += [c.text for c in row.cells]
    for s in d.sections:
        parts += [p.text for p in s.header.paragraphs]
    return "\n".join(parts)


def strip_names(text: str, names) -> str:
    for n in sorted({n for n in names if n}, key=len, reverse=True):
        text = text.replace(n, " ")
    return re.sub(r"\S+\.(?:csv|xlsx|xls|parquet|txt|docx)\b", " ", text)  # file names of the client's exports


def test_report_words_exist_in_both_catalogs():
    for prefix in ("report.", "skip."):
        ru = {k for k in catalog("ru") if k.startswith(prefix)}
        en = {k for k in catalog("en") if k.startswith(prefix)}
        assert ru == en, sorted(ru ^ en)


def test_skip_reasons_never_print_english_in_russian():
    for reason in [*SKIP_KEYS, "some future reason nobody mapped", "skip.no_codes", None]:
        line = not_available(reason, "ru")
        assert line.startswith("Нет данных: ") and not LATIN_WORD.search(line), line
    assert not_available("no coded interviews in this case", "ru") == "Нет данных: в кейсе нет закодированных интервью."
    assert reason_label("missing_customer_id", "ru") == "не заполнено поле код клиента"
    assert not LATIN_WORD.search(reason_label("some_new_reason", "ru"))


def test_russian_report_of_a_transactions_only_case_has_no_english():
    run = transactions_only_run()
    case = load_case(run.parent / "transactions_only")
    text = strip_names(report_text(run), allowed_names(case))
    english = [w for w in LATIN_WORD.findall(text) if w.lower() in ENGLISH]
    assert not english, english[:20]
    # the parts without data say why, in Russian
    missing = [ln for ln in text.splitlines() if ln.startswith("Нет данных: ")]
    assert len(missing) >= 3 and not any(LATIN_WORD.search(ln) for ln in missing), missing


def test_english_report_of_the_retail_case_has_no_cyrillic():
    run = case_study_run("fashion_retail")
    case = load_case(ROOT / "case_studies" / "fashion_retail")
    text = strip_names(report_text(run), allowed_names(case))
    assert not re.search(r"[А-Яа-яЁё]", text), re.findall(r".{20}[А-Яа-яЁё]+.{20}", text)[:5]
