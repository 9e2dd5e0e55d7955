"""Words of the loader's messages: a raw value as it may be shown, what a column expects,
the quarantine reason of an unreadable value."""

from __future__ import annotations

from functools import lru_cache

from toolkit.core.config import Case
from toolkit.core.contract import ColumnSpec
from toolkit.data import parsing as P
from toolkit.data.names import NameMasker
from toolkit.data.privacy import scrub_text


@lru_cache(maxsize=1)
def _masker() -> NameMasker:
    return NameMasker()


def _show(value, width: int = 40) -> str:
    """A raw value as it may appear in a message: phones, e-mails and names masked, shortened."""
    text = _masker()(scrub_text(str(value)))
    return text if len(text) <= width else text[: width - 1] + "…"


def _bad_reason(spec: ColumnSpec) -> str:
    if spec.kind in ("date", "period"):
        return "bad_date"
    if spec.kind in ("brand", "business_line"):
        return f"unknown_{spec.kind}"
    if spec.kind in ("journey_stage", "funnel_stage"):
        return "unknown_stage"
    if spec.kind == "choice":
        return f"unknown_{spec.name}"
    return f"bad_{spec.name}"


_EXPECTED = {
    "date": f"a date ({P.DATE_FORMATS_HUMAN})",
    "period": "a month (2024-03, 03.2024, мар 2024) or a date",
    "money": "an amount such as 12 500,00",
    "float": "a number",
    "sentiment": "a number from -2 to 2",
    "int": "a whole number",
    "bool": "yes/no (да/нет, 1/0)",
    "gender": "Ж/М or F/M",
}


def _expected(spec: ColumnSpec, case: Case) -> str:
    if spec.kind in _EXPECTED:
        return _EXPECTED[spec.kind]
    if spec.kind == "brand":
        return "one of the brands in case.yml (" + ", ".join(b.label for b in case.brands) + ")"
    if spec.kind == "journey_stage":
        return "one of the journey stages (" + ", ".join(s.label for s in case.journey_stages) + ")"
    if spec.kind == "funnel_stage":
        return "one of the funnel stages (" + ", ".join(s.label for s in case.funnel_stages) + ")"
    if spec.kind == "choice":
        return "one of: " + ", ".join(spec.choices)
    return "a value"
