"""Precision rules, word families, loose phrases, confidence and clause sentiment of the draft coder
(issue 19), each on sentences like those of real interviews."""

from __future__ import annotations

import textwrap

import pandas as pd
import pytest

from toolkit.coding.autocode import code_sentence, draft_codes
from toolkit.coding.codebook import read_codebook
from toolkit.coding.families import family_keys, same_family
from toolkit.coding.text import compile_keyword, find_keyword, sentence_sentiment, tokenize
from toolkit.coding.transcripts import split_turns

CODEBOOK = textwrap.dedent(
    """
    sentiment_lexicon:
      кошмарить: -2
    codes:
      - {code: high_price, type: barrier, stage: evaluation, keywords: [дорого, дорогой, expensive]}
      - {code: waiting_time, type: barrier, stage: experience, keywords: [ждать, очередь, задержать, wait]}
      - {code: no_installments, type: barrier, stage: deal, keywords: ["нет рассрочки", "без рассрочки"]}
      - {code: emotion_fear, type: emotion, stage: evaluation, sentiment: -1,
         keywords: [страшно, бояться, пугать, scared]}
      - {code: emotion_irritation, type: emotion, stage: experience, sentiment: -1,
         keywords: [бесить, злить, напрягать, "вывести из себя", annoy]}
      - {code: caring_staff, type: motivator, stage: experience, keywords: [внимательный, attentive, nice]}
      - {code: emotion_gratitude, type: emotion, stage: experience, sentiment: 1, keywords: [спасибо, благодарный]}
      - {code: emotion_hope, type: emotion, stage: evaluation, sentiment: 1, keywords: [надеяться]}
      - {code: personal_offer, type: motivator, stage: trigger, keywords: [персональный, скидка],
         exclude: ["персональные данные"]}
      - {code: idea_online_booking, type: idea, stage: trigger, sentiment: 0, keywords: [приложение, сайт],
         exclude: ["приложение к договору"]}
      - {code: recommendation, type: motivator, stage: evaluation, about_others: true, keywords: [посоветовать]}
      - {code: emotion_delighted, type: emotion, stage: decision, sentiment: 2, keywords: ["love it", delighted]}
      - {code: quality_fabric, type: choice_factor, stage: decision, keywords: [stitching, fabric]}
    """
)
RU = (["Интервьюер", "I"], ["Респондент", "R"])


@pytest.fixture(scope="module")
def codebook(tmp_path_factory):
    p = tmp_path_factory.mktemp("cb") / "codebook.yml"
    p.write_text(CODEBOOK, encoding="utf-8")
    return read_codebook(p)


def codes_of(sentence, codebook):
    return [c for c, _ in code_sentence(sentence, codebook)[0]]


def interview(lines: list[str], codebook, rid="R1") -> pd.DataFrame:
    turns, _ = split_turns(lines, rid, *RU)
    return draft_codes(turns, codebook)


def drafted(lines, codebook) -> list[str]:
    return sorted(set(interview(lines, codebook)["code"]))


# --- negation on both sides and over the clause --------------------------------------------

def test_negation_after_the_keyword(codebook):
    assert codes_of("Ждать не приходится.", codebook) == []
    assert codes_of("Страшно не было.", codebook) == []
    assert codes_of("Очереди нет.", codebook) == []
    assert codes_of("Ждать пришлось долго.", codebook) == ["waiting_time"]
    # «не только» does not negate
    assert codes_of("Ждать не только долго, но и скучно.", codebook) == ["waiting_time"]


@pytest.mark.parametrize("sentence", [
    "Никакой очереди, сразу приняли.",
    "Ждать никогда не приходилось.",
    "Никогда не ждала дольше пяти минут.",
    "Никаких тебе очередей, всё по времени.",
    "Страшно ничуть.",
    "Nobody was scared, it was fine.",
    "I've never had to wait there.",
    "None of it was expensive.",
    "Nothing expensive, just basics.",
])
def test_negative_pronouns_negate_like_a_particle(sentence, codebook):
    assert codes_of(sentence, codebook) == [], sentence


