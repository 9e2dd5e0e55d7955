"""Interview auto-coding: turns, lemmatised matching, phrases, negation, sentiment,
scrubbing, the draft sheet and its review round-trip, agreement figures, the CLI entry."""

from __future__ import annotations

import io
import textwrap
from contextlib import redirect_stderr, redirect_stdout

import docx
import numpy as np
import openpyxl
import pandas as pd
import pytest

from toolkit.coding import (
    draft_codes,
    evaluate_coding,
    read_codebook,
    read_coding_review,
    read_hand_coding,
    read_transcript,
    read_transcripts,
    run_code_command,
    split_turns,
    write_coding_draft,
    write_draft_sheet,
)
from toolkit.coding.autocode import code_sentence
from toolkit.coding.codebook import Codebook
from toolkit.coding.text import KeywordIndex, compile_keyword, sentence_sentiment, split_sentences, tokenize
from toolkit.core.errors import InputFileError

RU_LABELS = (["Интервьюер", "Interviewer", "I"], ["Респондент", "Respondent", "R"])

CODEBOOK_YAML = textwrap.dedent(
    """\
    sentiment_lexicon:
      кусаться: -2
    codes:
      - code: price_high
        type: barrier
        stage: evaluation
        factor_kind: hard
        level: company
        label: Дорого
        keywords: [цена, дорого, expensive, "не по карману"]
      - code: long_wait
        type: barrier
        stage: experience
        touchpoint: reception
        keywords: ["долго ждать", очередь]
      - code: fear_pain
        type: emotion
        stage: framing
        sentiment: -2
        keywords: [страшно, боюсь, "scared"]
      - code: doctor_trust
        type: choice_factor
        stage: evaluation
        factor_kind: soft
        level: doctor
        keywords: [врач, доктор]
        exclude: ["главный врач"]
      - code: phone_contact
        type: touchpoint
        stage: evaluation
        keywords: [телефон, позвонить]
    """
)


@pytest.fixture
def codebook(tmp_path) -> Codebook:
    p = tmp_path / "codebook.yml"
    p.write_text(CODEBOOK_YAML, encoding="utf-8")
    return read_codebook(p)


def codes_of(sentence: str, codebook: Codebook) -> list[str]:
    return [c for c, _ in code_sentence(sentence, codebook)[0]]


# --- turns -----------------------------------------------------------------------


def test_turns_russian_labels_with_names_spacing_case_and_multiline():
    lines = [
        "Интервью с пациенткой, март",  # preamble: not a turn
        "Интервьюер: Как вы выбирали клинику?",
        "Респондент (Ольга):   Смотрела отзывы.",
        "Потом позвонила.",  # continues the respondent turn
        "",
        "ИНТЕРВЬЮЕР   :  А цены?",
        "респондент 3: Дорого.",
    ]
    turns, rid = split_turns(lines, "R07", *RU_LABELS)
    assert rid == "R07"
    assert turns["speaker"].tolist() == ["interviewer", "respondent", "interviewer", "respondent"]
    assert turns["turn"].tolist() == [1, 2, 3, 4]
    assert turns["text"].tolist() == ["Как вы выбирали клинику?", "Смотрела отзывы.\nПотом позвонила.", "А цены?", "Дорого."]
    # each respondent turn keeps the preceding question as context
    assert turns["question"].tolist() == ["", "Как вы выбирали клинику?", "", "А цены?"]


def test_turns_short_labels_need_a_colon_and_file_may_declare_its_id():
    lines = [
        "Respondent ID: R12",
        "I: Why this clinic?",
        "R: I think the doctor.",
        "I think that: this line is not a label, it continues the answer.",
        "r1 : Also the price.",
        "[00:12:05] I: Anything else?",
        "R - no dash label for single letters",
    ]
    turns, rid = split_turns(lines, "file_stem", *RU_LABELS)
    assert rid == "R12"
    assert (turns["respondent_id"] == "R12").all()
    assert turns["speaker"].tolist() == ["interviewer", "respondent", "respondent", "interviewer"]
    assert turns["text"].iloc[1] == "I think the doctor.\nI think that: this line is not a label, it continues the answer."
    assert turns["text"].iloc[3] == "Anything else?\nR - no dash label for single letters"


