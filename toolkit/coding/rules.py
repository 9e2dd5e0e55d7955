"""Context rules of the draft coder: what a keyword hit is *not* evidence of.

Each rule is a plain function over a sentence's tokens (``toolkit.coding.text.tokenize``)
and the conversation around it; ``toolkit.coding.autocode`` applies them. Word lists are
the package defaults (Russian and English side by side: the scripts never collide).

- **Bracketed remarks**: ``[...]`` and ``(И: ...)``/``(I: ...)`` inside a respondent turn
  are the interviewer's or the transcriber's, not the respondent's words: stripped.
- **Closing exchange**: the respondent's last turn, answering an interviewer turn that
  thanks them, of at most ``CLOSING_MAX_TOKENS`` words and holding a thanks/farewell
  word («спасибо вам», «надеюсь, пригодится», "thanks, hope it helps"): not coded.
- **Echoed question**: a respondent sentence ending in «?» repeats the interviewer
  («Страшно? Ну… Нет.»); its keyword hits that also occur in the question, and every hit
  of a sentence of at most three words, are not coded.
- **Other people**: a sentence that names someone from the respondent's circle (сестра,
  подруга, коллега, "my sister", everyone...) and has no first-person word (я, мне, мы,
  a first-person verb; I, me, we) is about them («у сестры… рассрочку оформили»); so is a
  following sentence without a first-person word (with a third-person pronoun, also
  after a sentence that named the person: «Сосед спрашивал… У него своя клиника…»), and
  an answer to a question about such
  a person. A second-person singular word («ты», reported speech addressed to the
  respondent) counts as the respondent, and so do the words they report after a colon
  («Коллеги говорят: отдохнула, что ли?» is about the respondent's result). Codes marked
  ``about_others`` are kept. Within a sentence that names such a person, a clause about
  them («она тоже довольна», "she buys everything at the discount places") is theirs
  even when another clause is the respondent's.
- **Other places**: from a mention of another clinic or shop («в другой клинике»,
  «в районной поликлинике», "another shop", elsewhere) — or an answer to a question
  about one — to the end of the turn, or to a word that brings the story back
  («здесь», «сейчас», «с тех пор», "here", "now", "in the end"): not the respondent's
  own experience of this company; a keyword that itself names the other place («ушла в
  другую клинику») is kept.
- **Irony**: a clause that is only an irony marker («ага», «ну да», «как же», "yeah right",
  "not") in the sentence or alone as the next sentence («Очень внимательная, ага.»,
  "So that was nice. Not."): positive codes of the sentence lose confidence
  (``IRONY_FACTOR``).
- **Hypothetical**: in a sentence with «бы», «если», "would", "if" or "I'd have"/"I'd be"
  («я бы, наверно, бросила давно», "I'd have bought it too big", "if the jeans fit I'm
  happy"; not the fillers «если честно», "if I'm honest") nothing happened: confidence times
  ``HYPOTHETICAL_FACTOR`` (ideas excepted: they are wishes).
- **Quoted words**: a match wholly inside quotation marks («Акция! Скидка!», a sign, an
  advert, someone's phrase) is a quotation, not the respondent's statement: confidence
  times ``QUOTE_FACTOR``.
- **Ideas need a wish**: an idea code («онлайн-запись», "click and collect") is a
  suggestion only in a sentence that wishes or supposes («если бы», «было бы удобно»,
  «хотелось бы», "I wish", "it would", "if I could", "let me"); without such a word its
  confidence is multiplied by ``NO_WISH_FACTOR`` (a mention of the app is not an idea).
- **Short affirmation**: an answer that opens with a bare «да»/«очень»/"yes"/"very"
  carries the codes its question names («Результатом довольны? — Очень.»): only the
  question's interrogative sentences, and never a match made of thanks or farewell words
  («Андрей, спасибо, что согласились. Вы проходили программу?» does not ask about gratitude).
"""

from __future__ import annotations

import re
from functools import lru_cache

from toolkit.core.text import english_stemmer, morph
from toolkit.coding.text import DEFAULT_PHRASE_GAP, KeywordIndex, Token, compile_keyword

CLOSING_MAX_TOKENS = 25
IRONY_FACTOR = 0.5
NO_WISH_FACTOR = 0.5
HYPOTHETICAL_FACTOR = 0.55
QUOTE_FACTOR = 0.6
ECHO_MAX_TOKENS = 3

REMARK = re.compile(r"\[[^\]]*\]|\((?:[A-ZА-ЯЁ][\w.]{0,15})\s*:[^)]*\)")

