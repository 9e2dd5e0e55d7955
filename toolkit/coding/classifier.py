"""A supervised sentence classifier trained on hand-coded interviews: meaning evidence beyond keywords.

A codebook may name **training interviews** — transcripts with their hand coding (respondent_id,
code, quote) — under ``classifier.training``. Every quote is cut at «...»/"…" into pieces; a
respondent sentence (``toolkit.coding.text.split_sentences`` after bracketed remarks are
stripped) that holds a piece is a positive example of the quote's code, every other
respondent sentence of the training interviews a negative one; the codebook's ``examples``
are positives too. One logistic regression per code (liblinear, balanced class weights,
``C``) over character 2-5-grams of the folded sentence and word unigrams of its lemma text
(``toolkit.coding.similar.lemma_text``) gives a sentence the probability of each code. The
models are fitted when the draft is made, from the files alone: nothing is downloaded.

**No interview is coded by a model trained on it**: a training interview whose respondent id
equals the coded respondent's is left out of that respondent's model, so coding the training
interviews themselves gives leave-one-interview-out figures.

The draft proposes a code the keywords did not find when a sentence's probability reaches
``min_probability``, with confidence ``CONF_LOW`` rising linearly to ``CONF_HIGH`` at
probability 1 (the same context rules as for the similarity proposer keep it off other
people's clauses, other places, echoed questions and sentences with a negation).

YAML form (paths relative to the codebook's folder)::

    classifier:
      min_probability: 0.6
      training:
        - {transcripts: dev/transcripts, hand_coding: dev/hand_coding.csv}
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from toolkit.coding import rules
from toolkit.coding.similar import lemma_text
from toolkit.coding.text import split_sentences, tokenize
from toolkit.coding.transcripts import read_transcripts
from toolkit.core.errors import InputFileError
from toolkit.core.text import fold

DEFAULT_MIN_PROBABILITY = 0.6
C = 4.0
CONF_LOW = 0.5
CONF_HIGH = 0.7
QUOTE_PIECE_MIN = 4  # characters of a normalised quote piece worth locating
QUOTE_SPLIT = re.compile(r"\.\.\.|…")
HAND_QUOTE = ("quote", "цитата", "fragment", "фрагмент", "text", "текст")


@dataclass(frozen=True)
class TrainingSet:
    transcripts: Path
    hand_coding: Path
    interviewer_labels: tuple[str, ...] | None = None
    respondent_labels: tuple[str, ...] | None = None


@dataclass(frozen=True)
class ClassifierSpec:
    training: tuple[TrainingSet, ...]
    min_probability: float = DEFAULT_MIN_PROBABILITY


def parse_spec(raw, base: Path | None, problems: list[str]) -> ClassifierSpec | None:
    """The codebook's ``classifier`` block; problems are appended (one sentence each)."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        problems.append("classifier: expected a mapping with 'training' and optionally 'min_probability'")
        return None
    raw = dict(raw)
    p = raw.pop("min_probability", DEFAULT_MIN_PROBABILITY)
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 < p < 1:
        problems.append(f"classifier.min_probability: expected a number between 0 and 1, got '{p}'")
        p = DEFAULT_MIN_PROBABILITY
    sets = []
    training = raw.pop("training", None)
    if not isinstance(training, list) or not training:
        problems.append("classifier.training: expected a list of {transcripts: folder, hand_coding: file}")
        training = []
    for n, item in enumerate(training, start=1):
        if not isinstance(item, dict) or not item.get("transcripts") or not item.get("hand_coding"):
            problems.append(f"classifier.training item {n}: expected transcripts (a folder) and hand_coding (a file)")
            continue
        folder, hand = (Path(str(item[k])) for k in ("transcripts", "hand_coding"))
        if base is not None:
            folder, hand = base / folder, base / hand
        if not folder.is_dir():
            problems.append(f"classifier.training item {n}: the transcript folder {folder} does not exist")
        if not hand.is_file():
            problems.append(f"classifier.training item {n}: the hand-coding file {hand} does not exist")
        labels = [tuple(item[k]) if isinstance(item.get(k), list) else None
                  for k in ("interviewer_labels", "respondent_labels")]
        sets.append(TrainingSet(folder, hand, *labels))
    for key in raw:
        problems.append(f"classifier: unknown key '{key}'")
    return ClassifierSpec(tuple(sets), float(p))


def _norm(text: str) -> str:
    return re.sub(r"\W+", " ", fold(text)).strip()


def respondent_sentences(text: str) -> list[str]:
    """The sentences of a respondent turn, as the draft cuts them."""
    return split_sentences(rules.strip_remarks(text))


def _hand_quotes(path: Path) -> pd.DataFrame:
    try:
        df = pd.read_csv(path, sep=None, engine="python", dtype=str, encoding="utf-8-sig") \
            if path.suffix.lower() == ".csv" else pd.read_excel(path, sheet_name=0, dtype=str)
    except Exception as e:  # unreadable file: say which and why
        raise InputFileError(f"The training hand coding {path.name} cannot be read: {e}.") from None
    cols = {str(c).strip().lower().replace("_", " "): c for c in df.columns}
    pick = {}
    for what, names in (("respondent_id", ("respondent id", "respondent", "респондент")),
                        ("code", ("code", "код")), ("quote", HAND_QUOTE)):
        col = next((cols[n] for n in names if n in cols), None)
        if col is None:
            raise InputFileError(
                f"The training hand coding {path.name} has no {what} column (expected one of {', '.join(names)})."
            )
        pick[what] = df[col]
    return pd.DataFrame(pick).dropna()


