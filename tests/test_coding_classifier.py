"""The supervised sentence classifier of the draft coder (toolkit.coding.classifier): trained on
hand-coded interviews named by the codebook, it proposes codes the keywords miss, never codes an
interview with a model trained on it, and reports a bad ``classifier`` block in one message."""

from __future__ import annotations

import textwrap

import pandas as pd
import pytest

from toolkit.coding import classifier
from toolkit.coding.autocode import draft_codes
from toolkit.coding.codebook import read_codebook
from toolkit.coding.transcripts import split_turns
from toolkit.core.errors import InputFileError

# Six training interviews: the price shock is told in words no keyword lists («присел», «глаза
# на лоб», «две зарплаты»), the waiting in words the keyword «ждать» does not cover.
PRICE = ["Сказали сумму — я аж присел, это две мои зарплаты.", "Назвали цену — у меня глаза на лоб, две зарплаты.",
         "Как услышала сумму, так и присела, полторы зарплаты.", "Сумма — три зарплаты, я чуть не присел.",
         "Цифру назвали — глаза на лоб полезли, почти зарплата.", "Озвучили итог, и я просто присела на стул."]
QUEUE = ["Просидела в коридоре час, врач опаздывал.", "Сидел в холле полтора часа, никто не звал.",
         "Час в коридоре, приём сдвинули.", "Полтора часа в холле просидела.",
         "В коридоре час сидели, врач задерживался.", "Сидели в холле почти час."]
FILLER = ["Ну, я живу недалеко, в соседнем районе.", "Работаю бухгалтером, двое детей.",
          "Муж возил меня на машине.", "Лечение прошло, пломбы стоят.", "Зима была холодная, гололёд.",
          "Дочка учится в школе, в пятом классе."]


def _write_training(folder):
    (folder / "transcripts").mkdir(parents=True)
    rows = []
    for n, (p, q, f) in enumerate(zip(PRICE, QUEUE, FILLER), start=1):
        rid = f"T{n}"
        (folder / "transcripts" / f"{rid}.txt").write_text(
            f"Интервьюер: Расскажите.\nРеспондент: {f} {p}\nИнтервьюер: А дальше?\nРеспондент: {q} {f}\n",
            encoding="utf-8")
        rows += [(rid, "high_price", p.split(" — ")[-1]), (rid, "waiting_time", q)]
    pd.DataFrame(rows, columns=["respondent_id", "code", "quote"]).to_csv(folder / "hand.csv", index=False)


CODEBOOK = textwrap.dedent(
    """
    similarity: false
    classifier:
      min_probability: 0.5
      training:
        - {transcripts: train/transcripts, hand_coding: train/hand.csv}
    codes:
      - {code: high_price, type: barrier, stage: evaluation, keywords: [дорого]}
      - {code: waiting_time, type: barrier, stage: experience, keywords: [ждать]}
      - {code: caring_staff, type: motivator, stage: experience, keywords: [внимательный],
         examples: ["Врач всё объяснила и никуда не торопила."]}
    """
)


@pytest.fixture(scope="module")
def codebook(tmp_path_factory):
    root = tmp_path_factory.mktemp("clf")
    _write_training(root / "train")
    (root / "codebook.yml").write_text(CODEBOOK, encoding="utf-8")
    return read_codebook(root / "codebook.yml")


def _draft(lines, codebook, rid="R1"):
    turns, _ = split_turns(lines, rid, ["Интервьюер"], ["Респондент"])
    return draft_codes(turns, codebook)


def test_training_sentences_are_labelled_from_the_quotes(codebook):
    table, y = classifier.training_table(codebook.classifier, list(codebook.codes))
    assert len(table) == 6 * 4 and set(table["respondent_id"]) == {f"T{n}" for n in range(1, 7)}
    assert y[:, 0].sum() == 6 and y[:, 1].sum() == 6 and y[:, 2].sum() == 0  # the filler is nobody's
    labelled = table["text"][y[:, 1] == 1].tolist()
    assert labelled == QUEUE


