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
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

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

_ID = re.compile(r"^[a-z][a-z0-9_]*$")


class Strict(BaseModel):
    """Unknown keys are errors: a typo in a key must not be silently ignored."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _check_id(v: str) -> str:
    if not _ID.match(v):
        raise ValueError(f"'{v}' is not a valid id (use lower-case latin letters, digits and _)")
    return v


class Named(Strict):
    """Something the client's data names in its own words: an id, a display name, aliases."""

    id: str
    name: str | None = None
    aliases: list[str] = Field(default_factory=list)

    _v_id = field_validator("id")(classmethod(lambda cls, v: _check_id(v)))

    @property
    def label(self) -> str:
        return self.name or self.id


class Brand(Named):
    role: Literal["premium", "budget", "other"] = "other"
    price_floor: float | None = Field(
        None, ge=0, description="lowest price of the brand's core offer; below it a lead is priced out"
    )


class BusinessLine(Named):
    repeat_kind: Literal["one_off", "regular", "unknown"] = "unknown"


class JourneyStage(Named):
    pass


class FunnelStage(Named):
    journey_stage: str = Field(description="id of the journey stage this funnel stage belongs to")


class ChoiceFactor(Named):
    kind: Literal["hard", "soft"] = "soft"
    level: Literal["strategic_group", "company", "doctor"] | None = None


class Touchpoint(Named):
    channel: Literal["online", "offline"] = "offline"
    stage: str | None = Field(None, description="id of the journey stage where it mostly acts")


class DatabaseSource(Strict):
    """A table (or a query) in the client's database: the sales analytics run inside that engine
    and only aggregates come back (``toolkit.core.engine``)."""

    url: str = Field(
        description=(
            "connection url as ibis reads it, e.g. postgres://analyst:{PGPASSWORD}@db.client.local:5432/sales; "
            "{NAME} is filled from the environment variable NAME or the key NAME of the secrets file: "
            "never a password in case.yml"
        )
    )
    table: str | None = Field(None, description="table or view name (schema.table allowed)")
    query: str | None = Field(None, description="a SELECT whose rows are the transactions")

    @model_validator(mode="after")
    def _one_of_table_or_query(self):
        if (self.table is None) == (self.query is None):
            raise ValueError("give either table: or query:, not both and not neither")
        if re.search(r"://[^/@:{}]+:(?!\{)[^/@]+@", self.url):
            raise ValueError(
                "the url holds a password: write {NAME} in its place and set NAME as an environment "
                "variable or in the secrets file"
            )
        return self


class Source(Strict):
    """One client export and how its columns map onto a canonical table; a transactions source
    may instead name a table or query in the client's database (``database:``)."""

    path: str | None = None
    database: DatabaseSource | None = Field(
        None, description="transactions only: a table or query in the client's database instead of a file"
    )
    sheet: str | None = Field(None, description="sheet name, for xlsx")
    encoding: str | None = Field(None, description="e.g. cp1251; detected when absent")
    sep: str | None = Field(None, description="CSV separator; detected when absent")
    date_format: str | None = Field(None, description="strftime pattern; detected when absent")
    columns: dict[str, str] = Field(
        description="client column name -> canonical column name; or -> {column: <canonical>, values: {...}}"
    )
    values: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        description="canonical (or client) column -> {client value: value the toolkit expects}, matched "
        "ignoring case, spaces, quotes and ё/е (e.g. code_type: {барьер: barrier})",
    )
    personal: list[str] = Field(
        default_factory=list,
        description="columns holding personal data (names, phones, e-mails): dropped at load",
    )

    @model_validator(mode="before")
    @classmethod
    def _values_under_columns(cls, data):
        """``columns: {Тип: {column: code_type, values: {барьер: barrier}}}`` -> ``columns`` +
        ``values``; value maps keyed by the client column become keyed by the canonical one; keys
        and values of a value map become text (YAML reads ``да`` as text but ``1`` as a number)."""
        if not isinstance(data, dict) or not isinstance(data.get("columns"), dict):
            return data
        data = dict(data)
        values = dict(data["values"]) if isinstance(data.get("values"), dict) else data.get("values", {})
        columns = {}
        for client, target in data["columns"].items():
            if isinstance(target, dict):
                extra = set(target) - {"column", "values"}
                if extra or "column" not in target:
                    raise ValueError(f"columns['{client}']: give column: <canonical name> and optionally values: "
                                     f"{{client value: value}} (unexpected: {', '.join(map(str, extra)) or 'no column'})")
                columns[client] = target["column"]
                if target.get("values") is not None and isinstance(values, dict):
                    values[str(target["column"])] = target["values"]
            else:
                columns[client] = target
        data["columns"] = columns
        if isinstance(values, dict):
            canonical = set(map(str, columns.values()))
            data["values"] = {
                (str(columns[col]) if col in columns and str(col) not in canonical else str(col)):
                    ({str(k): str(v) for k, v in m.items()} if isinstance(m, dict) else m)
                for col, m in values.items()
            }
        return data

    @field_validator("sep")
    @classmethod
    def _sep(cls, v):
        if v is not None and v not in {",", ";", "\t", "|"}:
            raise ValueError("sep must be one of ',', ';', '\\t', '|'")
        return v

    @model_validator(mode="after")
    def _file_or_database(self):
        if (self.path is None) == (self.database is None):
            raise ValueError("give either path: (a file) or database: (a table or query), not both")
        return self


