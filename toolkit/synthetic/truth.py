"""Small measurements and planted-value helpers used to write ``truth.yml``."""

from __future__ import annotations

import numpy as np

from toolkit.synthetic.common import line_repeat, row_arrays
from toolkit.synthetic.funnel import planted_conversions, planted_reach
from toolkit.synthetic.sales import Sales, SalesSpec
from toolkit.synthetic.survey import expected_discrete_mean, expected_nps, persona_mix_moments


def expected_visits(p_return: tuple[float, ...], n_max: int = 400) -> float:
    """Expected visits per journey without censoring: 1 + p1 + p1 p2 + ... (last p repeats)."""
    p = np.array([p_return[min(k, len(p_return) - 1)] for k in range(n_max)])
    return float(1 + np.cumprod(p).sum())


def loyalty_stages(starts: tuple[int, ...], medians: tuple[float, ...]) -> list[dict]:
    out = []
    for i, (s, m) in enumerate(zip(starts, medians)):
        end = starts[i + 1] - 1 if i + 1 < len(starts) else None
        out.append({"stage": i + 1, "from_visit": s, "to_visit": end, "median_gap_days": float(m)})
    return out


def cross_observed(sales: Sales, spec: SalesSpec, rule_index: int, horizon: int, max_delay: int) -> dict:
    """Observed rate of a cross rule among eligible entry customers, split by the rule's group."""
    rule = spec.cross_rules[rule_index]
    li = [ln.id for ln in spec.lines]
    frm, to = li.index(rule.from_line), li.index(rule.to_line)
    eligible = (sales.entry_line == frm) & (sales.entry_day <= horizon - max_delay)
    bought = np.zeros(sales.n_customers, bool)
    bought[sales.j_customer[sales.j_line == to]] = True
    age = spec.as_of.year - sales.birth_year
    if rule.group is not None:
        g, lo, hi = rule.group
        in_group = (age >= lo) & (age <= hi)
        if g is not None:
            in_group &= sales.gender == g
    else:
        in_group = np.ones(sales.n_customers, bool)
    out = {}
    for name, sel in (("group", eligible & in_group), ("others", eligible & ~in_group)):
        n = int(sel.sum())
        if n == 0:
            continue
        k = int(bought[sel].sum())
        out[name] = {"customers": n, "buyers": k, "share": round(k / n, 4)}
    return out


def staff_observed(sales: Sales, line: int, brand: int | None = None, staffed_channel: int | None = None) -> dict:
    """Top staff of a line (optionally of one brand) and their share of its repeat customers (2+ visits).

    With ``staffed_channel`` only customers with at least one visit in that channel count
    (online visits have no associate).
    """
    in_line = sales.j_line[sales.v_journey] == line
    visits_per_j = np.bincount(sales.v_journey[in_line], minlength=sales.j_customer.size)
    ok = (visits_per_j >= 2) & (sales.j_line == line) & (sales.j_staff >= 0)
    if brand is not None:
        ok &= sales.j_brand == brand
    if staffed_channel is not None:
        staffed = np.bincount(sales.v_journey[sales.v_channel == staffed_channel], minlength=sales.j_customer.size)
        ok &= staffed > 0
    repeat = np.flatnonzero(ok)
    if repeat.size == 0:
        return {"repeat_customers": 0}
    counts = np.bincount(sales.j_staff[repeat], minlength=sales.staff_names.size)
    top = int(np.argmax(counts))
    return {"repeat_customers": int(repeat.size), "top_staff": str(sales.staff_names[top]),
            "top_staff_share_of_repeat_customers": round(float(counts[top] / repeat.size), 4)}


def cohens_d(a: np.ndarray, b: np.ndarray) -> float:
    """(mean a - mean b) / sqrt((var a + var b) / 2), sample variances."""
    return float((a.mean() - b.mean()) / np.sqrt((a.var(ddof=1) + b.var(ddof=1)) / 2))


def nps_index(scores: np.ndarray) -> float:
    """Share of promoters (9-10) minus share of detractors (0-6)."""
    s = np.asarray(scores)
    return float((s >= 9).mean() - (s <= 6).mean())


# -- truth.yml sections shared by the cases; ``m`` is the case module (its constants) --------


