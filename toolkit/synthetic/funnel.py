"""Leads: the funnel before the first deal, per brand, with target and non-target segments.

Definitions (also in ``truth.yml``):

- a lead *reaches* stage k when it passed every transition before k; ``stage_reached`` is the
  furthest stage (0 = the first, e.g. "Заявка");
- the *conversion* of transition k is P(reach k+1 | reached k); planted per brand, segment
  and (for the first transition) source;
- a *non-target* lead of the premium brand cannot afford it: its declared budget is below the
  brand's ``price_floor``; the budget is blank only for part of the leads that stopped before
  the deal (a contract/order always records it), and a lost non-target lead always gives a
  price reason, so the segment is recoverable exactly from the data:
  non-target = budget < floor, or budget blank and a price lost reason;
- a *deal* is reaching the deal stage (e.g. "Договор"); lead->deal conversion is the share of
  leads reaching it.

The planted shares and conversions are realised by exact quotas, not by independent draws, so
the data hold the planted values up to rounding (a standard planted-truth technique): per brand,
exactly ``round(n x share)`` leads of each segment (largest remainder); within a segment,
``round(n_segment x weight)`` leads of each source; within each (segment, source) cell,
exactly ``round(n_cell x reach_k)`` leads reach stage k, where ``reach_k`` is the product of the
cell's planted conversions before k. The (segment, source, stage) rows are then shuffled over
the leads with the seeded generator. Budgets, blank budgets and lost reasons stay random draws.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from toolkit.synthetic.interviews import _exact_counts


@dataclass(frozen=True)
class Segment:
    id: str  # 'target' or 'nontarget'
    share: float
    conversions: tuple[float, ...]  # one per transition
    budget_range: tuple[float, float]
    lost_reasons: tuple[tuple[tuple[str, float], ...], ...]  # per stage where the lead stopped
    blank_reason_share: float = 0.0  # lost leads whose reason the manager left blank


@dataclass(frozen=True)
class BrandFunnel:
    brand: str
    leads: int  # at scale 1
    stage_names: tuple[str, ...]  # this brand's CRM spelling of each stage
    sources: tuple[tuple[str, float, float], ...]  # (source, weight, multiplier of transition 0)
    segments: tuple[Segment, ...]
    blank_budget_share: float  # among leads that stopped before ``budget_known_from``
    budget_step: float
    budget_known_from: int = 2  # a lead reaching this stage (the contract/order) always has its budget noted


@dataclass
class Leads:
    brand: np.ndarray  # index into the list of BrandFunnel
    day: np.ndarray
    source: np.ndarray  # source name
    segment: np.ndarray  # segment id
    budget: np.ndarray  # nan = blank
    stage: np.ndarray  # stage reached (index)
    stage_text: np.ndarray
    lost_reason: np.ndarray  # '' = none
    seq: np.ndarray  # running number within the brand, by date


def _conversions(seg: Segment, mult: float) -> np.ndarray:
    c = np.array(seg.conversions, dtype=float)
    c[0] = min(c[0] * mult, 0.97)
    return c


def simulate_leads(funnels: tuple[BrandFunnel, ...], rng: np.random.Generator, scale: float,
                   last_day: int) -> Leads:
    """Every lead of every brand, per brand at once (vectorised over leads); segments, sources and
    stages reached by exact quotas (:func:`lead_quotas`), shuffled over the leads."""
    out = {k: [] for k in ("brand", "day", "source", "segment", "budget", "stage", "stage_text",
                           "lost_reason", "seq")}
    for bi, f in enumerate(funnels):
        n = int(round(f.leads * scale))
        day = np.sort(rng.integers(0, last_day + 1, n))
        seg, src, stage = lead_quotas(f, n)
        order = rng.permutation(n)
        seg, src, stage = seg[order], src[order], stage[order]
        n_tr = len(f.stage_names) - 1
        lo = np.array([s.budget_range[0] for s in f.segments])[seg]
        hi = np.array([s.budget_range[1] for s in f.segments])[seg]
        budget = np.round((lo + (hi - lo) * rng.random(n)) / f.budget_step) * f.budget_step
        blank = (rng.random(n) < f.blank_budget_share) & (stage < f.budget_known_from)
        budget = np.where(blank, np.nan, budget)
        reason = np.full(n, "", dtype=object)
        u = rng.random(n)
        for si, s in enumerate(f.segments):
            for k in range(n_tr):
                sel = np.flatnonzero((seg == si) & (stage == k))
                opts = s.lost_reasons[k]
                w = np.array([o[1] for o in opts])
                pick = rng.choice(len(opts), size=sel.size, p=w / w.sum())
                names = np.array([o[0] for o in opts], dtype=object)[pick]
                blank = u[sel] < s.blank_reason_share
                reason[sel] = np.where(blank, "", names)
        out["brand"].append(np.full(n, bi))
        out["day"].append(day)
        out["source"].append(np.array([s[0] for s in f.sources], dtype=object)[src])
        out["segment"].append(np.array([s.id for s in f.segments], dtype=object)[seg])
        out["budget"].append(budget)
        out["stage"].append(stage)
        out["stage_text"].append(np.array(f.stage_names, dtype=object)[stage])
        out["lost_reason"].append(reason)
        out["seq"].append(np.arange(1, n + 1))
    return Leads(**{k: np.concatenate(v) for k, v in out.items()})


def lead_quotas(f: BrandFunnel, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Segment, source and stage reached of ``n`` leads of funnel ``f``, by exact quotas, in cell order.

    Segment counts: ``n x share`` by largest remainder (so exactly ``round(n x share)`` for two
    segments); within a segment, source counts ``n_segment x weight`` the same way; within each
    (segment, source) cell of ``n_cell`` leads, ``round(n_cell x reach_k)`` leads reach stage k
    (``reach_k`` = product of the cell's planted conversions before k; rounding keeps the counts
    non-increasing in k). Returns index arrays (segment, source) and the stage reached.
    """
    n_tr = len(f.stage_names) - 1
    seg_n = _exact_counts(np.array([s.share for s in f.segments], dtype=float), n)
    src_w = np.array([s[1] for s in f.sources], dtype=float)
    seg, src, stage = [], [], []
    for si, s in enumerate(f.segments):  # a handful of cells
        for ki, n_cell in enumerate(_exact_counts(src_w, int(seg_n[si]))):
            reach = np.rint(n_cell * np.r_[1.0, np.cumprod(_conversions(s, f.sources[ki][2]))]).astype(np.int64)
            at = -np.diff(np.r_[reach, 0])  # leads whose furthest stage is k
            seg.append(np.full(n_cell, si))
            src.append(np.full(n_cell, ki))
            stage.append(np.repeat(np.arange(n_tr + 1), at))
    return np.concatenate(seg), np.concatenate(src), np.concatenate(stage)


