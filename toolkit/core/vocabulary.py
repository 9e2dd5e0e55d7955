"""The recommendation library: what to do about a barrier or a touchpoint, in the case's
language, by industry.

Recommendation library
----------------------
A YAML file with two sections, ``barriers`` and ``touchpoints``, each a mapping
``key -> {name: {ru, en}, aliases: [...], actions: [{ru, en}, ...]}``. The package
default is ``toolkit/resources/recommendations.yml``; a case may put its own
``recommendations.yml`` in its folder. Merge rule: a case entry replaces the
default entry with the same key, unless it says ``extend: true``, in which case
its aliases and actions are added after the default's; new keys are added. A
barrier code finds its entry by key, name or alias (normalised: lower case, ё->е,
spaces -> _); case entries win alias clashes. A barrier with no entry of its own
gets the entry of its most frequent touchpoint; a barrier with neither is listed by
``missing_recommendations`` for the consultant to fill.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from importlib import resources
from pathlib import Path

import pandas as pd
import yaml

from toolkit.core.stages import norm_key

LIBRARY_FILE = "recommendations.yml"
SECTIONS = ("barriers", "touchpoints")


# -- recommendation library -------------------------------------------------------


def default_library() -> dict:
    """The package's default recommendation library."""
    text = resources.files("toolkit").joinpath("resources", LIBRARY_FILE).read_text(encoding="utf-8")
    return _normalise_library(yaml.safe_load(text) or {}, source="default")


def _normalise_library(lib: Mapping, source: str) -> dict:
    out = {}
    for section in SECTIONS:
        entries = (lib or {}).get(section) or {}
        out[section] = {}
        for key, entry in entries.items():
            e = dict(entry or {})
            e["aliases"] = list(e.get("aliases") or [])
            e["actions"] = [a if isinstance(a, Mapping) else {"ru": str(a), "en": str(a)} for a in e.get("actions") or []]
            e["_source"] = source
            out[section][str(key)] = e
    return out


def merge_recommendations(base: Mapping, override: Mapping) -> dict:
    """``override`` merged over ``base`` (see the module docstring for the rule)."""
    out = copy.deepcopy(dict(base))
    for section in SECTIONS:
        out.setdefault(section, {})
        for key, entry in (override.get(section) or {}).items():
            if entry.get("extend") and key in out[section]:
                old = out[section][key]
                old["aliases"] = list(dict.fromkeys([*old.get("aliases", []), *entry.get("aliases", [])]))
                old["actions"] = [*old.get("actions", []), *entry.get("actions", [])]
                if entry.get("name"):
                    old["name"] = entry["name"]
                old["_source"] = entry.get("_source", "case")
            else:
                out[section][key] = copy.deepcopy(dict(entry))
    return out


INDUSTRIES = ("medical", "retail", "neutral")


def industry_library(industry: str) -> dict:
    """The package's library for an industry: the default (neutral) library with
    ``recommendations.<industry>.yml`` merged over it (same merge rule as a case's file)."""
    lib = default_library()
    if industry not in INDUSTRIES:
        raise ValueError(f"unknown industry {industry!r}: expected one of {', '.join(INDUSTRIES)}")
    res = resources.files("toolkit").joinpath("resources", f"recommendations.{industry}.yml")
    if res.is_file():
        lib = merge_recommendations(lib, _normalise_library(yaml.safe_load(res.read_text(encoding="utf-8")) or {},
                                                            source="industry"))
    return lib


def load_recommendations(case_dir: str | Path | None = None, industry: str = "neutral") -> dict:
    """The industry's library (``industry_library``), with ``<case_dir>/recommendations.yml``
    merged over it when present."""
    lib = industry_library(industry)
    if case_dir is not None:
        path = Path(case_dir) / LIBRARY_FILE
        if path.is_file():
            own = _normalise_library(yaml.safe_load(path.read_text(encoding="utf-8")) or {}, source="case")
            lib = merge_recommendations(lib, own)
    return lib


def _index(library: Mapping, section: str) -> dict:
    """normalised key/name/alias -> entry key; exact keys first, case entries win clashes."""
    entries = (library or {}).get(section) or {}
    idx: dict[str, str] = {}
    ordered = sorted(entries.items(), key=lambda kv: kv[1].get("_source") == "case")
    for key, e in ordered:
        names = e.get("name") or {}
        labels = [*(names.values() if isinstance(names, Mapping) else [names]), *e.get("aliases", [])]
        for label in labels:
            k = norm_key(label)
            if k:
                idx[k] = key
    for key in entries:
        idx[norm_key(key)] = key
    return idx


def library_key(code, library: Mapping, section: str = "barriers") -> str | None:
    """The library entry a code (or touchpoint) belongs to, or None."""
    return _index(library, section).get(norm_key(code))


def library_names(library: Mapping, language: str) -> dict:
    """normalised barrier/touchpoint label -> display name in ``language``."""
    out = {}
    for section in SECTIONS:
        entries = (library or {}).get(section) or {}
        for label, key in _index(library, section).items():
            name = (entries[key].get("name") or {})
            if isinstance(name, Mapping) and name.get(language):
                out.setdefault(label, name[language])
    return out


def actions_for(code, library: Mapping, language: str = "ru", touchpoint=None) -> list[str]:
    """Suggested actions (texts in ``language``) for a barrier code, falling back to its touchpoint."""
    if not library:
        return []
    for section, value in (("barriers", code), ("touchpoints", touchpoint)):
        if value is None or value is pd.NA:
            continue
        key = library_key(value, library, section)
        if key:
            acts = library[section][key].get("actions") or []
            texts = [a.get(language) or a.get("en") or a.get("ru") for a in acts]
            return [t for t in texts if t]
    return []


# -- the ranking ------------------------------------------------------------------
