"""Small measurements and planted-value helpers used to write ``truth.yml``."""

from __future__ import annotations

import numpy as np

from toolkit.synthetic.sales import Sales, SalesSpec


def expected_visits(p_return: tuple[float, ...], n_max: int = 400) -> float:
    """Expected visits per journey without censoring: 1 + p1 + p1 p2 + ... (last p repeats)."""
    p = np.array([p_return[min(k, len(p_return) - 1)] for k in range(n_max)])
    return float(1 + np.cumprod(p).sum())


def loyalty_stages(starts: tuple[int, ...], medians: tuple[float, ...]) -> list[dict]:
    out = []
    for i, (s, m) in enumerate(zip(starts, medians)):
        end = starts[i + 1] - 1 if i + 1 < len(starts) else None
        out.append({"stage": i + 1, "from_visit": s, "to_visit": end, "median_gap_days": float(m)})
    return out


def cross_observed(sales: Sales, spec: SalesSpec, rule_index: int, horizon: int, max_delay: int) -> dict:
    """Observed rate of a cross rule among eligible entry customers, split by the rule's group."""
    rule = spec.cross_rules[rule_index]
    li = [ln.id for ln in spec.lines]
    frm, to = li.index(rule.from_line), li.index(rule.to_line)
    eligible = (sales.entry_line == frm) & (sales.entry_day <= horizon - max_delay)
    bought = np.zeros(sales.n_customers, bool)
    bought[sales.j_customer[sales.j_line == to]] = True
    age = spec.as_of.year - sales.birth_year
    if rule.group is not None:
        g, lo, hi = rule.group
        in_group = (age >= lo) & (age <= hi)
        if g is not None:
            in_group &= sales.gender == g
    else:
        in_group = np.ones(sales.n_customers, bool)
    out = {}
    for name, sel in (("group", eligible & in_group), ("others", eligible & ~in_group)):
        n = int(sel.sum())
        if n == 0:
            continue
        k = int(bought[sel].sum())
        out[name] = {"customers": n, "buyers": k, "share": round(k / n, 4)}
    return out


def staff_observed(sales: Sales, line: int) -> dict:
    """Top staff of a line and their share of the line's repeat customers (2+ visits)."""
    in_line = sales.j_line[sales.v_journey] == line
    visits_per_j = np.bincount(sales.v_journey[in_line], minlength=sales.j_customer.size)
    repeat = np.flatnonzero((visits_per_j >= 2) & (sales.j_line == line) & (sales.j_staff >= 0))
    if repeat.size == 0:
        return {"repeat_customers": 0}
    counts = np.bincount(sales.j_staff[repeat], minlength=sales.staff_names.size)
    top = int(np.argmax(counts))
    return {"repeat_customers": int(repeat.size), "top_staff": str(sales.staff_names[top]),
            "top_staff_share_of_repeat_customers": round(float(counts[top] / repeat.size), 4)}


def cohens_d(a: np.ndarray, b: np.ndarray) -> float:
    """(mean a - mean b) / sqrt((var a + var b) / 2), sample variances."""
    return float((a.mean() - b.mean()) / np.sqrt((a.var(ddof=1) + b.var(ddof=1)) / 2))


def nps_index(scores: np.ndarray) -> float:
    """Share of promoters (9-10) minus share of detractors (0-6)."""
    s = np.asarray(scores)
    return float((s >= 9).mean() - (s <= 6).mean())
