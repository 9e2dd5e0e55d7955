"""Personal names in free text (quotes, lost reasons, comments), found and masked.

Three sources of evidence, each a capitalised word of the text:

- **the case's own personal data**: every word of the values of the columns a case declares
  personal (``sources.<table>.personal``: ФИО, Name), wherever it appears, in any letter case;
- **Russian names**: pymorphy3 tags first names, surnames and patronymics (``Name``, ``Surn``,
  ``Patr``). Many names are also common nouns (Вера, Надежда, Любовь, Роза): such a word is
  masked when its most likely reading is a name, when it is capitalised inside a sentence (a
  noun would be lower-case there), or when it stands next to another name (Вера Петровна);
  a patronymic is always masked;
- **English names**: the first names of the ``gender-guesser`` name list (Jörg Michael's
  dictionary of ~48,000 first names, shipped in the PyPI package) that are used in Britain,
  Ireland, the USA, Russia, Belarus or Ukraine; a listed name is masked inside a sentence, or at
  its start when a capitalised word follows; the capitalised word after a masked first name or
  a title (Mr, Mrs, Dr) is masked as the surname. Months and weekdays are never names.

Words the case itself declares (brands, business lines, stages, touchpoints, the client) are
never masked. Words in capitals only (МРТ, VIP) are abbreviations, not names.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources

from toolkit.core import text as core_text

NAME_MASK = {"ru": "[имя]", "en": "[name]"}
WORD = re.compile(r"[A-Za-zА-Яа-яЁё]+(?:['’-][A-Za-zА-Яа-яЁё]+)*")
_SENTENCE_GAP = re.compile(r"[.!?…:;\"«»“”()\[\]\n]|(^|\s)[-–—]")
TITLES = {"mr", "mrs", "ms", "miss", "dr", "sir", "madam", "г-н", "г-жа", "господин", "госпожа", "доктор", "врач"}
NOT_NAMES = {
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
    "november", "december", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
    "i", "ok", "okay", "god", "christmas", "easter",
}
# columns of gender-guesser's nam_dict.txt (offset 30 + country index) whose names count as English
# or transliterated Russian: Great Britain, Ireland, U.S.A., Russia, Belarus, Ukraine
_NAME_COUNTRY_COLUMNS = (30, 31, 32, 68, 69, 71)


@lru_cache(maxsize=1)
def english_first_names() -> frozenset[str]:
    """Case-folded first names of the gender-guesser list used in the countries above."""
    text = resources.files("gender_guesser").joinpath("data/nam_dict.txt").read_text(encoding="utf-8")
    names = set()
    for line in text.splitlines():
        if not line or line[0] in "#=" or len(line) < 33:
            continue
        if not any(i < len(line) and line[i] not in " \r" for i in _NAME_COUNTRY_COLUMNS):
            continue
        name = line[3:29].strip()
        for variant in {name.replace("+", ""), name.replace("+", " "), name.replace("+", "-")}:
            for part in variant.split():
                if part.isalpha() and len(part) > 1:
                    names.add(part.casefold())
    return frozenset(names - NOT_NAMES)


@lru_cache(maxsize=200_000)
def russian_name_evidence(word: str) -> tuple[bool, bool, bool]:
    """(some reading is a first name/surname, the likeliest reading is one, it is a patronymic)."""
    parses = core_text.morph().parse(word)
    if not parses:
        return False, False, False
    tagged = [p for p in parses if {"Name", "Surn", "Patr"} & p.tag.grammemes]
    patr = any("Patr" in p.tag.grammemes and p.score >= 0.1 for p in parses)
    return bool(tagged), bool({"Name", "Surn", "Patr"} & parses[0].tag.grammemes), patr


def _capitalised(word: str) -> bool:
    return word[:1].isupper() and not word.isupper()


def personal_words(values: Iterable) -> frozenset[str]:
    """Case-folded capitalised words (3+ letters) of the values of declared personal columns."""
    out = set()
    for v in values:
        if not isinstance(v, str):
            continue
        for m in WORD.finditer(v):
            w = m.group()
            if len(w) >= 3 and _capitalised(w):
                out.add(w.casefold())
    return frozenset(out)


class NameMasker:
    """Masks personal names in free text; ``keep`` holds the case's own words (never masked)."""

    def __init__(self, personal: Iterable[str] = (), keep: Iterable[str] = (), language: str = "ru"):
        self.personal = frozenset(personal)
        self.keep = frozenset(w.casefold() for k in keep for w in WORD.findall(str(k)))
        self.mask = NAME_MASK.get(language, NAME_MASK["en"])

    @property
    def english(self) -> frozenset[str]:
        """The English first names, read on first use (text without Latin words never needs them)."""
        return english_first_names()

    def _kind(self, word: str, sentence_start: bool) -> str:
        """'name' (mask), 'maybe' (a name when a name stands next to it) or '' (not a name)."""
        folded = word.casefold()
        if not _capitalised(word):
            return ""  # a lower-case word is a common word, even when a client bears it as a name
        if folded in self.personal:
            return "name"
        if folded in self.keep or folded in NOT_NAMES:
            return ""
        if re.match(r"[А-Яа-яЁё]", word):
            some, likeliest, patr = russian_name_evidence(word)
            if patr or likeliest or (some and not sentence_start):
                return "name"
            return "maybe" if some else ""
        if folded in self.english:
            return "maybe" if sentence_start else "name"
        return ""

    def __call__(self, text):
        if not isinstance(text, str) or not text:
            return text
        words = list(WORD.finditer(text))
        if not words:
            return text
        starts = [i == 0 or bool(_SENTENCE_GAP.search(text[words[i - 1].end() : m.start()]))
                  for i, m in enumerate(words)]
        kinds = [self._kind(m.group(), start) for m, start in zip(words, starts)]
        masked = [k == "name" for k in kinds]
        for i, m in enumerate(words):
            if masked[i]:
                continue
            prev_name = i > 0 and masked[i - 1] and _adjacent(text, words[i - 1], m)
            next_name = i + 1 < len(words) and kinds[i + 1] and _adjacent(text, m, words[i + 1])
            after_title = i > 0 and words[i - 1].group().casefold() in TITLES and _adjacent(text, words[i - 1], m, True)
            if kinds[i] == "maybe" and (prev_name or next_name or after_title):
                masked[i] = True
            elif _capitalised(m.group()) and m.group().casefold() not in self.keep | NOT_NAMES and (
                    after_title or (prev_name and kinds[i - 1] and not re.match(r"[А-Яа-яЁё]", m.group()))):
                masked[i] = True  # the surname after an English first name or a title
        out, pos = [], 0
        for m, hide in zip(words, masked):
            if hide:
                out += [text[pos : m.start()], self.mask]
                pos = m.end()
        out.append(text[pos:])
        joined = "".join(out)
        # "[имя] [имя] [имя]" -> one mask per person
        return re.sub(rf"{re.escape(self.mask)}(?:[ \u00a0]+{re.escape(self.mask)})+", self.mask, joined)


def _adjacent(text: str, a: re.Match, b: re.Match, after_title: bool = False) -> bool:
    """Two words separated by spaces only (after a title also by its dot: Dr. Smith)."""
    return bool(re.fullmatch(r"\.?[ \u00a0]+" if after_title else r"[ \u00a0]+", text[a.end() : b.start()]))
