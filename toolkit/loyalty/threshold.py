"""The loyalty visit (loyalty threshold): where the repeat curve stops rising and flattens.

The rule is a **segmented fit** compared with smooth curves that have no knee:

1. Only *supported* points count: visit numbers 1, 2, ... up to the first one with fewer than
   ``min_eligible`` eligible customers (the sparse tail is left out).
2. Every point n is a binomial observation (``returned`` of ``eligible``); a model's misfit at n
   is its residual in standard errors, ``z_n = (p_n - f(n)) / sqrt(f(n) (1 - f(n)) / eligible_n)``
   (eligible-weighted errors). The misfit of a model is the sum of Huber losses of the z_n
   (``z^2`` up to ``HUBER_C`` standard errors, linear beyond): one outlying point in a noisy tail
   weighs like a few standard errors, not like a wall. Every fit minimises that loss (iteratively
   reweighted least squares).
3. **Knee at k** (k = 2 .. the last supported visit minus ``min_plateau_points`` - 1): a ramp
   before k (one free value when k = 2, a straight line through visits 1..k-1 otherwise) and a
   plateau level L from k on. The model is admissible only when the curve *rises into* the
   plateau: L exceeds the ramp's value at k-1 by at least ``tolerance`` (a rise smaller than that
   is not a threshold a consultant would act on, however many customers there are).
4. **No knee**: a flat, a straight or a quadratic curve through all supported points (gently
   rising, flat, falling, gently curved).
5. Every model gets ``BIC = loss + parameters * ln(points)`` (the knee's position counts as a
   parameter) and a prior: half of the mass to "no knee" (split over its three curves), half to
   "a knee" (split over the candidate k). The posterior weights ``exp(-BIC / 2) * prior``,
   normalised, say how sure the data make each answer.
6. The loyalty visit is the knee k with the highest weight, when the knees together outweigh
   "no knee" (a knee is supported); else null. Its **confidence** is the weight of that exact k
   (the chance the threshold is exactly there, not one visit off, and that there is one at all);
   below ``CONFIDENT`` the threshold is flagged as low-confidence.

Analysis only: numbers and keys, no sentences.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

METHOD = "segmented_fit"  # the key metrics.json records as loyalty_visit_method
HUBER_C = 2.5  # standard errors beyond which a point's loss grows linearly
RISE_Z = 2.5  # the visit before the plateau must lie this many standard errors below it
CONFIDENT = 0.9  # confidence below this is reported as low
MIN_PLATEAU_POINTS = 3
_ITERATIONS = 30


def _huber(z: np.ndarray) -> np.ndarray:
    a = np.abs(z)
    return np.where(a <= HUBER_C, z * z, 2.0 * HUBER_C * a - HUBER_C * HUBER_C)


def _robust_fit(x: np.ndarray, p: np.ndarray, e: np.ndarray) -> tuple[np.ndarray, float]:
    """Fit ``p ~ x @ beta`` minimising the Huber loss of binomial z-scores.

    Returns ``(fitted values, loss)``. ``x``: design matrix (points x parameters)."""
    eps = 0.5 / e
    pooled = float(np.clip((p * e).sum() / e.sum(), 1e-6, 1 - 1e-6))
    fitted = np.full_like(p, pooled)
    weight = np.ones_like(p)
    beta = None
    for _ in range(_ITERATIONS):
        f = np.clip(fitted, eps, 1 - eps)
        se = np.sqrt(f * (1 - f) / e)
        sw = np.sqrt(weight) / se
        new_beta, *_ = np.linalg.lstsq(x * sw[:, None], p * sw, rcond=None)
        if beta is not None and np.max(np.abs(new_beta - beta)) < 1e-10:
            beta = new_beta
            break
        beta = new_beta
        fitted = x @ beta
        f = np.clip(fitted, eps, 1 - eps)
        z = (p - f) / np.sqrt(f * (1 - f) / e)
        a = np.maximum(np.abs(z), 1e-12)
        weight = np.where(a <= HUBER_C, 1.0, HUBER_C / a)
    fitted = x @ beta
    f = np.clip(fitted, eps, 1 - eps)
    z = (p - f) / np.sqrt(f * (1 - f) / e)
    return fitted, float(_huber(z).sum())


def _supported(curve: pd.DataFrame, min_eligible: int) -> pd.DataFrame:
    c = curve.sort_values("visit_number")
    ok = (c["eligible"].to_numpy() >= max(min_eligible, 1)) & c["returned"].notna().to_numpy()
    n = int(np.argmin(ok)) if not ok.all() else len(c)
    return c.iloc[:n]


def loyalty_threshold(
    curve: pd.DataFrame,
    *,
    tolerance: float = 0.03,
    min_eligible: int = 30,
    min_plateau_points: int = MIN_PLATEAU_POINTS,
) -> dict:
    """The loyalty visit of one scope's repeat curve (``visit_number``, ``eligible``,
    ``returned``) by the segmented fit of the module docstring.

    Returns ``{"visit": k or None, "confidence": weight of exactly k (None without a candidate),
    "no_knee": weight of the curves without a knee, "confident": bool, "method": METHOD,
    "reason": None or a key}``; reason keys: ``too_few_points`` (fewer supported points than a
    ramp and a plateau need), ``no_knee`` (the smooth curves explain the data at least as well).
    """
    c = _supported(curve, min_eligible)
    out = {"visit": None, "confidence": None, "no_knee": None, "confident": False, "method": METHOD,
           "reason": None}
    m = len(c)
    if m < min_plateau_points + 1:
        out["reason"] = "too_few_points"
        return out
    e = c["eligible"].to_numpy(dtype=float)
    p = c["returned"].to_numpy(dtype=float) / e
    numbers = c["visit_number"].to_numpy()
    t = (np.arange(m, dtype=float) - (m - 1) / 2.0) / max(m - 1, 1)  # centred, scaled visit index
    log_n = math.log(m)

    smooth = []  # (bic) of flat, line, quadratic
    for degree in (0, 1, 2):
        if degree + 1 > m:
            continue
        x = np.vander(t, degree + 1, increasing=True)
        _, loss = _robust_fit(x, p, e)
        smooth.append(loss + (degree + 1) * log_n)
    knees = []  # (k, bic)
    for i in range(1, m - min_plateau_points + 1):  # i = index of the first plateau point
        ramp_x = np.ones((i, 1)) if i == 1 else np.vander(t[:i], 2, increasing=True)
        ramp_fit, ramp_loss = _robust_fit(ramp_x, p[:i], e[:i])
        level_fit, level_loss = _robust_fit(np.ones((m - i, 1)), p[i:], e[i:])
        level = level_fit[0]
        below = level - max(ramp_fit[-1], p[i - 1])
        if below < tolerance or below < RISE_Z * math.sqrt(level * (1 - level) / e[i - 1]):
            continue  # does not clearly rise into the plateau
        n_par = ramp_x.shape[1] + 1  # ramp, level (the position is paid for by the prior split over k)
        knees.append((int(numbers[i]), ramp_loss + level_loss + n_par * log_n))
    if not knees:
        out.update(reason="no_knee", no_knee=1.0)
        return out
    log_w = np.array(
        [-b / 2 + math.log(0.5 / len(smooth)) for b in smooth]
        + [-b / 2 + math.log(0.5 / len(knees)) for _, b in knees]
    )
    w = np.exp(log_w - log_w.max())
    w /= w.sum()
    no_knee = float(w[: len(smooth)].sum())
    kw = w[len(smooth):]
    best = int(np.argmax(kw))
    conf = float(kw[best])
    out.update(confidence=round(conf, 4), no_knee=round(no_knee, 4))
    if kw.sum() <= no_knee:
        out["reason"] = "no_knee"
        return out
    out.update(visit=knees[best][0], confident=conf >= CONFIDENT)
    return out


def loyalty_thresholds(curve: pd.DataFrame, **kwargs) -> dict[str, dict]:
    """:func:`loyalty_threshold` of every scope of a repeat curve: ``{scope: result}``."""
    return {scope: loyalty_threshold(g, **kwargs) for scope, g in curve.groupby("scope", sort=False)}
