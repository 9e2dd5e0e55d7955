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
  ждать» also matches «долго пришлось ждать») and in the same clause (kind "exact").
  Failing that, the words in another order within one clause, spanning at most
  ``(words - 1) * (phrase_gap + 1)`` tokens (kind "loose": «из себя выводит» for
  «вывести из себя», «рассрочки у них нет» for «нет рассрочки»). Only Russian phrases
  (free word order; English order carries the meaning), and not one opening with «без».
- **verb family**: a keyword verb also matches its aspect pair, reflexive and prefixed
  forms (``toolkit.coding.families``; kind "family": «пугать» ~ «испугалась»,
  «бесить» ~ «выбешивало»).
- **negated**: a negation particle (ru «не», «ни», «нет», «без», «нельзя»; en not, no, never,
  without, nor, any "-n't" form) or a negative pronoun or adverb (``NEGATIVE_PRONOUNS``:
  «никакой», «никто», «ничего», «никогда», «нигде»..., none, nobody, nothing, nowhere) stands
  within ``negation_window`` tokens (default 3) before the match — a negative pronoun
  anywhere before it in its clause («Никто из врачей меня ни разу не торопил», "None of it
  was expensive") — or within two tokens after it, *in the same clause* (clauses are cut at , ; : ( )
  dashes and at «но», «а», «однако», «зато», but, however, although, though):
  «совсем не страшно», "not too expensive", «ждать не приходилось», «рассрочку брать не
  хотела», «никакой очереди», "never had to wait" are negated; «Нет, дорого» is not
  («не только» / "not only", «ничего себе», "never mind" never negate).
  So is everything in the scope of a denial opener («не скажу, что…», «не то чтобы»,
  "I wouldn't say", "not that": the rest of its clause, or the next clause when the
  opener ends its own). A negated keyword does not code its code; a phrase that itself
  holds a particle («не дозвониться», «рассрочки нет») is matched as written and only
  a denial scope negates it.
- **sentiment suggestion** of a sentence: the sum of the lexicon scores of its
  words, a negated word's score flipped in sign and weakened to at most 1 in size
  («не страшно» is mildly positive, "not great" mildly negative), times 1.5 after an
  intensifier (not negated) («очень внимательные», «прям бесит», "really annoying"), clipped to
  [-2, 2] and rounded half away from zero; ``None`` when no lexicon word occurs.
  A draft row takes the sum over the clauses holding its match (see autocode).
  For sentiment a word is also negated by a following existential negation
  («претензий нет», «проблем не было»); a lexicon phrase scored 0 («честно говоря»)
  shields its words from scoring.
- **Absence barriers** («нет рассрочки», «не перезвонили»): since a negated keyword
  does not code, write the negation into the codebook phrase.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

from toolkit.coding.families import family_keys, same_family
from toolkit.coding.lexicon import INTENSIFIER_FACTOR, INTENSIFIERS
from toolkit.core.text import english_stemmer, fold, morph

TOKEN_RE = re.compile(r"\w+(?:[-'’]\w+)*")
CYRILLIC = re.compile(r"[а-яё]")
ENGLISH_CLITIC = re.compile(r"'(?:s|d|ll|re|ve|m)$")  # "stitching's" -> stitching; "n't" stays a negator
# Clause boundaries between two tokens: punctuation, or a dash surrounded by spaces.
CLAUSE_PUNCT = re.compile(r"[.!?…,;:()\[\]«»\"“”]|\s[-–—]\s|[–—]")
# Contrastive conjunctions: they cut a clause and also a *segment* (the unit of the polarity check).
CONTRAST_WORDS = frozenset({"но", "а", "однако", "зато", "хотя", "but", "however", "although", "though", "whereas"})
CLAUSE_WORDS = CONTRAST_WORDS
NEGATORS = frozenset({"не", "ни", "нет", "без", "нельзя", "not", "no", "never", "without", "nor", "cannot", "dont"})
# Negative pronouns and adverbs negate like a particle: «никакой очереди», «никогда не ждала»,
# «никто не звонил», "none of them", "nobody helped", "nothing wrong" (every case form listed:
# the test is on the surface form, as for the particles).
NEGATIVE_PRONOUNS = frozenset("""
никакой никакая никакое никакие никакого никакую никаких никаким никакими никакому никакою
никто никого никому никем ничто ничего ничему ничем никогда нигде никуда ниоткуда нисколько ничуть
none nobody nothing nowhere neither noone
""".split())
# «ничего себе» (an exclamation), "nothing but", "never mind" do not deny what follows.
NOT_NEGATING_AFTER = {"ничего": ("себе",), "nothing": ("but",), "never": ("mind",)}
# A phrase opening with a preposition-like negator keeps its order («без рассрочки» is not
# «рассрочка без процентов»); other phrases also match out of order within a clause.
ORDERED_NEGATORS = frozenset({"без"})
DEFAULT_PHRASE_GAP = 2
DEFAULT_NEGATION_WINDOW = 3
POST_NEGATION_WINDOW = 2  # «ждать не приходилось», «рассрочку брать не хотела»; further on, it is another predicate

