"""Words, lemmas, sentences and keyword matching for interview coding.

Terms used throughout the coding package:

- **token**: a word of the text (letters/digits, inner hyphens and apostrophes kept:
  «из-за», "isn't"), lower-cased, «ё» read as «е».
- **lemma set** of a token: what it can stand for in the dictionary. A Cyrillic token
  gets every normal form pymorphy3 proposes for it (so «цены», «ценой» -> «цена»;
  an ambiguous form keeps all its readings); a Latin token gets its English Snowball
  stem ("prices" -> "price"). The surface form itself is always in the set.
- **keyword**: one entry of a codebook keyword list; one word or a multi-word
  **phrase**. Each of its words becomes a *slot*: the word's dictionary form when the
  author wrote one (so «дорогой» means the adjective, not «дорога»), else its most
  likely normal form; a word ending in ``*`` is a prefix («дорог*» matches any token
  whose surface or lemma starts with «дорог»).
- **phrase match**: the phrase's words appear in order within one sentence, with at
  most ``phrase_gap`` other tokens between two consecutive words (default 2: «долго
  ждать» also matches «долго пришлось ждать»; the reverse order does not match —
  list «ждать долго» too if it should) and in the same clause.
- **negated**: a negation particle (ru «не», «ни», «нет», «без»; en not, no, never,
  without, nor, any "-n't" form) stands within ``negation_window`` tokens (default 3)
  before the match *in the same clause* (clauses are cut at , ; : ( ) dashes and at
  «но», «а», «однако», «зато», but, however, although, though). «совсем не страшно»
  and "not too expensive" are negated; «Нет, дорого» is not. A negated keyword does
  not code its code; a phrase that itself starts with a particle («не дозвониться»)
  is matched as written.
- **sentiment suggestion** of a sentence: the sum of the lexicon scores of its
  words, a negated word's score flipped in sign and weakened to at most 1 in size
  («не страшно» is mildly positive, "not great" mildly negative), clipped to
  [-2, 2] and rounded half away from zero; ``None`` when no lexicon word occurs.
  For sentiment a word is also negated by a following existential negation
  («претензий нет», «проблем не было»); a lexicon phrase scored 0 («честно говоря»)
  shields its words from scoring.
- **Absence barriers** («нет рассрочки», «не перезвонили»): since a negated keyword
  does not code, write the negation into the codebook phrase; a phrase that starts
  with a particle is matched as written.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

TOKEN_RE = re.compile(r"\w+(?:[-'’]\w+)*")
CYRILLIC = re.compile(r"[а-яё]")
# Clause boundaries between two tokens: punctuation, or a dash surrounded by spaces.
CLAUSE_PUNCT = re.compile(r"[.!?…,;:()\[\]«»\"“”]|\s[-–—]\s|[–—]")
# Contrastive conjunctions: they cut a clause and also a *segment* (the unit of the polarity check).
CONTRAST_WORDS = frozenset({"но", "а", "однако", "зато", "хотя", "but", "however", "although", "though", "whereas"})
CLAUSE_WORDS = CONTRAST_WORDS
NEGATORS = frozenset({"не", "ни", "нет", "без", "not", "no", "never", "without", "nor", "cannot", "dont"})
DEFAULT_PHRASE_GAP = 2
DEFAULT_NEGATION_WINDOW = 3

# A sentence ends at . ! ? … (possibly repeated) followed by space and a capital,
# a digit, a dash or an opening quote, or at a line break.
SENTENCE_END = re.compile(r"(?:(?<=[.!?…])|(?<=[.!?…][\"»”)]))\s+(?=[«\"“(\-–—A-ZА-ЯЁ0-9])|\s*\n\s*")


@lru_cache(maxsize=1)
def morph():
    """The pymorphy3 analyser, built once per process (building it takes ~0.1 s, parsing is cached)."""
    import pymorphy3

    return pymorphy3.MorphAnalyzer()


@lru_cache(maxsize=1)
def _english_stemmer():
    import snowballstemmer

    return snowballstemmer.stemmer("english")


def normalise(word: str) -> str:
    return word.lower().replace("ё", "е").replace("’", "'")


@lru_cache(maxsize=200_000)
def lemmas(word: str) -> frozenset[str]:
    """Lemma set of one (normalised) token: surface + every pymorphy3 normal form, or the English stem."""
    if CYRILLIC.search(word):
        forms = {p.normal_form.replace("ё", "е") for p in morph().parse(word)}
    elif word.isascii() and word.isalpha():
        forms = {_english_stemmer().stemWord(word)}
    else:
        forms = set()
    forms.add(word)
    return frozenset(forms)


@lru_cache(maxsize=50_000)
def keyword_lemma(word: str) -> frozenset[str]:
    """Slot of one keyword word: the word itself if it is a dictionary form, else its likeliest lemma."""
    if CYRILLIC.search(word):
        parses = morph().parse(word)
        if any(p.normal_form.replace("ё", "е") == word for p in parses):
            return frozenset({word})
        return frozenset({parses[0].normal_form.replace("ё", "е")})
    if word.isascii() and word.isalpha():
        return frozenset({_english_stemmer().stemWord(word)})
    return frozenset({word})


def is_negator(token: str) -> bool:
    return token in NEGATORS or token.endswith("n't")


@dataclass(frozen=True)
class Token:
    text: str  # normalised surface
    start: int  # character span in the sentence
    end: int
    clause: int  # clause number within the sentence
    lemmas: frozenset[str]
    segment: int = 0  # segment number: the sentence cut at contrastive conjunctions only


def tokenize(sentence: str) -> list[Token]:
    """Tokens of a sentence with their spans, clause numbers and lemma sets."""
    out: list[Token] = []
    clause = segment = 0
    prev_end = 0
    for m in TOKEN_RE.finditer(sentence):
        word = normalise(m.group())
        if out and (CLAUSE_PUNCT.search(sentence[prev_end : m.start()]) or word in CLAUSE_WORDS):
            clause += 1
        if out and word in CONTRAST_WORDS:
            segment += 1
        out.append(Token(word, m.start(), m.end(), clause, lemmas(word), segment))
        prev_end = m.end()
    return out


def split_sentences(text: str) -> list[str]:
    """Sentences of a turn (see ``SENTENCE_END``); empty pieces dropped."""
    return [s.strip() for s in SENTENCE_END.split(text) if s and s.strip()]


@dataclass(frozen=True)
class Slot:
    lemmas: frozenset[str] = frozenset()
    prefix: str | None = None

    def matches(self, tok: Token) -> bool:
        if self.prefix is not None:
            return tok.text.startswith(self.prefix) or any(lem.startswith(self.prefix) for lem in tok.lemmas)
        return not self.lemmas.isdisjoint(tok.lemmas)


@dataclass(frozen=True)
class Keyword:
    """A compiled keyword or phrase (see module docstring)."""

    text: str
    slots: tuple[Slot, ...]


def compile_keyword(text: str) -> Keyword | None:
    """Compile one keyword/phrase; ``None`` if it holds no word."""
    words = [normalise(m.group()) for m in re.finditer(r"\w+(?:[-'’]\w+)*\*?", text)]
    slots = []
    for w in words:
        if w.endswith("*"):
            slots.append(Slot(prefix=w[:-1]))
        else:
            slots.append(Slot(lemmas=keyword_lemma(w)))
    if not slots:
        return None
    return Keyword(text.strip(), tuple(slots))


@dataclass(frozen=True)
class Match:
    keyword: Keyword
    positions: tuple[int, ...]  # token indices of the phrase words
    negated: bool


def match_at(tokens: list[Token], i: int, keyword: Keyword, phrase_gap: int = DEFAULT_PHRASE_GAP):
    """Token positions of ``keyword`` starting at token ``i``, or ``None``.

    Greedy: each next phrase word is the nearest token within the gap.
    """
    if not keyword.slots[0].matches(tokens[i]):
        return None
    pos = [i]
    for slot in keyword.slots[1:]:
        j = pos[-1] + 1
        limit = min(len(tokens), pos[-1] + 2 + phrase_gap)
        while j < limit and not slot.matches(tokens[j]):
            j += 1
        if j >= limit or tokens[j].clause != tokens[i].clause:
            return None
        pos.append(j)
    return tuple(pos)


def find_matches(
    tokens: list[Token],
    keyword: Keyword,
    phrase_gap: int = DEFAULT_PHRASE_GAP,
    negation_window: int = DEFAULT_NEGATION_WINDOW,
) -> list[Match]:
    """Every occurrence of ``keyword`` in the sentence's tokens, with its negation flag."""
    out = []
    for i in range(len(tokens)):
        pos = match_at(tokens, i, keyword, phrase_gap)
        if pos is not None:
            out.append(Match(keyword, pos, is_negated(tokens, i, negation_window)))
    return out


