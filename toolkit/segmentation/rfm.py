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

import ibis
import numpy as np
import pandas as pd

from toolkit.core.config import Parameters
from toolkit.core.words import word
from toolkit.core.sales import ALL_LINES, as_sales_history, customer_summary_expr, ordered, sort_result

# segment ids in report order (best first); display names: word catalog rfm.segment.<id>
SEGMENTS: tuple[str, ...] = (
    "champions",
    "loyal",
    "potential_loyalists",
    "new",
    "promising",
    "need_attention",
    "about_to_sleep",
    "at_risk",
    "cannot_lose",
    "hibernating",
    "lost",
)

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
    """Display name of a segment id in ``ru`` or ``en`` (word catalog ``rfm.segment.<id>``)."""
    return word(f"rfm.segment.{segment}", language)


def _score(measure: str, value, edges: list[float] | None, n, part: list, worse=None):
    """The 1-5 score expression (see the module docstring): ``1 + floor(5 w / n)`` with w the
    customers of the scope (``part``: the scope column, or nothing for one scope) with a strictly
    worse value (the 0-based minimum rank, worst first; ``worse``: w when already counted), or
    with explicit ``edges``: 1 + the number of edges the value is above (recency: 5 - ...)."""
    if edges:
        above = sum(ibis.ifelse(value > float(e), 1, 0) for e in sorted(edges))
        return (SCORES - above) if measure == "recency" else (1 + above)
    if worse is None:
        # recency: smaller is better, so the worst (largest) recency comes first
        order = ibis.desc(value) if measure == "recency" else value
        worse = ibis.rank().over(ibis.window(group_by=part or None, order_by=order))
    return 1 + (SCORES * worse) // n


def segment_expr(r, f, m):
    """The segment id of the scores ``r``, ``f``, ``m`` (ibis integer expressions): the R x F
    grid and the M rule (see the module docstring); the one definition of the segments."""
    cases = []
    for ri, row in enumerate(RF_GRID, start=1):
        for fi, segment in enumerate(row, start=1):
            cell = (r == ri) & (f == fi)
            if segment == "at_risk":  # big spenders who stopped coming
                cases.append((cell & (m == SCORES), "cannot_lose"))
            cases.append((cell, segment))
    return ibis.cases(*cases, else_=ibis.null("string"))


def _scored(sales, per_line: bool, edges: dict[str, list[float]] | None):
    """RFM values, scores and segment of every customer (and scope), an ibis table; and the
    scope partition (empty for one scope)."""
    edges = edges or {}
    unknown = set(edges) - {"recency", "frequency", "monetary"}
    if unknown:
        raise ValueError(f"edges: unknown measure(s) {sorted(unknown)} (use recency, frequency, monetary)")
    summary = customer_summary_expr(sales, "both" if per_line else "all")
    v = summary.select(
        "scope", "customer_id", recency_days=ibis.date(sales.as_of).delta(summary.last_visit, unit="day"),
        frequency=summary.visits, monetary=summary.monetary,
    )
    keys = ["scope"] if per_line and sales.has_business_line else []
    # recency and frequency are whole numbers with few distinct values: the customers with a
    # worse value are counted per value and joined back (no ranking of millions of customers)
    counted = [("recency", "recency_days"), ("frequency", "frequency")]
    counted = [(measure, col) for measure, col in counted if not edges.get(measure)]
    for measure, col in counted:
        v = v.join(_worse_counts(v, col, keys, measure == "recency"), keys + [col])
    worse = {measure: v[f"_worse_{col}"] for measure, col in counted}
    part = [v.scope] if keys else []
    # the customers of the scope: from a count table when there is one
    n = v[f"_n_{counted[0][1]}"] if counted else v.count().over(ibis.window(group_by=part or None))
    scored = v.mutate(
        r_score=_score("recency", v.recency_days, edges.get("recency"), n, part, worse.get("recency")),
        f_score=_score("frequency", v.frequency, edges.get("frequency"), n, part, worse.get("frequency")),
        m_score=_score("monetary", v.monetary, edges.get("monetary"), n, part),
    )
    scored = scored.select("scope", "customer_id", "recency_days", "frequency", "monetary", "r_score", "f_score",
                           "m_score")
    return scored.mutate(segment=segment_expr(scored.r_score, scored.f_score, scored.m_score)), part


def _worse_counts(v, col: str, keys: list[str], larger_is_worse: bool):
    """Per scope (``keys``) and distinct value of ``col``: ``_worse_<col>``, how many customers of
    the scope have a strictly worse value (the 0-based minimum rank of the value, worst first),
    and ``_n_<col>``, the customers of the scope."""
    c = v.group_by(keys + [col]).aggregate(_k=v.count())
    order = ibis.desc(c[col]) if larger_is_worse else c[col]
    scope = [c[k] for k in keys] or None
    upto = c._k.sum().over(ibis.cumulative_window(group_by=scope, order_by=order))
    return c.select(*keys, col, **{f"_worse_{col}": upto - c._k, f"_n_{col}": c._k.sum().over(group_by=scope)})