def test_interview_title_with_an_id_declares_the_respondent():
    turns, rid = split_turns(["Интервью R09", "Интервьюер: Вопрос?", "Респондент: Ответ."], "x", *RU_LABELS)
    assert rid == "R09" and turns["respondent_id"].tolist() == ["R09", "R09"]
    _, rid = split_turns(["Интервью с пациенткой, март", "Респондент: Ответ."], "x", *RU_LABELS)
    assert rid == "x"
    _, rid = split_turns(["Интервью 12.03.2024", "Респондент: Ответ."], "x", *RU_LABELS)
    assert rid == "x"  # a date is not an id


def test_docx_transcript_paragraphs_breaks_and_table(tmp_path):
    d = docx.Document()
    d.add_paragraph("Интервью с пациенткой")  # a title without an id
    d.add_paragraph("Интервьюер: Что было сложно?")
    p = d.add_paragraph("Респондент: Долго ждать пришлось.")
    p.add_run().add_break()
    p.add_run("И цены высокие.")  # same turn after a line break
    d.add_paragraph("Интервьюер — А врач?")
    t = d.add_table(rows=1, cols=2)
    t.cell(0, 0).text = "Респондент"
    t.cell(0, 1).text = "Врач хороший."
    path = tmp_path / "interview_R05.docx"
    d.save(path)
    turns = read_transcript(path, *RU_LABELS)
    assert turns["respondent_id"].unique().tolist() == ["R05"]  # file name without «interview_»
    assert turns["speaker"].tolist() == ["interviewer", "respondent", "interviewer", "respondent"]
    assert turns["text"].iloc[1] == "Долго ждать пришлось.\nИ цены высокие."
    assert turns["text"].iloc[3] == "Врач хороший."
    assert turns["question"].iloc[3] == "А врач?"


def test_txt_transcripts_in_cp1251_and_utf8(tmp_path):
    folder = tmp_path / "tr"
    folder.mkdir()
    (folder / "B.txt").write_bytes("Интервьюер: Вопрос?\r\nРеспондент: Ответ про цену.\r\n".encode("cp1251"))
    (folder / "A.txt").write_text("\ufeffI: Q?\nR: Ответ.\n", encoding="utf-8")
    (folder / "~$A.docx").write_bytes(b"lock file")  # Word lock files are skipped
    turns = read_transcripts(folder, *RU_LABELS)
    assert turns["respondent_id"].tolist() == ["A", "A", "B", "B"]
    assert turns["text"].tolist() == ["Q?", "Ответ.", "Вопрос?", "Ответ про цену."]


