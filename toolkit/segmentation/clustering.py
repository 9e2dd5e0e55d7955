"""k-means personas: the gap statistic, the choice of k, small clusters dissolved, labels ordered
(the terms are defined in :mod:`toolkit.segmentation.personas`)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from threadpoolctl import threadpool_limits

KMEANS_N_INIT = 20
GAP_REFERENCES = 20  # uniform reference data sets of the gap statistic
GAP_REF_N_INIT = 3  # k-means restarts on each reference set (its log W only needs to be near-optimal)
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


def cluster_importances(
    z: pd.DataFrame, k_range: tuple[int, int], min_size: int, seed: int
) -> tuple[np.ndarray, pd.DataFrame]:
    """k-means for each k in ``k_range``, k picked by the gap statistic, then small clusters dissolved.

    The rule (Tibshirani et al. 2001, the "1-SE" rule): the smallest k in the range with
    ``gap(k) >= gap(k+1) - gap_se(k+1)``; when none qualifies, the k with the largest gap.
    Clusters under ``min_size`` respondents in the chosen solution are then dissolved
    (``merge_small_clusters``), so fewer personas than k can be shown; with only one left,
    everybody is persona ``P1``.

    Returns ``(labels, selection)``: labels ``P1..Pk`` aligned with ``z``'s rows, and one row per
    k computed (k, log_w, gap, gap_se, silhouette of the plain k-means solution for comparison,
    k_after_merge, smallest, in_range, chosen). ``selection.attrs["no_structure"]`` is True when the
    rule would have chosen k = 1 (the importances show no clear groups).
    """
    x = z.to_numpy(dtype=float)
    n = len(x)
    low, high = k_range
    ks = [k for k in range(1, high + 2) if k < n]
    # many small fits: extra threads only add overhead (and contention on a shared machine)
    with threadpool_limits(limits=1):
        sel, labels = gap_statistic(x, ks, seed)
    sample = SILHOUETTE_SAMPLE if n > SILHOUETTE_SAMPLE else None
    sel["silhouette"] = [
        float(silhouette_score(x, labels[k], sample_size=sample, random_state=seed))
        if 2 <= len(np.unique(labels[k])) <= n - 1
        else float("nan")
        for k in sel["k"]
    ]
    merged = {k: merge_small_clusters(x, labels[k], min_size) for k in sel["k"]}
    sel["k_after_merge"] = [len(np.unique(merged[k])) for k in sel["k"]]
    sel["smallest"] = [int(np.unique(merged[k], return_counts=True)[1].min()) for k in sel["k"]]
    sel["in_range"] = sel["k"].between(low, high)
    gap = dict(zip(sel["k"], sel["gap"]))
    se = dict(zip(sel["k"], sel["gap_se"]))

    def one_se(k: int) -> bool:
        return k + 1 not in gap or gap[k] >= gap[k + 1] - se[k + 1]

    in_range = [k for k in sel["k"] if low <= k <= high]
    sel["chosen"] = False
    sel.attrs["no_structure"] = bool(1 in gap and one_se(1))
    if not in_range:
        return np.array(["P1"] * n, dtype=object), sel
    ok = [k for k in in_range if one_se(k)]
    best = ok[0] if ok else max(in_range, key=lambda k: (gap[k], -k))
    sel.loc[sel["k"] == best, "chosen"] = True
    return order_labels(x, merged[best]), sel