def rfm_scores(sales, *, per_line: bool = False, edges: dict[str, list[float]] | None = None) -> pd.DataFrame:
    """RFM values, scores and segment of every customer at ``as_of``.

    One row per scope and customer (``all_lines``; each business line too with ``per_line``):
    ``recency_days``, ``frequency``, ``monetary``, ``r_score``, ``f_score``, ``m_score``,
    ``rfm`` (e.g. ``"545"``), ``segment`` (id; names in ``SEGMENTS``). Sorted by scope,
    customer. ``edges``: optional explicit score edges per ``recency``/``frequency``/``monetary``.
    """
    sales = as_sales_history(sales)
    scored, part = _scored(sales, per_line, edges)
    df = sales.execute(ordered(sales, scored, ["scope", "customer_id"], one_scope=not part))
    for c in ("recency_days", "frequency", "r_score", "f_score", "m_score"):
        df[c] = df[c].astype("int64")
    df["monetary"] = df["monetary"].astype("float64")
    df = sort_result(sales, df, ["scope", "customer_id"])
    df["rfm"] = (100 * df["r_score"] + 10 * df["f_score"] + df["m_score"]).astype("str")  # e.g. "545"
    df["segment"] = df.pop("segment").astype("str")  # (last column)
    return df.reset_index(drop=True)


def assign_segments(r_score, f_score, m_score) -> pd.Series:
    """Segment ids from scores by the R x F grid and the M rule (:func:`segment_expr`, computed
    on an in-process DuckDB)."""
    frame = pd.DataFrame({"r": np.asarray(r_score, dtype=np.int64), "f": np.asarray(f_score, dtype=np.int64),
                          "m": np.asarray(m_score, dtype=np.int64)})
    frame["i"] = np.arange(len(frame), dtype=np.int64)
    t = ibis.memtable(frame)
    seg = ibis.duckdb.connect().execute(t.select(t.i, segment=segment_expr(t.r, t.f, t.m)).order_by("i"))
    index = r_score.index if isinstance(r_score, pd.Series) else None
    return pd.Series(seg["segment"].to_numpy(), index=index, dtype="str", name="segment")


def _segment_totals(t):
    """Per scope and segment of a scored table (``scope``, ``segment``, ``recency_days``,
    ``frequency``, ``monetary``): customers, net revenue and the mean values."""
    return t.group_by(["scope", "segment"]).aggregate(
        customers=t.count(), revenue=t.monetary.sum(), mean_recency_days=t.recency_days.mean(),
        mean_frequency=t.frequency.mean(), mean_monetary=t.monetary.mean())


def _segment_table(g: pd.DataFrame, scopes: list, min_segment_size: int) -> pd.DataFrame:
    """The segment table from :func:`_segment_totals` (every scope x segment, shares, small)."""
    g = g.astype({"scope": "str", "segment": "str"}).set_index(["scope", "segment"])
    full = pd.MultiIndex.from_product([scopes, list(SEGMENTS)], names=["scope", "segment"])
    out = g.reindex(full).reset_index()
    out["customers"] = out["customers"].fillna(0).astype("int64")
    out["revenue"] = out["revenue"].astype("float64").fillna(0.0)
    for c in ("mean_recency_days", "mean_frequency", "mean_monetary"):
        out[c] = out[c].astype("float64")
    totals = out.groupby("scope", sort=False)[["customers", "revenue"]].transform("sum")
    out["customer_share"] = out["customers"] / totals["customers"]
    out["revenue_share"] = (out["revenue"] / totals["revenue"]).where(totals["revenue"] > 0)
    out["small"] = out["customers"] < min_segment_size
    return out[
        ["scope", "segment", "customers", "customer_share", "revenue", "revenue_share",
         "small", "mean_recency_days", "mean_frequency", "mean_monetary"]
    ]


def segment_table(scores: pd.DataFrame, *, min_segment_size: int = 30) -> pd.DataFrame:
    """Segment sizes and revenue shares per scope, every segment listed (0 when empty).

    Columns: ``scope``, ``segment``, ``customers``, ``customer_share``, ``revenue`` (net),
    ``revenue_share`` (of the scope's net revenue; NaN when that is not positive), ``small``
    (fewer than ``min_segment_size`` customers: not to be shown as a separate row),
    ``mean_recency_days``, ``mean_frequency``, ``mean_monetary``. ``scores``:
    :func:`rfm_scores` (scopes in their order there); :func:`rfm_segment_table` computes the
    same table inside the engine without the customer rows.
    """
    scopes = list(pd.unique(scores["scope"]))  # in order of appearance, without a Python loop over customers
    t = ibis.memtable(scores[["scope", "segment", "recency_days", "frequency", "monetary"]])
    g = ibis.duckdb.connect().execute(_segment_totals(t))
    return _segment_table(g, scopes, min_segment_size)


def rfm_segment_table(sales, *, per_line: bool = False, edges: dict[str, list[float]] | None = None,
                      min_segment_size: int = 30) -> pd.DataFrame:
    """:func:`segment_table` of :func:`rfm_scores`, computed inside the engine: only the segment
    totals come back (no customer rows). Scopes: the whole history first, then the lines."""
    sales = as_sales_history(sales)
    scored, _ = _scored(sales, per_line, edges)
    g = sales.execute(_segment_totals(scored))
    scopes = sorted({str(s) for s in g["scope"]}, key=lambda s: (s != ALL_LINES, s))
    return _segment_table(g, scopes, min_segment_size)


def rfm_metrics(sales, parameters: Parameters | None = None, scores: pd.DataFrame | None = None,
                table: pd.DataFrame | None = None) -> dict:
    """The ``segments.rfm`` key of metrics.json: ``{segment: {customers, revenue_share}}`` for the
    whole history (all segments, in report order), plus ``customer_share`` and ``small``.
    ``scores`` (:func:`rfm_scores`) or ``table`` (:func:`rfm_segment_table`): when already computed."""
    p = parameters or Parameters()
    if table is not None:
        table = table[table["scope"] == ALL_LINES].assign(small=lambda t: t["customers"] < p.min_segment_size)
    else:
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
