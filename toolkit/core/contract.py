"""The data contract: canonical tables and their columns (see DESIGN.md).

A case maps the client's own column names onto these canonical names in
``case.yml``. ``kind`` says how a raw value is parsed and checked:

- ``id``: identifier, kept as text (``"00123"`` stays ``"00123"``);
- ``date``: ``dd.mm.yyyy``, ISO ``yyyy-mm-dd``, or an Excel serial number;
- ``period``: a month (``2024-03``, ``03.2024``, ``мар 2024``) or any date in it;
- ``money``: amounts with spaces/NBSP thousands separators, decimal commas and
  currency suffixes (``"12 500,00 руб."``);
- ``int`` / ``float``: numbers (decimal comma accepted);
- ``bool``: да/нет, yes/no, 1/0, true/false, +/-;
- ``gender``: normalised to ``F`` / ``M``;
- ``brand``, ``business_line``, ``journey_stage``, ``funnel_stage``: matched to
  the case's declared ids, names or aliases;
- ``choice``: one of ``choices``;
- ``sentiment``: a number from -2 to +2;
- ``text``: free text; ``scrub=True`` removes phones and e-mails (quotes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    kind: str
    required: bool = False
    choices: tuple[str, ...] = ()
    scrub: bool = False
    description: str = ""


@dataclass(frozen=True)
class TableSpec:
    name: str
    columns: tuple[ColumnSpec, ...]
    key: str | None = None  # column whose repeats are duplicates
    extra_columns: bool = False  # may carry any further snake_case attributes
    extra_prefixes: dict[str, str] = field(default_factory=dict)  # prefix -> kind
    description: str = ""

    def column(self, name: str) -> ColumnSpec | None:
        for c in self.columns:
            if c.name == name:
                return c
        for prefix, kind in self.extra_prefixes.items():
            if name.startswith(prefix) and len(name) > len(prefix):
                return ColumnSpec(name, kind)
        if self.extra_columns and EXTRA_NAME.fullmatch(name):
            return ColumnSpec(name, "text")
        return None

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]


EXTRA_NAME = re.compile(r"[a-z][a-z0-9_]*")

CODE_TYPES = (
    "barrier",
    "motivator",
    "emotion",
    "jtbd",
    "choice_factor",
    "expectation",
    "touchpoint",
    "idea",
)
LEVELS = ("strategic_group", "company", "doctor")
FACTOR_KINDS = ("hard", "soft")

C = ColumnSpec

TABLES: dict[str, TableSpec] = {
    "transactions": TableSpec(
        "transactions",
        (
            C("customer_id", "id", True, description="customer/patient identifier"),
            C("date", "date", True, description="date of the sale or visit"),
            C("amount", "money", True, description="amount paid; negative = refund"),
            C("transaction_id", "id", description="receipt/visit line id"),
            C("brand", "brand"),
            C("business_line", "business_line"),
            C("service", "text"),
            C("location", "text"),
            C("staff_id", "id", description="doctor or consultant"),
            C("channel", "text"),
        ),
        key="transaction_id",
        description="sales or visits, one row per line of a receipt or visit",
    ),
    "customers": TableSpec(
        "customers",
        (
            C("customer_id", "id", True),
            C("gender", "gender"),
            C("birth_year", "int"),
            C("age", "int"),
            C("city", "text"),
            C("first_source", "text"),
        ),
        key="customer_id",
        extra_columns=True,
        description="one row per customer with attributes",
    ),
    "leads": TableSpec(
        "leads",
        (
            C("lead_id", "id", True),
            C("created_at", "date", True),
            C("brand", "brand", True),
            C("stage_reached", "funnel_stage", True),
            C("source", "text"),
            C("lost_reason", "text"),
            C("budget", "money", description="what the lead says it can pay"),
            C("customer_id", "id"),
        ),
        key="lead_id",
        description="the funnel before the first deal, one row per lead",
    ),
    "traffic": TableSpec(
        "traffic",
        (
            C("period", "period", True),
            C("brand", "brand", True),
            C("sessions", "int", True),
            C("source", "text"),
        ),
        description="aggregated website/app sessions per period and brand",
    ),
    "respondents": TableSpec(
        "respondents",
        (
            C("respondent_id", "id", True),
            C("is_client", "bool"),
            C("brand", "brand"),
            C("business_line", "business_line"),
            C("persona", "text"),
            C("gender", "gender"),
            C("age", "int"),
        ),
        key="respondent_id",
        extra_columns=True,
        description="who was interviewed or surveyed",
    ),
    "codes": TableSpec(
        "codes",
        (
            C("respondent_id", "id", True),
            C("stage", "journey_stage", True),
            C("code_type", "choice", True, choices=CODE_TYPES),
            C("code", "text", True),
            C("touchpoint", "text"),
            C("sentiment", "sentiment"),
            C("factor_kind", "choice", choices=FACTOR_KINDS),
            C("level", "choice", choices=LEVELS),
            C("quote", "text", scrub=True),
        ),
        description="coded interview fragments, one row per fragment",
    ),
    "survey": TableSpec(
        "survey",
        (
            C("respondent_id", "id", True),
            C("is_client", "bool"),
            C("brand", "brand"),
            C("business_line", "business_line"),
            C("nps", "int", description="likelihood to recommend, 0..10"),
            C("budget", "money"),
            C("gender", "gender"),
            C("age", "int"),
        ),
        key="respondent_id",
        extra_columns=True,
        extra_prefixes={"imp_": "float", "sat_": "float"},
        description=(
            "one row per respondent; imp_<factor> = importance of a declared choice "
            "factor, sat_<touchpoint> = satisfaction with a declared touchpoint"
        ),
    ),
}

TABLE_ORDER = tuple(TABLES)