# A sentence ends at . ! ? … (possibly repeated) followed by space and a capital,
# a digit, a dash or an opening quote, or at a line break.
SENTENCE_END = re.compile(r"(?:(?<=[.!?…])|(?<=[.!?…][\"»”)]))\s+(?=[«\"“(\-–—A-ZА-ЯЁ0-9])|\s*\n\s*")


@lru_cache(maxsize=200_000)
def lemmas(word: str) -> frozenset[str]:
    """Lemma set of one (normalised) token: surface + every pymorphy3 normal form, or the English stem."""
    if CYRILLIC.search(word):
        forms = {p.normal_form.replace("ё", "е") for p in morph().parse(word)}
    elif word.isascii() and (bare := ENGLISH_CLITIC.sub("", word)).isalpha():
        forms = {english_stemmer().stemWord(bare), bare}
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
        return frozenset({english_stemmer().stemWord(word)})
    return frozenset({word})


def is_negator(token: str) -> bool:
    return token in NEGATORS or token in NEGATIVE_PRONOUNS or token.endswith("n't")


# «не скажу, что…», «не то чтобы», "I wouldn't say", "not that": the rest of the sentence
# up to a contrastive conjunction is denied.
DENIAL_OPENERS = (
    ("не", "скажу"), ("не", "сказать"), ("не", "могу", "сказать"), ("не", "то", "чтобы"),
    ("не", "то", "что"), ("не", "сказал"), ("не", "сказала"), ("not", "that"), ("wouldn't", "say"),
    ("won't", "say"), ("can't", "say"), ("not", "to", "say"), ("wouldn't", "call"), ("not", "exactly"), ("not", "like"),
)


@dataclass(frozen=True)
class Token:
    text: str  # normalised surface
    start: int  # character span in the sentence
    end: int
    clause: int  # clause number within the sentence
    lemmas: frozenset[str]
    segment: int = 0  # segment number: the sentence cut at contrastive conjunctions only
    family: frozenset = frozenset()  # verb family keys (toolkit.coding.families)
    denied: bool = False  # inside the scope of «не скажу, что…» / "I wouldn't say"


def _denied(words: list[str], clauses: list[int]) -> list[bool]:
    """Tokens in a denial scope: the rest of the opener's clause, or, when the opener ends
    its clause («Не скажу, что прям внимательные»), the next clause."""
    out = [False] * len(words)
    i = 0
    while i < len(words):
        opener = next((o for o in DENIAL_OPENERS if tuple(words[i : i + len(o)]) == o), None)
        if opener is None:
            i += 1
            continue
        j = i + len(opener)
        if j < len(words):
            scope = clauses[j]
            while j < len(words) and clauses[j] == scope and words[j] not in CONTRAST_WORDS:
                out[j] = True
                j += 1
        i = max(j, i + 1)
    return out


def tokenize(sentence: str) -> list[Token]:
    """Tokens of a sentence with their spans, clause numbers, lemma sets and family keys."""
    raw = []
    clause = segment = 0
    prev_end = 0
    for m in TOKEN_RE.finditer(sentence):
        word = fold(m.group())
        if raw and (CLAUSE_PUNCT.search(sentence[prev_end : m.start()]) or word in CLAUSE_WORDS):
            clause += 1
        if raw and word in CONTRAST_WORDS:
            segment += 1
        raw.append((word, m.start(), m.end(), clause, segment))
        prev_end = m.end()
    denied = _denied([r[0] for r in raw], [r[3] for r in raw])
    return [Token(w, a, b, c, lemmas(w), seg, family_keys(w), d) for (w, a, b, c, seg), d in zip(raw, denied)]


def split_sentences(text: str) -> list[str]:
    """Sentences of a turn (see ``SENTENCE_END``); empty pieces dropped."""
    return [s.strip() for s in SENTENCE_END.split(text) if s and s.strip()]


