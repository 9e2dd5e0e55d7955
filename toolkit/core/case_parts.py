"""The pieces of a case file: brands, lines, stages, factors, touchpoints, the sources
(file or database, column and value maps), privacy, limits and the analysis parameters.
``toolkit.core.config`` assembles them into the ``Case`` and reads ``case.yml``."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from toolkit.core.contract import TABLES


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