def test_transcript_without_respondent_turns_is_a_clear_error(tmp_path):
    p = tmp_path / "x.txt"
    p.write_text("Moderator: hello\nGuest: hi\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="x.txt has no respondent turn"):
        read_transcript(p, *RU_LABELS)


# --- matching -----------------------------------------------------------------------


def test_lemmatised_matching_of_word_forms(codebook):
    # «цена» in three cases, the comparative «дороже» is not listed -> only the forms of цена/дорого
    for s in ["Цена высокая.", "Меня смутили цены.", "Я была недовольна ценой."]:
        assert codes_of(s, codebook) == ["price_high"], s
    words = code_sentence("Цены и ценой, и цене.", codebook)[0][0][1]
    assert words == ["Цены", "ценой", "цене"]
    assert codes_of("The prices were expensive.", codebook) == ["price_high"]  # English stem
    assert codes_of("Всё понятно.", codebook) == []


def test_multiword_phrases_in_order_with_small_gaps(codebook):
    assert codes_of("Пришлось долго ждать.", codebook) == ["long_wait"]
    assert codes_of("Долго в коридоре ждать.", codebook) == ["long_wait"]  # gap of 2 tokens
    assert codes_of("Долго пришлось в коридоре ждать.", codebook) == []  # gap of 3 > 2
    assert codes_of("Ждать долго не люблю.", codebook) == []  # reverse order is another phrase
    assert codes_of("Долго думала, ждать или нет.", codebook) == []  # not across a clause
    # a phrase that starts with a particle is matched as written
    assert codes_of("Это мне не по карману.", codebook) == ["price_high"]


def test_negation_cancels_a_keyword_in_the_same_clause(codebook):
    assert codes_of("Не дорого, нормально.", codebook) == []
    assert codes_of("Было совсем не страшно.", codebook) == []
    assert codes_of("It was not expensive at all.", codebook) == []
    assert codes_of("It wasn't too expensive.", codebook) == []
    assert codes_of("Не знаю, дорого наверное.", codebook) == ["price_high"]  # negation in another clause
    assert codes_of("Нет, дорого.", codebook) == ["price_high"]
    assert codes_of("Не то чтобы я там была, дорого.", codebook) == ["price_high"]
    # window of 3 tokens: «не» four tokens before does not negate
    assert codes_of("Не было у нас такого дорого лечения.", codebook) == ["price_high"]


def test_polarity_check_drops_a_barrier_mentioned_in_a_positive_segment(codebook):
    # price_high is a barrier (negative): «дорого» in a segment whose lexicon tone is positive is a mention
    assert codes_of("Цена отличная, всё прекрасно.", codebook) == []  # отличный +2, прекрасно +2
    # the contrastive «но» starts a new segment: «но дорого» is negative, the barrier stays
    assert codes_of("Клиника отличная, но дорого.", codebook) == ["price_high"]
    # a denied complaint is praise: «претензий к ним нет» (-1 flipped to +1) + «удобно» +1 = +2
    assert codes_of("Цены удобные, претензий к ним нет.", codebook) == []
    # one mild positive word is not enough to contradict the barrier: +1
    assert codes_of("Цены удобные.", codebook) == ["price_high"]
    # a filler phrase does not score: «честно говоря» is not praise
    assert codes_of("Цена, честно говоря, удобная.", codebook) == ["price_high"]
    # a segment without lexicon words has no tone: the code stays
    assert codes_of("Цена высокая.", codebook) == ["price_high"]
    # fear_pain has codebook sentiment -2: «боюсь» in a negative segment stays
    assert codes_of("Боюсь, что будет больно.", codebook) == ["fear_pain"]


def test_exclude_phrase_vetoes_the_code(codebook):
    assert codes_of("Врач внимательный.", codebook) == ["doctor_trust"]
    assert codes_of("Главный врач не ответил.", codebook) == []


def test_sentiment_from_lexicon_with_negation_flip_and_case_extension(codebook):
    lex = codebook.lexicon_index()

    def s(text):
        return sentence_sentiment(tokenize(text), lex)

    assert s("Было страшно.") == -2
    assert s("Совсем не страшно.") == 1  # -2 flipped and weakened to +1
    assert s("Not great, honestly.") == -1  # +2 flipped and weakened to -1
    assert s("Врач хороший, удобно.") == 2  # 1 + 1
    assert s("Отлично, прекрасно, замечательно.") == 2  # 6 clipped to 2
    assert s("Ужасно, но удобно.") == -1  # -2 + 1
    assert s("Цены кусаются.") == -2  # case lexicon entry кусаться: -2
    assert s("Пришла во вторник.") is None  # no lexicon word: no suggestion
    assert s("Проблем не было.") == 1  # existential negation after the word flips it
    assert s("Претензий к ним нет.") == 1
    assert s("Если честно, пришла во вторник.") is None  # a 0-scored phrase shields «честно»


def test_sentences_split_on_end_punctuation_and_lines():
    assert split_sentences("Дорого! «Очень» дорого… Ну ладно.\nЕщё: т.е. всё") == [
        "Дорого!",
        "«Очень» дорого…",
        "Ну ладно.",
        "Ещё: т.е. всё",
    ]


def test_quotes_are_scrubbed_and_masks_never_match_keywords(codebook):
    turns = pd.DataFrame(
        {
            "respondent_id": ["R1"],
            "turn": [2],
            "speaker": ["respondent"],
            "text": ["Дорого, пишите на olga.k@mail.ru или +7 (916) 123-45-67."],
            "question": ["Мой номер 8 916 555 44 33, что скажете?"],
        }
    )
    d = draft_codes(turns, codebook)
    # the phone mask «[телефон]» must not code the touchpoint «телефон»
    assert d["code"].tolist() == ["price_high"]
    assert "@" not in d["quote"].iloc[0] and "123-45-67" not in d["quote"].iloc[0]
    assert "555 44 33" not in d["question"].iloc[0]


# --- draft sheet and review -------------------------------------------------------------


def sample_turns() -> pd.DataFrame:
    lines_r1 = [
        "Интервьюер: Как выбирали?",
        "Респондент: Цены высокие. Врач внимательный, но долго ждать пришлось.",
        "Интервьюер: Было страшно?",
        "Респондент: Совсем не страшно.",
    ]
    lines_r2 = [
        "I: How was it?",
        "R: It was expensive. I was scared before the visit.",
    ]
    t1, _ = split_turns(lines_r1, "R1", *RU_LABELS)
    t2, _ = split_turns(lines_r2, "R2", *RU_LABELS)
    return pd.concat([t2, t1], ignore_index=True)  # out of order on purpose


def test_draft_rows_order_and_content(codebook):
    d = draft_codes(sample_turns(), codebook)
    got = d[["respondent_id", "turn", "sentence", "code", "matched_words", "suggested_sentiment"]]
    expected = pd.DataFrame(
        {
            "respondent_id": ["R1", "R1", "R1", "R2", "R2"],
            "turn": [2, 2, 2, 2, 2],
            "sentence": [1, 2, 2, 1, 2],
            "code": ["price_high", "long_wait", "doctor_trust", "price_high", "fear_pain"],
            "matched_words": ["Цены", "долго, ждать", "Врач", "expensive", "scared"],
            # «Врач внимательный, но долго ждать»: sentiment of the clause holding the match:
            # long_wait «но долго ждать» -1 -1 = -2; doctor_trust «Врач внимательный» +1
            "suggested_sentiment": [np.nan, -2.0, 1.0, -1.0, -2.0],
        }
    )
    # R1 sentence 1 «Цены высокие.» has no lexicon word -> blank; codes within a sentence in codebook order
    pd.testing.assert_frame_equal(got.reset_index(drop=True), expected, check_dtype=False)
    assert d.loc[1, "touchpoint"] == "reception" and d.loc[1, "stage"] == "experience"
    assert d.loc[0, "question"] == "Как выбирали?"


def test_draft_workbook_is_deterministic_and_has_review_columns(tmp_path, codebook):
    d = draft_codes(sample_turns(), codebook)
    a = write_draft_sheet(d, codebook, tmp_path / "a.xlsx")
    b = write_draft_sheet(draft_codes(sample_turns(), codebook), codebook, tmp_path / "b.xlsx")
    assert a.read_bytes() == b.read_bytes()
    wb = openpyxl.load_workbook(a, rich_text=True)
    assert wb.sheetnames == ["draft", "codebook", "how_to_review"]
    ws = wb["draft"]
    header = [c.value for c in ws[1]]
    assert header[-4:] == ["accept", "change_code", "change_sentiment", "comment"]
    assert ws.freeze_panes == "B2"
    assert ws.max_row == 1 + len(d)
    # rows are sorted by confidence, surest first
    conf = [ws.cell(row=r, column=header.index("confidence") + 1).value for r in range(2, ws.max_row + 1)]
    assert conf == sorted(conf, reverse=True) and conf == sorted(d["confidence"], reverse=True)
    # the quote carries the matched word as a highlighted run
    row = 2 + [c for c in d.sort_values("confidence", ascending=False, kind="stable")["code"]].index("price_high")
    quote = ws.cell(row=row, column=header.index("quote") + 1).value
    assert "Цены" in [getattr(block, "text", None) for block in quote]
    acc = header.index("accept") + 1
    lists = {str(dv.sqref): dv.formula1 for dv in ws.data_validations.dataValidation if dv.type == "list"}
    col_letter = openpyxl.utils.get_column_letter(acc)
    assert lists[f"{col_letter}2:{col_letter}{len(d) + 201}"] == '"yes,no,да,нет"'
    assert openpyxl.load_workbook(a)["codebook"]["A2"].value == "price_high"


def test_review_round_trip_accepted_rejected_changed_and_added(tmp_path, codebook):
    d = draft_codes(sample_turns(), codebook)
    path = write_draft_sheet(d, codebook, tmp_path / "coding_draft.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb["draft"]
    col = {c.value: c.column for c in ws[1]}
    # the sheet is sorted by confidence: find the Excel row of each drafted (respondent, code)
    at = {(ws.cell(r, col["respondent_id"]).value, ws.cell(r, col["code"]).value): r for r in range(2, 7)}
    assert len(at) == 5
    ws.cell(at["R1", "long_wait"], col["accept"], "нет")  # rejected
    ws.cell(at["R1", "doctor_trust"], col["accept"], "yes")
    ws.cell(at["R1", "doctor_trust"], col["change_sentiment"], 2)  # changed sentiment
    ws.cell(at["R2", "price_high"], col["change_code"], "long_wait")  # changed code: type/stage from the codebook
    ws.cell(at["R2", "fear_pain"], col["comment"], "верно")  # blank accept = accepted
    ws.cell(at["R2", "fear_pain"], col["stage"], "experience")  # the consultant moves the fragment
    ws.cell(7, col["respondent_id"], "R3")  # a row the consultant added
    ws.cell(7, col["code"], "phone_contact")
    ws.cell(7, col["quote"], "Позвонила и записалась.")
    ws.cell(7, col["change_sentiment"], "1,5")
    wb.save(path)
    got = read_coding_review(path, codebook)
    expected = pd.DataFrame(
        {
            "respondent_id": ["R1", "R1", "R2", "R2", "R3"],
            "stage": ["evaluation", "evaluation", "experience", "experience", "evaluation"],
            "code_type": ["barrier", "choice_factor", "barrier", "emotion", "touchpoint"],
            "code": ["price_high", "doctor_trust", "long_wait", "fear_pain", "phone_contact"],
            "touchpoint": [None, None, "reception", None, None],
            "sentiment": [np.nan, 2.0, -1.0, -2.0, 1.5],
            "factor_kind": ["hard", "soft", None, None, None],
            "level": ["company", "doctor", None, None, None],
            "quote": [
                "Цены высокие.",
                "Врач внимательный, но долго ждать пришлось.",
                "It was expensive.",
                "I was scared before the visit.",
                "Позвонила и записалась.",
            ],
        }
    )
    for c in expected.columns:
        expected[c] = expected[c].astype("float64" if c == "sentiment" else "string")
    got = got.sort_values(["respondent_id", "quote"], kind="stable").reset_index(drop=True)
    expected = expected.sort_values(["respondent_id", "quote"], kind="stable").reset_index(drop=True)
    pd.testing.assert_frame_equal(got, expected)


@pytest.mark.parametrize(
    "column, value, message",
    [
        ("change_code", "no_such_code", "coding_draft.xlsx, sheet 'draft', row 3, column change_code: "
                                        "'no_such_code' is not a code of the codebook."),
        ("change_sentiment", 3, "coding_draft.xlsx, sheet 'draft', row 3, column change_sentiment: "
                                "'3' is not a sentiment from -2 to 2."),
        ("accept", "maybe", "coding_draft.xlsx, sheet 'draft', row 3, column accept: 'maybe' is neither yes nor no"),
    ],
)
def test_review_errors_name_sheet_row_and_column(tmp_path, codebook, column, value, message):
    d = draft_codes(sample_turns(), codebook)
    path = write_draft_sheet(d, codebook, tmp_path / "coding_draft.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb["draft"]
    col = {c.value: c.column for c in ws[1]}
    ws.cell(3, col[column], value)
    wb.save(path)
    with pytest.raises(InputFileError) as e:
        read_coding_review(path, codebook)
    assert str(e.value).startswith(message)


def test_review_reports_every_problem_at_once(tmp_path, codebook):
    d = draft_codes(sample_turns(), codebook)
    path = write_draft_sheet(d, codebook, tmp_path / "coding_draft.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb["draft"]
    col = {c.value: c.column for c in ws[1]}
    ws.cell(2, col["stage"], "payment")
    ws.cell(5, col["suggested_sentiment"], "good")
    ws.cell(6, col["accept"], "no")  # a rejected row is not checked
    ws.cell(6, col["change_code"], "whatever")
    wb.save(path)
    with pytest.raises(InputFileError) as e:
        read_coding_review(path, codebook)
    assert str(e.value).splitlines() == [
        "The reviewed sheet coding_draft.xlsx has 2 problem(s):",
        "  - coding_draft.xlsx, sheet 'draft', row 2, column stage: 'payment' is not a journey stage "
        "(evaluation, experience, framing).",
        "  - coding_draft.xlsx, sheet 'draft', row 5, column suggested_sentiment: 'good' is not a sentiment "
        "from -2 to 2.",
    ]


# --- codebook ------------------------------------------------------------------------


def test_codebook_problems_are_all_reported(tmp_path):
    p = tmp_path / "cb.yml"
    p.write_text(
        "codes:\n"
        "  - {code: a, type: feeling, stage: evaluation, keywords: [x]}\n"
        "  - {code: b, type: barrier, stage: evaluation, level: clinic_chain, keywords: [y]}\n"
        "  - {code: c, type: barrier, stage: evaluation}\n",
        encoding="utf-8",
    )
    with pytest.raises(InputFileError) as e:
        read_codebook(p)
    msg = str(e.value)
    assert "3 problem(s)" in msg
    assert "code 'a': type 'feeling' is not one of barrier" in msg
    assert "code 'b': level 'clinic_chain'" in msg
    assert "code 'c': no keywords" in msg


def test_codebook_from_xlsx_with_russian_headers(tmp_path):
    p = tmp_path / "cb.xlsx"
    pd.DataFrame(
        {
            "Код": ["price_high", "fear"],
            "Тип": ["барьер", "эмоция"],
            "Этап": ["evaluation", "framing"],
            "Ключевые слова": ["дорого; высокая цена", "страшно\nбоюсь"],
        }
    ).to_excel(p, index=False)
    cb = read_codebook(p)
    assert list(cb.codes) == ["price_high", "fear"]
    assert cb.codes["price_high"].code_type == "barrier"
    assert cb.codes["price_high"].keywords == ("дорого", "высокая цена")
    assert cb.codes["fear"].keywords == ("страшно", "боюсь")


def test_prefix_keyword_matches_any_ending():
    idx = KeywordIndex([("x", compile_keyword("переплат*"))])
    assert [p for p, _ in idx.find(tokenize("Боюсь переплатить."))] == ["x"]
    assert [p for p, _ in idx.find(tokenize("Плата высокая."))] == []
    assert [p for p, _ in idx.find(tokenize("Переплата большая."))] == ["x"]


# --- agreement ---------------------------------------------------------------------


def test_agreement_precision_recall_kappa_hand_computed():
    draft = pd.DataFrame({"respondent_id": ["R1", "R1", "R1", "R2"], "code": ["a", "a", "b", "a"]})
    hand = pd.DataFrame({"respondent_id": ["R1", "R2", "R2"], "code": ["a", "a", "b"]})
    r = evaluate_coding(draft, hand, respondents=["R1", "R2", "R3"])
    # pairs: draft {R1a, R1b, R2a}, hand {R1a, R2a, R2b}, both {R1a, R2a}
    assert (r.n_draft, r.n_hand, r.n_both) == (3, 3, 2)
    assert r.precision == pytest.approx(2 / 3) and r.recall == pytest.approx(2 / 3)
    # 6 cells (R1..R3 x a,b): draft 1,1,1,0,0,0 (R1a R1b R2a R2b R3a R3b), hand 1,0,1,1,0,0
    # p_o = 4/6; p_draft = p_hand = 3/6; p_e = .25 + .25 = .5; kappa = (2/3 - 1/2) / (1/2) = 1/3
    assert r.kappa == pytest.approx(1 / 3)
    per = r.per_code.set_index("code")
    # code a: draft = hand = (1,1,0) -> kappa 1
    assert per.loc["a", "kappa"] == pytest.approx(1.0) and per.loc["a", "precision"] == 1.0
    # code b: draft (1,0,0), hand (0,1,0): p_o = 1/3, p_e = 1/9 + 4/9 = 5/9, kappa = (3/9 - 5/9) / (4/9) = -0.5
    assert per.loc["b", "kappa"] == pytest.approx(-0.5)
    assert per.loc["b", "recall"] == 0.0 and per.loc["b", "n_hand"] == 1
    lo, hi = r.precision_interval
    assert lo < 2 / 3 < hi


def test_agreement_kappa_undefined_when_nobody_codes():
    r = evaluate_coding(pd.DataFrame({"respondent_id": [], "code": []}),
                        pd.DataFrame({"respondent_id": [], "code": []}), codes=["a"], respondents=["R1"])
    assert np.isnan(r.kappa) and np.isnan(r.precision) and r.n_both == 0


def test_hand_coding_reader_dedupes_and_accepts_russian_headers(tmp_path):
    p = tmp_path / "hand.xlsx"
    pd.DataFrame({"Респондент": ["R2", "R1", "R1"], "Код": ["a", "b", "b"], "note": ["", "", ""]}).to_excel(p, index=False)
    got = read_hand_coding(p)
    assert got.values.tolist() == [["R1", "b"], ["R2", "a"]]


# --- the case-level entry ----------------------------------------------------------


def make_case(tmp_path, hand=True):
    case = tmp_path / "case"
    (case / "raw" / "transcripts").mkdir(parents=True)
    (case / "raw" / "codebook.yml").write_text(CODEBOOK_YAML, encoding="utf-8")
    (case / "raw" / "transcripts" / "R1.txt").write_text(
        "Интервьюер: Как выбирали?\nРеспондент: Цены высокие, очередь огромная.\n", encoding="utf-8"
    )
    (case / "raw" / "transcripts" / "R2.txt").write_text(
        "Интервьюер: Как выбирали?\nРеспондент: Врач понравился.\n", encoding="utf-8"
    )
    pd.DataFrame({"respondent": ["R1", "R1", "R2"], "code": ["price_high", "fear_pain", "doctor_trust"]}).to_excel(
        case / "raw" / "hand.xlsx", index=False
    )
    (case / "case.yml").write_text(
        textwrap.dedent(
            f"""\
            client: Test clinic
            as_of: 2024-06-30
            brands: [{{id: main}}]
            sources:
              transcripts:
                path: raw/transcripts
                codebook: raw/codebook.yml
                {"hand_coding: raw/hand.xlsx" if hand else ""}
            """
        ),
        encoding="utf-8",
    )
    return case


def test_run_code_command_writes_the_draft_and_evaluates(tmp_path):
    case = make_case(tmp_path)
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        rc = run_code_command(case, evaluate=True)
    assert rc == 0, err.getvalue()
    assert (case / "coding_draft.xlsx").is_file()
    text = out.getvalue()
    # draft pairs {R1 price_high, R1 long_wait, R2 doctor_trust}; hand {R1 price_high, R1 fear_pain, R2 doctor_trust}
    assert "draft 3, hand 3, both 2" in text
    assert "precision  0.67" in text and "recall     0.67" in text
    again = write_coding_draft(case, tmp_path / "again.xlsx")
    assert again.read_bytes() == (case / "coding_draft.xlsx").read_bytes()


def test_run_code_command_errors_are_one_clear_message(tmp_path):
    case = make_case(tmp_path, hand=False)
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        rc = run_code_command(case, evaluate=True)
    assert rc == 2
    assert err.getvalue().startswith("Error: The case case has no hand coding to compare with")
    assert "Traceback" not in err.getvalue()
