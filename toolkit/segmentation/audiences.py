"""Brand audience comparison
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
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as _st

from toolkit.core.config import ChoiceFactor
from toolkit.core.errors import CaseError
from toolkit.core.run_folder import to_jsonable as jsonable
from toolkit.segmentation.factors import factor_table

MATERIAL_DELTA = 0.33  # |Cliff's delta| from which a brand difference is material (Romano et al.: medium)


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