def test_exclamations_with_a_negative_pronoun_do_not_negate(codebook):
    assert codes_of("Ну ничего себе дорого, это ж моя зарплата.", codebook) == ["high_price"]
    assert codes_of("Never mind, it was expensive anyway.", codebook) == ["high_price"]
    # the pronoun in another clause does not reach the keyword
    assert codes_of("Никто не звонил, а ждать пришлось час.", codebook) == ["waiting_time"]


def test_negative_pronoun_weakens_and_flips_sentiment(codebook):
    lex = codebook.lexicon_index()
    def s(text):
        return sentence_sentiment(tokenize(text), lex)

    assert s("Хамство.") == -2 and s("Никакого хамства.") == 1
    assert s("Rude.") == -2 and s("Nobody was rude.") == 1
    assert s("Bad.") == -1 and s("Nothing bad happened.") == 1


def test_denial_opener_scopes_over_the_next_clause(codebook):
    assert codes_of("Не скажу, что прям внимательные.", codebook) == []
    assert codes_of("Не скажу, что дорого, но и не копейки.", codebook) == []
    assert codes_of("Не сказать чтобы прям дорого.", codebook) == []
    assert codes_of("I wouldn't say it was expensive.", codebook) == []
    assert codes_of("It's not like I love it, though.", codebook) == []
    # the scope ends at a contrastive conjunction
    assert codes_of("Не скажу, что плохо, но дорого.", codebook) == ["high_price"]


def test_absence_phrase_keeps_its_own_negation_and_order(codebook):
    assert codes_of("Рассрочки у них нет, только полная оплата.", codebook) == ["no_installments"]
    assert codes_of("Без рассрочки не потяну.", codebook) == ["no_installments"]
    assert codes_of("У них рассрочка без процентов на год.", codebook) == []


# --- conversation context ------------------------------------------------------------------

def test_echoed_interviewer_keyword_denied_is_not_coded(codebook):
    lines = ["Интервьюер: Было страшно идти?", "Респондент: Страшно? Ну… Нет, я не из пугливых."]
    assert drafted(lines, codebook) == []
    lines = ["Интервьюер: Было страшно идти?", "Респондент: Страшно? Да я боялась до дрожи."]
    assert drafted(lines, codebook) == ["emotion_fear"]


def test_bracketed_interviewer_remarks_are_stripped(codebook):
    lines = ["Интервьюер: Как цены?", "Респондент: Цены нормальные [Интервьюер: не дорого?] всё устроило.",
             "Интервьюер: А запись?", "Респондент: Записалась быстро (И: ждать не пришлось?) да, сразу."]
    assert drafted(lines, codebook) == []


def test_closing_pleasantries_are_skipped(codebook):
    lines = ["Интервьюер: Как вам врач?", "Респондент: Я ему очень благодарна, спасибо ему.",
             "Интервьюер: Спасибо большое, это всё.", "Респондент: Да не за что, спасибо вам. Надеюсь, пригодится."]
    d = interview(lines, codebook)
    assert sorted(set(d["code"])) == ["emotion_gratitude"]
    assert set(d["turn"]) == {2}


def test_other_peoples_experience_is_not_the_respondents(codebook):
    lines = ["Интервьюер: А родные?",
             "Респондент: Сестра моя, кстати, тоже собирается, но она боится, что дорого. "
             "Подруга посоветовала мне этого врача."]
    # the sister's fear and price are hers; a friend's recommendation is the respondent's motivator
    assert drafted(lines, codebook) == ["recommendation"]
    assert codes_of("Я боюсь, что дорого.", codebook) == ["high_price", "emotion_fear"]
    # a clause about the other person inside the respondent's own sentence
    lines = ["Интервьюер: Порекомендуете?", "Респондент: Я сестру к нему отправила, она тоже боится дорогих врачей."]
    assert drafted(lines, codebook) == []
    # reported words about the respondent (after a colon) stay the respondent's
    lines = ["Интервьюер: А коллеги?", "Респондент: Коллеги говорят: ты какая-то внимательная стала."]
    assert drafted(lines, codebook) == ["caring_staff"]


