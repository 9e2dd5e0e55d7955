"""Persona names from their leading factors, in the case language (Russian accusative by pymorphy3)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from toolkit.core import text as core_text

NAMING_MIN_SCORE = 0.2  # a factor must beat the rest by 0.2 SD to give the persona its name
DOMINANCE_RATIO = 0.5  # second factor below half the first's score: name from the first alone


def _is_acronym(word: str) -> bool:
    return len(word) > 1 and word.isupper()


def _lower_first(phrase: str) -> str:
    words = phrase.split()
    if words and not _is_acronym(words[0]):
        words[0] = words[0][:1].lower() + words[0][1:]
    return " ".join(words)


def _ru_accusative(phrase: str) -> str:
    """'Низкая цена' -> 'низкую цену', 'Репутация врача' -> 'репутацию врача' (for 'Ориентированы на ...').

    Adjectives before the head noun agree with it; words after the head noun (genitive
    complements) stay as they are. Unknown words are left unchanged.
    """
    words = phrase.split()
    try:
        morph = core_text.morph()
    except Exception:  # no dictionaries: keep the nominative
        return _lower_first(phrase)
    parses = []
    for w in words:
        options = morph.parse(w)
        nomn = [p for p in options if "nomn" in p.tag]
        parses.append(nomn[0] if nomn else options[0])
    head = next((i for i, p in enumerate(parses) if p.tag.POS == "NOUN"), None)
    if head is None:
        return _lower_first(phrase)
    noun = parses[head]
    out = []
    for i, (w, p) in enumerate(zip(words, parses)):
        if _is_acronym(w) or i > head:
            out.append(w)
            continue
        if i == head:
            form = noun.inflect({"accs"})
        elif p.tag.POS in ("ADJF", "PRTF"):
            # accusative = nominative or genitive by animacy, only in the masculine singular and plural
            plural = noun.tag.number == "plur"
            grams = {"accs", "plur" if plural else (noun.tag.gender or "masc")}
            if plural or noun.tag.gender == "masc":
                grams.add(noun.tag.animacy or "inan")
            form = p.inflect(grams)
        else:
            form = None
        word = form.word if form is not None else w
        out.append(word)
    return _lower_first(" ".join(_keep_case(o, w) for o, w in zip(out, words)))


def _keep_case(new: str, old: str) -> str:
    return new[:1].upper() + new[1:] if old[:1].isupper() else new


def leading_positions(scores: Sequence[float]) -> list[int]:
    """Positions of a persona's *leading factors* in ``scores`` (ordered highest first).

    The leader is the first factor scoring at least ``NAMING_MIN_SCORE`` (0.2 SD above the rest);
    the second factor co-leads when it scores at least ``DOMINANCE_RATIO`` (half) of the leader's
    score. The persona's name is built from its leading factors, and a persona is *price-driven*
    when the price factor is one of them.
    """
    ok = [i for i, s in enumerate(scores[:2]) if s is not None and not math.isnan(s) and s >= NAMING_MIN_SCORE]
    if not ok or ok[0] != 0:
        return []
    if len(ok) == 2 and scores[1] >= DOMINANCE_RATIO * scores[0]:
        return [0, 1]
    return [0]


def suggest_persona_name(names: Sequence[str], scores: Sequence[float], language: str = "ru") -> str:
    """A persona name composed from its top positive distinguishing factors' display names.

    ``names``/``scores``: the persona's factors ordered by score, highest first. Factors scoring
    below ``NAMING_MIN_SCORE`` (0.2 SD above the rest) are ignored. One clear leader (the second
    factor below half the first's score, or no second) gives ``"Price-driven"`` /
    ``"Ориентированы на цену"``; two comparable leaders give ``"Brand & status"`` / ``"Бренд и статус"``.
    No factor above the bar gives a neutral name.
    """
    lead = leading_positions(scores)
    if not lead:
        return "Без выраженного фактора выбора" if language == "ru" else "No dominant choice factor"
    first = names[lead[0]].strip()
    if len(lead) == 1:
        if language == "ru":
            return f"Ориентированы на {_ru_accusative(first)}"
        if len(first.split()) == 1 and first.isascii():
            return f"{first[:1].upper()}{first[1:]}-driven"
        return f"Driven by {_lower_first(first)}"
    second = _lower_first(names[lead[1]].strip())
    first = first[:1].upper() + first[1:]
    return f"{first} и {second}" if language == "ru" else f"{first} & {second}"