class KeywordIndex:
    """Many keywords, each with a payload, found in a sentence without trying every keyword.

    Keywords are indexed by the lemmas of their first word (prefix keywords are tried
    at every token); only the candidates a token's lemmas select are verified.
    """

    def __init__(self, entries, phrase_gap: int = DEFAULT_PHRASE_GAP,
                 negation_window: int = DEFAULT_NEGATION_WINDOW):
        self.entries = list(entries)  # [(payload, Keyword)]
        self.phrase_gap = phrase_gap
        self.negation_window = negation_window
        self.by_lemma: dict[str, list[int]] = {}
        self.prefixed: list[int] = []
        for n, (_, kw) in enumerate(self.entries):
            first = kw.slots[0]
            if first.prefix is not None:
                self.prefixed.append(n)
            else:
                for lem in first.lemmas:
                    self.by_lemma.setdefault(lem, []).append(n)

    def find(self, tokens: list[Token]) -> list[tuple[object, Match]]:
        """(payload, match) pairs in order of position, then entry order."""
        out = []
        for i, tok in enumerate(tokens):
            cands = set(self.prefixed)
            for lem in tok.lemmas:
                cands.update(self.by_lemma.get(lem, ()))
            for n in sorted(cands):
                payload, kw = self.entries[n]
                pos = match_at(tokens, i, kw, self.phrase_gap)
                if pos is not None:
                    out.append((payload, Match(kw, pos, is_negated(tokens, i, self.negation_window))))
        return out