def test_other_clinics_are_not_this_clinic(codebook):
    lines = ["Интервьюер: А раньше где лечились?",
             "Респондент: В другой клинике было дорого. Там ждать приходилось по два часа. "
             "Сейчас я очень довольна, хотя тоже дорого."]
    d = interview(lines, codebook)
    assert d["code"].tolist() == ["high_price"] and d["sentence"].tolist() == [3]
    # an answer to a question about other clinics is about them
    lines = ["Интервьюер: Смотрели другие клиники?", "Респондент: Ну да, в одну сходил. Там дорого и очередь."]
    assert drafted(lines, codebook) == []


def test_irony_lowers_confidence_below_the_draft(codebook):
    lines = ["Интервьюер: Как персонал?", "Респондент: Очень внимательная, ага. Пришла и в телефоне сидит."]
    assert drafted(lines, codebook) == []
    lines = ["I: How were the staff?", "R: Really nice. So that was nice. Not."]
    d = interview(lines, codebook)
    assert d["sentence"].tolist() == [1]  # the second, ironic, sentence is dropped
    lines = ["Интервьюер: Как персонал?", "Респондент: Очень внимательная."]
    assert drafted(lines, codebook) == ["caring_staff"]


def test_keyword_in_another_sense_is_excluded(codebook):
    assert codes_of("Подписал согласие на обработку персональных данных.", codebook) == []
    lines = ["Интервьюер: Договор?", "Респондент: Подписал договор и приложение к договору."]
    assert drafted(lines, codebook) == []


def test_ideas_need_a_wish_and_hypotheticals_did_not_happen(codebook):
    lines = ["Интервьюер: Что изменить?", "Респондент: Было бы удобно записываться через приложение."]
    assert drafted(lines, codebook) == ["idea_online_booking"]
    lines = ["Интервьюер: Что пришло?", "Респондент: Мне пришло уведомление в приложении."]
    assert drafted(lines, codebook) == []
    lines = ["Интервьюер: Удобно добираться?",
             "Респондент: Если бы надо было ехать, я бы давно бросила, ждать бы не стала."]
    assert drafted(lines, codebook) == []


def test_quoted_advert_is_not_a_statement(codebook):
    lines = ["Интервьюер: Что присылают?", "Респондент: Шлют смс: «Акция! Скидка! Только сегодня!» Я не открываю."]
    assert drafted(lines, codebook) == []


def test_a_bare_yes_answer_carries_the_code_of_the_question(codebook):
    lines = ["Интервьюер: Было страшно?", "Респондент: Очень."]
    d = interview(lines, codebook)
    assert d["code"].tolist() == ["emotion_fear"] and d["matched_words"].tolist() == ["страшно"]
    lines = ["Интервьюер: Было страшно?", "Респондент: Нет."]
    assert drafted(lines, codebook) == []


def test_a_bare_yes_does_not_take_the_interviewers_politeness(codebook):
    # the thanks before the question is not its topic; only the interrogative sentence counts
    lines = ["Интервьюер: Андрей, спасибо, что согласились. Вы долго ждали приёма?", "Респондент: Да."]
    assert drafted(lines, codebook) == ["waiting_time"]
    lines = ["Интервьюер: Спасибо, очень интересно. Расскажите, как всё началось.", "Респондент: Да."]
    assert drafted(lines, codebook) == []
    lines = ["Интервьюер: Вы им благодарны? Спасибо сказали?", "Респондент: Конечно."]
    assert drafted(lines, codebook) == ["emotion_gratitude"]  # «благодарный» is the topic asked about


# --- word families and loose phrases ---------------------------------------------------------

