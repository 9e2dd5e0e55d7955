"""Personas from the survey (METHOD.md §2) and the comparison of two brands' audiences (§6).

The method says: segment first, then draw one journey map per persona. Here the
segments come from the survey's choice-factor importances.

Terms used below
----------------
importance
    A respondent's rating of how much a declared choice factor matters to them
    (survey column ``imp_<factor_id>``, usually a 1-5 scale).
blank
    A missing importance. A respondent who left MORE than ``max_blank_share`` of
    the case's factors blank (default: more than a third) is *excluded* from the
    clustering and counted (``excluded_too_many_blanks``); with fewer blanks, each
    blank is *imputed with the factor's median* over the respondents who answered
    it (median, not mean, because the scale is ordinal), and the number of
    imputed cells is reported.
standardised importance (z)
    ``(x - mean) / sd`` per factor over the clustered respondents (population sd,
    ddof=0), so every factor weighs the same in the distance whatever its spread.
    A factor everybody rated the same carries no information and gets z = 0.
persona
    A group of respondents with a similar pattern of standardised importances,
    found by k-means (``n_init=20``, ``random_state=Parameters.random_seed``).
k, the number of personas
    Chosen in ``Parameters.persona_k_range`` by the **gap statistic** (Tibshirani,
    Walther & Hastie 2001): how much tighter the k clusters are than k clusters
    of structureless data (20 seeded uniform reference sets over the data's
    bounding box), with the 1-SE rule: the smallest k whose gap is within one
    standard error of the next k's. Not silhouette: silhouette rewards the
    coarsest clear split, so when two personas are closer to each other than to
    a third (a premium "status" and a "doctor" persona vs a price persona) it
    merges them -- on the clinic case silhouette picks k=2 (adjusted Rand 0.60
    against the planted personas) where the gap picks k=3 (0.98). Not BIC:
    k-means has no likelihood, and Gaussian-mixture BIC on rounded 1-5/1-10
    answers is unstable (variances collapse on tied values). Silhouette is
    still reported per k as a diagnostic, and a gap rule that would pick k=1
    is flagged (``no_cluster_structure``).
small cluster
    A cluster with fewer than ``Parameters.min_segment_size`` respondents is
    never shown as a persona: it is *dissolved*, each of its members joining the
    nearest remaining cluster centre (smallest cluster first, centres
    recomputed after each step). So the personas shown (``k`` in metrics) can
    be fewer than the k the gap rule chose; both are reported.
persona label
    ``P1``, ``P2``, ... ordered by size (largest first), ties broken by the
    cluster centre (lexicographic over the factors in declared order). Rows are
    sorted by ``respondent_id`` before clustering, so shuffling the input rows
    gives the very same personas and labels.
distinguishing score
    For a persona and a factor: the persona's mean z minus the mean z of all
    other clustered respondents (a difference of means in units of the whole
    sample's SD). Positive: the factor matters more to this persona than to
    the rest. The persona's *top factors* are the 3 largest by ``|score|``
    (ties by declared factor order); its *name* is built from its top
    positive factors' display names, in the case language.
leading factors
    The persona's top positive factor if it beats the rest by at least 0.2 SD,
    plus the second one when it scores at least half as much as the first
    (``leading_positions``). The persona's name is built from them.
price-driven persona
    A persona with the case's price factor among its leading factors (so its
    name mentions price). The price factor is ``Parameters.price_factor``, else
    the first declared factor whose id contains ``price``/``cost`` or whose name
    says price/цена/стоимость. "Among the leading factors" rather than "the top
    factor" because price usually travels with a close companion (discounts,
    installments) whose score can edge it out by noise.
hard / soft factor
    As the case declares (``choice_factors[].kind``): hard factors the company
    cannot move (budget, deadline), soft ones it can shape with content.

Brand audience comparison
-------------------------
For each factor, the importances given by respondents of brand A vs brand B
(blanks dropped factor by factor, not imputed). Effect size: **Cliff's delta**
``P(a > b) - P(a < b)`` (rank-based, right for ordinal 1-5 scales with many
ties), with a confidence interval from the DeLong (placement-value) variance
and Cliff's asymmetric interval formula; test: two-sided **Mann-Whitney U**
(tie-corrected); p-values corrected over the factors by **Holm**. A difference
is *material* when ``|delta| >= 0.33`` (a "medium" effect in Romano et al.'s
conventional thresholds: 0.147 small, 0.33 medium, 0.474 large) AND the
Holm-adjusted p is below ``alpha``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as _st
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from threadpoolctl import threadpool_limits

from toolkit.core.config import ChoiceFactor, Parameters
from toolkit.core.errors import CaseError
from toolkit.core.stats import mean_interval, wilson_interval
from toolkit.core.run_folder import to_jsonable as jsonable  # the toolkit's one JSON converter

IMP_PREFIX = "imp_"
MAX_BLANK_SHARE = 1 / 3  # more blanks than this: the respondent is excluded from clustering
KMEANS_N_INIT = 20
GAP_REFERENCES = 20  # uniform reference data sets of the gap statistic
GAP_REF_N_INIT = 3  # k-means restarts on each reference set (its log W only needs to be near-optimal)
SILHOUETTE_SAMPLE = 5000  # silhouette (a diagnostic) is exact up to this many respondents, sampled above
TOP_FACTORS = 3
NAMING_MIN_SCORE = 0.2  # a factor must beat the rest by 0.2 SD to give the persona its name
DOMINANCE_RATIO = 0.5  # second factor below half the first's score: name from the first alone
MATERIAL_DELTA = 0.33  # |Cliff's delta| from which a brand difference is material (Romano et al.: medium)

_PRICE_ID = re.compile(r"price|cost", re.IGNORECASE)
_PRICE_NAME = re.compile(r"price|cost|цен[аыуе]?\b|стоимост", re.IGNORECASE)


# --------------------------------------------------------------------------- factors


def factor_table(choice_factors: Sequence[ChoiceFactor], survey: pd.DataFrame | None = None) -> pd.DataFrame:
    """The case's choice factors as a table: factor_id, column, name, kind, level, order.

    With ``survey`` given, only the factors that have an ``imp_<id>`` column in it are kept.
    """
    rows = [
        {
            "factor_id": f.id,
            "column": IMP_PREFIX + f.id,
            "name": f.label,
            "kind": f.kind,
            "level": f.level,
            "order": i,
        }
        for i, f in enumerate(choice_factors)
    ]
    out = pd.DataFrame(rows, columns=["factor_id", "column", "name", "kind", "level", "order"])
    if survey is not None:
        out = out[out["column"].isin(survey.columns)].reset_index(drop=True)
    return out


def split_hard_soft(choice_factors: Sequence[ChoiceFactor]) -> dict[str, list[str]]:
    """Factor ids grouped by the kind the case declares: ``{"hard": [...], "soft": [...]}`` (declared order)."""
    return {
        "hard": [f.id for f in choice_factors if f.kind == "hard"],
        "soft": [f.id for f in choice_factors if f.kind == "soft"],
    }


def price_factor_id(choice_factors: Sequence[ChoiceFactor], parameters: Parameters | None = None) -> str | None:
    """The id of the factor that means price, or None when the case has none.

    ``parameters.price_factor`` wins when set (it must name a declared factor); otherwise the
    first declared factor whose id contains ``price``/``cost``, else the first whose display
    name says price/цена/стоимость.
    """
    ids = [f.id for f in choice_factors]
    explicit = getattr(parameters, "price_factor", None) if parameters is not None else None
    if explicit:
        if explicit not in ids:
            raise CaseError(
                f"parameters.price_factor is '{explicit}', which is not a declared choice factor "
                f"(declared: {', '.join(ids) or 'none'})."
            )
        return explicit
    for f in choice_factors:
        if _PRICE_ID.search(f.id):
            return f.id
    for f in choice_factors:
        if f.name and _PRICE_NAME.search(f.name):
            return f.id
    return None


# --------------------------------------------------------------------------- matrix


def importance_matrix(
    survey: pd.DataFrame, factor_ids: Sequence[str], max_blank_share: float = MAX_BLANK_SHARE
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Respondents x factors importances ready for clustering, and a note of what was done to blanks.

    Rows are sorted by ``respondent_id`` (the index of the result). A respondent with more than
    ``max_blank_share`` of the factors blank is excluded; other blanks are imputed with the
    factor's median over the kept respondents who answered it. A factor nobody answered is
    dropped (its median is undefined).

    Returns ``(matrix, blanks)`` with ``blanks = {"respondents_read", "excluded_too_many_blanks",
    "imputed_values", "dropped_factors"}``.
    """
    cols = [IMP_PREFIX + f for f in factor_ids]
    raw = survey.sort_values("respondent_id", kind="stable").set_index("respondent_id")[cols]
    raw = raw.apply(pd.to_numeric, errors="coerce").astype(float)
    raw.columns = list(factor_ids)
    blank = raw.isna()
    keep = blank.mean(axis=1) <= max_blank_share + 1e-12
    kept = raw[keep]
    dropped = [f for f in kept.columns if kept[f].notna().sum() == 0]
    kept = kept.drop(columns=dropped)
    imputed = int(kept.isna().sum().sum())
    kept = kept.fillna(kept.median())
    return kept, {
        "respondents_read": int(len(raw)),
        "excluded_too_many_blanks": int((~keep).sum()),
        "imputed_values": imputed,
        "dropped_factors": dropped,
    }


