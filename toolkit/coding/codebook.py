"""The codebook: which codes exist, what they mean for the journey, which words signal them.

A codebook lives in the case folder as YAML or as a sheet (xlsx/csv). One entry per code:

- ``code`` (id, e.g. ``price_too_high``), ``type`` (one of the contract's code types:
  barrier, motivator, emotion, jtbd, choice_factor, expectation, touchpoint, idea;
  Russian names such as «барьер» are accepted), ``stage`` (a journey-stage id, name or
  alias of the case);
- optional ``touchpoint``, ``factor_kind`` (hard/soft), ``level`` (strategic_group,
  company, doctor), ``sentiment`` (-2..+2, used when a fragment holds no lexicon
  word), ``label`` (display name);
- ``keywords``: words or multi-word phrases (lemmatised, see ``toolkit.coding.text``);
  ``exclude``: words/phrases that veto the code in a sentence where they occur;
  ``examples``: sentences a respondent might say for the code (the meaning-based proposer
  compares fragments with them, see ``toolkit.coding.similar``); ``about_others``: true
  for a code that is by nature about other people (a friend's recommendation, caring
  staff, a doctor who left), so that mentions of other people do not drop it.

YAML form::

    phrase_gap: 2            # optional, see toolkit.coding.text
    negation_window: 3       # optional
    polarity_check: true     # optional, see toolkit.coding.autocode
    min_confidence: 0.5      # optional: draft rows below this confidence are left out
    similarity: true         # optional: propose codes by similarity to the examples too
    classifier:              # optional: a sentence classifier trained on hand-coded interviews
      training: [{transcripts: dev/transcripts, hand_coding: dev/hand_coding.csv}]
    sentiment_lexicon:       # optional, extends/overrides the package lexicon
      хамство: -2
    codes:
      - code: price_too_high
        type: barrier
        stage: evaluation
        factor_kind: hard
        level: company
        keywords: [дорого, "высокая цена", "не по карману"]

``codes`` may also be a mapping ``{code_id: {type: ..., ...}}``, or the whole file a
list of codes. In a sheet, one row per code, keyword cells separated by ``;``, ``,``,
``|`` or line breaks; column names in English or Russian (код, тип, этап, точка
контакта, ключевые слова, ...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from toolkit.core.config import load_yaml
from toolkit.core.limits import DEFAULTS as DEFAULT_LIMITS, check_file_size, check_zip

from toolkit.coding.classifier import ClassifierSpec, parse_spec
from toolkit.coding.lexicon import DEFAULT_LEXICON

# Draft rows below this confidence are left out (see toolkit.coding.autocode); a codebook may set its own.
DEFAULT_MIN_CONFIDENCE = 0.5
from toolkit.coding.text import (
    DEFAULT_NEGATION_WINDOW,
    DEFAULT_PHRASE_GAP,
    Keyword,
    KeywordIndex,
    compile_keyword,
)
from toolkit.core.contract import CODE_TYPES, FACTOR_KINDS, LEVELS
from toolkit.core.errors import InputFileError

TYPE_ALIASES = {
    "барьер": "barrier",
    "мотиватор": "motivator",
    "мотив": "motivator",
    "эмоция": "emotion",
    "задача": "jtbd",
    "job": "jtbd",
    "job_to_be_done": "jtbd",
    "фактор выбора": "choice_factor",
    "фактор": "choice_factor",
    "ожидание": "expectation",
    "точка контакта": "touchpoint",
    "идея": "idea",
}
KIND_ALIASES = {"жесткий": "hard", "жёсткий": "hard", "мягкий": "soft"}
LEVEL_ALIASES = {
    "стратегическая группа": "strategic_group",
    "strategic group": "strategic_group",
    "компания": "company",
    "клиника": "company",
    "врач": "doctor",
}

# field -> names accepted in YAML keys or sheet headers (lower-cased, spaces/underscores equal)
FIELD_ALIASES = {
    "code": ("code", "code_id", "id", "код"),
    "code_type": ("type", "code_type", "тип", "тип кода"),
    "stage": ("stage", "journey_stage", "этап"),
    "touchpoint": ("touchpoint", "точка контакта", "точка"),
    "factor_kind": ("factor_kind", "kind", "вид фактора"),
    "level": ("level", "уровень"),
    "sentiment": ("sentiment", "тональность"),
    "label": ("label", "name", "title", "description", "название", "описание"),
    "keywords": ("keywords", "keyword", "phrases", "words", "patterns", "ключевые слова", "фразы"),
    "exclude": ("exclude", "exclude_keywords", "stop_words", "исключения"),
    "examples": ("examples", "example", "example_sentences", "примеры", "пример"),
    "about_others": ("about_others", "про других"),
}
_LOOKUP = {alias.replace("_", " "): f for f, names in FIELD_ALIASES.items() for alias in names}


def _field(name: Any) -> str | None:
    return _LOOKUP.get(re.sub(r"[\s_]+", " ", str(name).strip().lower()))


@dataclass(frozen=True)
class Code:
    """One codebook entry (see module docstring)."""

    code: str
    code_type: str
    stage: str
    touchpoint: str | None = None
    factor_kind: str | None = None
    level: str | None = None
    sentiment: float | None = None
    label: str | None = None
    keywords: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    about_others: bool = False

    @property
    def polarity(self) -> int:
        """+1/-1/0: sign of ``sentiment`` if given, else -1 for a barrier, +1 for a motivator, else 0."""
        if self.sentiment is not None:
            return (self.sentiment > 0) - (self.sentiment < 0)
        return {"barrier": -1, "motivator": 1}.get(self.code_type, 0)


@dataclass
class Codebook:
    """Codes in codebook order, plus the matching settings and the sentiment lexicon."""

    codes: dict[str, Code]
    lexicon: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_LEXICON))
    phrase_gap: int = DEFAULT_PHRASE_GAP
    negation_window: int = DEFAULT_NEGATION_WINDOW
    source: str = "codebook"
    polarity_check: bool = True
    min_confidence: float = DEFAULT_MIN_CONFIDENCE
    similarity: bool = True
    classifier: ClassifierSpec | None = None  # see toolkit.coding.classifier

    def keyword_index(self) -> KeywordIndex:
        """Index of every code's keywords (payload ``(code, False)``) and exclusions (``(code, True)``)."""
        if getattr(self, "_kw_index", None) is None:
            entries = []
            for c in self.codes.values():
                entries += [((c.code, False), k) for k in _compile_all(c.keywords)]
                entries += [((c.code, True), k) for k in _compile_all(c.exclude)]
            self._kw_index = KeywordIndex(entries, self.phrase_gap, self.negation_window)
        return self._kw_index

    def lexicon_index(self) -> KeywordIndex:
        """Index of the sentiment lexicon (payload = score)."""
        if getattr(self, "_lex_index", None) is None:
            entries = [(float(score), k) for w, score in self.lexicon.items() if (k := compile_keyword(w))]
            self._lex_index = KeywordIndex(entries, self.phrase_gap, self.negation_window)
        return self._lex_index

    def table(self) -> pd.DataFrame:
        """The codebook as a table (one row per code), for the draft's reference sheet."""
        rows = [
            {
                "code": c.code,
                "label": c.label or "",
                "code_type": c.code_type,
                "stage": c.stage,
                "touchpoint": c.touchpoint or "",
                "factor_kind": c.factor_kind or "",
                "level": c.level or "",
                "keywords": "; ".join(c.keywords),
            }
            for c in self.codes.values()
        ]
        return pd.DataFrame(rows, columns=["code", "label", "code_type", "stage", "touchpoint",
                                           "factor_kind", "level", "keywords"])


