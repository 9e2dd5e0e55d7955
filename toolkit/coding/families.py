"""Word families: a keyword verb also matches its aspect pair, reflexive and prefixed forms.

A Russian **verb family key** is a pair (prefix, root) computed from a verb's infinitive
(pymorphy3's normal form; for a word pymorphy3 does not know, a past-tense form such as
«выбешивало» is read as the infinitive «выбешивать»):

1. the reflexive ending «-ся»/«-сь» is dropped (``злиться`` -> ``злить``);
2. the verb is read both without a prefix and with each known prefix taken off
   (``разозлить`` -> ("", разозл), ("разо", зл)); a prefix is only taken off when a
   consonant follows it and at least two letters remain;
3. the root is what remains after the infinitive ending (-ть, -ти, -чь) and one
   thematic vowel (or «-ну-», or the secondary imperfective «-ива-»/«-ыва-»); a root
   ending in an alternating consonant also stands for its partners (ч ~ к/г/т,
   ш ~ с/х, ж ~ з/г, щ ~ ст/ск), and a few irregular aspect pairs share roots
   (вести ~ водить, нести ~ носить, везти ~ возить).

A keyword verb matches a text verb when a root variant is shared and either the keyword
has no prefix there or both have the same prefix (a prefix changes the meaning: «держать»
is not «задержать», «стать» is not «достать»): «пугать» matches «испугалась»,
«напугало»; «бесить» matches «взбесило», «выбешивало»; «напрягать» matches «напрягло»;
«вывести (из себя)» matches «выводит»; «привести» does not match «вывести», nor
«испугаться» the bare «пугало» (list «пугать» for the whole family).

English words use their Snowball stem (already the lemma set of ``toolkit.coding.text``),
so an English family is the stem and needs nothing here.
"""

from __future__ import annotations

import re
from functools import lru_cache

from toolkit.core.text import morph

VERB_POS = frozenset({"INFN", "VERB", "PRTF", "PRTS", "GRND"})
PREFIXES = (
    "пере", "пред", "разо", "подо", "обо", "ото", "изо", "про", "при", "пре", "раз", "рас", "без", "бес",
    "воз", "вос", "под", "над", "вз", "вс", "вы", "до", "за", "из", "ис", "на", "об", "от", "по", "со",
    "во", "о", "у", "с", "в",
)
VOWELS = set("аеёиоуыэюя")
ALTERNATIONS = {"ч": ("к", "г", "т"), "ш": ("с", "х"), "ж": ("з", "г"), "щ": ("ст", "ск")}
# irregular aspect pairs: roots that stand for each other
IRREGULAR = {"вод": ("вед", "вес"), "вед": ("вод",), "вес": ("вод",), "нос": ("нес",), "нес": ("нос",),
             "воз": ("вез",), "вез": ("воз",)}
ENDING = re.compile(r"(?:ива|ыва|ну|[аяиеуоы])?(?:ть|ти)$")
PAST = re.compile(r"л[оаи]?$")


def _roots(core: str) -> set[str]:
    if core.endswith("чь"):
        root = core[:-1]
    else:
        root = ENDING.sub("", core)
    if len(root) < 2 or root == core:
        return set()
    out = {root}
    for a, partners in ALTERNATIONS.items():
        if root.endswith(a):
            out.update(root[: -len(a)] + p for p in partners)
    for r in list(out):
        out.update(IRREGULAR.get(r, ()))
    return out


def verb_keys(infinitive: str) -> frozenset[tuple[str, str]]:
    """Family keys (prefix, root) of one Russian infinitive (see module docstring)."""
    core = re.sub(r"(?:ся|сь)$", "", infinitive)
    keys = {("", r) for r in _roots(core)}
    for p in PREFIXES:
        rest = core[len(p):]
        if core.startswith(p) and len(rest) >= 3 and rest[0] not in VOWELS and rest[0] != "ь":
            keys.update((p, r) for r in _roots(rest))
    return frozenset(keys)


@lru_cache(maxsize=100_000)
def family_keys(word: str) -> frozenset[tuple[str, str]]:
    """Family keys of a normalised token: empty unless it can be a Russian verb form."""
    if not re.search(r"[а-я]", word):
        return frozenset()
    parses = morph().parse(word)
    infinitives = {p.normal_form.replace("ё", "е") for p in parses if p.tag.POS in VERB_POS}
    if not infinitives and not any(p.is_known for p in parses) and PAST.search(word):
        infinitives = {PAST.sub("", word) + "ть"}  # an unknown past form: «выбешивало» -> «выбешивать»
    keys: set[tuple[str, str]] = set()
    for inf in infinitives:
        if inf.endswith(("ть", "ти", "чь", "ться", "тись", "чься")):
            keys.update(verb_keys(inf))
    return frozenset(keys)


def same_family(keyword_keys: frozenset, token_keys: frozenset) -> bool:
    """Does a keyword verb's family include the token (shared root; the same prefix, or none on the keyword)?"""
    if not keyword_keys or not token_keys:
        return False
    by_root: dict[str, set[str]] = {}
    for p, r in token_keys:
        by_root.setdefault(r, set()).add(p)
    return any(r in by_root and (p == "" or p in by_root[r]) for p, r in keyword_keys)