def case_truth(m, seed, scale, fmt, leads, sales, codes, traffic, survey, iv, counts, transcripts=None) -> dict:
    t: dict = {
        "case": m.NAME,
        "generator": {"seed": seed, "scale": scale, "format": fmt,
                      "command": f"python -m toolkit.synthetic {m.NAME} --out DIR --seed {seed} --scale {scale}"},
        "language": m.LANGUAGE, "currency": m.CURRENCY,
        "history_start": m.HISTORY_START.isoformat(), "as_of": m.AS_OF.isoformat(),
        "brands": {b: {"name": m.BRAND_NAME[b], "price_floor": m.PRICE_FLOOR.get(b)} for b in m.BRANDS},
    }
    t["counts"] = {
        "customers": sales.n_customers,
        "customers_by_entry_line": {ln.id: int((sales.entry_line == i).sum()) for i, ln in enumerate(m.LINES)},
        "visits_by_line": {ln.id: int((sales.j_line[sales.v_journey] == i).sum()) for i, ln in enumerate(m.LINES)},
        "transaction_rows_clean": int(sales.r_visit.size),
        "leads_clean": int(leads.day.size),
        "files": counts,
    }
    # -- loyalty --------------------------------------------------------------------------
    by_line = {}
    for li, ln in enumerate(m.LINES):
        p = {str(n): float(ln.p_return[min(n, len(ln.p_return)) - 1]) for n in range(1, 13)}
        gaps = {str(n): float(ln.stage_medians[max(i for i, b in enumerate(ln.stage_starts) if b <= n)])
                for n in range(2, 16)}
        entry = {
            "name": ln.raw_names[0][0], "repeat_kind": ln.repeat_kind, "loyalty_visit": ln.loyalty_visit,
            "p_return": p, "median_gap_days": gaps,
            "loyalty_stages": loyalty_stages(ln.stage_starts, ln.stage_medians),
            "expected_visits_per_customer": round(expected_visits(ln.p_return), 4),
        }
        if ln.loyalty_visit:
            entry["plateau"] = float(ln.p_return[ln.loyalty_visit - 1])
            entry["jump_at_loyalty_visit"] = round(ln.p_return[ln.loyalty_visit - 1] - ln.p_return[ln.loyalty_visit - 2], 4)
        entry["observed"] = line_repeat(sales, li, m.HORIZON, m.MAX_GAP, 12)
        by_line[ln.id] = entry
    t["loyalty"] = {
        "visit_definition": "customer_day within a business line",
        "max_gap_days": m.MAX_GAP, "min_gap_days": m.MIN_GAP,
        "gap_distribution": f"log-normal around the planted median, sigma {m.GAP_SIGMA}, rounded to days, "
                            f"clipped to [{m.MIN_GAP}, {m.MAX_GAP}]",
        "eligibility_rule": f"visit n counts for p_return[n] if its date <= as_of - {m.MAX_GAP} days",
        "by_line": by_line,
    }
    # -- cross-penetration -----------------------------------------------------------------
    t["cross_penetration"] = {
        "definition": ("rate = share of patients whose FIRST-ever visit was in from_line (and at least "
                       f"{m.CROSS_DELAY[1]} days before as_of) who later visit to_line; the cross visit "
                       f"comes {m.CROSS_DELAY[0]}-{m.CROSS_DELAY[1]} days after that first visit (order: to_line after "
                       "from_line); age = as_of year - birth year"),
        "max_delay_days": m.CROSS_DELAY[1],
        "rules": [
            {"from_line": r.from_line, "to_line": r.to_line, "group": r.group_label or "all",
             "group_rate": r.group_rate, "other_rate": r.other_rate,
             "observed": cross_observed(sales, m.SALES, ri, m.HORIZON, m.CROSS_DELAY[1])}
            for ri, r in enumerate(m.CROSS_RULES)
        ],
        "headline": m.CROSS_HEADLINE,
    }
    # -- staff dependency --------------------------------------------------------------------
    t["staff_dependency"] = {
        "definition": ("every patient sees one doctor (per line) on all visits; share = share of a line's "
                       "repeat patients (2+ visits in the line) whose doctor is top_staff"),
        "by_line": {
            ln.id: {"staff_shares": {b: {nm: s for nm, s in opts} for b, opts in ln.staff.items()},
                    **staff_observed(sales, li)}
            for li, ln in enumerate(m.LINES)
        },
        "headline": m.STAFF_HEADLINE,
    }
    h = m.STAFF_HEADLINE
    store = np.flatnonzero(sales.channel_names == "store")
    t["staff_dependency"]["headline_observed"] = staff_observed(
        sales, [ln.id for ln in m.LINES].index(h["business_line"]),
        m.BRANDS.index(h["brand"]) if "brand" in h else None,
        int(store[0]) if store.size else None)
    # -- funnel and double funnel ------------------------------------------------------------
    t["funnel"] = _funnel_truth(m, leads)
    t["double_funnel"] = _double_funnel_truth(m, leads, sales)
    if traffic is not None:
        tr = traffic[0]
        prem, bud = m.FUNNELS[0].brand, m.FUNNELS[1].brand
        t["traffic"] = {
            "planted_sessions_per_month": m.TRAFFIC_BASE,
            "planted_ratio_premium_to_budget": round(m.TRAFFIC_BASE[prem] / m.TRAFFIC_BASE[bud], 4),
            "seasonality": "x (1 + 0.15 sin(2 pi (month - 2) / 12)), noise sd 6%",
            "observed_sessions_total": tr["sessions"],
            "observed_ratio": round(tr["sessions"][prem] / tr["sessions"][bud], 4),
            "months": tr["months"],
        }
    if survey is not None:
        t["survey"] = _survey_truth(m, survey)
    if iv is not None:
        t["interviews"] = _interview_truth(m, iv)
    if transcripts is not None:
        t["transcripts"] = {"folder": "raw/transcripts", "codebook": "raw/codebook.yml",
                            "hand_coding": "raw/transcripts_hand_coding.xlsx",
                            "definition": ("a transcript contains exactly the codes of its respondent's rows in "
                                           "interviews.xlsx (one quote per fragment, verbatim); negation traps are "
                                           "sentences about a code the respondent does NOT have"),
                            "files": transcripts}
    t["data_quality"] = m.DIRTY if fmt == "native" else {}
    t["data_quality_notes"] = {
        "duplicate": "an exact copy of a clean row (same line number), right after it",
        "refund": "negative amount: a return of an earlier service row of the same patient, 1-20 days later",
        "missing_customer_id": "a copy of a clean row with the patient id (and name/phone) blank",
        "bad_date": "unparsable date text (" + ", ".join(m.BAD_DATES[:3]) + ", ...)",
        "future_date": "date 1-60 days after as_of",
        "bad_amount": "text in the amount column",
        "duplicate_id": "a lead/questionnaire id repeated with different content; counted once per repeat "
                        "(the first occurrence is the clean row)",
        "unknown_stage": "a stage text that is not a declared funnel/journey stage or alias",
        "sentiment_out_of_range": "sentiment outside -2..+2",
    } if fmt == "native" else {}
    return t


