"""Agreement between the automatic draft and a consultant's hand coding.

The unit is the **(respondent, code) pair**: a respondent "has" a code when at least
one of their fragments carries it (how many times does not matter).

- **precision** = pairs in both / pairs in the draft (how much of the draft is right);
- **recall** = pairs in both / pairs in the hand coding (how much the draft finds);
  each with its count and a Wilson interval.
- **Cohen's kappa** over the respondent x code presence matrix: every cell
  (respondent, code) is one item rated present/absent by both coders;
  kappa = (p_o - p_e) / (1 - p_e), p_o the share of cells where they agree, p_e the
  agreement expected by chance from each coder's share of "present" cells. The
  matrix spans the respondents and codes of ``respondents`` / ``codes`` when given
  (e.g. every transcript and every codebook code), else those seen in either table;
  a code neither coder used adds only agreeing "absent" cells, so pass the codebook
  to make the figure comparable across runs. Kappa is undefined (NaN) when p_e = 1.
  Its 95 % interval is a percentile bootstrap over respondents (``KAPPA_RESAMPLES``
  resamples of whole interviews, seeded, so the same tables give the same interval): the
  cells of one interview are not independent of each other.
- **per code**: the same figures over that code's column of the matrix, and the counts a
  reviewer acts on: ``hits`` (pairs in both), ``misses`` (hand only: the draft never
  proposed them), ``false_alarms`` (draft only: rows to reject).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from toolkit.core.stats import wilson_interval


@dataclass
class CodingAgreement:
    precision: float
    recall: float
    kappa: float
    n_draft: int  # (respondent, code) pairs in the draft
    n_hand: int  # pairs in the hand coding
    n_both: int  # pairs in both
    precision_interval: tuple[float, float]
    recall_interval: tuple[float, float]
    per_code: pd.DataFrame  # code, n_hand, n_draft, n_both, hits, misses, false_alarms, precision, recall, kappa
    kappa_interval: tuple[float, float] = (float("nan"), float("nan"))

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return float("nan") if not (p + r) else 2 * p * r / (p + r)


def _pairs(df: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame({"respondent_id": df["respondent_id"].astype("string").str.strip(),
                        "code": df["code"].astype("string").str.strip()}).dropna()
    return out.drop_duplicates()


def _kappa(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cohen's kappa per column of two boolean matrices (rows = items)."""
    n = a.shape[0]
    po = (a == b).sum(axis=0) / n
    pa, pb = a.mean(axis=0), b.mean(axis=0)
    pe = pa * pb + (1 - pa) * (1 - pb)
    with np.errstate(divide="ignore", invalid="ignore"):
        k = (po - pe) / (1 - pe)
    return np.where(np.isclose(pe, 1.0), np.nan, k)


KAPPA_RESAMPLES = 1000
KAPPA_SEED = 20260101


def _kappa_interval(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """95 % percentile bootstrap interval of the overall kappa, resampling respondents (rows)."""
    n = a.shape[0]
    if n < 2 or not a.size:
        return float("nan"), float("nan")
    rng = np.random.default_rng(KAPPA_SEED)
    idx = rng.integers(0, n, size=(KAPPA_RESAMPLES, n))
    ks = np.array([_kappa(a[i].reshape(-1, 1), b[i].reshape(-1, 1))[0] for i in idx])
    ks = ks[~np.isnan(ks)]
    if not len(ks):
        return float("nan"), float("nan")
    lo, hi = np.percentile(ks, [2.5, 97.5])
    return float(lo), float(hi)


def _ratio(k, n) -> float:
    return float(k / n) if n else float("nan")


def evaluate_coding(
    draft_codes: pd.DataFrame,
    hand_codes: pd.DataFrame,
    codes: list[str] | None = None,
    respondents: list[str] | None = None,
) -> CodingAgreement:
    """Precision, recall and Cohen's kappa of the draft against hand coding (definitions above)."""
    d, h = _pairs(draft_codes), _pairs(hand_codes)
    code_list = sorted(set(codes or []) | set(d["code"]) | set(h["code"]))
    resp_list = sorted(set(respondents or []) | set(d["respondent_id"]) | set(h["respondent_id"]))
    ci = {c: j for j, c in enumerate(code_list)}
    ri = {r: i for i, r in enumerate(resp_list)}
    A = np.zeros((len(resp_list), len(code_list)), dtype=bool)
    B = np.zeros_like(A)
    A[d["respondent_id"].map(ri).to_numpy(int), d["code"].map(ci).to_numpy(int)] = True
    B[h["respondent_id"].map(ri).to_numpy(int), h["code"].map(ci).to_numpy(int)] = True
    both = A & B
    n_d, n_h, n_b = int(A.sum()), int(B.sum()), int(both.sum())
    overall_k = float(_kappa(A.reshape(-1, 1), B.reshape(-1, 1))[0]) if A.size else float("nan")
    col_d, col_h, col_b = A.sum(axis=0), B.sum(axis=0), both.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        per = pd.DataFrame({
            "code": pd.array(code_list, dtype="string"),
            "n_hand": col_h.astype("int64"),
            "n_draft": col_d.astype("int64"),
            "n_both": col_b.astype("int64"),
            "hits": col_b.astype("int64"),
            "misses": (col_h - col_b).astype("int64"),
            "false_alarms": (col_d - col_b).astype("int64"),
            "precision": np.where(col_d > 0, col_b / np.maximum(col_d, 1), np.nan),
            "recall": np.where(col_h > 0, col_b / np.maximum(col_h, 1), np.nan),
            "kappa": _kappa(A, B) if A.size else np.full(len(code_list), np.nan),
        })
    return CodingAgreement(
        precision=_ratio(n_b, n_d),
        recall=_ratio(n_b, n_h),
        kappa=overall_k,
        n_draft=n_d,
        n_hand=n_h,
        n_both=n_b,
        precision_interval=tuple(float(x) for x in wilson_interval(n_b, n_d)),
        recall_interval=tuple(float(x) for x in wilson_interval(n_b, n_h)),
        per_code=per,
        kappa_interval=_kappa_interval(A, B),
    )