THANKS = frozenset({"спасибо", "благодарю", "спасибочки", "thanks", "thank", "cheers"})
FAREWELL = THANKS | frozenset({
    "пожалуйста", "удачи", "удача", "доброго", "свидания", "пока", "здоровья", "надеюсь", "пригодится",
    "welcome", "luck", "bye", "goodbye", "hope", "helps", "helpful", "worries", "problem", "probs", "pleasure",
})
SOCIAL_RU = frozenset({
    "сестра", "брат", "мама", "мать", "папа", "отец", "муж", "жена", "подруга", "друг", "приятель",
    "приятельница", "сосед", "соседка", "коллега", "знакомый", "знакомая", "дочь", "дочка", "сын",
    "бабушка", "дедушка", "свекровь", "тёща", "теща", "тётя", "тетя", "дядя", "родственник", "родитель",
    "девушка", "парень", "начальник", "начальница", "подчинённый", "подчиненный", "многие",
})
SOCIAL_EN = frozenset(english_stemmer().stemWord(w) for w in (
    "sister", "brother", "mum", "mom", "mother", "dad", "father", "husband", "wife", "friend", "neighbour",
    "neighbor", "colleague", "daughter", "son", "girlfriend", "boyfriend", "partner", "boss", "everyone",
    "everybody", "niece", "nephew", "aunt", "uncle", "grandma", "grandmother", "grandpa",
    "son-in-law", "daughter-in-law", "mate", "flatmate",
))
FIRST_PERSON = frozenset({
    "я", "меня", "мне", "мной", "мною", "мы", "нас", "нам", "нами",
    "i", "me", "we", "us", "i'm", "i've", "i'd", "i'll", "myself", "we're", "we've", "we'd", "im", "ive",
})
SECOND_SINGULAR = frozenset({"ты", "тебя", "тебе", "тобой"})
THIRD_PERSON = frozenset({"он", "она", "они", "he", "she", "they", "he's", "she's", "they're"})
QUOTES = re.compile(r"«[^»]*»|“[^”]*”|\"[^\"]*\"")
OTHER_PLACES = (
    "другая клиника", "другой клиника", "другие клиники", "другая стоматология", "другое место",
    "другой центр", "прошлая клиника", "прежняя клиника", "старая клиника", "поликлиника", "районная",
    "женская консультация", "государственная", "у конкурентов",
    "another shop", "another store", "another place", "another brand", "other shops", "other stores",
    "other brands", "other places", "elsewhere", "somewhere else", "different shop", "different store",
    "competitor", "outlet",
)
BACK_HERE = (
    "здесь", "тут", "сейчас", "теперь", "с тех пор", "в итоге", "в этой клинике",
    "here", "now", "these days", "since then", "in the end", "this shop", "this store",
)
IRONY = (("ага",), ("ну", "да"), ("как", "же"), ("yeah", "right"), ("not",), ("sure", "sure"))
AFFIRMATIONS = frozenset({
    "да", "очень", "конечно", "ещё", "еще", "как", "безусловно", "естественно", "разумеется", "ага", "ну",
    "yes", "yeah", "yep", "very", "definitely", "absolutely", "totally", "sure", "course", "of", "really", "oh",
})


WISH_WORDS = frozenset({"бы", "б", "хотелось", "хочется", "мечтаю", "would", "wish", "could", "should", "ideal",
                        "ideally", "'d"})
WISH_PHRASES = (("let", "me"), ("if", "only"), ("если", "можно"))


def wishes(tokens: list[Token]) -> bool:
    """A wish or supposition marker (see the module docstring)."""
    words = [t.text for t in tokens]
    if any(w in WISH_WORDS or w.endswith("'d") for w in words):
        return True
    return any(tuple(words[k : k + len(p)]) == p for p in WISH_PHRASES for k in range(len(words)))


def strip_remarks(text: str) -> str:
    """A respondent turn without bracketed interviewer/transcriber remarks."""
    return re.sub(r"[ \t]{2,}", " ", REMARK.sub(" ", text))


def _phrase_index(phrases) -> KeywordIndex:
    return KeywordIndex([(p, k) for p in phrases if (k := compile_keyword(p))], DEFAULT_PHRASE_GAP, 0)


_PLACES = _phrase_index(OTHER_PLACES)
_BACK = _phrase_index(BACK_HERE)


def _bare(tok: Token) -> str:
    return re.sub(r"'s$", "", tok.text)


def has_first_person(tokens: list[Token]) -> bool:
    """A first-person pronoun or verb form, or a «ты» addressed to the respondent."""
    from_morph = any(t.text.isalpha() and _is_first_person_verb(t.text) for t in tokens)
    return from_morph or any(t.text in FIRST_PERSON or t.text in SECOND_SINGULAR for t in tokens)


@lru_cache(maxsize=50_000)
def _is_first_person_verb(word: str) -> bool:
    if not re.search(r"[а-я]", word):
        return False
    p = morph().parse(word)[0]
    return p.tag.POS == "VERB" and p.tag.person == "1per"


def social_positions(tokens: list[Token]) -> list[int]:
    """Tokens naming someone of the respondent's circle."""
    out = []
    for k, t in enumerate(tokens):
        bare = _bare(t)
        if t.lemmas & SOCIAL_RU or bare in SOCIAL_EN or english_stemmer().stemWord(bare) in SOCIAL_EN:
            out.append(k)
    return out