def _funnel_truth(m, leads) -> dict:
    out = {"stages": list(m.FUNNEL_STAGES), "deal_stage": m.FUNNEL_STAGES[m.DEAL_STAGE],
           "definition": "conversion k = share of leads reaching stage k+1 among those reaching stage k"}
    for bi, f in enumerate(m.FUNNELS):
        conv = planted_conversions(f)
        sel = leads.brand == bi
        reached = [int((leads.stage[sel] >= k).sum()) for k in range(len(m.FUNNEL_STAGES))]
        obs = [round(reached[k + 1] / reached[k], 4) for k in range(len(m.FUNNEL_STAGES) - 1)]
        k_min = int(np.argmin(conv))
        out[f.brand] = {
            "stage_names_in_file": list(f.stage_names),
            "leads": int(sel.sum()),
            "planted_conversion": [round(c, 4) for c in conv],
            "bottleneck": {"from": m.FUNNEL_STAGES[k_min], "to": m.FUNNEL_STAGES[k_min + 1], "conversion": round(conv[k_min], 4)},
            "planted_first_conversion_by_source": {s: round(planted_conversions(f, source=s)[0], 4) for s, _, _ in f.sources},
            "source_weights": {s: w for s, w, _ in f.sources},
            "segments": {s.id: {"share": s.share, "conversion": list(s.conversions)} for s in f.segments},
            "observed": {"reached": reached, "conversion": obs},
        }
    return out


def _visit_check_expectation(m, li: int, brand: str) -> float:
    """Planted mean revenue of one visit (sum of its rows) of a line at a brand.

    E[visit] = E[qty] x (E[rows] x E[price] x multiplier x E[1 - discount] - E[rows] x ending), where
    row 1 is a main service (weighted mean price) and rows 2.. extras (uniform); rounding of unit
    prices to the money step is ignored (it averages out). Needs equal row-count laws on first and
    later visits.
    """
    ln = m.LINES[li]
    assert ln.first_rows == ln.later_rows, "the check expectation needs one row-count law"
    w = np.array([s.weight for s in ln.main_services])
    main = float((np.array([s.price for s in ln.main_services]) * w).sum() / w.sum())
    extra = float(np.mean([s.price for s in ln.extra_services]))
    n_extra = float(sum(k * p for k, p in enumerate(ln.first_rows)))
    disc = sum((1 - d) * p for d, p in m.SALES.discounts) / sum(p for _, p in m.SALES.discounts)
    qty = np.array(m.SALES.qty_probs) / sum(m.SALES.qty_probs)
    e_qty = float((qty * np.arange(1, qty.size + 1)).sum())
    gross = (main + n_extra * extra) * ln.price_multiplier[brand] * disc
    return e_qty * (gross - (1 + n_extra) * m.SALES.price_ending)