@pytest.mark.parametrize("keyword, form", [
    ("пугать", "испугалась"), ("пугать", "напугало"), ("пугать", "пугало"),  # prefixed, reflexive
    ("злить", "разозлило"), ("злить", "злилась"),
    ("бесить", "взбесило"), ("бесить", "выбешивало"),  # an unknown word read as a past form
    ("напрягать", "напрягло"),  # aspect pair with a consonant alternation
    ("вывести", "выводит"),  # irregular aspect pair
    ("ждать", "подождали"), ("ждать", "прождала"), ("задержать", "задерживаться"),
])
def test_a_keyword_verb_matches_its_family(keyword, form):
    assert same_family(family_keys(keyword), family_keys(form)), (keyword, form)


@pytest.mark.parametrize("keyword, form", [
    ("привести", "вывести"), ("задержать", "держала"), ("достать", "стало"), ("бесить", "победить"),
    ("видеть", "обидеть"), ("ждать", "нуждаться"),
])
def test_a_prefix_or_a_look_alike_is_another_word(keyword, form):
    assert not same_family(family_keys(keyword), family_keys(form)), (keyword, form)


def test_families_and_loose_order_in_sentences(codebook):
    assert codes_of("Меня это прям из себя выводит.", codebook) == ["emotion_irritation"]
    assert codes_of("Это меня, конечно, выбешивало.", codebook) == ["emotion_irritation"]
    assert codes_of("Меня это напрягло.", codebook) == ["emotion_irritation"]
    assert codes_of("Я этого побаивалась, а потом испугалась всерьёз.", codebook) == ["emotion_fear"]
    assert codes_of("I got really annoyed.", codebook) == ["emotion_irritation"]
    assert codes_of("The stitching's lovely.", codebook) == ["quality_fabric"]  # a clitic is stripped
    # English keeps its order: "love it" is not "it's lovely"
    assert codes_of("It's lovely.", codebook) == []


def test_match_kinds():
    toks = tokenize("Рассрочки у них нет.")
    (m,) = find_keyword(toks, compile_keyword("нет рассрочки"))
    assert m.kind == "loose" and not m.negated
    (m,) = find_keyword(tokenize("Меня это взбесило."), compile_keyword("бесить"))
    assert m.kind == "family"


# --- confidence and sentiment -----------------------------------------------------------------

def test_every_row_has_a_confidence_and_phrases_outrank_words(codebook):
    lines = ["Интервьюер: Как было?",
             "Респондент: Рассрочки у них нет. Дорого. Меня это взбесило. Без рассрочки не потяну."]
    d = interview(lines, codebook)
    assert d["confidence"].between(codebook.min_confidence, 1).all()
    conf = dict(zip(zip(d["sentence"], d["code"]), d["confidence"]))
    assert conf[4, "no_installments"] > conf[2, "high_price"] > conf[3, "emotion_irritation"]
    assert conf[1, "no_installments"] < conf[4, "no_installments"]  # out of order < in order


def test_clause_sentiment_with_intensifiers_fillers_and_case_lexicon(codebook):
    lex = codebook.lexicon_index()

    def s(text):
        return sentence_sentiment(tokenize(text), lex)

    assert s("Меня это бесит, честно.") == -2  # «бесить» is negative, the filler «честно» scores nothing
    assert s("Я, честно, присел.") is None
    assert s("Внимательные.") == 1 and s("Очень внимательные.") == 2  # an intensifier strengthens
    assert s("Совсем не страшно.") == 1  # negation flips and weakens, the intensifier does not add
    assert s("Он меня кошмарил.") == -2  # the case's codebook extends the lexicon
    lines = ["Интервьюер: Как было?", "Респондент: Врач внимательный, но ждать меня это бесило."]
    d = interview(lines, codebook).set_index("code")["suggested_sentiment"]
    assert d["caring_staff"] == 1 and d["waiting_time"] == -2  # each code from its own clause
