"""Leave-one-interview-out measurement of supervised sentence classifiers on the dev interviews.

Issue 19 asked whether a classifier trained on the dev hand coding (the quotes located in
their sentences) plus the codebook's example sentences proposes codes the keyword draft
misses, at a precision worth a reviewer's time. This script measures it, honestly: every dev
interview is coded by models trained on the *other* dev interviews (and the examples), and
the (respondent, code) pairs are compared with the hand coding.

- ``lr``: one logistic regression per code (class weights balanced, C=4) over character
  2-5-grams of the folded sentence plus word unigrams of its lemma text
  (``toolkit.coding.similar.lemma_text``); a pair is proposed when a sentence's
  probability reaches the threshold.
- ``knn``: the best TF-IDF cosine (words + character 3-5-grams, as ``similar.py``) of a
  sentence to the code's positive training sentences and examples.

For each threshold it prints the classifier alone (precision, recall, pairs) and what it adds
to the keyword draft (pairs added, of which right). Not a test (it takes about ten minutes per
language for ``lr`` on two cores); run from the repository root:

    .venv/bin/python tests/coding_realistic/cv_sentence_classifier.py ru lr
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.sparse import hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from toolkit.coding import case_codebook, case_transcripts, draft_codes, rules
from toolkit.coding.similar import lemma_text
from toolkit.coding.text import split_sentences, tokenize
from toolkit.core.config import load_case
from toolkit.core.text import fold

ROOT = Path(__file__).resolve().parent
THRESHOLDS = {"lr": (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9), "knn": (0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7)}


def _norm(s: str) -> str:
    return re.sub(r"\W+", " ", fold(s)).strip()


def labelled_sentences(part: Path):
    """Respondent sentences of a part and a 0/1 matrix sentence x code from the hand-coding quotes
    (a quote's pieces, split at «...», located in the respondent's sentences)."""
    case = load_case(part)
    codebook = case_codebook(case)
    turns = case_transcripts(case)
    hand = pd.read_csv(part / "hand_coding.csv", dtype=str)
    resp = turns[turns["speaker"] == "respondent"]
    rows = [(rid, turn, n, s) for rid, turn, text in zip(resp["respondent_id"], resp["turn"], resp["text"])
            for n, s in enumerate(split_sentences(rules.strip_remarks(text)), 1)]
    sents = pd.DataFrame(rows, columns=["rid", "turn", "n", "text"])
    sents["norm"] = sents["text"].map(_norm)
    sents["lemma"] = [lemma_text(tokenize(s)) for s in sents["text"]]
    codes = list(codebook.codes)
    y = np.zeros((len(sents), len(codes)), dtype=int)
    for r in hand.itertuples(index=False):
        pieces = [p for p in (_norm(x) for x in re.split(r"\.\.\.|…", r.quote)) if len(p) > 3]
        for i in sents.index[sents["rid"] == r.respondent_id]:
            if any(p in sents.at[i, "norm"] for p in pieces):
                y[i, codes.index(r.code)] = 1
    return case, codebook, turns, hand, sents, codes, y


def _examples(codebook, codes):
    return [(e, c) for c in codes for e in codebook.codes[c].examples]


def cv_lr(sents, codes, y, examples) -> np.ndarray:
    prob = np.zeros(y.shape)
    ex_y = np.array([[int(c == cc) for cc in codes] for _, c in examples])
    for rid in sorted(sents["rid"].unique()):
        test = (sents["rid"] == rid).to_numpy()
        raw = [fold(s) for s in sents["text"][~test]] + [fold(e) for e, _ in examples]
        lem = list(sents["lemma"][~test]) + [lemma_text(tokenize(e)) for e, _ in examples]
        chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True).fit(raw)
        words = TfidfVectorizer(analyzer="word", token_pattern=r"\S+", sublinear_tf=True).fit(lem)
        x_train = hstack([chars.transform(raw), words.transform(lem)]).tocsr()
        x_test = hstack([chars.transform([fold(s) for s in sents["text"][test]]),
                         words.transform(list(sents["lemma"][test]))]).tocsr()
        y_train = np.vstack([y[~test], ex_y])
        for j in range(len(codes)):
            if y_train[:, j].any():
                m = LogisticRegression(C=4.0, class_weight="balanced", max_iter=2000).fit(x_train, y_train[:, j])
                prob[test, j] = m.predict_proba(x_test)[:, 1]
    return prob


def cv_knn(sents, codes, y, examples) -> np.ndarray:
    best = np.zeros(y.shape)
    for rid in sorted(sents["rid"].unique()):
        test = (sents["rid"] == rid).to_numpy()
        train_idx = np.where(~test)[0]
        pos = [(sents.at[i, "lemma"], codes[j]) for i, j in zip(*np.where(y[train_idx] > 0)) for i in [train_idx[i]]]
        texts = [lemma_text(tokenize(e)) for e, _ in examples] + [t for t, _ in pos]
        owners = [c for _, c in examples] + [c for _, c in pos]
        w = TfidfVectorizer(analyzer="word", token_pattern=r"\S+", sublinear_tf=True).fit(texts)
        ch = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True).fit(texts)
        q = list(sents["lemma"][test])
        sim = ((w.transform(q) @ w.transform(texts).T).toarray() + (ch.transform(q) @ ch.transform(texts).T).toarray()) / 2
        for k, c in enumerate(owners):
            j = codes.index(c)
            best[test, j] = np.maximum(best[test, j], sim[:, k])
    return best


def main(lang: str, method: str) -> None:
    case, codebook, turns, hand, sents, codes, y = labelled_sentences(ROOT / lang / "dev")
    hand_pairs = set(zip(hand["respondent_id"], hand["code"]))
    draft = draft_codes(turns, codebook)
    draft_pairs = set(zip(draft["respondent_id"], draft["code"]))
    examples = _examples(codebook, codes)
    score = (cv_lr if method == "lr" else cv_knn)(sents, codes, y, examples)
    both = len(draft_pairs & hand_pairs)
    print(f"{lang} dev, {sents['rid'].nunique()} interviews, {len(hand_pairs)} hand pairs; keyword draft "
          f"P {both / len(draft_pairs):.2f} R {both / len(hand_pairs):.2f} (in-sample: tuned on dev)")
    for t in THRESHOLDS[method]:
        pairs = {(sents.at[i, "rid"], codes[j]) for i, j in zip(*np.where(score >= t))}
        hit = len(pairs & hand_pairs)
        added = pairs - draft_pairs
        print(f"{method} >= {t:.2f}: alone P {hit / max(len(pairs), 1):.2f} R {hit / len(hand_pairs):.2f} "
              f"({len(pairs)} pairs); adds {len(added)} pairs to the draft, {len(added & hand_pairs)} right")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "lr")
