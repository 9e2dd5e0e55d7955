"""The word catalog: every sentence, label, table header and reason a reader sees, in
Russian and English, read by one function.

The catalogs are YAML files, one per language (``toolkit/resources/words/<lang>.yml``), with
dotted keys grouped by where the words are used (``chart.*``, ``skip.*``, ``report.*``,
``table.*``, ...). A case can override or add words in ``<case>/words.<lang>.yml``.
Analysis code returns data and keys (reason keys, codes, numbers); only the report, the
figures and the notebooks turn keys into words with :func:`word`.

Placeholders use :meth:`str.format` names: ``word("skip.no_table", "en", table="leads")``.
A Russian word that agrees with a number is written with :func:`toolkit.core.fmt.ru_plural`
forms in the catalog as ``{n} {n:клиент|клиента|клиентов}``, resolved by :func:`word`.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from pathlib import Path

import yaml

LANGUAGES = ("ru", "en")
_PLURAL = re.compile(r"\{(\w+):([^{}|]*)\|([^{}|]*)\|([^{}|]*)\}")


class MissingWord(KeyError):
    """A catalog key that is not in the language's catalog."""


def _flatten(tree: dict, prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in tree.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, key + "."))
        else:
            out[key] = "" if v is None else str(v)
    return out


@lru_cache(maxsize=None)
def catalog(language: str) -> dict[str, str]:
    """The built-in catalog of one language, flattened to ``{dotted.key: text}``."""
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}: expected one of {', '.join(LANGUAGES)}")
    text = resources.files("toolkit").joinpath("resources", "words", f"{language}.yml").read_text(encoding="utf-8")
    return _flatten(yaml.safe_load(text) or {})


_overrides: dict[str, dict[str, str]] = {}


def use_case_words(case_dir: str | Path | None) -> None:
    """Read a case's own words (``words.ru.yml`` / ``words.en.yml`` in the case folder),
    which override or extend the built-in catalog for this process."""
    _overrides.clear()
    if case_dir is None:
        return
    for lang in LANGUAGES:
        path = Path(case_dir) / f"words.{lang}.yml"
        if path.is_file():
            _overrides[lang] = _flatten(yaml.safe_load(path.read_text(encoding="utf-8")) or {})


def has_word(key: str, language: str) -> bool:
    return key in _overrides.get(language, {}) or key in catalog(language)


def _plural_ru(n: float, one: str, few: str, many: str) -> str:
    n = abs(int(n)) if float(n).is_integer() else None
    if n is None:
        return few  # a fractional number takes the genitive singular: 2,5 клиента
    if n % 10 == 1 and n % 100 != 11:
        return one
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return few
    return many


def _plural_en(n: float, one: str, few: str, many: str) -> str:
    return one if float(n) == 1 else many


def word(key: str, language: str, **values) -> str:
    """The text of ``key`` in ``language``, with ``values`` filled in.

    ``{n:one|few|many}`` picks the form that agrees with the number ``n`` (Russian: 1 клиент,
    2 клиента, 5 клиентов; English: one|many, the middle form unused)."""
    text = _overrides.get(language, {}).get(key)
    if text is None:
        try:
            text = catalog(language)[key]
        except KeyError:
            raise MissingWord(f"no word {key!r} in the {language} catalog") from None
    plural = _plural_ru if language == "ru" else _plural_en

    def pick(m: re.Match) -> str:
        n = values.get(m.group(1))
        if n is None:
            return m.group(4)
        try:
            return plural(float(str(n).replace("\u00a0", "").replace(" ", "").replace(",", ".")), m.group(2), m.group(3), m.group(4))
        except ValueError:
            return m.group(4)

    text = _PLURAL.sub(pick, text)
    return text.format(**values) if values else text


def words(prefix: str, language: str) -> dict[str, str]:
    """Every word under ``prefix`` (``"chart."`` -> ``{"rfm_title": ..., ...}``)."""
    merged = {**catalog(language), **_overrides.get(language, {})}
    return {k[len(prefix):]: v for k, v in merged.items() if k.startswith(prefix)}