def _compile_all(words) -> list[Keyword]:
    return [k for k in (compile_keyword(w) for w in words) if k is not None]


def _words(value: Any) -> list[str]:
    """Keyword list from a YAML list or a sheet cell (``;``, ``,``, ``|`` or line breaks)."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return []
    if isinstance(value, (list, tuple)):
        out = []
        for v in value:
            out.extend(_words(v) if isinstance(v, (list, tuple)) else [str(v).strip()])
        return [w for w in out if w]
    return [w.strip() for w in re.split(r"[;,|\n]", str(value)) if w.strip()]


def _sentences(value: Any) -> list[str]:
    """Example sentences from a YAML list or a sheet cell (separated by line breaks or ``|``)."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return []
    items = value if isinstance(value, (list, tuple)) else re.split(r"[|\n]", str(value))
    return [str(v).strip() for v in items if str(v).strip()]


def _flag(value: Any, where: str, problems: list[str]) -> bool:
    """A yes/no field (YAML boolean, or yes/no/да/нет/1/0 in a sheet); blank is no."""
    if value is None or isinstance(value, bool):
        return bool(value)
    text = str(value).strip().lower()
    if text in ("yes", "y", "true", "1", "да", "+"):
        return True
    if text in ("no", "n", "false", "0", "нет", "-", ""):
        return False
    problems.append(f"{where}: expected yes or no, got '{value}'")
    return False


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, float) and pd.isna(v)) or (isinstance(v, str) and not v.strip())


def _stage_lookup(case) -> dict[str, str] | None:
    if case is None:
        return None
    out = {}
    for s in case.journey_stages:
        for name in [s.id, s.name, *s.aliases]:
            if name:
                out[name.strip().lower()] = s.id
    return out


