"""Small statistical helpers shared by every analysis step.

Every rate the toolkit reports carries its sample size and a confidence interval;
proportions use the Wilson score interval, which behaves well for small n and for
rates near 0 or 1 (unlike the normal approximation).
"""

from __future__ import annotations

import numpy as np
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


def mean_interval(values, confidence: float = DEFAULT_CONFIDENCE):
    """Mean with a t-based confidence interval: ``(mean, low, high, n)``.

    Blank values are ignored. With fewer than two values the interval is ``nan``.
    """
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    n = int(x.size)
    if n == 0:
        return float("nan"), float("nan"), float("nan"), 0
    mean = float(x.mean())
    if n < 2:
        return mean, float("nan"), float("nan"), n
    se = float(x.std(ddof=1)) / np.sqrt(n)
    t = float(_st.t.ppf(0.5 + confidence / 2.0, df=n - 1))
    return mean, mean - t * se, mean + t * se, n