EXACT, FAMILY = 2, 1


@dataclass(frozen=True)
class Slot:
    lemmas: frozenset[str] = frozenset()
    prefix: str | None = None
    family: frozenset = frozenset()

    def match(self, tok: Token) -> int:
        """``EXACT`` (lemma or prefix), ``FAMILY`` (same verb family, see families.py) or 0."""
        if self.prefix is not None:
            ok = tok.text.startswith(self.prefix) or any(lem.startswith(self.prefix) for lem in tok.lemmas)
            return EXACT if ok else 0
        if not self.lemmas.isdisjoint(tok.lemmas):
            return EXACT
        return FAMILY if same_family(self.family, tok.family) else 0

    def matches(self, tok: Token) -> bool:
        return self.match(tok) > 0


@dataclass(frozen=True)
class Keyword:
    """A compiled keyword or phrase (see module docstring)."""

    text: str
    slots: tuple[Slot, ...]

    @property
    def free_order(self) -> bool:
        """May the phrase match out of order? Russian phrases (free word order) of two or more
        words, unless they open with «без» (English word order carries the meaning)."""
        first = self.slots[0].lemmas
        return (len(self.slots) > 1 and not first & ORDERED_NEGATORS
                and any(CYRILLIC.search(lem) for s in self.slots for lem in s.lemmas))

    @property
    def has_negator(self) -> bool:
        return any(is_negator(lem) for s in self.slots for lem in s.lemmas)


def compile_keyword(text: str) -> Keyword | None:
    """Compile one keyword/phrase; ``None`` if it holds no word."""
    words = [fold(m.group()) for m in re.finditer(r"\w+(?:[-'’]\w+)*\*?", text)]
    slots = []
    for w in words:
        if w.endswith("*"):
            slots.append(Slot(prefix=w[:-1]))
        else:
            slots.append(Slot(lemmas=keyword_lemma(w), family=family_keys(w)))
    if not slots:
        return None
    return Keyword(text.strip(), tuple(slots))


@dataclass(frozen=True)
class Match:
    keyword: Keyword
    positions: tuple[int, ...]  # token indices of the phrase words
    negated: bool
    kind: str = "exact"  # exact | family (a word matched by its verb family) | loose (phrase words out of order)


def match_at(tokens: list[Token], i: int, keyword: Keyword, phrase_gap: int = DEFAULT_PHRASE_GAP):
    """Token positions of ``keyword`` in order starting at token ``i``, or ``None``.

    Greedy: each next phrase word is the nearest token within the gap.
    """
    found = _match_in_order(tokens, i, keyword, phrase_gap)
    return None if found is None else found[0]


def _match_in_order(tokens, i, keyword, phrase_gap):
    first = keyword.slots[0].match(tokens[i])
    if not first:
        return None
    pos, kinds = [i], [first]
    for slot in keyword.slots[1:]:
        j = pos[-1] + 1
        limit = min(len(tokens), pos[-1] + 2 + phrase_gap)
        while j < limit and not slot.match(tokens[j]):
            j += 1
        if j >= limit or tokens[j].clause != tokens[i].clause:
            return None
        pos.append(j)
        kinds.append(slot.match(tokens[j]))
    return tuple(pos), ("exact" if min(kinds) == EXACT else "family")


def _match_loose(tokens, keyword, phrase_gap):
    """A phrase whose words all occur in one clause in another order, close together."""
    n = len(keyword.slots)
    span = (n - 1) * (phrase_gap + 1)
    out = []
    for clause in sorted({t.clause for t in tokens}):
        idx = [k for k, t in enumerate(tokens) if t.clause == clause]
        used: list[int] = []
        for slot in keyword.slots:
            cand = [k for k in idx if k not in used and slot.match(tokens[k])]
            if not cand:
                break
            anchor = used[0] if used else cand[0]
            used.append(min(cand, key=lambda k: abs(k - anchor)))
        if len(used) == n and max(used) - min(used) <= span:
            out.append(tuple(used))
    return out


def find_keyword(tokens: list[Token], keyword: Keyword, phrase_gap: int = DEFAULT_PHRASE_GAP,
                 negation_window: int = DEFAULT_NEGATION_WINDOW) -> list[Match]:
    """Every occurrence of ``keyword``: in order (exact or family), else out of order (loose)."""
    out = []
    for i in range(len(tokens)):
        found = _match_in_order(tokens, i, keyword, phrase_gap)
        if found is not None:
            pos, kind = found
            out.append(Match(keyword, pos, is_negated(tokens, pos, negation_window, keyword.has_negator), kind))
    if not out and keyword.free_order:
        for pos in _match_loose(tokens, keyword, phrase_gap):
            out.append(Match(keyword, pos, is_negated(tokens, pos, negation_window, keyword.has_negator), "loose"))
    return out