def _touchpoint_lookup(case) -> dict[str, str]:
    out = {}
    for t in getattr(case, "touchpoints", None) or []:
        for name in [t.id, t.name, *t.aliases]:
            if name:
                out[name.strip().lower()] = t.id
    return out


def _entries_from_yaml(data: Any, where: str) -> tuple[list[tuple[str, dict]], dict]:
    """(label for messages, raw entry) pairs and top-level settings from parsed YAML."""
    settings: dict = {}
    if isinstance(data, list):
        codes = data
    elif isinstance(data, dict):
        settings = {k: v for k, v in data.items() if k != "codes"}
        codes = data.get("codes")
        if codes is None:
            raise InputFileError(f"{where} has no 'codes:' list; see toolkit/coding/codebook.py for the format.")
    else:
        raise InputFileError(f"{where} is not a codebook: expected a list of codes or a mapping with 'codes:'.")
    entries = []
    if isinstance(codes, dict):
        for key, body in codes.items():
            body = dict(body or {})
            body.setdefault("code", key)
            entries.append((f"code '{key}'", body))
    elif isinstance(codes, list):
        for i, body in enumerate(codes):
            if not isinstance(body, dict):
                raise InputFileError(f"{where}, codes[{i}]: expected a mapping (code:, type:, stage:, keywords:).")
            entries.append((f"codes[{i}]", body))
    else:
        raise InputFileError(f"{where}: 'codes:' must be a list or a mapping of codes.")
    return entries, settings


def _entries_from_sheet(df: pd.DataFrame) -> list[tuple[str, dict]]:
    entries = []
    for i, row in enumerate(df.to_dict("records")):
        if all(_blank(v) for v in row.values()):
            continue
        entries.append((f"row {i + 2}", row))
    return entries