def training_table(spec: ClassifierSpec, codes: list[str]) -> tuple[pd.DataFrame, np.ndarray]:
    """Respondent sentences of the training interviews (respondent_id, text) and their 0/1 code matrix."""
    rows = []
    labels = []
    index = {c: j for j, c in enumerate(codes)}
    for ts in spec.training:
        turns = read_transcripts(ts.transcripts, list(ts.interviewer_labels) if ts.interviewer_labels else None,
                                 list(ts.respondent_labels) if ts.respondent_labels else None)
        resp = turns[turns["speaker"] == "respondent"]
        sents = [(str(rid), s) for rid, text in zip(resp["respondent_id"], resp["text"])
                 for s in respondent_sentences(text)]
        y = np.zeros((len(sents), len(codes)), dtype=np.int8)
        norm = [_norm(s) for _, s in sents]
        by_rid: dict[str, list[int]] = {}
        for i, (rid, _) in enumerate(sents):
            by_rid.setdefault(rid, []).append(i)
        for r in _hand_quotes(ts.hand_coding).itertuples(index=False):
            j = index.get(str(r.code).strip())
            if j is None:
                continue
            pieces = [p for p in (_norm(x) for x in QUOTE_SPLIT.split(str(r.quote))) if len(p) >= QUOTE_PIECE_MIN]
            for i in by_rid.get(str(r.respondent_id).strip(), ()):
                if any(p in norm[i] for p in pieces):
                    y[i, j] = 1
        rows += sents
        labels.append(y)
    table = pd.DataFrame(rows, columns=["respondent_id", "text"])
    return table, (np.vstack(labels) if labels else np.zeros((0, len(codes)), dtype=np.int8))


class SentenceModel:
    """One logistic regression per code over a sentence's character n-grams and lemma words."""

    def __init__(self, texts: list[str], y: np.ndarray, codes: list[str]):
        from sklearn.feature_extraction.text import TfidfVectorizer  # optional heavy dependency
        from sklearn.linear_model import LogisticRegression

        self.codes = codes
        raw, lem = [fold(t) for t in texts], [lemma_text(tokenize(t)) for t in texts]
        self.chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True).fit(raw)
        self.words = TfidfVectorizer(analyzer="word", token_pattern=r"\S+", sublinear_tf=True).fit(lem)
        x = self._features(raw, lem)
        self.models = {}
        for j, code in enumerate(codes):
            if 0 < y[:, j].sum() < len(y):
                self.models[j] = LogisticRegression(C=C, class_weight="balanced", solver="liblinear",
                                                    random_state=0).fit(x, y[:, j])

    def _features(self, raw, lem):
        from scipy.sparse import hstack  # comes with scikit-learn

        return hstack([self.chars.transform(raw), self.words.transform(lem)]).tocsr()

    def probabilities(self, texts: list[str]) -> np.ndarray:
        """sentence x code probabilities (0 for a code with no training example)."""
        out = np.zeros((len(texts), len(self.codes)))
        if not texts:
            return out
        x = self._features([fold(t) for t in texts], [lemma_text(tokenize(t)) for t in texts])
        for j, m in self.models.items():
            out[:, j] = m.predict_proba(x)[:, 1]
        return out


def model_for(codebook, respondent_id: str) -> SentenceModel | None:
    """The codebook's classifier for one respondent: trained on every training interview but theirs."""
    spec = codebook.classifier
    if spec is None:
        return None
    state = codebook.__dict__.setdefault("_classifier_state", {})
    if "table" not in state:
        codes = list(codebook.codes)
        table, y = training_table(spec, codes)
        examples = [(e, c) for c in codes for e in codebook.codes[c].examples]
        ex_y = np.array([[int(c == cc) for cc in codes] for _, c in examples], dtype=np.int8).reshape(-1, len(codes))
        state.update(table=table, y=y, examples=examples, ex_y=ex_y, codes=codes, models={})
    table = state["table"]
    key = str(respondent_id) if (table["respondent_id"] == str(respondent_id)).any() else ""
    if key not in state["models"]:
        keep = (table["respondent_id"] != key).to_numpy()
        texts = list(table["text"][keep]) + [e for e, _ in state["examples"]]
        y = np.vstack([state["y"][keep], state["ex_y"]])
        state["models"][key] = SentenceModel(texts, y, state["codes"]) if y.any() else None
    return state["models"][key]


def proposals(probabilities: np.ndarray, codes: list[str], min_probability: float,
              exclude=()) -> dict[str, float]:
    """Codes of one sentence at or above ``min_probability``: code -> confidence."""
    out = {}
    for j, p in enumerate(probabilities):
        if p >= min_probability and codes[j] not in exclude:
            out[codes[j]] = CONF_LOW + (CONF_HIGH - CONF_LOW) * (p - min_probability) / (1 - min_probability)
    return out
