"""The case's choice factors as tables: ids, survey columns, hard/soft kind, the price factor."""

from __future__ import annotations

import re
from collections.abc import Sequence

import pandas as pd

from toolkit.core.config import ChoiceFactor, Parameters
from toolkit.core.errors import CaseError

IMP_PREFIX = "imp_"
_PRICE_ID = re.compile(r"price|cost", re.IGNORECASE)
_PRICE_NAME = re.compile(r"price|cost|цен[аыуе]?\b|стоимост", re.IGNORECASE)


# --------------------------------------------------------------------------- factors


def factor_table(choice_factors: Sequence[ChoiceFactor], survey: pd.DataFrame | None = None) -> pd.DataFrame:
    """The case's choice factors as a table: factor_id, column, name, kind, level, order.

    With ``survey`` given, only the factors that have an ``imp_<id>`` column in it are kept.
    """
    rows = [
        {
            "factor_id": f.id,
            "column": IMP_PREFIX + f.id,
            "name": f.label,
            "kind": f.kind,
            "level": f.level,
            "order": i,
        }
        for i, f in enumerate(choice_factors)
    ]
    out = pd.DataFrame(rows, columns=["factor_id", "column", "name", "kind", "level", "order"])
    if survey is not None:
        out = out[out["column"].isin(survey.columns)].reset_index(drop=True)
    return out


def split_hard_soft(choice_factors: Sequence[ChoiceFactor]) -> dict[str, list[str]]:
    """Factor ids grouped by the kind the case declares: ``{"hard": [...], "soft": [...]}`` (declared order)."""
    return {
        "hard": [f.id for f in choice_factors if f.kind == "hard"],
        "soft": [f.id for f in choice_factors if f.kind == "soft"],
    }


def price_factor_id(choice_factors: Sequence[ChoiceFactor], parameters: Parameters | None = None) -> str | None:
    """The id of the factor that means price, or None when the case has none.

    ``parameters.price_factor`` wins when set (it must name a declared factor); otherwise the
    first declared factor whose id contains ``price``/``cost``, else the first whose display
    name says price/цена/стоимость.
    """
    ids = [f.id for f in choice_factors]
    explicit = getattr(parameters, "price_factor", None) if parameters is not None else None
    if explicit:
        if explicit not in ids:
            raise CaseError(
                f"parameters.price_factor is '{explicit}', which is not a declared choice factor "
                f"(declared: {', '.join(ids) or 'none'})."
            )
        return explicit
    for f in choice_factors:
        if _PRICE_ID.search(f.id):
            return f.id
    for f in choice_factors:
        if f.name and _PRICE_NAME.search(f.name):
            return f.id
    return None