def parse_codebook(entries: list[tuple[str, dict]], settings: dict, where: str, case=None,
                   base: Path | None = None) -> Codebook:
    """Validate raw codebook entries; every problem is reported at once."""
    problems: list[str] = []
    stages = _stage_lookup(case)
    touch = _touchpoint_lookup(case)
    codes: dict[str, Code] = {}
    for label, raw in entries:
        f: dict[str, Any] = {}
        for key, value in raw.items():
            name = _field(key)
            if name is None:
                if isinstance(key, str) and key.lower().startswith(("keyword", "phrase")):
                    name = "keywords"  # keywords_ru / phrases_en ... are merged
                else:
                    problems.append(f"{label}: unknown field '{key}'")
                    continue
            if name in ("keywords", "exclude"):
                f[name] = f.get(name, []) + _words(value)
            elif name == "examples":
                f[name] = f.get(name, []) + _sentences(value)
            else:
                f[name] = None if _blank(value) else (value.strip() if isinstance(value, str) else value)
        code = str(f.get("code") or "").strip()
        if not code:
            problems.append(f"{label}: the code id is missing")
            continue
        here = f"code '{code}'"
        if code in codes:
            problems.append(f"{here} is declared twice")
        ctype = str(f.get("code_type") or "").strip().lower()
        ctype = TYPE_ALIASES.get(ctype, ctype)
        if ctype not in CODE_TYPES:
            problems.append(f"{here}: type '{f.get('code_type')}' is not one of {', '.join(CODE_TYPES)}")
        stage = str(f.get("stage") or "").strip()
        if not stage:
            problems.append(f"{here}: the stage is missing")
        elif stages is not None:
            if stage.lower() not in stages:
                problems.append(f"{here}: stage '{stage}' is not a journey stage of the case "
                                f"({', '.join(case.stage_ids())})")
            else:
                stage = stages[stage.lower()]
        kind = f.get("factor_kind")
        if kind is not None:
            kind = KIND_ALIASES.get(str(kind).lower(), str(kind).lower())
            if kind not in FACTOR_KINDS:
                problems.append(f"{here}: factor_kind '{f['factor_kind']}' is not hard or soft")
        level = f.get("level")
        if level is not None:
            level = LEVEL_ALIASES.get(str(level).lower(), str(level).lower())
            if level not in LEVELS:
                problems.append(f"{here}: level '{f['level']}' is not one of {', '.join(LEVELS)}")
        sentiment = f.get("sentiment")
        if sentiment is not None:
            try:
                sentiment = float(str(sentiment).replace(",", "."))
                if not -2 <= sentiment <= 2:
                    raise ValueError
            except ValueError:
                problems.append(f"{here}: sentiment '{f['sentiment']}' is not a number from -2 to 2")
                sentiment = None
        tp = f.get("touchpoint")
        if tp is not None:
            tp = touch.get(str(tp).lower(), str(tp))
        keywords = tuple(dict.fromkeys(f.get("keywords", [])))
        if not keywords:
            problems.append(f"{here}: no keywords, so it can never be drafted")
        codes[code] = Code(
            code=code,
            code_type=ctype,
            stage=stage,
            touchpoint=tp,
            factor_kind=kind,
            level=level,
            sentiment=sentiment,
            label=None if f.get("label") is None else str(f["label"]),
            keywords=keywords,
            exclude=tuple(dict.fromkeys(f.get("exclude", []))),
            examples=tuple(dict.fromkeys(f.get("examples", []))),
            about_others=_flag(f.get("about_others"), f"{here}: about_others", problems),
        )
    lexicon = dict(DEFAULT_LEXICON)
    extra = settings.pop("sentiment_lexicon", None) or {}
    if not isinstance(extra, dict):
        problems.append("sentiment_lexicon: expected a mapping word -> score (-2..2)")
        extra = {}
    for word, score in extra.items():
        try:
            s = float(score)
            if not -2 <= s <= 2:
                raise ValueError
            lexicon[str(word)] = s
        except (TypeError, ValueError):
            problems.append(f"sentiment_lexicon['{word}']: score '{score}' is not a number from -2 to 2")
    out = {}
    for key, default in (("phrase_gap", DEFAULT_PHRASE_GAP), ("negation_window", DEFAULT_NEGATION_WINDOW)):
        v = settings.pop(key, default)
        if not isinstance(v, int) or v < 0:
            problems.append(f"{key}: expected a whole number >= 0, got '{v}'")
            v = default
        out[key] = v
    polarity_check = settings.pop("polarity_check", True)
    if not isinstance(polarity_check, bool):
        problems.append(f"polarity_check: expected true or false, got '{polarity_check}'")
        polarity_check = True
    similarity = settings.pop("similarity", True)
    if not isinstance(similarity, bool):
        problems.append(f"similarity: expected true or false, got '{similarity}'")
        similarity = True
    min_confidence = settings.pop("min_confidence", DEFAULT_MIN_CONFIDENCE)
    if isinstance(min_confidence, bool) or not isinstance(min_confidence, (int, float)) or not 0 <= min_confidence <= 1:
        problems.append(f"min_confidence: expected a number from 0 to 1, got '{min_confidence}'")
        min_confidence = DEFAULT_MIN_CONFIDENCE
    classifier = parse_spec(settings.pop("classifier", None), base, problems)
    for key in settings:
        if key not in ("language", "version", "description", "name", "title"):
            problems.append(f"unknown top-level key '{key}'")
    if not codes and not problems:
        problems.append("it declares no codes")
    if problems:
        lines = "\n".join(f"  - {p}." for p in problems)
        raise InputFileError(f"Codebook {where} has {len(problems)} problem(s):\n{lines}")
    return Codebook(codes, lexicon, out["phrase_gap"], out["negation_window"], where, polarity_check,
                    float(min_confidence), similarity, classifier)


def read_codebook(path: str | Path, case=None) -> Codebook:
    """Read a codebook (YAML, xlsx or csv); stages are checked against ``case`` when given."""
    path = Path(path)
    where = path.name
    if not path.is_file():
        raise InputFileError(f"The codebook {where} does not exist; check sources.transcripts.codebook in case.yml.")
    limits = case.limits if case is not None else DEFAULT_LIMITS
    check_file_size(path, limits)
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        check_zip(path, limits.max_unzipped_mb, limits.max_zip_ratio)
    if suffix in (".yml", ".yaml"):
        try:
            data = load_yaml(path.read_text(encoding="utf-8"))
        except UnicodeDecodeError:
            raise InputFileError(f"The codebook {where} is not UTF-8 text; save it as UTF-8.") from None
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            at = f" at line {mark.line + 1}" if mark else ""
            raise InputFileError(f"The codebook {where} is not valid YAML{at}: {getattr(e, 'problem', e)}.") from None
        entries, settings = _entries_from_yaml(data, where)
    elif suffix in (".xlsx", ".xlsm", ".csv"):
        try:
            if suffix == ".csv":
                df = pd.read_csv(path, sep=None, engine="python", dtype=str, encoding="utf-8-sig")
            else:
                df = pd.read_excel(path, sheet_name=0, dtype=str)
        except Exception as e:  # unreadable file: say which and why
            raise InputFileError(f"The codebook {where} cannot be read: {e}.") from None
        entries, settings = _entries_from_sheet(df), {}
    else:
        raise InputFileError(f"The codebook {where} must be .yml, .yaml, .xlsx or .csv.")
    return parse_codebook(entries, settings, where, case, base=path.parent)