def place_positions(tokens: list[Token]) -> set[int]:
    """Tokens of a mention of another clinic or shop."""
    return {k for _, m in _PLACES.find(tokens) if not m.negated for k in m.positions}


def clause_owners(tokens: list[Token], start_others: bool, social_context: bool,
                  speech_from: int | None = None) -> tuple[set[int], bool]:
    """Whose experience each clause tells: (positions of the clauses about other people, whether
    the sentence ends about them).

    Clause by clause: a first-person word makes it the respondent's (but not «у меня» /
    «у нас» beside a circle noun: «сестра у меня» is the sister); a circle noun, or — when
    the sentence or the story is about someone of the circle — a third-person pronoun or
    verb, makes it theirs; a clause with none of these (no subject of its own: «…, но
    испугалась») continues the previous clause's owner; words reported after a colon
    belong to the respondent again (what others told them about them).
    """
    social = set(social_positions(tokens))
    social_context = social_context or bool(social) or start_others
    by_clause: dict[int, list[int]] = {}
    for k, t in enumerate(tokens):
        by_clause.setdefault(t.clause, []).append(k)
    others_now = start_others
    out: set[int] = set()
    for clause, ks in by_clause.items():
        sub = [tokens[k] for k in ks]
        if speech_from is not None and ks[0] == speech_from:
            others_now = False
        possessive = bool(social.intersection(ks))
        first = any(_first_person_at(tokens, k, possessive) for k in ks)
        third = social_context and any(t.text in THIRD_PERSON or _is_third_person_verb(t.text) for t in sub)
        if first:
            others_now = False
        elif social.intersection(ks) or third:
            others_now = True
        if others_now:
            out.update(ks)
    return out, others_now


def _first_person_at(tokens: list[Token], k: int, possessive: bool) -> bool:
    t = tokens[k]
    if possessive and t.text in ("меня", "нас") and k > 0 and tokens[k - 1].text == "у":
        return False
    return t.text in FIRST_PERSON or t.text in SECOND_SINGULAR or (t.text.isalpha() and _is_first_person_verb(t.text))


@lru_cache(maxsize=50_000)
def _is_third_person_verb(word: str) -> bool:
    if not re.search(r"[а-я]", word):
        return False
    p = morph().parse(word)[0]
    return p.tag.POS == "VERB" and p.tag.person == "3per"


def is_hypothetical(tokens: list[Token]) -> bool:
    """«бы»/«б», «если», "would", "if", "'d have"/"'d be": a supposed, not a lived, event
    (the fillers «если честно», "if I'm honest" excepted)."""
    words = [t.text for t in tokens]
    for k, w in enumerate(words):
        nxt = words[k + 1 : k + 3]
        if w in ("бы", "б", "would"):
            return True
        if w == "если" and nxt[:1] != ["честно"]:
            return True
        if w == "if" and nxt not in (["i'm", "honest"], ["i", "am"]):
            return True
        if w.endswith("'d") and nxt[:1] in (["have"], ["be"]):
            return True
    return False


def quoted_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of quotations in a turn («...», “...”, "...")."""
    return [m.span() for m in QUOTES.finditer(text)]


def brings_back(tokens: list[Token]) -> bool:
    """A word that brings the story back to this company or to now."""
    return bool(_BACK.find(tokens))


def is_ironic(tokens: list[Token], next_tokens: list[Token] | None = None) -> bool:
    """An irony marker alone in a clause of the sentence, or alone as the next sentence."""
    clauses: dict[int, list[str]] = {}
    for t in tokens:
        clauses.setdefault(t.clause, []).append(t.text)
    if any(tuple(words) in IRONY for c, words in clauses.items() if c > 0):
        return True
    if next_tokens:
        return tuple(t.text for t in next_tokens) in IRONY
    return False


def speech_start(sentence: str, tokens: list[Token]) -> int | None:
    """Index of the first token after a colon (reported speech), or ``None``."""
    colon = sentence.find(":")
    if colon < 0:
        return None
    return next((k for k, t in enumerate(tokens) if t.start > colon), None)


def is_echo(sentence: str, tokens: list[Token]) -> bool:
    """Does the sentence end in a question mark (a respondent echoing or asking back)?"""
    return bool(tokens) and sentence.rstrip(" .…»\"”").endswith("?")


def is_short_affirmation(tokens: list[Token]) -> bool:
    """A bare «да»/«очень»/"yes"/"very" answer (at most four words, no negation)."""
    return 0 < len(tokens) <= 4 and all(t.text in AFFIRMATIONS for t in tokens)


def is_closing(question_tokens: list[Token], answer_tokens: list[Token]) -> bool:
    """The closing exchange: the interviewer thanks, the respondent answers briefly with thanks or farewell."""
    thanked = any(t.text in THANKS for t in question_tokens)
    polite = any(t.text in FAREWELL for t in answer_tokens)
    return thanked and polite and len(answer_tokens) <= CLOSING_MAX_TOKENS