class TranscriptSource(Strict):
    """Raw interview transcripts (.docx/.txt) and the codebook that drafts codes from them."""

    path: str = Field(description="folder with the transcripts, relative to the case folder")
    codebook: str | None = None
    interviewer_labels: list[str] = Field(default_factory=lambda: ["Интервьюер", "Interviewer", "I"])
    respondent_labels: list[str] = Field(default_factory=lambda: ["Респондент", "Respondent", "R"])
    hand_coding: str | None = Field(
        None, description="optional sheet of hand coding of the same transcripts, to measure agreement"
    )


class Sources(Strict):
    transactions: Source | None = None
    customers: Source | None = None
    leads: Source | None = None
    traffic: Source | None = None
    respondents: Source | None = None
    codes: Source | None = None
    survey: Source | None = None
    transcripts: TranscriptSource | None = None

    def tables(self) -> dict[str, Source]:
        """The file sources (a source in the client's database is in :meth:`databases`)."""
        return {name: src for name in TABLES if (src := getattr(self, name)) is not None and src.database is None}

    def databases(self) -> dict[str, Source]:
        """The sources that live in the client's database (``database:``)."""
        return {name: src for name in TABLES if (src := getattr(self, name)) is not None and src.database is not None}

    @model_validator(mode="after")
    def _database_only_for_transactions(self):
        other = [n for n in self.databases() if n != "transactions"]
        if other:
            raise ValueError(f"{', '.join(other)}: database: is supported for transactions only; export a file")
        return self


class Privacy(Strict):
    pseudonymise_ids: bool = Field(
        False,
        description=(
            "replace customer ids with a keyed hash (HMAC-SHA256); the key lives in the case "
            "folder's secrets file, which is never committed"
        ),
    )
    secrets_file: str = ".secrets.yml"


class Limits(Strict):
    """Bounds on what an input may cost (memory, time) and on what a usable table may lose.

    With the defaults any input of up to 100 MB is read in well under 1 GB of memory; each
    limit is reported in one sentence that names its setting here (``limits.<name>``)."""

    max_input_mb: float = Field(1024, gt=0, description="largest input file read")
    max_line_chars: int = Field(1_000_000, ge=1000, description="longest line of a CSV file")
    max_field_chars: int = Field(131_072, ge=1000, description="longest field of a CSV file")
    max_columns: int = Field(1000, ge=10, description="most columns in a CSV or sheet header")
    max_unzipped_mb: float = Field(
        200, gt=0, description="largest total uncompressed size of an .xlsx (~650k rows of 5 columns: ~0.8 GB to read)"
    )
    max_docx_unzipped_mb: float = Field(50, gt=0, description="largest total uncompressed size of a .docx transcript")
    max_zip_ratio: float = Field(200, gt=1, description="largest compression ratio of a zip member (.xlsx/.docx)")
    max_rows_lost_share: float = Field(
        0.20, gt=0, le=1, description="validate fails when a table loses more than this share of its rows"
    )
    warn_rows_lost_share: float = Field(
        0.05, ge=0, le=1, description="validate warns when a table loses more than this share of its rows"
    )


