"""The visit expressions of :mod:`toolkit.core.sales` (its module doc defines a visit, a scope,
the main staff member and line): pure ibis expressions over a sales history's rows, compiled for
whichever engine holds them. :mod:`toolkit.core.sales` re-exports them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import ibis

if TYPE_CHECKING:
    from toolkit.core.sales import SalesHistory

ALL_LINES = "all_lines"

VisitDefinition = Literal["customer_day", "row"]
Scopes = Literal["all", "lines", "both"]


def visit_key(sales: SalesHistory, per_line: bool) -> list[str]:
    """The columns that identify a visit: (line,) customer, day (and the row in row mode)."""
    key = (["business_line"] if per_line else []) + ["customer_id", "visit_date"]
    return key + (["row_key"] if sales.visit_definition == "row" else [])


def _largest(table, key: list[str], what: str, amount: str):
    """Per ``key``: the ``what`` with the largest ``amount`` (ties: the smallest ``what``; nulls never)."""
    rank = ibis.row_number().over(
        group_by=[table[k] for k in key],
        order_by=[table[what].isnull(), ibis.desc(table[amount]), table[what]],
    )
    return table.mutate(_first=rank == 0)


def visit_totals_expr(sales: SalesHistory, per_line: bool, with_staff: bool = False, rows=None):
    """One row per visit (whole history, or each line's own visits with ``per_line``): the
    visit key, ``amount`` (sum of its rows), ``service_rows``; with ``with_staff`` also
    ``staff_id``, the visit's main staff member (largest amount on the visit, ties by smallest
    id; NULL when no row of the visit names a staff member). ``rows``: part of
    ``sales.sale_rows`` (whole visits: e.g. some customers' rows), default all of them."""
    key = visit_key(sales, per_line)
    s = sales.sale_rows if rows is None else rows
    if per_line:
        s = s.filter(s.business_line.notnull())
    if not with_staff:
        return s.group_by(key).aggregate(amount=s.amount.sum(), service_rows=s.count())
    # what each staff member was paid on the visit; the visit's totals and the ranking of its
    # staff members in one window pass (one partitioning, no second aggregation of a text
    # column), keeping the first-ranked row: a NULL staff member ranks last, so that row is NULL
    # only when no row of the visit names one
    paid = s.group_by(key + ["staff_id"]).aggregate(staff_amount=s.amount.sum(), staff_rows=s.count())
    visit = ibis.window(group_by=[paid[k] for k in key])
    rank = ibis.row_number().over(group_by=[paid[k] for k in key], order_by=[
        paid.staff_id.isnull(), ibis.desc(paid.staff_amount), paid.staff_id])
    p = paid.mutate(amount=paid.staff_amount.sum().over(visit), service_rows=paid.staff_rows.sum().over(visit),
                    _rank=rank)
    return p.filter(p._rank == 0).select(*key, "amount", "service_rows", "staff_id")


def _scope_visits(sales: SalesHistory, per_line: bool, detail: bool):
    """The numbered visits of one kind of scope: the whole history (partition by customer) or
    each line's own history (partition by line and customer)."""
    v = visit_totals_expr(sales, per_line, detail)
    if detail and not per_line:  # main business line: largest amount on the visit, ties by smallest id
        key = visit_key(sales, False)
        s = sales.sale_rows
        s = s.filter(s.business_line.notnull())
        by_line = s.group_by(key + ["business_line"]).aggregate(line_amount=s.amount.sum())
        b = _largest(by_line, key, "business_line", "line_amount")
        main = b.group_by(key).aggregate(main_line=b.business_line.max(where=b._first))
        v = v.left_join(main, key).select(*v.columns, business_line=ibis._.main_line)
    order = [v.visit_date] + ([v.row_key] if sales.visit_definition == "row" else [])
    w = ibis.window(group_by=([v.business_line] if per_line else []) + [v.customer_id], order_by=order)
    cols = {
        "scope": v.business_line if per_line else ibis.literal(ALL_LINES, "string"),
        "customer_id": v.customer_id, "visit_date": v.visit_date,
        "visit_number": (ibis.row_number().over(w) + 1).cast("int64"),
        "amount": v.amount, "service_rows": v.service_rows.cast("int64"),
    }
    if detail:
        cols.update(business_line=v.business_line, staff_id=v.staff_id,
                    gap_days=v.visit_date.delta(v.visit_date.lag().over(w), unit="day").cast("int64"))
    # the gap before a visit is the previous visit's days_to_next: the analyses read that one
    cols["days_to_next"] = v.visit_date.lead().over(w).delta(v.visit_date, unit="day").cast("int64")
    cols["row_key"] = v.row_key if sales.visit_definition == "row" else ibis.literal(0, "int64")
    return v.select(**cols)


def visits_expr(sales: SalesHistory, scopes: Scopes = "both", detail: bool = True):
    """The numbered visit table (the one definition of a visit), an ibis table.

    Columns: ``scope``, ``customer_id``, ``visit_date``, ``visit_number`` (1.. within the
    scope), ``amount``, ``service_rows`` (rows merged into the visit), ``days_to_next``,
    ``row_key``; with ``detail``: ``business_line`` (the line itself in a line scope, the main
    line in ``all_lines``), ``staff_id`` (the main staff member) and ``gap_days``.
    ``scopes``: ``"all"`` (whole history), ``"lines"`` (each business line) or ``"both"``.
    """
    if scopes != "all" and not sales.has_business_line:
        scopes = "all"  # no business lines in the data: the whole history only
    parts = [_scope_visits(sales, k == "lines", detail) for k in {"all": ["all"], "lines": ["lines"],
                                                                  "both": ["all", "lines"]}[scopes]]
    return parts[0] if len(parts) == 1 else parts[0].union(parts[1], distinct=False)


def customer_summary_expr(sales: SalesHistory, scopes: Scopes = "both"):
    """The customer summary as an ibis table: one row per customer and scope (see :func:`customer_summary`)."""
    if scopes != "all" and not sales.has_business_line:
        scopes = "all"
    want_all, want_lines = scopes in ("all", "both"), scopes in ("lines", "both")
    # one scope: a constant key column would only slow the aggregations and the join down
    keys = ["customer_id"] if scopes == "all" else ["scope", "customer_id"]
    whole = ibis.literal(ALL_LINES, "string")
    r = sales.refund_rows
    refund_parts = []
    if want_all:
        refund_parts.append(r.select(scope=whole, customer_id=r.customer_id, amount=r.amount))
    if want_lines:
        rl = r.filter(r.business_line.notnull())
        refund_parts.append(rl.select(scope=rl.business_line, customer_id=rl.customer_id, amount=rl.amount))
    if sales.cache:
        u = sales.visits(scopes)
    else:
        # no need to number visits to count them: one row per visit, then per customer
        parts = []
        if want_all:
            v = visit_totals_expr(sales, per_line=False)
            parts.append(v.select(scope=whole, customer_id=v.customer_id, visit_date=v.visit_date, amount=v.amount))
        if want_lines:
            v = visit_totals_expr(sales, per_line=True)
            parts.append(v.select(scope=v.business_line, customer_id=v.customer_id, visit_date=v.visit_date,
                                  amount=v.amount))
        u = parts[0] if len(parts) == 1 else parts[0].union(parts[1], distinct=False)
    per_customer = u.group_by(keys).aggregate(
        first_visit=u.visit_date.min(), last_visit=u.visit_date.max(), visits=u.count(), revenue=u.amount.sum())
    ru = refund_parts[0] if len(refund_parts) == 1 else refund_parts[0].union(refund_parts[1], distinct=False)
    per_refunds = ru.group_by(keys).aggregate(refunds=ru.amount.sum())
    j = per_customer.left_join(per_refunds, keys)
    refunds = j.refunds.fill_null(0.0)
    return j.select(scope=j.scope if len(keys) == 2 else whole, customer_id=j.customer_id, first_visit=j.first_visit,
                    last_visit=j.last_visit, visits=j.visits, revenue=j.revenue, refunds=refunds,
                    monetary=j.revenue + refunds)
