"""Comparing client text: the one normaliser and the one Russian morphology analyser.

- :func:`fold`: the form of one word or token: case-folded, ё -> е, a typographic
  apostrophe as a plain one, a non-breaking space as a space.
- :func:`normalise`: the form in which labels, reasons and ids are compared: folded,
  quotes removed («Эстетика» == "эстетика"), optionally punctuation dropped, whitespace
  collapsed into one ``joiner``. With ``joiner="_"`` hyphens and slashes count as spaces
  too ("Выбор клиники" == "выбор-клиники" == "выбор_клиники"): the key form of
  stage, touchpoint, factor and code ids.
- :func:`morph` / :func:`english_stemmer`: one shared pymorphy3 analyser and Snowball stemmer (loading its dictionaries takes ~0.3 s and
  ~15 MB: load once per process).
"""

from __future__ import annotations

import re
from functools import lru_cache

import pandas as pd
import pymorphy3
import snowballstemmer

_QUOTES = re.compile(r"[\"'«»“”„‘’`]")
_PUNCT = re.compile(r"[^\w\s]", re.UNICODE)
_KEY_SEPARATORS = re.compile(r"[-/]")
_SPACES = re.compile(r"\s+")


def fold(text) -> str:
    """One word or token in comparable form (see the module docstring)."""
    return str(text).replace("\u00a0", " ").casefold().replace("ё", "е").replace("’", "'")


def normalise(value, joiner: str = " ", drop_punctuation: bool = False) -> str:
    """A label, reason or id in comparable form; ``""`` for a missing value."""
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return ""
    s = _QUOTES.sub("", fold(value))
    if drop_punctuation:
        s = _PUNCT.sub(" ", s)
    if joiner == "_":
        s = _KEY_SEPARATORS.sub(" ", s).replace("_", " ")
    return _SPACES.sub(" ", s).strip().replace(" ", joiner)


def key(value) -> str:
    """The key form of an id or label: ``normalise(value, joiner="_")``."""
    return normalise(value, joiner="_")


@lru_cache(maxsize=1)
def morph() -> pymorphy3.MorphAnalyzer:
    """The process's one Russian morphology analyser."""
    return pymorphy3.MorphAnalyzer()


@lru_cache(maxsize=1)
def english_stemmer():
    """The process's one English Snowball stemmer."""
    return snowballstemmer.stemmer("english")