class Parameters(Strict):
    """Analysis parameters; every default is documented here and in ``cjm new-case``."""

    visit_definition: Literal["customer_day", "row"] = Field(
        "customer_day",
        description="a visit is one customer-day (clinic exports list each service on its own row) or one row",
    )
    confidence: float = Field(0.95, gt=0.5, lt=1.0, description="confidence level of every interval")
    min_segment_size: int = Field(
        30, ge=1, description="segments, personas and cells smaller than this are not shown as separate rows"
    )
    max_visit_number: int = Field(15, ge=2, description="repeat curve is computed for visits 1..N")
    return_window_days: int | None = Field(
        None,
        ge=1,
        description=(
            "a customer counts as 'did not return after visit n' only if visit n is at least this "
            "many days before as_of; default: the 99th percentile of observed gaps between visits "
            "(see toolkit.loyalty.repeat)"
        ),
    )
    plateau_tolerance: float = Field(
        0.03,
        gt=0,
        lt=0.5,
        description="loyalty visit: the smallest rise into the plateau of the return probability that counts as "
        "a threshold (toolkit.loyalty.threshold)",
    )
    loyalty_stage_boundaries: list[int] | None = Field(
        None, description="visit numbers that start each loyalty stage; default from the loyalty visit"
    )
    persona_k_range: tuple[int, int] = Field((2, 6), description="numbers of survey clusters tried")
    evidence_min_respondents: int = Field(
        5, ge=1, description="fewer respondents than this never counts as strong evidence"
    )
    price_lost_reasons: list[str] = Field(
        default_factory=list,
        description="lost reasons that mean 'too expensive', in the client's words (e.g. Дорого)",
    )
    capture_rates: list[float] = Field(
        default_factory=lambda: [0.1, 0.2, 0.3, 0.4, 0.5],
        description="shares of non-target premium leads the budget brand could keep (double funnel)",
    )
    recoverable_fraction: float = Field(
        0.25,
        gt=0,
        le=1,
        description=(
            "share of a stage's measured annual loss that fixing its barriers can win back (money basis); "
            "conservative default 0.25, with a sensitivity table over recoverable_fraction_sensitivity"
        ),
    )
    recoverable_fraction_sensitivity: list[float] = Field(
        default_factory=lambda: [0.1, 0.25, 0.5, 1.0],
        description="recoverable fractions shown in the barriers' sensitivity table",
    )
    materiality_share: float = Field(
        0.005,
        ge=0,
        lt=1,
        description="an opportunity under this share of annual revenue is reported as not material and not recommended",
    )
    leak_to_competitors: float = Field(
        0.5,
        ge=0,
        le=1,
        description=(
            "assumed share of the lost non-target leads who buy from a competitor, used only when the data do not "
            "measure it (no lost reason naming a competitor, no lead linked to the sales history)"
        ),
    )
    leak_sensitivity: list[float] = Field(
        default_factory=lambda: [0.25, 0.5, 0.75],
        description="leak shares shown in the double funnel's leak sensitivity",
    )
    competitor_lost_reasons: list[str] = Field(
        default_factory=list,
        description=(
            "lost reasons that mean 'went to a competitor', in the client's words (e.g. Выбрал другую клинику); "
            "default: reasons naming a competitor, another clinic/store or elsewhere"
        ),
    )
    price_factor: str | None = Field(None, description="id of the choice factor that means price (price-driven persona, brand comparison); default: the factor whose id or name says price/цена")
    random_seed: int = Field(42, description="seed of every random step")

    @field_validator("capture_rates", "recoverable_fraction_sensitivity", "leak_sensitivity")
    @classmethod
    def _rates(cls, v):
        bad = [r for r in v if not 0 <= r <= 1]
        if bad:
            raise ValueError(f"must be fractions in [0, 1], got {bad}")
        return v

    @field_validator("persona_k_range")
    @classmethod
    def _k(cls, v):
        if v[0] < 2 or v[1] < v[0]:
            raise ValueError("persona_k_range must be [low, high] with 2 <= low <= high")
        return v


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
