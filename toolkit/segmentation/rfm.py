"""RFM segmentation of customers at the case's ``as_of`` (METHOD.md section 2).

Terms (visits, scopes and net revenue are defined in :mod:`toolkit.core.sales`):

- **recency**: days from the customer's last visit (in the scope) to ``as_of``;
- **frequency**: number of visits (in the scope);
- **monetary**: net revenue (visit amounts less refunds, in the scope).

**Scores 1-5** (per scope): a customer's score is ``1 + floor(5 * w / n)`` where ``n`` is the
number of customers in the scope and ``w`` the number of customers with a strictly *worse*
value (larger recency; smaller frequency; smaller monetary). So the score says how many fifths
of the customers this one beats; customers with the same value always share a score (the rule
does not depend on ids or on the input order), the worst value always scores 1, and a heavily
tied value (e.g. 60 % of customers with one visit) keeps everyone on it at the same score
(the next value then scores 1 + floor(5 * 0.6) = 4). Explicit edges can replace the quantiles
(``edges={"frequency": [1, 2, 4, 7]}``: score = 1 + number of edges the value is above; for
recency, 5 - number of edges the recency is above).

**Segments** come from the R x F grid below (rows R = 5..1, columns F = 1..5) and one M rule:
a customer in ``at_risk`` whose M score is 5 is moved to ``cannot_lose`` (big spenders who
stopped coming).

======  ===========  ===================  ===================  ===========  ===========
R \\ F  1            2                    3                    4            5
======  ===========  ===================  ===================  ===========  ===========
5       new          potential_loyalists  potential_loyalists  champions    champions
4       promising    potential_loyalists  potential_loyalists  loyal        loyal
3       about_to_sl. about_to_sleep       need_attention       loyal        loyal
2       hibernating  hibernating          at_risk              at_risk      cannot_lose
1       lost         lost                 at_risk              at_risk      cannot_lose
======  ===========  ===================  ===================  ===========  ===========
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from toolkit.core.config import Parameters
from toolkit.core.sales import ALL_LINES, as_sales_history, customer_summary_sql, sql_date

# segment id -> (ru, en) display names, in report order (best first)
SEGMENTS: dict[str, tuple[str, str]] = {
    "champions": ("Чемпионы", "Champions"),
    "loyal": ("Лояльные", "Loyal"),
    "potential_loyalists": ("Потенциально лояльные", "Potential loyalists"),
    "new": ("Новые", "New"),
    "promising": ("Перспективные", "Promising"),
    "need_attention": ("Требуют внимания", "Need attention"),
    "about_to_sleep": ("Засыпающие", "About to sleep"),
    "at_risk": ("В зоне риска", "At risk"),
    "cannot_lose": ("Нельзя потерять", "Cannot lose"),
    "hibernating": ("Спящие", "Hibernating"),
    "lost": ("Потерянные", "Lost"),
}

# RF_GRID[r - 1][f - 1]: the segment of recency score r and frequency score f
RF_GRID: tuple[tuple[str, ...], ...] = (
    ("lost", "lost", "at_risk", "at_risk", "cannot_lose"),  # R = 1
    ("hibernating", "hibernating", "at_risk", "at_risk", "cannot_lose"),  # R = 2
    ("about_to_sleep", "about_to_sleep", "need_attention", "loyal", "loyal"),  # R = 3
    ("promising", "potential_loyalists", "potential_loyalists", "loyal", "loyal"),  # R = 4
    ("new", "potential_loyalists", "potential_loyalists", "champions", "champions"),  # R = 5
)

SCORES = 5


def segment_name(segment: str, language: str = "ru") -> str:
    """Display name of a segment id in ``ru`` or ``en``."""
    ru, en = SEGMENTS[segment]
    return ru if language == "ru" else en


QUINTILES = "[0.2, 0.4, 0.6, 0.8]"


def _score_sql(measure: str, column: str, edges: list[float] | None) -> str:
    """SQL expression of a 1-5 score (see the module docstring).

    Data-driven edges: ``e_s`` = the value at position ceil(s * n / 5) (s = 1..4) of the scope's
    values sorted worst first (``quantile_disc``), and score = 1 + number of edges the value is
    strictly better than. With w = customers strictly worse, "better than e_s" holds exactly when
    w >= ceil(s n / 5), so the score is 1 + floor(5 w / n); one selection per scope instead of
    a sort per measure.
    """
    if edges:
        above = " + ".join(f"CAST({column} > {float(e)} AS INTEGER)" for e in sorted(edges))
        return f"({SCORES} - ({above}))" if measure == "recency" else f"(1 + {above})"
    # recency: smaller is better, so work on -recency (larger is better) like the other two
    value = f"-{column}" if measure == "recency" else column
    better = " + ".join(f"CAST({value} > {measure}_edges[{i}] AS INTEGER)" for i in range(1, SCORES))
    return f"(1 + {better})"


def rfm_scores(sales, *, per_line: bool = False, edges: dict[str, list[float]] | None = None) -> pd.DataFrame:
    """RFM values, scores and segment of every customer at ``as_of``.

    One row per scope and customer (``all_lines``; each business line too with ``per_line``):
    ``recency_days``, ``frequency``, ``monetary``, ``r_score``, ``f_score``, ``m_score``,
    ``rfm`` (e.g. ``"545"``), ``segment`` (id; names in ``SEGMENTS``). Sorted by scope,
    customer. ``edges``: optional explicit score edges per ``recency``/``frequency``/``monetary``.
    """
    sales = as_sales_history(sales)
    edges = edges or {}
    unknown = set(edges) - {"recency", "frequency", "monetary"}
    if unknown:
        raise ValueError(f"edges: unknown measure(s) {sorted(unknown)} (use recency, frequency, monetary)")
    summary = customer_summary_sql(sales, "both" if per_line else "all")
    df = sales.query(
        f"""WITH customer_values AS (
            SELECT scope, customer_id, date_diff('day', last_visit, {sql_date(sales.as_of)}) AS recency_days,
                   visits AS frequency, monetary
            FROM ({summary})
        ),
        score_edges AS (     -- per scope: the values at the 20/40/60/80 % positions, worst first
            SELECT scope, quantile_disc(-recency_days, {QUINTILES}) AS recency_edges,
                   quantile_disc(frequency, {QUINTILES}) AS frequency_edges,
                   quantile_disc(monetary, {QUINTILES}) AS monetary_edges
            FROM customer_values GROUP BY scope
        )
        SELECT v.scope, v.customer_id, v.recency_days, v.frequency, v.monetary,
               {_score_sql("recency", "v.recency_days", edges.get("recency"))} AS r_score,
               {_score_sql("frequency", "v.frequency", edges.get("frequency"))} AS f_score,
               {_score_sql("monetary", "v.monetary", edges.get("monetary"))} AS m_score
        FROM customer_values v JOIN score_edges USING (scope)
        ORDER BY v.scope <> '{ALL_LINES}', v.scope, v.customer_id"""
    )
    for c in ("recency_days", "frequency", "r_score", "f_score", "m_score"):
        df[c] = df[c].astype("int64")
    df["rfm"] = df["r_score"].astype(str) + df["f_score"].astype(str) + df["m_score"].astype(str)
    df["segment"] = assign_segments(df["r_score"], df["f_score"], df["m_score"])
    return df.reset_index(drop=True)


def assign_segments(r_score, f_score, m_score) -> pd.Series:
    """Segment ids from scores by the R x F grid and the M rule (see the module docstring)."""
    r = np.asarray(r_score, dtype=np.int64)
    f = np.asarray(f_score, dtype=np.int64)
    m = np.asarray(m_score, dtype=np.int64)
    grid = np.array(RF_GRID, dtype=object)
    seg = grid[r - 1, f - 1]
    seg = np.where((seg == "at_risk") & (m == SCORES), "cannot_lose", seg)
    index = r_score.index if isinstance(r_score, pd.Series) else None
    return pd.Series(seg, index=index, dtype="str", name="segment")


def segment_table(scores: pd.DataFrame, *, min_segment_size: int = 30) -> pd.DataFrame:
    """Segment sizes and revenue shares per scope, every segment listed (0 when empty).

    Columns: ``scope``, ``segment``, ``name_ru``, ``name_en``, ``customers``,
    ``customer_share``, ``revenue`` (net), ``revenue_share`` (of the scope's net revenue; NaN
    when that is not positive), ``small`` (fewer than ``min_segment_size`` customers: not to be
    shown as a separate row), ``mean_recency_days``, ``mean_frequency``, ``mean_monetary``.
    """
    g = scores.groupby(["scope", "segment"], sort=False).agg(
        customers=("customer_id", "size"),
        revenue=("monetary", "sum"),
        mean_recency_days=("recency_days", "mean"),
        mean_frequency=("frequency", "mean"),
        mean_monetary=("monetary", "mean"),
    )
    scopes = list(pd.unique(scores["scope"]))  # in order of appearance, without a Python loop over customers
    full = pd.MultiIndex.from_product([scopes, list(SEGMENTS)], names=["scope", "segment"])
    out = g.reindex(full).reset_index()
    out["customers"] = out["customers"].fillna(0).astype("int64")
    out["revenue"] = out["revenue"].fillna(0.0)
    totals = out.groupby("scope", sort=False)[["customers", "revenue"]].transform("sum")
    out["customer_share"] = out["customers"] / totals["customers"]
    out["revenue_share"] = (out["revenue"] / totals["revenue"]).where(totals["revenue"] > 0)
    out["small"] = out["customers"] < min_segment_size
    out.insert(2, "name_ru", out["segment"].map(lambda s: SEGMENTS[s][0]).astype("str"))
    out.insert(3, "name_en", out["segment"].map(lambda s: SEGMENTS[s][1]).astype("str"))
    return out[
        ["scope", "segment", "name_ru", "name_en", "customers", "customer_share", "revenue", "revenue_share",
         "small", "mean_recency_days", "mean_frequency", "mean_monetary"]
    ]


def rfm_metrics(sales, parameters: Parameters | None = None, scores: pd.DataFrame | None = None) -> dict:
    """The ``segments.rfm`` key of metrics.json: ``{segment: {customers, revenue_share}}`` for the
    whole history (all segments, in report order), plus ``customer_share`` and ``small``."""
    p = parameters or Parameters()
    if scores is None:
        scores = rfm_scores(sales)
    table = segment_table(scores[scores["scope"] == ALL_LINES], min_segment_size=p.min_segment_size)
    out = {}
    for r in table.to_dict("records"):
        share = r["revenue_share"]
        out[r["segment"]] = {
            "customers": int(r["customers"]),
            "revenue_share": None if pd.isna(share) else round(float(share), 4),
            "customer_share": None if pd.isna(r["customer_share"]) else round(float(r["customer_share"]), 4),
            "small": bool(r["small"]),
        }
    return out
