"""k-means personas: the gap statistic, the choice of k, small clusters dissolved, labels ordered
(the terms are defined in :mod:`toolkit.segmentation.personas`)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score, silhouette_score
from threadpoolctl import threadpool_limits

KMEANS_N_INIT = 20
GAP_REFERENCES = 20  # uniform reference data sets of the gap statistic
GAP_REF_N_INIT = 3  # k-means restarts on each reference set (its log W only needs to be near-optimal)
STABILITY_RESAMPLES = 8  # subsamples of the stability criterion
STABILITY_FRACTION = 0.8  # share of respondents in each subsample
STABILITY_N_INIT = 3
STABLE = 0.95  # mean adjusted Rand index from which a k counts as stable
ROUNDING_MAX_FACTOR = 1.25  # rounding-split merge: at most this many answer steps apart on any factor
ROUNDING_MAX_DISTANCE = 1.5  # ... and this many steps apart overall (Euclidean)
UNIMODAL_EM_STEPS = 100
SILHOUETTE_SAMPLE = 5000  # silhouette (a diagnostic) is exact up to this many respondents, sampled above


# --------------------------------------------------------------------------- clustering


def _centroids(x: np.ndarray, labels: np.ndarray, which: np.ndarray) -> np.ndarray:
    return np.vstack([x[labels == c].mean(axis=0) for c in which])


def merge_small_clusters(z: pd.DataFrame | np.ndarray, labels, min_size: int) -> np.ndarray:
    """Dissolve clusters smaller than ``min_size``: each member joins the nearest remaining centre.

    Smallest cluster first (ties: the lowest label), centres recomputed after each step, until
    every cluster has at least ``min_size`` members or only one cluster is left. Returns new labels
    (the surviving clusters keep their label numbers).
    """
    x = np.asarray(z, dtype=float)
    lab = np.asarray(labels).copy()
    while True:
        ids, sizes = np.unique(lab, return_counts=True)
        if len(ids) <= 1 or sizes.min() >= min_size:
            return lab
        small = ids[np.lexsort((ids, sizes))[0]]  # smallest size, then lowest label
        others = ids[ids != small]
        centres = _centroids(x, lab, others)
        members = lab == small
        d = ((x[members][:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
        lab[members] = others[np.argmin(d, axis=1)]


def order_labels(z: pd.DataFrame | np.ndarray, labels) -> np.ndarray:
    """Relabel clusters ``P1..Pk``: by size (largest first), ties by centre (lexicographic, factor order)."""
    x = np.asarray(z, dtype=float)
    lab = np.asarray(labels)
    ids, sizes = np.unique(lab, return_counts=True)
    centres = np.round(_centroids(x, lab, ids), 9)
    # np.lexsort sorts by the LAST key first: size desc, then centre columns in order
    keys = [centres[:, j] for j in range(centres.shape[1] - 1, -1, -1)] + [-sizes]
    ranked = ids[np.lexsort(keys)]
    mapping = {old: f"P{i + 1}" for i, old in enumerate(ranked)}
    return np.array([mapping[v] for v in lab], dtype=object) if lab.size else np.array([], dtype=object)


def _log_within(x: np.ndarray, k: int, seed: int, n_init: int) -> tuple[float, np.ndarray]:
    """log of the k-means within-cluster sum of squares, and the labels (k = 1: the total sum of squares)."""
    if k == 1:
        return float(np.log(((x - x.mean(axis=0)) ** 2).sum())), np.zeros(len(x), dtype=int)
    km = KMeans(n_clusters=k, n_init=n_init, random_state=seed).fit(x)
    return float(np.log(km.inertia_)), km.labels_


def gap_statistic(
    x: np.ndarray, ks: Sequence[int], seed: int, references: int = GAP_REFERENCES
) -> tuple[pd.DataFrame, dict[int, np.ndarray]]:
    """Tibshirani-Walther-Hastie gap statistic for each k in ``ks``.

    ``gap(k) = mean_b log W_k(reference b) - log W_k(data)``, where ``W_k`` is the k-means
    within-cluster sum of squares and the references are ``references`` data sets drawn
    uniformly over the data's bounding box (seeded). ``gap_se(k) = sd_b * sqrt(1 + 1/B)``.
    Returns the table (k, log_w, gap, gap_se) and the data's k-means labels per k.
    """
    rng = np.random.default_rng(seed)
    lo, hi = x.min(axis=0), x.max(axis=0)
    refs = [rng.uniform(lo, hi, size=x.shape) for _ in range(references)]
    rows, labels = [], {}
    for k in ks:  # a loop over candidate k and reference sets, not over respondents
        log_w, labels[k] = _log_within(x, k, seed, KMEANS_N_INIT)
        ref = np.array([_log_within(r, k, seed, GAP_REF_N_INIT)[0] for r in refs])
        rows.append(
            {"k": k, "log_w": log_w, "gap": ref.mean() - log_w, "gap_se": ref.std() * math.sqrt(1 + 1 / references)}
        )
    return pd.DataFrame(rows, columns=["k", "log_w", "gap", "gap_se"]), labels


def stability(x: np.ndarray, k: int, labels: np.ndarray, seed: int, resamples: int = STABILITY_RESAMPLES) -> float:
    """Bootstrap-style stability of a k-means solution: the mean adjusted Rand index between
    ``labels`` and the clusterings of ``resamples`` seeded subsamples (``STABILITY_FRACTION`` of
    the respondents, k-means with ``STABILITY_N_INIT`` restarts) extended to everybody by the
    nearest subsample centre. 1 = the same groups whatever the sample; a k that splits a group
    arbitrarily gives different splits on different samples and a low value."""
    rng = np.random.default_rng([seed, k])
    n = len(x)
    size = max(k + 1, int(round(STABILITY_FRACTION * n)))
    scores = []
    for b in range(resamples):
        idx = rng.choice(n, size=size, replace=False)
        km = KMeans(n_clusters=k, n_init=STABILITY_N_INIT, random_state=seed + b).fit(x[idx])
        scores.append(adjusted_rand_score(labels, km.predict(x)))
    return float(np.mean(scores))


def _centres(x: np.ndarray, lab: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ids = np.unique(lab)
    return ids, _centroids(x, lab, ids)


def merge_rounding_splits(raw: np.ndarray, labels, step: float = 1.0) -> tuple[np.ndarray, int]:
    """Merge clusters that differ only within the answer scale's rounding step.

    Two clusters whose mean answers (in scale points, ``raw``) differ by at most
    ``ROUNDING_MAX_FACTOR`` steps on every factor and by at most ``ROUNDING_MAX_DISTANCE`` steps
    overall (Euclidean) are one group of respondents cut where a factor's centre sits on a
    rounding boundary (half of them answered 3, half 4): they are merged, closest pair first.
    Returns ``(labels, merges)``."""
    lab = np.asarray(labels).copy()
    merges = 0
    while True:
        ids, c = _centres(raw, lab)
        best = None
        for a in range(len(ids)):
            for b in range(a):
                d = np.abs(c[a] - c[b]) / step
                dist = float(np.sqrt((d * d).sum()))
                if d.max() <= ROUNDING_MAX_FACTOR and dist <= ROUNDING_MAX_DISTANCE and (best is None or dist < best[0]):
                    best = (dist, ids[a], ids[b])
        if best is None:
            return lab, merges
        lab[lab == best[1]] = best[2]
        merges += 1


def _one_mode_bic_gain(t: np.ndarray, side: np.ndarray) -> float:
    """BIC(one Gaussian) - BIC(two Gaussians) of the 1-D values ``t`` (> 0: two modes fit better);
    the two-component fit is EM started from the two clusters (``side``)."""
    n = len(t)
    var1 = max(float(t.var()), 1e-12)
    ll1 = -0.5 * n * (math.log(2 * math.pi * var1) + 1)
    w = np.array([np.mean(~side), np.mean(side)])
    mu = np.array([t[~side].mean(), t[side].mean()])
    var = np.array([max(float(t[~side].var()), 1e-6 * var1), max(float(t[side].var()), 1e-6 * var1)])
    ll2 = -np.inf
    for _ in range(UNIMODAL_EM_STEPS):
        dens = w * np.exp(-0.5 * (t[:, None] - mu) ** 2 / var) / np.sqrt(2 * math.pi * var)
        total = np.maximum(dens.sum(axis=1), 1e-300)
        new_ll = float(np.log(total).sum())
        resp = dens / total[:, None]
        nk = np.maximum(resp.sum(axis=0), 1e-9)
        w, mu = nk / n, (resp * t[:, None]).sum(axis=0) / nk
        var = np.maximum((resp * (t[:, None] - mu) ** 2).sum(axis=0) / nk, 1e-6 * var1)
        if new_ll - ll2 < 1e-8:
            ll2 = new_ll
            break
        ll2 = new_ll
    return (-2 * ll1 + 2 * math.log(n)) - (-2 * ll2 + 5 * math.log(n))


def merge_unimodal_splits(x: np.ndarray, labels) -> tuple[np.ndarray, int]:
    """Merge two clusters whose union is one mode along the line joining their centres.

    The members of both are projected on that line; when one Gaussian fits the projection at
    least as well as two by BIC, the pair is one group that k-means cut in two (the clearest
    such pair first). Returns ``(labels, merges)``."""
    lab = np.asarray(labels).copy()
    merges = 0
    while True:
        ids, c = _centres(x, lab)
        best = None
        for a in range(len(ids)):
            for b in range(a):
                d = c[b] - c[a]
                both = (lab == ids[a]) | (lab == ids[b])
                gain = _one_mode_bic_gain((x[both] @ d) / float(d @ d), lab[both] == ids[b])
                if gain <= 0 and (best is None or gain < best[0]):
                    best = (gain, ids[a], ids[b])
        if best is None:
            return lab, merges
        lab[lab == best[1]] = best[2]
        merges += 1


def _answer_step(raw: np.ndarray) -> float:
    """The scale's step: the median over factors of the smallest gap between distinct answers
    (1 on integer scales; a factor whose blanks were imputed with a median of x.5 does not
    halve it)."""
    gaps = [np.diff(np.unique(col[~np.isnan(col)])) for col in raw.T]
    gaps = [g[g > 1e-9].min() for g in gaps if (g > 1e-9).any()]
    return float(np.median(gaps)) if gaps else 1.0


def cluster_importances(
    z: pd.DataFrame, k_range: tuple[int, int], min_size: int, seed: int, raw: pd.DataFrame | None = None
) -> tuple[np.ndarray, pd.DataFrame]:
    """k-means for each k, k chosen by stability together with the gap statistic, then clusters
    that are one group cut in two merged and small clusters dissolved.

    1. For every k in ``k_range`` (and k = 1 and high + 1 for the gap's comparisons): the k-means
       solution, its gap statistic (Tibshirani et al. 2001) and its stability (:func:`stability`).
    2. The candidates are the k in range whose stability is at least ``STABLE``; among them the
       gap's 1-SE rule picks the smallest k with ``gap(k) >= gap(k+1) - gap_se(k+1)`` (when none
       qualifies, the candidate with the largest gap). When no k in range is stable, the gap
       rule alone decides (``k_method`` says so).
    3. Clusters that differ only within the scale's rounding step are merged
       (:func:`merge_rounding_splits`, on ``raw`` answers), then pairs that form one mode
       (:func:`merge_unimodal_splits`), then clusters under ``min_size`` respondents are dissolved
       (``merge_small_clusters``); with only one left, everybody is persona ``P1``.

    Returns ``(labels, selection)``: labels ``P1..Pk`` aligned with ``z``'s rows, and one row per
    k computed (k, log_w, gap, gap_se, stability, silhouette of the plain k-means solution as a
    diagnostic, in_range, chosen; k_after_merge and smallest on the chosen row). ``selection.attrs``: ``no_structure``
    (the gap rule would choose k = 1), ``k_method`` (the rule that decided:
    ``stability_and_gap`` or ``gap_only``), ``rounding_merges``, ``unimodal_merges``.
    """
    x = z.to_numpy(dtype=float)
    r = raw.reindex(index=z.index, columns=z.columns).to_numpy(dtype=float) if raw is not None else None
    n = len(x)
    low, high = k_range
    ks = [k for k in range(1, high + 2) if k < n]
    # many small fits: extra threads only add overhead (and contention on a shared machine)
    with threadpool_limits(limits=1):
        sel, labels = gap_statistic(x, ks, seed)
        sel["stability"] = [stability(x, k, labels[k], seed) if 2 <= k <= high else float("nan") for k in sel["k"]]
    sample = SILHOUETTE_SAMPLE if n > SILHOUETTE_SAMPLE else None
    sel["silhouette"] = [
        float(silhouette_score(x, labels[k], sample_size=sample, random_state=seed))
        if 2 <= len(np.unique(labels[k])) <= n - 1
        else float("nan")
        for k in sel["k"]
    ]
    step = _answer_step(r) if r is not None else 1.0

    def merged(k: int) -> tuple[np.ndarray, int, int]:
        lab, rounding = merge_rounding_splits(r, labels[k], step) if r is not None else (labels[k], 0)
        lab, unimodal = merge_unimodal_splits(x, lab)
        return merge_small_clusters(x, lab, min_size), rounding, unimodal

    sel["in_range"] = sel["k"].between(low, high)
    gap = dict(zip(sel["k"], sel["gap"]))
    se = dict(zip(sel["k"], sel["gap_se"]))
    stab = dict(zip(sel["k"], sel["stability"]))

    def one_se(k: int) -> bool:
        return k + 1 not in gap or gap[k] >= gap[k + 1] - se[k + 1]

    in_range = [k for k in sel["k"] if low <= k <= high]
    sel["chosen"] = False
    sel.attrs.update(no_structure=bool(1 in gap and one_se(1)), k_method=None, rounding_merges=0, unimodal_merges=0)
    if not in_range:
        return np.array(["P1"] * n, dtype=object), sel
    stable = [k for k in in_range if stab[k] >= STABLE]
    candidates = stable or in_range
    ok = [k for k in candidates if one_se(k)]
    best = ok[0] if ok else max(candidates, key=lambda k: (gap[k], -k))
    sel.loc[sel["k"] == best, "chosen"] = True
    final, rounding, unimodal = merged(best)
    sizes = np.unique(final, return_counts=True)[1]
    sel["k_after_merge"] = np.where(sel["chosen"], len(sizes), pd.NA)
    sel["smallest"] = np.where(sel["chosen"], int(sizes.min()), pd.NA)
    sel.attrs.update(k_method="stability_and_gap" if stable else "gap_only", rounding_merges=rounding,
                     unimodal_merges=unimodal)
    return order_labels(x, final), sel