class KeywordIndex:
    """Many keywords, each with a payload, found in a sentence without trying every keyword.

    Keywords are indexed by the lemmas and verb-family roots of all their words (prefix
    keywords are tried always); only the candidates a sentence's tokens select are verified.
    """

    def __init__(self, entries, phrase_gap: int = DEFAULT_PHRASE_GAP,
                 negation_window: int = DEFAULT_NEGATION_WINDOW):
        self.entries = list(entries)  # [(payload, Keyword)]
        self.phrase_gap = phrase_gap
        self.negation_window = negation_window
        self.by_lemma: dict[str, set[int]] = {}
        self.by_root: dict[str, set[int]] = {}
        self.prefixed: list[int] = []
        for n, (_, kw) in enumerate(self.entries):
            if any(s.prefix is not None for s in kw.slots):
                self.prefixed.append(n)
                continue
            for slot in kw.slots:
                for lem in slot.lemmas:
                    self.by_lemma.setdefault(lem, set()).add(n)
                for _, root in slot.family:
                    self.by_root.setdefault(root, set()).add(n)

    def find(self, tokens: list[Token]) -> list[tuple[object, Match]]:
        """(payload, match) pairs in order of position, then entry order."""
        cands = set(self.prefixed)
        for tok in tokens:
            for lem in tok.lemmas:
                cands.update(self.by_lemma.get(lem, ()))
            for _, root in tok.family:
                cands.update(self.by_root.get(root, ()))
        found = []
        for n in sorted(cands):
            payload, kw = self.entries[n]
            for m in find_keyword(tokens, kw, self.phrase_gap, self.negation_window):
                found.append((m.positions[0], n, payload, m))
        return [(payload, m) for _, _, payload, m in sorted(found, key=lambda f: f[:2])]


def is_negated(tokens: list[Token], positions, window: int = DEFAULT_NEGATION_WINDOW,
               keyword_has_negator: bool = False) -> bool:
    """Is a match negated? (module docstring: a particle within ``window`` tokens before or
    after it in its clause, or the scope of «не скажу, что…»).

    ``positions`` may be one token index (the old interface: only the particle before counts).
    A phrase that holds a particle itself («не перезвонили») is only negated by a denial scope.
    """
    if isinstance(positions, int):
        positions, after = (positions,), False
    else:
        after = True
    first, last = min(positions), max(positions)
    if any(tokens[k].denied for k in positions):
        return True
    if keyword_has_negator:
        return False
    clause = tokens[first].clause
    for j in range(first - 1, -1, -1):  # the clause before the match
        if tokens[j].clause != clause:
            break
        near = j >= first - window
        pronoun = tokens[j].text in NEGATIVE_PRONOUNS  # a negative subject denies its whole clause
        if (near or pronoun) and is_negator(tokens[j].text) and not _not_only(tokens, j):
            return True
    if after:
        clause = tokens[last].clause
        for j in range(last + 1, min(len(tokens), last + 1 + min(window, POST_NEGATION_WINDOW))):
            if tokens[j].clause != clause:
                break
            if is_negator(tokens[j].text) and not _not_only(tokens, j):
                return True
    return False


def _not_only(tokens: list[Token], j: int) -> bool:
    """«не только», "not only", «ничего себе», "never mind": a negator that does not negate."""
    nxt = tokens[j + 1].text if j + 1 < len(tokens) else None
    return nxt in ("только", "лишь", "only", "just") or nxt in NOT_NEGATING_AFTER.get(tokens[j].text, ())


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
        value = -math.copysign(min(abs(score), 1.0), score) if negated else score
        if not negated and _intensified(tokens, m.positions[0]):
            value *= INTENSIFIER_FACTOR
        out.append((m.positions, value))
    return sorted(out)


def _intensified(tokens: list[Token], i: int) -> bool:
    """An intensifier («очень», «прям», "really") within two tokens before token ``i``, same clause."""
    return any(tokens[j].clause == tokens[i].clause and tokens[j].text in INTENSIFIERS
               for j in range(max(0, i - 2), i))


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
