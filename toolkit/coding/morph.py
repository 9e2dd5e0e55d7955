"""The morphological tools of the coding package, each built once per process."""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=1)
def morph():
    """The pymorphy3 analyser (building it takes ~0.1 s; parsing is cached by the callers)."""
    import pymorphy3

    return pymorphy3.MorphAnalyzer()


@lru_cache(maxsize=1)
def english_stemmer():
    """The English Snowball stemmer."""
    import snowballstemmer

    return snowballstemmer.stemmer("english")