def is_negated(tokens: list[Token], i: int, window: int = DEFAULT_NEGATION_WINDOW) -> bool:
    """Is token ``i`` preceded by a negation particle within ``window`` tokens of its clause?"""
    clause = tokens[i].clause
    for j in range(max(0, i - window), i):
        if tokens[j].clause == clause and is_negator(tokens[j].text):
            return True
    return False


def round_half_away(x: float) -> int:
    return int(math.copysign(math.floor(abs(x) + 0.5), x))


def sentiment_hits(tokens: list[Token], lexicon: KeywordIndex) -> list[tuple[tuple[int, ...], float]]:
    """Lexicon words of a sentence as (token positions, contribution), in order of position.

    A token counts once: when several lexicon entries cover it, the longest (then the
    first listed) wins, so a phrase entry overrides its single words. A negated
    entry contributes its score flipped in sign and weakened to at most 1 in size.
    """
    candidates = [
        (-len(m.positions), m.positions[0], order, m, score)
        for order, (score, m) in enumerate(lexicon.find(tokens))
    ]
    used: set[int] = set()
    out = []
    for _, _, _, m, score in sorted(candidates, key=lambda c: c[:3]):
        if used.intersection(m.positions):
            continue
        used.update(m.positions)
        if score == 0:  # a neutral phrase («честно говоря») only shields its words
            continue
        negated = m.negated or denies_existence(tokens, m.positions[-1])
        out.append((m.positions, -math.copysign(min(abs(score), 1.0), score) if negated else score))
    return sorted(out)


def denies_existence(tokens: list[Token], i: int, window: int = DEFAULT_NEGATION_WINDOW) -> bool:
    """Russian existential negation after a word: «претензий (к ним) нет», «проблем не было».

    «нет», or «не» + a form of «быть», within ``window`` tokens after token ``i`` in its
    clause. Used for sentiment only: for codes the same construction often *is* the
    barrier («рассрочки не было»), so codes rely on the codebook's phrases instead.
    """
    clause = tokens[i].clause
    for j in range(i + 1, min(len(tokens), i + 1 + window)):
        if tokens[j].clause != clause:
            return False
        if tokens[j].text == "нет":
            return True
        if tokens[j].text == "не" and j + 1 < len(tokens) and "быть" in tokens[j + 1].lemmas:
            return True
    return False


def to_scale(total: float) -> int:
    """A sum of lexicon scores on the -2..+2 scale: clipped, rounded half away from zero."""
    return round_half_away(max(-2.0, min(2.0, total)))


def sentence_sentiment(tokens: list[Token], lexicon: KeywordIndex) -> int | None:
    """Sentiment suggestion of one sentence (see module docstring); ``None`` without lexicon words."""
    hits = sentiment_hits(tokens, lexicon)
    if not hits:
        return None
    return to_scale(sum(c for _, c in hits))


def segment_sentiment(tokens: list[Token], hits) -> dict[int, float]:
    """Sum of lexicon contributions per segment (segments without lexicon words are absent)."""
    out: dict[int, float] = {}
    for positions, contribution in hits:
        seg = tokens[positions[0]].segment
        out[seg] = out.get(seg, 0.0) + contribution
    return out
