"""Survey of clients and non-clients: choice-factor importances from planted personas.

Each respondent belongs to one planted persona; their importance of factor f is the persona's
mean for f plus normal noise, rounded and clipped to the scale. Touchpoint satisfaction and
NPS are latent normals rounded and clipped, so their expected observed values are computed
exactly (``expected_discrete_mean``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats as st

from toolkit.synthetic.dirty import add_duplicate_questionnaires
from toolkit.synthetic.writers import frame_sheet, write_xlsx


@dataclass(frozen=True)
class Persona:
    id: str
    label: str
    importance: dict[str, float]  # factor id -> mean on the importance scale
    budget_range: tuple[float, float]
    female_share: float
    age_range: tuple[int, int]


@dataclass(frozen=True)
class SurveySpec:
    respondents: int
    scale: tuple[int, int]  # importance scale, e.g. (1, 10)
    noise_sd: float
    factors: tuple[str, ...]  # column order
    personas: tuple[Persona, ...]
    brands: tuple[tuple[str, float, dict[str, float]], ...]  # (brand, share, persona mix)
    client_share: float
    touchpoints: tuple[tuple[str, float, bool], ...]  # (id, latent mean 1..5, asked of non-clients)
    sat_sd: float
    nps_mean: dict[str, float]  # brand -> latent mean of the 0..10 answer
    nps_sd: float
    budget_step: float
    blank_budget_share: float


@dataclass
class Survey:
    persona: np.ndarray
    brand: np.ndarray
    is_client: np.ndarray
    female: np.ndarray
    age: np.ndarray
    budget: np.ndarray
    importance: np.ndarray  # respondents x factors
    satisfaction: np.ndarray  # respondents x touchpoints (nan = not asked)
    nps: np.ndarray


def expected_discrete_mean(mu: float, sd: float, lo: int, hi: int) -> float:
    """E[clip(round(X), lo, hi)] for X ~ N(mu, sd): the observed mean the plant implies."""
    k = np.arange(lo, hi + 1)
    upper = np.where(k == hi, np.inf, k + 0.5)
    lower = np.where(k == lo, -np.inf, k - 0.5)
    p = st.norm.cdf(upper, mu, sd) - st.norm.cdf(lower, mu, sd)
    return float((k * p).sum())


def discrete_probs(mu: float, sd: float, lo: int, hi: int) -> np.ndarray:
    k = np.arange(lo, hi + 1)
    upper = np.where(k == hi, np.inf, k + 0.5)
    lower = np.where(k == lo, -np.inf, k - 0.5)
    return st.norm.cdf(upper, mu, sd) - st.norm.cdf(lower, mu, sd)


def expected_nps(mu: float, sd: float) -> float:
    """Planted NPS index (promoters 9-10 minus detractors 0-6, as a fraction)."""
    p = discrete_probs(mu, sd, 0, 10)
    return float(p[9:].sum() - p[:7].sum())


def simulate_survey(spec: SurveySpec, rng: np.random.Generator) -> Survey:
    n = spec.respondents
    bw = np.array([b[1] for b in spec.brands])
    brand_i = rng.choice(len(spec.brands), size=n, p=bw / bw.sum())
    persona_ids = [p.id for p in spec.personas]
    persona_i = np.empty(n, dtype=np.int64)
    for bi, (_, _, mix) in enumerate(spec.brands):
        sel = np.flatnonzero(brand_i == bi)
        w = np.array([mix.get(pid, 0.0) for pid in persona_ids])
        persona_i[sel] = rng.choice(len(persona_ids), size=sel.size, p=w / w.sum())
    means = np.array([[p.importance[f] for f in spec.factors] for p in spec.personas])[persona_i]
    lo, hi = spec.scale
    imp = np.clip(np.rint(means + rng.normal(0, spec.noise_sd, means.shape)), lo, hi)
    is_client = rng.random(n) < spec.client_share
    fem = rng.random(n) < np.array([p.female_share for p in spec.personas])[persona_i]
    a_lo = np.array([p.age_range[0] for p in spec.personas])[persona_i]
    a_hi = np.array([p.age_range[1] for p in spec.personas])[persona_i]
    age = a_lo + np.floor(rng.random(n) * (a_hi - a_lo + 1)).astype(np.int64)
    b_lo = np.array([p.budget_range[0] for p in spec.personas])[persona_i]
    b_hi = np.array([p.budget_range[1] for p in spec.personas])[persona_i]
    budget = np.round((b_lo + (b_hi - b_lo) * rng.random(n)) / spec.budget_step) * spec.budget_step
    budget = np.where(rng.random(n) < spec.blank_budget_share, np.nan, budget)
    tp_mu = np.array([t[1] for t in spec.touchpoints])
    sat = np.clip(np.rint(tp_mu + rng.normal(0, spec.sat_sd, (n, tp_mu.size))), 1, 5)
    asked_nonclient = np.array([t[2] for t in spec.touchpoints])
    sat = np.where(is_client[:, None] | asked_nonclient[None, :], sat, np.nan)
    nps_mu = np.array([spec.nps_mean[b[0]] for b in spec.brands])[brand_i]
    nps = np.clip(np.rint(nps_mu + rng.normal(0, spec.nps_sd, n)), 0, 10).astype(np.int64)
    return Survey(
        persona=np.array(persona_ids, dtype=object)[persona_i],
        brand=np.array([b[0] for b in spec.brands], dtype=object)[brand_i],
        is_client=is_client, female=fem, age=age, budget=budget,
        importance=imp, satisfaction=sat, nps=nps,
    )


def persona_mix_moments(spec: SurveySpec, brand: str, factor: str) -> tuple[float, float]:
    """Planted mean and variance of a factor's importance among a brand's respondents.

    Uses the exact distribution of the rounded, clipped answer within each persona.
    """
    lo, hi = spec.scale
    k = np.arange(lo, hi + 1)
    mix = next(b[2] for b in spec.brands if b[0] == brand)
    total = sum(mix.values())
    m1 = m2 = 0.0
    for p in spec.personas:
        w = mix.get(p.id, 0.0) / total
        pr = discrete_probs(p.importance[factor], spec.noise_sd, lo, hi)
        m1 += w * float((k * pr).sum())
        m2 += w * float((k * k * pr).sum())
    return m1, m2 - m1 * m1


# -- the answers workbook (survey.xlsx) ------------------------------------------------------

@dataclass(frozen=True)
class SurveyWorkbook:
    """How a case's survey.xlsx names its sheet and columns and spells yes/no and female/male.

    ``questionnaire_id`` formats the questionnaire number (1, 2, ...), e.g. 'A-{:04d}';
    ``importance``/``satisfaction`` format a factor's or touchpoint's name into its column;
    ``resubmit_shifts``: how a questionnaire submitted twice moves each importance.
    """

    sheet: str
    questionnaire_id: str
    respondent: str
    client: str
    yes_no: tuple[str, str]
    brand: str
    gender: str
    female_male: tuple[str, str]
    age: str
    budget: str
    importance: str
    satisfaction: str
    nps: str
    resubmit_shifts: tuple[int, ...]


def write_survey_workbook(path, spec: SurveySpec, rng: np.random.Generator, factors, touchpoints,
                          brand_name: dict[str, str], book: SurveyWorkbook, duplicates: int):
    """Simulate the survey and write survey.xlsx, one row per questionnaire plus ``duplicates``
    questionnaires submitted twice. ``factors``: (id, name); ``touchpoints``: (id, name, ...).
    Returns the simulated survey and the questionnaire ids (in row order of the clean answers)."""
    sv = simulate_survey(spec, rng)
    n = spec.respondents
    ids = np.array([book.questionnaire_id.format(i + 1) for i in range(n)], dtype=object)
    cols = {
        book.respondent: ids,
        book.client: np.where(sv.is_client, *book.yes_no).astype(object),
        book.brand: np.array([brand_name[b] for b in sv.brand], dtype=object),
        book.gender: np.where(sv.female, *book.female_male).astype(object),
        book.age: sv.age,
        book.budget: np.where(np.isnan(sv.budget), None, sv.budget.astype(object)),
    }
    for j, (_, fname) in enumerate(factors):
        cols[book.importance.format(fname)] = sv.importance[:, j].astype(np.int64)
    for j, (_, tname, *_rest) in enumerate(touchpoints):
        v = sv.satisfaction[:, j]
        cols[book.satisfaction.format(tname)] = np.where(np.isnan(v), None, v.astype(object))
    cols[book.nps] = sv.nps
    frame = pd.DataFrame(cols)
    frame = add_duplicate_questionnaires(frame, duplicates, rng, [book.importance.format(f) for _, f in factors],
                                         book.resubmit_shifts, spec.scale)
    write_xlsx(path, [frame_sheet(book.sheet, frame)])
    return sv, ids
