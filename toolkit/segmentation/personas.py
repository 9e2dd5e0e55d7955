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
    Chosen in ``Parameters.persona_k_range`` by **stability together with the gap
    statistic** (``toolkit.segmentation.clustering.cluster_importances``): a k counts
    when its k-means solution is stable (mean adjusted Rand index >= 0.95 between it
    and the clusterings of 8 seeded 80 % subsamples); among the stable k the gap
    statistic (Tibshirani, Walther & Hastie 2001: how much tighter the k clusters are
    than k clusters of structureless data, 20 seeded uniform reference sets) picks the
    smallest k within one standard error of the next k's gap. With no stable k the gap
    rule alone decides; ``k_method`` records which rule decided (``stability_and_gap``
    or ``gap_only``). Then clusters that differ only within the answer scale's rounding
    step (a group whose centre sits on x.5 split into the x and the x + 1 answerers)
    and pairs that form a single mode along the line between their centres are merged.
    Not silhouette: it rewards the coarsest clear split (on the clinic case it picks
    k=2, adjusted Rand 0.60, where the planted personas are 3); it is still reported
    per k as a diagnostic, and a gap rule that would pick k=1 is flagged
    (``no_cluster_structure``).
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

Factor tables: :mod:`toolkit.segmentation.factors`; k-means, the choice of k and small
clusters: :mod:`toolkit.segmentation.clustering`; persona names: :mod:`toolkit.segmentation.naming`;
the brand audience comparison: :mod:`toolkit.segmentation.audiences`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from toolkit.core.config import ChoiceFactor, Parameters
from toolkit.core.errors import CaseError
from toolkit.core.run_folder import to_jsonable as jsonable  # the toolkit's one JSON converter
from toolkit.core.stats import mean_interval, wilson_interval
from toolkit.segmentation.audiences import MATERIAL_DELTA, brand_audience_comparison, cliffs_delta, cohens_d, holm
from toolkit.segmentation.clustering import (
    GAP_REFERENCES,
    KMEANS_N_INIT,
    cluster_importances,
    gap_statistic,
    merge_small_clusters,
    order_labels,
)
from toolkit.segmentation.factors import IMP_PREFIX, factor_table, price_factor_id, split_hard_soft
from toolkit.segmentation.naming import leading_positions, suggest_persona_name

__all__ = [
    "GAP_REFERENCES", "IMP_PREFIX", "KMEANS_N_INIT", "MATERIAL_DELTA", "PersonaResult", "brand_audience_comparison",
    "cliffs_delta", "cluster_importances", "cohens_d", "distinguishing_factors", "factor_table", "gap_statistic",
    "holm", "importance_matrix", "jsonable", "leading_positions", "merge_small_clusters", "order_labels",
    "persona_metrics", "personas_to_metrics", "price_factor_id", "split_hard_soft", "standardise",
    "suggest_persona_name", "survey_personas",
]

MAX_BLANK_SHARE = 1 / 3  # more blanks than this: the respondent is excluded from clustering
TOP_FACTORS = 3


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
        z, parameters.persona_k_range, parameters.min_segment_size, parameters.random_seed, raw=matrix
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
            "k_method": result.k_selection.attrs.get("k_method"),
            "method": {
                "clustering": "k-means on standardised importances",
                "k_rule": "stability (subsample adjusted Rand) and the gap statistic's 1-SE rule within "
                "persona_k_range; rounding splits and one-mode splits merged, small clusters dissolved",
                "k_method": sel.attrs.get("k_method"),
                "rounding_merges": int(sel.attrs.get("rounding_merges", 0)),
                "unimodal_merges": int(sel.attrs.get("unimodal_merges", 0)),
                "stability_by_k": dict(zip(sel["k"].astype(str), sel["stability"])),
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
