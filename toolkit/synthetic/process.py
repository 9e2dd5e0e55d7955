"""The visit process every synthetic customer follows, simulated for all customers at once.

Definitions used throughout the generator (and in ``truth.yml``):

- a *journey* is one customer's sequence of visits in one business line;
- a *visit* is one customer-day in that line (a visit may produce several service rows);
- after visit ``n`` the customer *returns* (makes visit ``n + 1``) with the planted probability
  ``p_return[n]``; the *gap* before visit ``n + 1`` is drawn from a log-normal distribution whose
  median is the planted ``median_gap[n + 1]``, rounded to whole days and clipped to
  ``[min_gap, max_gap]`` (clipping on both sides of the median leaves the median unchanged);
- visits after the horizon (``as_of``) are simply not produced: right-censoring, as in a real export.

Because every gap is at most ``max_gap`` days, a customer whose visit ``n`` is at least ``max_gap``
days before ``as_of`` has had the full chance to return: among those customers the share with a
visit ``n + 1`` estimates ``p_return[n]`` without censoring bias.

The simulation is vectorised: step ``n`` draws visit ``n + 1`` for every still-active journey at
once; the Python loop runs over visit numbers only (a few dozen steps), never over customers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Visits:
    """Simulated visits: parallel arrays, one element per visit, ordered by (journey, visit_no)."""

    journey: np.ndarray  # index of the journey (row of the input arrays)
    visit_no: np.ndarray  # 1, 2, ... within the journey
    day: np.ndarray  # days since the history start


def _at(values: np.ndarray, index: int) -> float:
    """values[index], or the last value when the index runs past the end (a flat tail)."""
    return float(values[min(index, len(values) - 1)])


def simulate_journeys(
    start_day: np.ndarray,
    p_return: np.ndarray,
    median_gap: np.ndarray,
    gap_sigma: float,
    min_gap: int,
    max_gap: int,
    horizon: int,
    rng: np.random.Generator,
    max_visits: int = 400,
) -> Visits:
    """Simulate the visits of many journeys at once.

    ``start_day``: day of visit 1 of each journey (all ``<= horizon``).
    ``p_return[k]``: probability of returning after visit ``k + 1`` (the last value repeats).
    ``median_gap[k]``: median gap in days before visit ``k + 2`` (the last value repeats).
    Returns every visit with ``day <= horizon``.
    """
    start_day = np.asarray(start_day, dtype=np.int64)
    p_return = np.asarray(p_return, dtype=float)
    median_gap = np.asarray(median_gap, dtype=float)
    if not (min_gap <= median_gap.min() and median_gap.max() <= max_gap):
        raise ValueError("every median gap must lie within [min_gap, max_gap]")
    journeys = [np.arange(start_day.size, dtype=np.int64)]
    numbers = [np.ones(start_day.size, dtype=np.int64)]
    days = [start_day]
    active = journeys[0]
    day = start_day
    n = 1
    while active.size and n < max_visits:
        returned = rng.random(active.size) < _at(p_return, n - 1)
        active, day = active[returned], day[returned]
        z = rng.standard_normal(active.size)
        gap = np.rint(_at(median_gap, n - 1) * np.exp(gap_sigma * z))
        gap = np.clip(gap, min_gap, max_gap).astype(np.int64)
        day = day + gap
        inside = day <= horizon
        active, day = active[inside], day[inside]
        n += 1
        journeys.append(active)
        numbers.append(np.full(active.size, n, dtype=np.int64))
        days.append(day)
    journey = np.concatenate(journeys)
    visit_no = np.concatenate(numbers)
    day = np.concatenate(days)
    order = np.lexsort((visit_no, journey))
    return Visits(journey[order], visit_no[order], day[order])


def median_gap_schedule(boundaries: list[int], medians: list[float], up_to: int) -> np.ndarray:
    """Median gap before visit n for n = 2..up_to from loyalty stages.

    ``boundaries[i]`` is the first visit number of stage i (the first must be 2);
    ``medians[i]`` is the median gap before each visit of that stage.
    Returned array: element k is the median before visit k + 2.
    """
    out = np.empty(up_to - 1)
    for n in range(2, up_to + 1):
        stage = max(i for i, b in enumerate(boundaries) if b <= n)
        out[n - 2] = medians[stage]
    return out
