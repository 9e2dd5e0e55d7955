"""The case file: one ``case.yml`` per engagement (Kedro-style: data locations and
parameters in one place, logic elsewhere).

``load_case(case_dir)`` reads ``case_dir/case.yml``, validates it with pydantic and
reports *every* problem at once, each with its YAML path (``brands[1].role: ...``).
Paths of input files are relative to the case folder.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from toolkit.core.case_parts import (  # noqa: F401  (the case file's pieces, re-exported)
    Brand,
    BusinessLine,
    ChoiceFactor,
    DatabaseSource,
    FunnelStage,
    JourneyStage,
    Limits,
    Named,
    Parameters,
    Privacy,
    Source,
    Sources,
    Strict,
    Touchpoint,
    TranscriptSource,
)
from toolkit.core.contract import TABLES
from toolkit.core.errors import CaseConfigError
from toolkit.core.text import normalise

CASE_FILE = "case.yml"

# The normative six stages of METHOD.md §3, the default journey.
NORMATIVE_STAGES = {
    "ru": [
        ("framing", "Первичное осмысление"),
        ("evaluation", "Оценка"),
        ("deal", "Сделка"),
        ("experience", "Опыт"),
        ("trigger", "Триггер"),
        ("loyalty_loop", "Петля лояльности"),
    ],
    "en": [
        ("framing", "Primary framing"),
        ("evaluation", "Evaluation"),
        ("deal", "Deal"),
        ("experience", "Experience"),
        ("trigger", "Trigger"),
        ("loyalty_loop", "Loyalty loop"),
    ],
}


class Case(Strict):
    client: str = Field(description="client name as it appears on the report's title page")
    title: str | None = None
    prepared_by: str | None = Field(None, description="who prepared the report (title page); default: the toolkit")
    consultancy: str | None = Field(None, description="the consultancy's name on the report's cover")
    engagement_title: str | None = Field(None, description="the engagement's title on the cover (default: title)")
    confidentiality: str | None = Field(None, description="the cover's confidentiality line (default: the catalog's)")
    industry: Literal["medical", "retail", "neutral"] = Field(
        "neutral", description="chooses the recommendation library, KPI names and CRM trigger wording"
    )
    language: Literal["ru", "en"] = "ru"
    currency: str = Field("RUB", pattern=r"^[A-Z]{3}$")
    as_of: dt.date = Field(description="the analysis date; data after it is quarantined as future_date")
    brands: list[Brand] = Field(min_length=1)
    business_lines: list[BusinessLine] = Field(default_factory=list)
    journey_stages: list[JourneyStage] | None = None
    funnel_stages: list[FunnelStage] = Field(default_factory=list)
    choice_factors: list[ChoiceFactor] = Field(default_factory=list)
    touchpoints: list[Touchpoint] = Field(default_factory=list)
    sources: Sources
    privacy: Privacy = Field(default_factory=Privacy)
    parameters: Parameters = Field(default_factory=Parameters)
    limits: Limits = Field(default_factory=Limits)
    allow_outside_case: bool = Field(
        False, description="read sources, codebook, transcripts and the secrets file outside the case folder"
    )
    normalise_ids: bool = Field(
        False, description="compare ids ignoring letter case and inner spaces (C-01, c-01 and 'C- 01' are one id)"
    )

    # set by load_case, not read from YAML
    case_dir: Path | None = Field(None, exclude=True)

    @field_validator("as_of", mode="before")
    @classmethod
    def _as_of(cls, v):
        if isinstance(v, str) and re.fullmatch(r"\d{1,2}\.\d{1,2}\.\d{4}", v.strip()):
            return dt.datetime.strptime(v.strip(), "%d.%m.%Y").date()
        return v

    @model_validator(mode="after")
    def _defaults_and_cross_checks(self):
        if self.journey_stages is None:
            self.journey_stages = [JourneyStage(id=i, name=n) for i, n in NORMATIVE_STAGES[self.language]]
        problems = _cross_check(self)
        if problems:
            raise ValueError("\n".join(problems))
        return self

    # -- lookups used across the toolkit --------------------------------------
    @property
    def name(self) -> str:
        return self.case_dir.name if self.case_dir else self.client

    def brand(self, role: str) -> Brand | None:
        return next((b for b in self.brands if b.role == role), None)

    def stage_ids(self) -> list[str]:
        return [s.id for s in self.journey_stages]

    def path(self, relative: str, what: str | None = None) -> Path:
        """``relative`` resolved (symlinks too) against the case folder; it must stay inside
        the folder unless ``allow_outside_case`` is set (``what`` names the setting in the
        message, e.g. ``sources.transactions.path``). Nothing of the file is read here."""
        base = (self.case_dir or Path(".")).resolve()
        full = (base / relative).resolve()
        # a case built in memory (no case_dir) has no folder to confine to
        if self.case_dir is not None and not self.allow_outside_case and not full.is_relative_to(base):
            setting = f" ({what} in case.yml)" if what else ""
            raise CaseConfigError(
                str(base / CASE_FILE),
                [f"the path '{relative}'{setting} leads outside the case folder; copy the file into the case "
                 "folder or set 'allow_outside_case: true' in case.yml"],
            )
        return full

    def display_path(self, path: str | Path) -> str:
        """A path as reports and metrics show it: relative to the case folder, never absolute
        (a file outside the folder is shown by its name)."""
        base = (self.case_dir or Path(".")).resolve()
        full = (base / path).resolve()
        return full.relative_to(base).as_posix() if full.is_relative_to(base) else full.name


def _dupes(items, what, key="id") -> list[str]:
    seen, out = set(), []
    for i, it in enumerate(items):
        v = getattr(it, key)
        if v in seen:
            out.append(f"{what}[{i}].{key}: '{v}' is declared twice")
        seen.add(v)
    return out


def _cross_check(case: Case) -> list[str]:
    """Checks that span several keys; every problem is returned, none raised."""
    p: list[str] = []
    p += _dupes(case.brands, "brands")
    p += _dupes(case.business_lines, "business_lines")
    p += _dupes(case.journey_stages, "journey_stages")
    p += _dupes(case.funnel_stages, "funnel_stages")
    p += _dupes(case.choice_factors, "choice_factors")
    p += _dupes(case.touchpoints, "touchpoints")
    for role in ("premium", "budget"):
        n = sum(b.role == role for b in case.brands)
        if n > 1:
            p.append(f"brands: {n} brands have role '{role}'; at most one may")
    stages = set(case.stage_ids())
    for i, f in enumerate(case.funnel_stages):
        if f.journey_stage not in stages:
            p.append(
                f"funnel_stages[{i}].journey_stage: '{f.journey_stage}' is not a journey stage "
                f"(journey stages: {', '.join(case.stage_ids())})"
            )
    for i, t in enumerate(case.touchpoints):
        if t.stage is not None and t.stage not in stages:
            p.append(f"touchpoints[{i}].stage: '{t.stage}' is not a journey stage")
    factor_ids = {f.id for f in case.choice_factors}
    touch_ids = {t.id for t in case.touchpoints}
    for table, src in case.sources.tables().items():
        spec = TABLES[table]
        targets: dict[str, str] = {}
        for client_col, canon in src.columns.items():
            where = f"sources.{table}.columns['{client_col}']"
            if spec.column(canon) is None:
                allowed = ", ".join(c.name for c in spec.columns)
                p.append(f"{where}: '{canon}' is not a column of the {table} table (allowed: {allowed})")
            if canon in targets:
                p.append(f"{where}: '{canon}' is already mapped from '{targets[canon]}'")
            targets[canon] = client_col
            if client_col in src.personal:
                p.append(f"{where}: '{client_col}' is declared personal and cannot be mapped")
            if canon.startswith("imp_") and table == "survey" and canon[4:] not in factor_ids:
                p.append(f"{where}: '{canon}' names no declared choice factor ('{canon[4:]}')")
            if canon.startswith("sat_") and table == "survey" and canon[4:] not in touch_ids:
                p.append(f"{where}: '{canon}' names no declared touchpoint ('{canon[4:]}')")
        p += _value_map_problems(case, table, src, spec, targets)
        for req in spec.required:
            if req not in targets:
                p.append(f"sources.{table}.columns: required canonical column '{req}' is not mapped")
        if src.sheet is None and src.path.lower().endswith((".xlsx", ".xlsm")):
            pass  # first sheet is used; noted by the reader
    if case.sources.leads is not None and not case.funnel_stages:
        p.append("funnel_stages: leads are given, so the ordered funnel stages must be declared")
    return p


def allowed_values(case: Case, kind: str, choices: tuple[str, ...] = ()) -> list[str] | None:
    """The values a categorical column accepts (ids; names and aliases match too), or None when
    any value is accepted (free text, numbers, a business line with none declared)."""
    if kind == "choice":
        return list(choices)
    declared = _declared(case, kind)
    if kind in ("brand", "journey_stage", "funnel_stage") or (kind == "business_line" and declared):
        return [it.id for it in declared]
    return None


def _value_map_problems(case: Case, table: str, src: Source, spec, targets: dict[str, str]) -> list[str]:
    """``values:`` maps only mapped columns, onto values the column accepts."""
    p = []
    for col, mapping in src.values.items():
        where = f"sources.{table}.values['{col}']"
        if col not in targets:
            p.append(f"{where}: '{col}' is not a mapped column of the {table} table "
                     f"(mapped: {', '.join(targets) or 'none'})")
            continue
        cspec = spec.column(col)
        allowed = allowed_values(case, cspec.kind, cspec.choices) if cspec is not None else None
        if allowed is None:
            continue
        names = {normalise(x) for it in _declared(case, cspec.kind) for x in [it.id, it.name, *it.aliases] if x}
        ok = {normalise(a) for a in allowed} | names
        for client_value, value in mapping.items():
            if normalise(value) not in ok:
                p.append(f"{where}['{client_value}']: '{value}' is not a value of {table}.{col} "
                         f"(allowed: {', '.join(allowed)})")
    return p


def _declared(case: Case, kind: str) -> list:
    return {"brand": case.brands, "business_line": case.business_lines, "journey_stage": case.journey_stages,
            "funnel_stage": case.funnel_stages}.get(kind, [])


def _format_loc(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def parse_case(data: Any, source: str = CASE_FILE) -> Case:
    """Validate a case from already-parsed YAML data, reporting every problem at once."""
    if not isinstance(data, dict):
        raise CaseConfigError(source, ["the file must be a mapping of keys (client:, brands:, sources: ...)"])
    try:
        return Case.model_validate(data)
    except ValidationError as e:
        problems = []
        for err in e.errors():
            msg = err["msg"]
            if err["type"] == "extra_forbidden":
                msg = "unknown key (check the spelling)"
            elif err["type"] == "value_error":
                msg = msg.removeprefix("Value error, ")
            if err["type"] == "value_error" and not err["loc"]:
                problems.extend(msg.split("\n"))
            else:
                problems.append(f"{_format_loc(err['loc'])}: {msg}")
        raise CaseConfigError(source, problems) from None


class _NoAliasLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses anchors' aliases (``*name``): a few lines of aliases
    can expand to billions of nodes (a "billion laughs" bomb), and no case file needs them."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.YAMLError(
                f"line {event.start_mark.line + 1}: YAML aliases (*{event.anchor}) are not accepted; "
                "write the values out in full"
            )
        return super().compose_node(parent, index)


def load_yaml(text: str):
    """YAML text as data, safely: no Python objects, no aliases (see ``_NoAliasLoader``)."""
    loader = _NoAliasLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def load_case(case_dir: str | Path) -> Case:
    """Read and validate ``case_dir/case.yml``; raise ``CaseConfigError`` listing all problems."""
    case_dir = Path(case_dir)
    path = case_dir / CASE_FILE
    if not path.is_file():
        raise CaseConfigError(str(path), [f"no {CASE_FILE} in {case_dir} (create one with: cjm new-case NAME)"])
    try:
        data = load_yaml(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise CaseConfigError(str(path), ["the file is not UTF-8 text; save it as UTF-8"]) from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise CaseConfigError(str(path), [f"{where}{getattr(e, 'problem', None) or e}"]) from None
    case = parse_case(data, str(path))
    case.case_dir = case_dir.resolve()
    return case