def test_a_paraphrase_no_keyword_covers_is_proposed_with_a_lower_confidence(codebook):
    d = _draft(["Интервьюер: Как цены?", "Респондент: Назвали сумму, я прям присела, две зарплаты.",
                "Интервьюер: А приём?", "Респондент: Просидела в коридоре час. А так дорого, конечно."], codebook)
    found = dict(zip(zip(d["turn"], d["sentence"], d["code"]), d["confidence"]))
    assert set(found) == {(2, 1, "high_price"), (4, 1, "waiting_time"), (4, 2, "high_price")}
    assert found[2, 1, "high_price"] < found[4, 2, "high_price"]  # the model's proposal ranks under a keyword hit
    model_rows = d[d["matched_words"] == ""]
    assert model_rows["confidence"].between(classifier.CONF_LOW, classifier.CONF_HIGH).all()


def test_context_rules_keep_the_model_off_other_people_and_negations(codebook):
    assert _draft(["Интервьюер: А сестра?", "Респондент: Сестре назвали сумму, она присела, две зарплаты."],
                  codebook).empty
    assert _draft(["Интервьюер: Ждали?", "Респондент: Нет, в коридоре не сидела ни минуты."], codebook).empty


def test_no_interview_is_coded_by_a_model_trained_on_it(codebook):
    own, other = classifier.model_for(codebook, "T1"), classifier.model_for(codebook, "R1")
    assert own is not other and classifier.model_for(codebook, "T1") is own  # cached per left-out interview
    state = codebook._classifier_state
    assert set(state["models"]) >= {"T1", ""}
    # the left-out model never saw T1's sentences: its probabilities differ from the full model's
    text = [PRICE[0]]
    assert own.probabilities(text)[0, 0] < other.probabilities(text)[0, 0]


def test_the_draft_with_the_model_is_deterministic(codebook):
    lines = ["Интервьюер: Как цены?", "Респондент: Назвали сумму, я прям присела, две зарплаты."]
    assert _draft(lines, codebook).equals(_draft(lines, codebook))


@pytest.mark.parametrize("block, message", [
    ("classifier: yes", "expected a mapping"),
    ("classifier: {training: []}", "expected a list"),
    ("classifier: {training: [{transcripts: nowhere, hand_coding: none.csv}]}", "does not exist"),
    ("classifier: {min_probability: 2, training: [{transcripts: t, hand_coding: h.csv}]}", "between 0 and 1"),
    ("classifier: {trainig: [], training: [{transcripts: t, hand_coding: h.csv}]}", "unknown key 'trainig'"),
])
def test_a_bad_classifier_block_is_one_clear_message(tmp_path, block, message):
    (tmp_path / "t").mkdir()
    (tmp_path / "h.csv").write_text("respondent_id,code,quote\n", encoding="utf-8")
    p = tmp_path / "codebook.yml"
    p.write_text(block + "\ncodes:\n  - {code: high_price, type: barrier, stage: evaluation, keywords: [дорого]}\n",
                 encoding="utf-8")
    with pytest.raises(InputFileError, match=message):
        read_codebook(p)


def test_a_training_sheet_without_quotes_is_named(tmp_path):
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "R1.txt").write_text("Интервьюер: Как?\nРеспондент: Дорого.\n", encoding="utf-8")
    (tmp_path / "h.csv").write_text("respondent_id,code\nR1,high_price\n", encoding="utf-8")
    p = tmp_path / "codebook.yml"
    p.write_text("classifier: {training: [{transcripts: t, hand_coding: h.csv}]}\n"
                 "codes:\n  - {code: high_price, type: barrier, stage: evaluation, keywords: [дорого]}\n",
                 encoding="utf-8")
    with pytest.raises(InputFileError, match="h.csv has no quote column"):
        classifier.training_table(read_codebook(p).classifier, ["high_price"])