def _double_funnel_truth(m, leads, sales) -> dict:
    prem, bud = m.FUNNELS[0], m.FUNNELS[1]
    seg_nt = next(s for s in prem.segments if s.id == "nontarget")
    nt_reach = planted_reach(prem, ("nontarget",))
    t_reach = planted_reach(prem, ("target",))
    b_reach = planted_reach(bud)
    check = _visit_check_expectation(m, m.AVG_CHECK_LINE, bud.brand)
    sel = leads.brand == 0
    budget = leads.budget[sel]
    price_reason = np.isin(leads.lost_reason[sel], m.PRICE_LOST_REASONS)
    by_rule = (budget < m.PRICE_FLOOR[prem.brand]) | (np.isnan(budget) & price_reason)
    is_nt = leads.segment[sel] == "nontarget"
    deal = leads.stage[sel] >= m.DEAL_STAGE
    bsel = leads.brand == 1
    # observed average check: budget-brand plastic-surgery visits (patient-day sums)
    rows = row_arrays(sales, m.SALES)
    sel_rows = (rows["line"] == m.AVG_CHECK_LINE) & (rows["brand"] == m.BRANDS.index(bud.brand))
    visit_sum = np.bincount(rows["visit"][sel_rows], weights=rows["amount"][sel_rows], minlength=sales.v_day.size)
    visits = np.unique(rows["visit"][sel_rows])
    obs_check = float(visit_sum[visits].mean()) if visits.size else None
    lead_to_op = b_reach[m.REVENUE_STAGE]
    premium_leads = int(sel.sum())
    scenarios = []
    for r in (0.1, 0.2, 0.3, 0.4, 0.5):
        captured = premium_leads * seg_nt.share * r
        scenarios.append({"capture_rate": r, "leads": round(captured, 2),
                          "deals": round(captured * b_reach[m.DEAL_STAGE], 2),
                          "operations": round(captured * lead_to_op, 2),
                          "revenue": round(captured * lead_to_op * check, 0)})
    return {
        "premium_brand": prem.brand, "budget_brand": bud.brand,
        "premium_price_floor": m.PRICE_FLOOR[prem.brand],
        "price_lost_reasons": list(m.PRICE_LOST_REASONS),
        "nontarget_rule": ("non-target = declared budget < premium price_floor, or budget blank and "
                           "lost reason in price_lost_reasons"),
        "premium_leads": premium_leads,
        "nontarget_share": seg_nt.share,
        "blank_budget_share_before_deal": prem.blank_budget_share,
        "budget_known_from_stage": m.FUNNEL_STAGES[prem.budget_known_from],
        "nontarget_conversion_now": round(nt_reach[m.DEAL_STAGE], 4),
        "target_conversion": round(t_reach[m.DEAL_STAGE], 4),
        "budget_conversion": round(b_reach[m.DEAL_STAGE], 4),
        "budget_lead_to_operation": round(lead_to_op, 4),
        "budget_avg_check": round(check, 0),
        "budget_avg_check_definition": m.AVG_CHECK_DEFINITION,
        "revenue_stage": m.FUNNEL_STAGES[m.REVENUE_STAGE],
        "scenario_formula": ("revenue = premium_leads x nontarget_share x capture_rate x budget_lead_to_operation "
                             "x budget_avg_check; deals = premium_leads x nontarget_share x capture_rate x "
                             "budget_conversion; budget_lead_to_operation = share of budget-brand leads reaching "
                             "revenue_stage"),
        "scenarios": scenarios,
        "observed": {
            "nontarget_share_planted_segment": round(float(is_nt.mean()), 4),
            "nontarget_share_by_rule": round(float(by_rule.mean()), 4),
            "nontarget_leads_by_rule": int(by_rule.sum()),
            "nontarget_conversion_by_rule": round(float(deal[by_rule].mean()), 4),
            "target_conversion_by_rule": round(float(deal[~by_rule].mean()), 4),
            "budget_conversion": round(float((leads.stage[bsel] >= m.DEAL_STAGE).mean()), 4),
            "budget_avg_check": round(obs_check, 0) if obs_check else None,
            "budget_visits": int(visits.size),
        },
    }