def planted_conversions(f: BrandFunnel, segments: tuple[str, ...] | None = None,
                        source: str | None = None) -> list[float]:
    """Expected conversion of each transition for a mix of segments and sources (exact).

    Conversion k = P(reach k+1) / P(reach k), mixing the planted per-segment, per-source
    conversions by their planted weights.
    """
    n_tr = len(f.stage_names) - 1
    reach = np.zeros(n_tr + 1)
    src_w = np.array([s[1] for s in f.sources], dtype=float)
    src_w = src_w / src_w.sum()
    seg_w = np.array([s.share for s in f.segments], dtype=float)
    seg_w = seg_w / seg_w.sum()
    for si, s in enumerate(f.segments):
        if segments is not None and s.id not in segments:
            continue
        for ki, (name, _, mult) in enumerate(f.sources):
            if source is not None and name != source:
                continue
            c = _conversions(s, mult)
            w = seg_w[si] * src_w[ki]
            reach += w * np.r_[1.0, np.cumprod(c)]
    return [float(reach[k + 1] / reach[k]) for k in range(n_tr)]


def planted_reach(f: BrandFunnel, segments: tuple[str, ...] | None = None) -> list[float]:
    """Expected share of leads reaching each stage."""
    conv = planted_conversions(f, segments)
    return [1.0] + list(np.cumprod(conv))


def monthly_traffic(months, season: np.ndarray, base: dict[str, float], sources: tuple[tuple[str, float], ...],
                    scale: float, rng: np.random.Generator, month_text, brand_name: dict[str, str],
                    header: tuple[str, str, str, str]):
    """Planted web sessions per month, brand and traffic source, before any lead.

    A brand's sessions in a month are ``base * scale * season`` with 6% month-to-month noise,
    split over ``sources`` by their weights with 8% noise, rounded to whole sessions.
    Returns the export table (``header``: month, brand, source, sessions; in month order, brands
    by name, sources as listed; months spelled ``month_text``) and the truth part (sessions
    per brand over the whole history, number of months).
    """
    frames, totals = [], {}
    for b, level in base.items():
        monthly = level * scale * season * (1 + rng.normal(0, 0.06, months.size))
        w = np.array([x for _, x in sources])
        share = w[None, :] * (1 + rng.normal(0, 0.08, (months.size, w.size)))
        share = share / share.sum(axis=1, keepdims=True)
        sessions = np.rint(monthly[:, None] * share).astype(np.int64)
        totals[b] = int(sessions.sum())
        for si, (s, _) in enumerate(sources):
            frames.append(pd.DataFrame({header[0]: month_text, header[1]: brand_name[b], header[2]: s,
                                        header[3]: sessions[:, si], "_m": np.arange(months.size), "_s": si}))
    frame = pd.concat(frames, ignore_index=True).sort_values(["_m", header[1], "_s"], kind="stable")
    return frame.drop(columns=["_m", "_s"]), {"sessions": totals, "months": int(months.size)}
