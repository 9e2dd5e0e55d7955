"""Dirty rows the loader must quarantine, planted into a case's raw exports.

Every dirty row has exactly one problem, named by the reason the loader reports (``truth.yml``
``data_quality`` counts them per table and reason; ``plan`` maps reason -> count). Each
function takes the clean rows in export order and gives them a private float sort key ``_key``:
clean row i has key i, so a dirty copy keyed i + 0.5 lands right after its original, a
verbatim duplicate i + 0.25 and a new lead i + 0.75.

The case modules say how their export spells things (column names, broken dates and amounts,
id formats); the logic of what a dirty row is lives here once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from toolkit.synthetic.common import LeadExport, lead_ids


def _cycle(values: tuple, k: int) -> list:
    """``k`` values taken in turn from ``values`` (the broken spellings a dirty row shows)."""
    return [values[i % len(values)] for i in range(k)]


@dataclass(frozen=True)
class SalesExportProblems:
    """How one sales export (visits, receipts) spells the fields its dirty rows touch.

    ``refund_days``/``future_days`` are inclusive day ranges: a refund is dated that many days
    after its sale, a future-dated row that many days after as_of. ``row_number``: a line-number
    column the export adds before its duplicated rows (a duplicate repeats its number), or None.
    """

    date: str
    amount: str
    customer: tuple[str, ...]  # blanked when the customer id is missing (id, name, phone ...)
    bad_dates: tuple[str, ...]
    bad_amounts: tuple[str, ...]
    refund_days: tuple[int, int]
    future_days: tuple[int, int]
    row_number: str | None = None


def add_dirty_transactions(frame: pd.DataFrame, day: np.ndarray, amount: np.ndarray, plan: dict[str, int],
                           rng: np.random.Generator, horizon: int, export: SalesExportProblems,
                           date_text: Callable[[np.ndarray], np.ndarray],
                           money_text: Callable[[np.ndarray], object],
                           renumber: Callable[[pd.DataFrame, int], pd.DataFrame] | None = None) -> pd.DataFrame:
    """The sales export with its dirty rows.

    ``frame``: the clean rows in export order; ``day``/``amount``: their day numbers and amounts
    in the same order. Dirty rows are copies of distinct clean rows
    dated at least 30 days before as_of (so a refund stays before it), one problem each:
    ``duplicate`` (the row again, verbatim), ``refund`` (the amount negated, a few days later),
    ``missing_customer_id``, ``bad_date``, ``future_date`` (after as_of), ``bad_amount``.
    ``renumber(copy, start)`` gives copies their own receipt numbers (``start``: copies so far).
    """
    frame = frame.assign(_key=np.arange(len(frame), dtype=float))
    candidates = np.flatnonzero(day <= horizon - 30)
    picks = rng.choice(candidates, size=sum(plan.values()), replace=False)
    extra, dup_of, at, copied = [], [], 0, 0
    for reason, k in plan.items():
        chosen, at = picks[at:at + k], at + k
        if reason == "duplicate":
            dup_of = list(chosen)
            continue
        copy = frame.iloc[chosen].copy()
        copy["_key"] = chosen + 0.5
        if renumber is not None:
            copy = renumber(copy, copied)
        copied += k
        if reason == "refund":
            lo, hi = export.refund_days
            copy[export.date] = date_text(day[chosen] + rng.integers(lo, hi + 1, k))
            copy[export.amount] = money_text(-amount[chosen])
        elif reason == "missing_customer_id":
            for col in export.customer:
                copy[col] = ""
        elif reason == "bad_date":
            copy[export.date] = _cycle(export.bad_dates, k)
        elif reason == "future_date":
            lo, hi = export.future_days
            copy[export.date] = date_text(np.full(k, horizon) + rng.integers(lo, hi + 1, k))
        elif reason == "bad_amount":
            copy[export.amount] = _cycle(export.bad_amounts, k)
        extra.append(copy)
    frame = pd.concat([frame] + extra, ignore_index=True).sort_values("_key", kind="stable")
    if export.row_number is not None:
        frame.insert(0, export.row_number, np.arange(1, len(frame) + 1).astype(str))
    dups = frame[frame["_key"].isin(np.array(dup_of, dtype=float))].copy()
    dups["_key"] = dups["_key"] + 0.25
    frame = pd.concat([frame, dups], ignore_index=True).sort_values("_key", kind="stable")
    return frame.drop(columns="_key")


def add_dirty_leads(frame: pd.DataFrame, leads, plan: dict[str, int], rng: np.random.Generator, funnels,
                    brand_name: dict[str, str], export: LeadExport) -> pd.DataFrame:
    """The leads export in date order with its dirty rows (private ``_key`` column kept).

    ``frame``: one row per simulated lead in simulation order. Dirty rows, one problem each:
    ``duplicate_id`` (a lead past the first stage again, right after itself, one stage earlier
    and without a lost reason: the same id with different content), ``unknown_stage`` (a new
    lead in a stage no funnel declares) and ``bad_date`` (a new lead at the first stage with an
    unparsable date). New leads get fresh ids after the last of their funnel.
    """
    n = leads.day.size
    brand_labels = [brand_name[f.brand] for f in funnels]
    order = np.lexsort((np.arange(n), leads.day))
    frame = frame.iloc[order].reset_index(drop=True)
    frame["_key"] = np.arange(n, dtype=float)
    stage = export.stage
    extra = []
    k = plan["duplicate_id"]
    later = [f.stage_names[s] for f in funnels for s in (1, 2, 3)]
    chosen = rng.choice(np.flatnonzero(frame[stage].isin(later)), size=k, replace=False)
    dup = frame.iloc[chosen].copy()
    for f in funnels:
        for s in range(1, len(f.stage_names)):
            dup.loc[dup[stage] == f.stage_names[s], stage] = f.stage_names[s - 1]
    dup[export.lost_reason] = None
    dup["_key"] = chosen + 0.5
    extra.append(dup)
    next_seq = {bi: int(leads.seq[leads.brand == bi].max()) + 1 for bi in range(len(funnels))}
    for reason in ("unknown_stage", "bad_date"):
        k = plan[reason]
        chosen = rng.choice(len(frame), size=k, replace=False)
        new = frame.iloc[chosen].copy()
        funnel_of = [brand_labels.index(b) for b in new[export.brand]]
        seq = []
        for bi in funnel_of:  # a handful of rows
            seq.append(next_seq[bi])
            next_seq[bi] += 1
        new[export.id] = lead_ids(np.array(funnel_of, dtype=np.int64), np.array(seq), export.id_prefixes,
                                  export.id_width)
        if export.customer is not None:
            new[export.customer] = None
        new[export.lost_reason] = None
        if reason == "unknown_stage":
            new[stage] = _cycle(export.unknown_stages, k)
        else:
            new[export.date] = _cycle(export.bad_dates, k)
            new[stage] = [funnels[bi].stage_names[0] for bi in funnel_of]
        new["_key"] = chosen + 0.75
        extra.append(new)
    return pd.concat([frame] + extra, ignore_index=True).sort_values("_key", kind="stable")


def add_dirty_codes(frame: pd.DataFrame, plan: dict[str, int], rng: np.random.Generator, codes,
                    stage_name: dict[str, str], unknown_stages: tuple[str, ...],
                    bad_sentiments: tuple[int, ...]) -> pd.DataFrame:
    """The coding sheet with its dirty rows (private ``_key`` column kept).

    ``frame``: the clean coded fragments with the columns of ``interviews.CODE_FIELDS``. Dirty
    rows are extra fragments of the case's ``idea`` code placed after random fragments, one
    problem each: ``unknown_stage`` (a stage the journey does not have,
    sentiment 0) and ``sentiment_out_of_range`` (a sentiment outside -2..2, ``bad_sentiments``).
    """
    frame = frame.assign(_key=np.arange(len(frame), dtype=float))
    idea = next(c for c in codes if c.code_type == "idea")
    extra = []
    for reason in ("unknown_stage", "sentiment_out_of_range"):
        k = plan[reason]
        chosen = rng.choice(len(frame), size=k, replace=False)
        new = frame.iloc[chosen].copy()
        new["code_type"] = idea.code_type
        new["code"] = idea.code
        new["touchpoint"] = idea.touchpoint
        new["factor_kind"] = None
        new["level"] = None
        new["quote"] = _cycle(idea.quotes, k)
        if reason == "unknown_stage":
            new["stage"] = _cycle(unknown_stages, k)
            new["sentiment"] = 0
        else:
            new["stage"] = stage_name[idea.stage]
            new["sentiment"] = _cycle(bad_sentiments, k)
        new["_key"] = chosen + 0.5
        extra.append(new)
    return pd.concat([frame] + extra, ignore_index=True).sort_values("_key", kind="stable")


def add_duplicate_questionnaires(frame: pd.DataFrame, k: int, rng: np.random.Generator,
                                 importance_columns: list[str], shifts: tuple[int, ...],
                                 scale: tuple[int, int]) -> pd.DataFrame:
    """The survey answers with ``k`` questionnaires submitted twice (``duplicate_id``): the same
    questionnaire number right after the first answer, every importance moved by one of
    ``shifts`` and kept on the ``scale`` (private ``_key`` column kept)."""
    frame = frame.assign(_key=np.arange(len(frame), dtype=float))
    chosen = rng.choice(len(frame), size=k, replace=False)
    dup = frame.iloc[chosen].copy()
    lo, hi = scale
    for c in importance_columns:
        dup[c] = np.clip(dup[c].to_numpy() + rng.choice(shifts, size=k), lo, hi)
    dup["_key"] = chosen + 0.5
    return pd.concat([frame, dup], ignore_index=True).sort_values("_key", kind="stable")
