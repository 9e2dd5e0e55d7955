"""Small statistical helpers shared by every analysis step.

Every rate the toolkit reports carries its sample size and a confidence interval;
proportions use the Wilson score interval, which behaves well for small n and for
rates near 0 or 1 (unlike the normal approximation).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as _st

DEFAULT_CONFIDENCE = 0.95


def _z(confidence: float) -> float:
    return float(_st.norm.ppf(0.5 + confidence / 2.0))


def wilson_interval(successes, n, confidence: float = DEFAULT_CONFIDENCE):
    """Wilson score interval for a proportion ``successes / n``.

    Works on scalars and on numpy/pandas arrays (element-wise). Where ``n == 0`` the
    interval is undefined and ``(nan, nan)`` is returned.

    Returns ``(low, high)``, each clipped to [0, 1].
    """
    k = np.asarray(successes, dtype=float)
    m = np.asarray(n, dtype=float)
    z = _z(confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k / m
        denom = 1.0 + z * z / m
        centre = (p + z * z / (2.0 * m)) / denom
        half = z * np.sqrt(p * (1.0 - p) / m + z * z / (4.0 * m * m)) / denom
        lo = np.clip(centre - half, 0.0, 1.0)
        hi = np.clip(centre + half, 0.0, 1.0)
    lo = np.where(m > 0, lo, np.nan)
    hi = np.where(m > 0, hi, np.nan)
    if lo.ndim == 0:
        return float(lo), float(hi)
    return lo, hi


def share_with_ci(k, n, confidence: float = DEFAULT_CONFIDENCE) -> pd.DataFrame:
    """share = k / n with its Wilson interval (vectorised), as columns ``share``, ``ci_lo``,
    ``ci_hi``; n == 0 gives NaN."""
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    lo, hi = wilson_interval(k, n, confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(n > 0, k / n, np.nan)
    return pd.DataFrame({"share": np.atleast_1d(share), "ci_lo": np.atleast_1d(lo), "ci_hi": np.atleast_1d(hi)})


def rate_with_ci(k, n, confidence: float = DEFAULT_CONFIDENCE) -> dict[str, Any]:
    """One proportion as ``{"rate", "k", "n", "ci": [lo, hi]}`` (Wilson); NaN rate when n == 0."""
    k, n = int(k), int(n)
    lo, hi = wilson_interval(k, n, confidence)
    return {"rate": k / n if n else float("nan"), "k": k, "n": n, "ci": [lo, hi]}


def t_interval(mean, sd, n, confidence: float = DEFAULT_CONFIDENCE):
    """The t-interval ``(low, high)`` of a mean from its summary (vectorised): mean +- t * sd / sqrt(n),
    t with n - 1 degrees of freedom; NaN where n < 2."""
    n = np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = _st.t.ppf(0.5 + confidence / 2.0, df=np.where(n > 1, n - 1, np.nan))
        half = t * np.asarray(sd, dtype=float) / np.sqrt(n)
    half = np.where(n > 1, half, np.nan)
    return mean - half, mean + half


def mean_interval_from(n, mean, sd, confidence: float = DEFAULT_CONFIDENCE):
    """:func:`mean_interval` from a summary (an engine's ``count``, ``avg``, sample ``stddev``):
    ``(mean, low, high, n)``; mean NaN when n == 0, interval NaN when n < 2."""
    n = int(n)
    if n == 0:
        return float("nan"), float("nan"), float("nan"), 0
    mean = float(mean)
    if n < 2:
        return mean, float("nan"), float("nan"), n
    lo, hi = t_interval(mean, float(sd), n, confidence)
    return mean, float(lo), float(hi), n


def mean_interval(values, confidence: float = DEFAULT_CONFIDENCE):
    """Mean with a t-based confidence interval: ``(mean, low, high, n)``.

    Blank values are ignored. With fewer than two values the interval is ``nan``.
    """
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    n = int(x.size)
    return mean_interval_from(n, x.mean() if n else float("nan"), x.std(ddof=1) if n > 1 else float("nan"), confidence)