def _survey_truth(m, sv) -> dict:
    lo, hi = m.SURVEY.scale
    pb, bb = m.FUNNELS[0].brand, m.FUNNELS[1].brand
    m_p, v_p = persona_mix_moments(m.SURVEY, pb, "price")
    m_b, v_b = persona_mix_moments(m.SURVEY, bb, "price")
    j = m.SURVEY.factors.index("price")
    prem = sv.importance[sv.brand == pb, j]
    bud = sv.importance[sv.brand == bb, j]
    sat_expected = {t: round(expected_discrete_mean(mu, m.SURVEY.sat_sd, 1, 5), 4) for t, _, mu, _ in m.SURVEY_TOUCHPOINTS}
    sat_observed = {t: round(float(np.nanmean(sv.satisfaction[:, j])), 4) for j, (t, _, _, _) in enumerate(m.SURVEY_TOUCHPOINTS)}
    return {
        "respondents": m.SURVEY.respondents,
        "persona_file": "truth_survey_personas.csv",
        "importance_scale": [lo, hi], "noise_sd": m.SURVEY.noise_sd,
        "factor_columns": {f: m.IMP_COLUMN.format(n) for f, n in m.FACTORS},
        "personas": {p.id: {"label": p.label, "importance": p.importance} for p in m.PERSONAS},
        "persona_mix_by_brand": {b: mix for b, _, mix in m.SURVEY.brands},
        "persona_counts": {p.id: int((sv.persona == p.id).sum()) for p in m.PERSONAS},
        "price_importance": {
            "premium_mean_planted": round(m_p, 4), "budget_mean_planted": round(m_b, 4),
            "effect_size_d_planted": round((m_b - m_p) / np.sqrt((v_b + v_p) / 2), 4),
            "premium_mean_observed": round(float(prem.mean()), 4),
            "budget_mean_observed": round(float(bud.mean()), 4),
            "effect_size_d_observed": round(cohens_d(bud, prem), 4),
            "definition": "Cohen's d = (budget mean - premium mean) / pooled sd (average of the two variances)",
        },
        "touchpoint_satisfaction": {
            "latent_mean": {t: mu for t, _, mu, _ in m.SURVEY_TOUCHPOINTS},
            "expected_mean": sat_expected, "observed_mean": sat_observed,
            "lowest": m.LOWEST_TOUCHPOINT, "asked_of_non_clients": [t for t, _, _, nc in m.SURVEY_TOUCHPOINTS if nc],
        },
        "nps": {
            "latent_mean_by_brand": m.SURVEY.nps_mean, "sd": m.SURVEY.nps_sd,
            "expected_nps_by_brand": {b: round(expected_nps(mu, m.SURVEY.nps_sd), 4) for b, mu in m.SURVEY.nps_mean.items()},
            "observed_nps_by_brand": {b: round(nps_index(sv.nps[sv.brand == b]), 4) for b, _, _ in m.SURVEY.brands},
        },
    }


def _interview_truth(m, iv) -> dict:
    n = m.INTERVIEWS.respondents
    codes = m.INTERVIEWS.codes
    items = []
    for c in codes:
        items.append({"code": c.code, "type": c.code_type, "stage": c.stage, "share": c.share,
                      "respondents": int(iv.mentions[c.code].size)})
    curve, all_mean = {}, {}
    stage_of = np.array([codes[c].stage for c in iv.f_code], dtype=object)
    is_emotion = np.array([codes[c].code_type == "emotion" for c in iv.f_code])
    for s in m.INTERVIEWS.stages:
        e = (stage_of == s) & is_emotion
        curve[s] = round(float(iv.f_sentiment[e].mean()), 4)
        all_mean[s] = round(float(iv.f_sentiment[stage_of == s].mean()), 4)
    top = {}
    for s in m.INTERVIEWS.stages:
        b = sorted([c for c in codes if c.stage == s and c.code_type == "barrier"], key=lambda c: -c.share)
        top[s] = [{"code": c.code, "share": c.share} for c in b]
    return {
        "respondents": n, "fragments": int(iv.f_resp.size),
        "share_definition": f"share of the {n} respondents with at least one fragment of the code (planted exactly)",
        "persona_counts": {p: int((iv.persona == p).sum()) for p, _, _ in m.INTERVIEWS.personas},
        "codes": items,
        "top_barriers_by_stage": top,
        "emotion_curve": curve,
        "emotion_curve_definition": "mean sentiment of emotion-code fragments per journey stage (planted exactly)",
        "emotion_dip_stage": min(curve, key=curve.get),
        "mean_sentiment_all_fragments": all_mean,
        "scrub_targets": m.SCRUB_TARGETS,
    }