def standardise(matrix: pd.DataFrame) -> pd.DataFrame:
    """z-scores per column, ``(x - mean) / sd`` with the population sd (ddof=0); constant columns give 0."""
    mean = matrix.mean()
    sd = matrix.std(ddof=0)
    z = (matrix - mean) / sd.where(sd > 0)
    return z.fillna(0.0)


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


# --------------------------------------------------------------------------- profiles


def distinguishing_factors(z: pd.DataFrame, personas, factors: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per persona x factor: ``mean_z`` inside, ``mean_z_rest`` over everybody else, ``score``.

    ``score = mean_z - mean_z_rest``; ``rank`` orders a persona's factors by ``|score|`` (1 = most
    distinguishing; ties by the factor's declared order). With a single persona there is no
    "rest": score is NaN and rank follows the declared order.
    """
    lab = pd.Series(np.asarray(personas), index=z.index, name="persona")
    n = len(z)
    sums = z.groupby(lab).sum()
    counts = lab.value_counts().reindex(sums.index)
    inside = sums.div(counts, axis=0)
    rest_n = n - counts
    rest = (z.sum() - sums).div(rest_n.where(rest_n > 0), axis=0)
    long = (
        inside.rename_axis("persona").reset_index().melt("persona", var_name="factor_id", value_name="mean_z")
    )
    rest_long = (
        rest.rename_axis("persona").reset_index().melt("persona", var_name="factor_id", value_name="mean_z_rest")
    )
    long = long.merge(rest_long, on=["persona", "factor_id"], how="left")
    long["score"] = long["mean_z"] - long["mean_z_rest"]
    order = {f: i for i, f in enumerate(factors["factor_id"] if factors is not None else z.columns)}
    long["order"] = long["factor_id"].map(order)
    long["abs_score"] = long["score"].abs().fillna(0.0)
    long = long.sort_values(["persona", "abs_score", "order"], ascending=[True, False, True], kind="stable")
    long["rank"] = long.groupby("persona").cumcount() + 1
    return long.drop(columns=["abs_score"]).reset_index(drop=True)


def _is_acronym(word: str) -> bool:
    return len(word) > 1 and word.isupper()


def _lower_first(phrase: str) -> str:
    words = phrase.split()
    if words and not _is_acronym(words[0]):
        words[0] = words[0][:1].lower() + words[0][1:]
    return " ".join(words)


_MORPH = None


def _morph():
    global _MORPH
    if _MORPH is None:
        import pymorphy3  # lazy: ~0.5 s to load the dictionaries

        _MORPH = pymorphy3.MorphAnalyzer()
    return _MORPH


def _ru_accusative(phrase: str) -> str:
    """'Низкая цена' -> 'низкую цену', 'Репутация врача' -> 'репутацию врача' (for 'Ориентированы на ...').

    Adjectives before the head noun agree with it; words after the head noun (genitive
    complements) stay as they are. Unknown words are left unchanged.
    """
    words = phrase.split()
    try:
        morph = _morph()
    except Exception:  # no dictionaries: keep the nominative
        return _lower_first(phrase)
    parses = []
    for w in words:
        options = morph.parse(w)
        nomn = [p for p in options if "nomn" in p.tag]
        parses.append(nomn[0] if nomn else options[0])
    head = next((i for i, p in enumerate(parses) if p.tag.POS == "NOUN"), None)
    if head is None:
        return _lower_first(phrase)
    noun = parses[head]
    out = []
    for i, (w, p) in enumerate(zip(words, parses)):
        if _is_acronym(w) or i > head:
            out.append(w)
            continue
        if i == head:
            form = noun.inflect({"accs"})
        elif p.tag.POS in ("ADJF", "PRTF"):
            # accusative = nominative or genitive by animacy, only in the masculine singular and plural
            plural = noun.tag.number == "plur"
            grams = {"accs", "plur" if plural else (noun.tag.gender or "masc")}
            if plural or noun.tag.gender == "masc":
                grams.add(noun.tag.animacy or "inan")
            form = p.inflect(grams)
        else:
            form = None
        word = form.word if form is not None else w
        out.append(word)
    return _lower_first(" ".join(_keep_case(o, w) for o, w in zip(out, words)))


def _keep_case(new: str, old: str) -> str:
    return new[:1].upper() + new[1:] if old[:1].isupper() else new


def leading_positions(scores: Sequence[float]) -> list[int]:
    """Positions of a persona's *leading factors* in ``scores`` (ordered highest first).

    The leader is the first factor scoring at least ``NAMING_MIN_SCORE`` (0.2 SD above the rest);
    the second factor co-leads when it scores at least ``DOMINANCE_RATIO`` (half) of the leader's
    score. The persona's name is built from its leading factors, and a persona is *price-driven*
    when the price factor is one of them.
    """
    ok = [i for i, s in enumerate(scores[:2]) if s is not None and not math.isnan(s) and s >= NAMING_MIN_SCORE]
    if not ok or ok[0] != 0:
        return []
    if len(ok) == 2 and scores[1] >= DOMINANCE_RATIO * scores[0]:
        return [0, 1]
    return [0]


def suggest_persona_name(names: Sequence[str], scores: Sequence[float], language: str = "ru") -> str:
    """A persona name composed from its top positive distinguishing factors' display names.

    ``names``/``scores``: the persona's factors ordered by score, highest first. Factors scoring
    below ``NAMING_MIN_SCORE`` (0.2 SD above the rest) are ignored. One clear leader (the second
    factor below half the first's score, or no second) gives ``"Price-driven"`` /
    ``"Ориентированы на цену"``; two comparable leaders give ``"Brand & status"`` / ``"Бренд и статус"``.
    No factor above the bar gives a neutral name.
    """
    lead = leading_positions(scores)
    if not lead:
        return "Без выраженного фактора выбора" if language == "ru" else "No dominant choice factor"
    first = names[lead[0]].strip()
    if len(lead) == 1:
        if language == "ru":
            return f"Ориентированы на {_ru_accusative(first)}"
        if len(first.split()) == 1 and first.isascii():
            return f"{first[:1].upper()}{first[1:]}-driven"
        return f"Driven by {_lower_first(first)}"
    second = _lower_first(names[lead[1]].strip())
    first = first[:1].upper() + first[1:]
    return f"{first} и {second}" if language == "ru" else f"{first} & {second}"


# --------------------------------------------------------------------------- the whole step


@dataclass
class PersonaResult:
    """Everything the persona step finds; ``personas_to_metrics`` turns it into metrics.json's shape."""

    k: int
    assignments: pd.DataFrame  # respondent_id, persona (clustered respondents only)
    personas: pd.DataFrame  # one row per persona (see survey_personas)
    profile: pd.DataFrame  # persona x factor: mean importance, mean_z, mean_z_rest, score, rank
    brand_mix: pd.DataFrame  # persona, brand, respondents, share
    k_selection: pd.DataFrame  # one row per k tried
    factors: pd.DataFrame  # factor_table of the factors used
    blanks: dict[str, Any]
    price_factor: str | None
    language: str
    notes: list[str] = field(default_factory=list)


def _nps_score(nps: pd.Series) -> float:
    x = nps.dropna()
    if x.empty:
        return float("nan")
    return float((x >= 9).mean() - (x <= 6).mean())


def survey_personas(
    survey: pd.DataFrame,
    choice_factors: Sequence[ChoiceFactor],
    parameters: Parameters | None = None,
    language: str = "ru",
    max_blank_share: float = MAX_BLANK_SHARE,
) -> PersonaResult:
    """Segment survey respondents into personas by their choice-factor importances (see module doc).

    ``personas`` columns: persona, name, respondents, share, share_lo, share_hi (Wilson, of the
    clustered respondents), top_factors (ids, most distinguishing first), top_factor_names,
    top_positive (id of the highest positive score), leading_factors (ids the name is built
    from), top_hard, top_soft (the hard / soft factor with the highest positive score, or None),
    price_driven (the price factor is a leading factor), clients, client_share,
    client_share_lo, client_share_hi (of respondents with a known is_client), nps_mean, nps_lo,
    nps_hi, nps_n, nps_score (promoters 9-10 minus detractors 0-6, a fraction), budget_median,
    budget_n.
    """
    parameters = parameters or Parameters()
    if survey is None or "respondent_id" not in survey.columns:
        raise CaseError("The survey table is missing, so personas cannot be built.")
    factors = factor_table(choice_factors, survey)
    if factors.empty:
        raise CaseError(
            "The survey has no choice-factor importance columns (imp_<factor>): map them in case.yml "
            "under sources.survey.columns to build personas."
        )
    matrix, blanks = importance_matrix(survey, list(factors["factor_id"]), max_blank_share)
    factors = factors[~factors["factor_id"].isin(blanks["dropped_factors"])].reset_index(drop=True)
    notes: list[str] = []
    if blanks["excluded_too_many_blanks"]:
        notes.append(
            f"{blanks['excluded_too_many_blanks']} respondents left more than "
            f"{max_blank_share:.0%} of the factors blank and were not clustered"
        )
    z = standardise(matrix)
    labels, selection = cluster_importances(
        z, parameters.persona_k_range, parameters.min_segment_size, parameters.random_seed
    )
    if len(np.unique(labels)) == 1:
        notes.append(
            f"no k in {list(parameters.persona_k_range)} gives two personas of at least "
            f"{parameters.min_segment_size} respondents: one persona shown"
        )
    if selection.attrs.get("no_structure"):
        notes.append(
            "the gap statistic finds no clear groups in the importances (k = 1 would be chosen): "
            "read the personas as tendencies, not distinct segments"
        )
    k = int(len(np.unique(labels)))
    assignments = pd.DataFrame({"respondent_id": matrix.index.to_numpy(), "persona": labels})
    profile = distinguishing_factors(z, labels, factors)
    means = matrix.groupby(pd.Series(labels, index=matrix.index, name="persona")).mean()
    profile["mean_importance"] = [means.at[p, f] for p, f in zip(profile["persona"], profile["factor_id"])]
    profile = profile.merge(factors[["factor_id", "name", "kind"]], on="factor_id", how="left")
    price = price_factor_id(choice_factors, parameters)

    # respondent attributes, aligned with the clustered respondents
    attrs = survey.set_index("respondent_id").reindex(matrix.index)
    attrs = attrs.assign(persona=labels)
    n_total = len(attrs)
    g = attrs.groupby("persona", sort=True)
    summary = g.size().rename("respondents").to_frame()
    summary["share"] = summary["respondents"] / n_total
    lo, hi = wilson_interval(summary["respondents"].to_numpy(), n_total, parameters.confidence)
    summary["share_lo"], summary["share_hi"] = lo, hi
    if "is_client" in attrs.columns:
        known = attrs["is_client"].notna()
        yes = attrs["is_client"].fillna(False).astype(bool)
        summary["clients"] = yes.groupby(attrs["persona"]).sum().astype(int)
        n_known = known.groupby(attrs["persona"]).sum()
        summary["client_share"] = summary["clients"] / n_known.where(n_known > 0)
        lo, hi = wilson_interval(summary["clients"].to_numpy(), n_known.to_numpy(), parameters.confidence)
        summary["client_share_lo"], summary["client_share_hi"] = lo, hi
    if "nps" in attrs.columns:
        nps = pd.to_numeric(attrs["nps"], errors="coerce").astype(float)
        stats = {p: mean_interval(nps[attrs["persona"] == p].to_numpy(), parameters.confidence) for p in summary.index}
        summary["nps_mean"] = [stats[p][0] for p in summary.index]
        summary["nps_lo"] = [stats[p][1] for p in summary.index]
        summary["nps_hi"] = [stats[p][2] for p in summary.index]
        summary["nps_n"] = [stats[p][3] for p in summary.index]
        summary["nps_score"] = nps.groupby(attrs["persona"]).apply(_nps_score)
    if "budget" in attrs.columns:
        budget = pd.to_numeric(attrs["budget"], errors="coerce").astype(float)
        summary["budget_median"] = budget.groupby(attrs["persona"]).median()
        summary["budget_n"] = budget.notna().groupby(attrs["persona"]).sum().astype(int)

    # names, top factors, hard/soft leaders, price flag
    rows = []
    for p in summary.index:
        pr = profile[profile["persona"] == p]
        if k == 1:
            # no "rest" to compare with: the factors that matter most to everybody
            pr = pr.sort_values(["mean_importance", "order"], ascending=[False, True], kind="stable")
            top = pr.head(TOP_FACTORS)
            name = "Все респонденты" if language == "ru" else "All respondents"
            positive = pr.iloc[0:0]
        else:
            top = pr[pr["rank"] <= TOP_FACTORS]
            positive = pr[pr["score"] > 0].sort_values(["score", "order"], ascending=[False, True], kind="stable")
            name = suggest_persona_name(list(positive["name"]), list(positive["score"]), language)
        leading = [positive["factor_id"].iloc[i] for i in leading_positions(list(positive["score"]))]
        hard = positive[positive["kind"] == "hard"]
        soft = positive[positive["kind"] == "soft"]
        top_positive = positive["factor_id"].iloc[0] if len(positive) else None
        rows.append(
            {
                "persona": p,
                "name": name,
                "top_factors": list(top["factor_id"]),
                "top_factor_names": list(top["name"]),
                "top_positive": top_positive,
                "leading_factors": leading,
                "top_hard": hard["factor_id"].iloc[0] if len(hard) else None,
                "top_soft": soft["factor_id"].iloc[0] if len(soft) else None,
                "price_driven": bool(price is not None and price in leading),
            }
        )
    named = pd.DataFrame(rows).set_index("persona")
    # two personas must not share a name: suffix the later ones with their label
    dup = named["name"].duplicated(keep="first")
    named.loc[dup, "name"] = named.loc[dup, "name"] + " (" + named.index[dup] + ")"
    personas = named.join(summary).reset_index()
    first = ["persona", "name", "respondents", "share", "share_lo", "share_hi"]
    personas = personas[first + [c for c in personas.columns if c not in first]]
    if price is not None and k > 1 and not personas["price_driven"].any():
        notes.append(f"no persona has the price factor '{price}' among its leading factors")

    if "brand" in attrs.columns:
        b = attrs.dropna(subset=["brand"])
        mix = b.groupby(["persona", "brand"]).size().rename("respondents").reset_index()
        mix["share"] = mix["respondents"] / mix.groupby("persona")["respondents"].transform("sum")
        mix = mix.sort_values(["persona", "respondents", "brand"], ascending=[True, False, True], kind="stable")
    else:
        mix = pd.DataFrame(columns=["persona", "brand", "respondents", "share"])

    return PersonaResult(
        k=k,
        assignments=assignments,
        personas=personas,
        profile=profile,
        brand_mix=mix.reset_index(drop=True),
        k_selection=selection,
        factors=factors,
        blanks=blanks,
        price_factor=price,
        language=language,
        notes=notes,
    )


def personas_to_metrics(result: PersonaResult) -> dict[str, Any]:
    """metrics.json's ``segments.personas`` and ``segments.k`` (plus method details)."""
    mix = {p: dict(zip(d["brand"], d["share"])) for p, d in result.brand_mix.groupby("persona")}
    items = []
    for rec in result.personas.to_dict(orient="records"):
        p = rec["persona"]
        pr = result.profile[result.profile["persona"] == p].set_index("factor_id")
        rec["id"] = p
        rec["share_ci"] = [rec.pop("share_lo"), rec.pop("share_hi")]
        if "client_share_lo" in rec:
            rec["client_share_ci"] = [rec.pop("client_share_lo"), rec.pop("client_share_hi")]
        if "nps_lo" in rec:
            rec["nps_mean_ci"] = [rec.pop("nps_lo"), rec.pop("nps_hi")]
        rec["brand_mix"] = mix.get(p, {})
        rec["factor_scores"] = {f: pr.at[f, "score"] for f in pr.index}
        rec["mean_importance"] = {f: pr.at[f, "mean_importance"] for f in pr.index}
        items.append(rec)
    sel = result.k_selection
    return jsonable(
        {
            "personas": items,
            "k": result.k,
            "method": {
                "clustering": "k-means on standardised importances",
                "k_rule": "gap statistic, 1-SE rule, within persona_k_range; small clusters then dissolved",
                "k_chosen_before_merge": int(sel.loc[sel["chosen"], "k"].iloc[0]) if sel["chosen"].any() else None,
                "gap_by_k": dict(zip(sel["k"].astype(str), sel["gap"])),
                "gap_se_by_k": dict(zip(sel["k"].astype(str), sel["gap_se"])),
                "silhouette_by_k": dict(zip(sel["k"].astype(str), sel["silhouette"])),
                "no_cluster_structure": bool(sel.attrs.get("no_structure", False)),
                "respondents_clustered": int(len(result.assignments)),
                "blanks": result.blanks,
                "price_factor": result.price_factor,
                "factors": split_hard_soft_from_table(result.factors),
                "notes": result.notes,
            },
        }
    )


def split_hard_soft_from_table(factors: pd.DataFrame) -> dict[str, list[str]]:
    return {
        "hard": list(factors.loc[factors["kind"] == "hard", "factor_id"]),
        "soft": list(factors.loc[factors["kind"] == "soft", "factor_id"]),
    }


def persona_metrics(
    survey: pd.DataFrame | None,
    choice_factors: Sequence[ChoiceFactor],
    parameters: Parameters | None = None,
    language: str = "ru",
) -> dict[str, Any]:
    """``{"personas": [{name, share, respondents, top_factors, ...}], "k": k, "method": {...}}``, JSON-able.

    Without a survey or without importance columns: ``{"skipped": "<reason>"}``.
    """
    if survey is None or len(survey) == 0:
        return {"skipped": "no survey table in this case"}
    if factor_table(choice_factors, survey).empty:
        return {"skipped": "the survey has no choice-factor importance columns (imp_<factor>)"}
    return personas_to_metrics(survey_personas(survey, choice_factors, parameters, language))


# --------------------------------------------------------------------------- brand audiences


def cliffs_delta(a, b, confidence: float = 0.95) -> tuple[float, float, float]:
    """Cliff's delta ``P(a > b) - P(a < b)`` with a confidence interval: ``(delta, low, high)``.

    Variance from DeLong's placement values (handles ties): for each a_i the share of b below it
    (ties count half), and vice versa; ``var(delta) = 4 * (var(V_a)/n_a + var(V_b)/n_b)``. The
    interval is Cliff's asymmetric one, which stays inside [-1, 1]:
    ``(d - d^3 +- z s sqrt((1 - d^2)^2 + z^2 s^2)) / (1 - d^2 + z^2 s^2)``.
    Blanks are dropped; fewer than 2 values on a side give NaN bounds.
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    na, nb = len(a), len(b)
    if na == 0 or nb == 0:
        return float("nan"), float("nan"), float("nan")
    both = np.concatenate([a, b])
    r_all = _st.rankdata(both)  # midranks
    va = (r_all[:na] - _st.rankdata(a)) / nb  # share of b below a_i (+ half the ties)
    vb = 1.0 - (r_all[na:] - _st.rankdata(b)) / na  # share of a above b_j (+ half the ties)
    auc = float(va.mean())
    d = 2.0 * auc - 1.0
    if na < 2 or nb < 2:
        return d, float("nan"), float("nan")
    s2 = 4.0 * (va.var(ddof=1) / na + vb.var(ddof=1) / nb)
    s = math.sqrt(s2)
    if s == 0:
        return d, d, d
    z = float(_st.norm.ppf(0.5 + confidence / 2.0))
    root = z * s * math.sqrt((1 - d * d) ** 2 + z * z * s2)
    den = 1 - d * d + z * z * s2
    return d, max(-1.0, (d - d**3 - root) / den), min(1.0, (d - d**3 + root) / den)


def cohens_d(a, b, confidence: float = 0.95) -> tuple[float, float, float]:
    """Cohen's d ``(mean_a - mean_b) / sqrt((var_a + var_b) / 2)`` (sample variances, ddof=1), with the
    normal-approximation interval ``d +- z * sqrt((n_a + n_b) / (n_a n_b) + d^2 / (2 (n_a + n_b)))``
    (Hedges & Olkin). Reported beside Cliff's delta for readers used to d; the materiality rule
    uses Cliff's delta, which suits ordinal scales. Blanks dropped; NaN when undefined.
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    na, nb = len(a), len(b)
    if na < 2 or nb < 2:
        return float("nan"), float("nan"), float("nan")
    sd = math.sqrt((a.var(ddof=1) + b.var(ddof=1)) / 2)
    if sd == 0:
        return float("nan"), float("nan"), float("nan")
    d = float((a.mean() - b.mean()) / sd)
    se = math.sqrt((na + nb) / (na * nb) + d * d / (2 * (na + nb)))
    z = float(_st.norm.ppf(0.5 + confidence / 2.0))
    return d, d - z * se, d + z * se


def holm(pvalues) -> np.ndarray:
    """Holm step-down adjusted p-values (NaN stays NaN, not counted among the tests)."""
    p = np.asarray(pvalues, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(~np.isnan(p))
    m = len(ok)
    if m == 0:
        return out
    order = ok[np.argsort(p[ok], kind="stable")]
    stepped = p[order] * (m - np.arange(m))
    out[order] = np.minimum(1.0, np.maximum.accumulate(stepped))
    return out


def _magnitude(d: float) -> str | None:
    if d is None or math.isnan(d):
        return None
    x = abs(d)
    return "negligible" if x < 0.147 else "small" if x < 0.33 else "medium" if x < 0.474 else "large"


def brand_audience_comparison(
    survey: pd.DataFrame,
    choice_factors: Sequence[ChoiceFactor],
    brand_a: str,
    brand_b: str,
    confidence: float = 0.95,
    alpha: float = 0.05,
    material_delta: float = MATERIAL_DELTA,
    clients_only: bool = False,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Compare how respondents of ``brand_a`` and ``brand_b`` rate each choice factor (module doc).

    A brand's audience: survey respondents whose ``brand`` is that brand (only clients when
    ``clients_only``). Per factor, blanks are dropped. Returns a tidy DataFrame, one row per
    factor: factor_id, name, kind, n_a, n_b, mean_a, mean_b, diff (mean_a - mean_b), median_a,
    median_b, cliffs_delta, delta_lo, delta_hi, cohens_d, cohens_d_lo, cohens_d_hi (beside, for
    reference), magnitude (of Cliff's delta), u_statistic, p_value, p_holm, material,
    higher_for (the brand whose audience rates the factor higher, when material) -- and a
    JSON-able summary.
    """
    if "brand" not in survey.columns:
        raise CaseError("The survey has no brand column, so brand audiences cannot be compared.")
    factors = factor_table(choice_factors, survey)
    data = survey
    if clients_only and "is_client" in survey.columns:
        data = survey[survey["is_client"].fillna(False).astype(bool)]
    ga = data[data["brand"] == brand_a]
    gb = data[data["brand"] == brand_b]
    rows = []
    for f in factors.itertuples(index=False):  # a loop over factors (a handful), not over respondents
        a = pd.to_numeric(ga[f.column], errors="coerce").astype(float).dropna().to_numpy()
        b = pd.to_numeric(gb[f.column], errors="coerce").astype(float).dropna().to_numpy()
        d, lo, hi = cliffs_delta(a, b, confidence)
        cd, cd_lo, cd_hi = cohens_d(a, b, confidence)
        if len(a) and len(b) and np.unique(np.concatenate([a, b])).size > 1:
            test = _st.mannwhitneyu(a, b, alternative="two-sided")
            u, p = float(test.statistic), float(test.pvalue)
        else:
            u, p = float("nan"), float("nan")
        rows.append(
            {
                "factor_id": f.factor_id,
                "name": f.name,
                "kind": f.kind,
                "n_a": len(a),
                "n_b": len(b),
                "mean_a": a.mean() if len(a) else float("nan"),
                "mean_b": b.mean() if len(b) else float("nan"),
                "median_a": float(np.median(a)) if len(a) else float("nan"),
                "median_b": float(np.median(b)) if len(b) else float("nan"),
                "cliffs_delta": d,
                "delta_lo": lo,
                "delta_hi": hi,
                "cohens_d": cd,
                "cohens_d_lo": cd_lo,
                "cohens_d_hi": cd_hi,
                "u_statistic": u,
                "p_value": p,
            }
        )
    cols = ["factor_id", "name", "kind", "n_a", "n_b", "mean_a", "mean_b", "median_a", "median_b",
            "cliffs_delta", "delta_lo", "delta_hi", "cohens_d", "cohens_d_lo", "cohens_d_hi",
            "u_statistic", "p_value"]  # fmt: skip
    table = pd.DataFrame(rows, columns=cols)
    table.insert(7, "diff", table["mean_a"] - table["mean_b"])
    table["magnitude"] = [_magnitude(d) for d in table["cliffs_delta"]]
    table["p_holm"] = holm(table["p_value"].to_numpy())
    table["material"] = (table["cliffs_delta"].abs() >= material_delta) & (table["p_holm"] < alpha)
    table["higher_for"] = np.where(
        table["material"], np.where(table["cliffs_delta"] > 0, brand_a, brand_b), None
    )
    mat = table[table["material"]].sort_values("cliffs_delta", key=np.abs, ascending=False, kind="stable")
    summary = {
        "brand_a": brand_a,
        "brand_b": brand_b,
        "respondents": {brand_a: int(len(ga)), brand_b: int(len(gb))},
        "effect": "cliffs_delta",
        "test": "mann_whitney_u_two_sided",
        "correction": "holm",
        "alpha": alpha,
        "material_threshold": material_delta,
        "material": list(mat["factor_id"]),
        "higher_for": {
            brand_a: list(mat.loc[mat["cliffs_delta"] > 0, "factor_id"]),
            brand_b: list(mat.loc[mat["cliffs_delta"] < 0, "factor_id"]),
        },
        "factors": {
            r["factor_id"]: {k: v for k, v in r.items() if k not in ("factor_id",)}
            for r in table.to_dict(orient="records")
        },
    }
    return table, jsonable(summary)
