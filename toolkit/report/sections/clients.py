"""Who the clients are: RFM segments (with what to do about each material one) and one card
per survey persona.

A persona card: name, share of respondents and of clients, budget, NPS, jobs to be done (the
persona's journey-map goals where interviews were assigned to personas, else "not
researched"), the main choice factors (rated above the other respondents: signed score > 0,
strongest first), split hard/soft and by level (strategic group, company, specialist), and a
quote when the persona's map has one.
"""

from __future__ import annotations

from collections.abc import Mapping
import re

import pandas as pd

from toolkit.core.fmt import fmt_int, fmt_money, fmt_num, fmt_pct, is_number
from toolkit.core.run_folder import RunFolder
from toolkit.core.words import has_word
from toolkit.report.common import Names, figure_ref, k_method_text, is_skipped, metrics_part, not_available, one_line, read_table, w
from toolkit.segmentation.rfm import segment_name

MAX_CARD_FACTORS = 4
LEVELS = ("strategic_group", "company", "doctor")


def rfm_section(metrics: Mapping, run: RunFolder, language: str) -> dict:
    seg, na = metrics_part(metrics, "segments", language)
    rfm = seg.get("rfm") if isinstance(seg, Mapping) else None
    if is_skipped(rfm):
        na, rfm = not_available(rfm.get("skipped"), language), None
    elif seg is not None and not rfm:
        na = not_available("skip.not_run", language)
    out = {"available": bool(rfm), "na": na, "figure": figure_ref(run, "rfm_segments"), "rows": [], "text": ""}
    if not rfm:
        return out
    total = sum(v.get("customers") or 0 for v in rfm.values() if isinstance(v, Mapping))
    small = {"customers": 0, "customer_share": 0.0, "revenue_share": 0.0, "n": 0}
    for s, v in rfm.items():
        if not isinstance(v, Mapping) or not v.get("customers"):
            continue
        if v.get("small"):
            small["customers"] += v.get("customers") or 0
            small["customer_share"] += v.get("customer_share") or 0
            small["revenue_share"] += v.get("revenue_share") or 0
            small["n"] += 1
            continue
        cs = v.get("customer_share") if is_number(v.get("customer_share")) else (v["customers"] / total if total else None)
        todo = w(language, f"rfm_action.{s}") if has_word(f"report.rfm_action.{s}", language) else w(language, "rfm_action.other")
        out["rows"].append({"name": segment_name(s, language), "customers": fmt_int(v["customers"], language),
                            "customer_share": fmt_pct(cs, language, 0), "revenue_share": fmt_pct(v.get("revenue_share"), language, 0),
                            "action": todo})
    if small["n"]:
        out["rows"].append({"name": w(language, "rfm.small"), "customers": fmt_int(small["customers"], language),
                            "customer_share": fmt_pct(small["customer_share"], language, 0),
                            "revenue_share": fmt_pct(small["revenue_share"], language, 0),
                            "action": w(language, "rfm_action.other")})
    out["text"] = w(language, "rfm.text", n=total, n_txt=fmt_int(total, language))
    return out


def _factor_line(rows: pd.DataFrame, kind: str, names: Names, language: str) -> str:
    sel = rows[rows["kind"].astype(str) == kind] if "kind" in rows.columns else rows.iloc[0:0]
    if not len(sel):
        return w(language, "persona.none_above")
    by_level: dict[str, list[str]] = {}
    for f in sel["factor_id"].astype(str):
        by_level.setdefault(names.factor_level(f), []).append(names.factor(f))
    return "; ".join(f"{w(language, 'persona.level.' + lvl)}: {', '.join(fs)}"
                     for lvl, fs in sorted(by_level.items(), key=lambda kv: LEVELS.index(kv[0]) if kv[0] in LEVELS else 9))


def _card(p: Mapping, profile: pd.DataFrame | None, matrix: pd.DataFrame | None, names: Names, language: str,
          currency: str, demo: Mapping[str, str] | None = None, quotes: pd.DataFrame | None = None) -> dict:
    pid = str(p.get("persona", p.get("id", "")))
    above = pd.DataFrame()
    if profile is not None and len(profile) and {"persona", "factor_id", "score"} <= set(profile.columns):
        above = profile[(profile["persona"].astype(str) == pid) & (profile["score"] > 0)]
        above = above.sort_values(["score", "factor_id"], ascending=[False, True]).head(MAX_CARD_FACTORS)
    main = ", ".join(names.factor(f) for f in above["factor_id"].astype(str)) if len(above) else \
        w(language, "persona.none_above")
    jobs, quote = "", ""
    if matrix is not None and len(matrix):
        m = matrix[(matrix["segment_type"] == "persona") & (matrix["segment"].astype(str).isin({pid, str(p.get("name"))}))]
        goals = [one_line(t) for t in m.loc[m["row"] == "goals", "text"] if one_line(t)] if len(m) else []
        jobs = "; ".join(_strip_counts(g) for g in goals[:2])
        if not jobs:  # the persona's interviews are not separated: everyone's, said so (as on the map)
            o = matrix[(matrix["segment_type"] == "overall") & (matrix["row"] == "goals")]
            everyone = [_strip_counts(one_line(t)) for t in o["text"] if one_line(t)]
            if everyone:
                jobs = w(language, "persona.jobs_all", jobs="; ".join(everyone[:2]))
    if quotes is not None and len(quotes):
        q = quotes[(quotes["segment_type"] == "persona") & (quotes["segment"].astype(str).isin({pid, str(p.get("name"))}))]
        quote = w(language, "quoted", text=one_line(q["quote"].iloc[0])) if len(q) else ""
    budget = fmt_money(p.get("budget_median"), currency, language) if is_number(p.get("budget_median")) \
        else w(language, "not_researched")
    nps = (w(language, "persona.nps_value", nps=fmt_num((p.get("nps_score") or 0) * 100, language, 0),
             mean=fmt_num(p.get("nps_mean"), language, 1))
           if is_number(p.get("nps_score")) and is_number(p.get("nps_mean")) else w(language, "not_researched"))
    demographics = (demo or {}).get(pid) or w(language, "not_researched")
    return {
        "id": pid,
        "name": str(p.get("name") or pid),
        "share": w(language, "persona.share", share=fmt_pct(p.get("share"), language, 0),
                   clients=fmt_pct(p.get("client_share"), language, 0) if is_number(p.get("client_share"))
                   else w(language, "not_researched")),
        "demographics": demographics,
        "budget": budget,
        "nps": nps,
        "jobs": jobs or w(language, "not_researched"),
        "main": main,
        "hard": _factor_line(above, "hard", names, language),
        "soft": _factor_line(above, "soft", names, language),
        "quote": quote or w(language, "persona.no_quote"),
        "price": w(language, "yes") if p.get("price_driven") else w(language, "no"),
    }


def persona_demographics(run: RunFolder, language: str) -> dict[str, str]:
    """persona id -> "median age 41, 74% women": the one description the report computes itself,
    from the saved survey (``artifacts/tables/survey.parquet``: age, gender) and the persona
    assignments (``persona_assignments``); empty where either is missing."""
    path = run.artifacts / "tables" / "survey.parquet"
    if not path.exists() or not run.has_table("persona_assignments"):
        return {}
    survey = pd.read_parquet(path)
    cols = [c for c in ("age", "gender") if c in survey.columns]
    if not cols or "respondent_id" not in survey.columns:
        return {}
    merged = run.load_table("persona_assignments").merge(survey[["respondent_id", *cols]], on="respondent_id")
    out = {}
    for pid, g in merged.groupby("persona", sort=True):
        parts = []
        if "age" in cols:
            age = pd.to_numeric(g["age"], errors="coerce").dropna()
            if len(age):
                parts.append(w(language, "persona.median_age", age=fmt_int(age.median(), language)))
        if "gender" in cols:
            gender = g["gender"].dropna().astype(str).str.upper().str[:1]
            if len(gender):
                parts.append(w(language, "persona.women", share=fmt_pct((gender.isin(["F", "Ж"])).mean(), language, 0)))
        if parts:
            out[str(pid)] = ", ".join(parts)
    return out


def _strip_counts(text: str) -> str:
    """"Look younger (14); Fix a defect (5)" -> "Look younger; Fix a defect" (no statistics on a card)."""
    return re.sub(r"\s*\(\d+\)", "", text)


def personas_section(metrics: Mapping, run: RunFolder, names: Names, language: str, currency: str = "RUB") -> dict:
    seg, na = metrics_part(metrics, "segments", language)
    personas = seg.get("personas") if isinstance(seg, Mapping) else None
    if is_skipped(personas):
        na, personas = not_available(personas.get("skipped"), language), None
    elif seg is not None and not personas:
        na = not_available("skip.no_survey", language)
    out = {"available": bool(personas), "na": na, "cards": [], "text": ""}
    if not personas:
        return out
    profile = read_table(run, "persona_profile")
    matrix = read_table(run, "journey_matrix")
    demo = persona_demographics(run, language)
    quotes = read_table(run, "segment_quotes")
    out["cards"] = [_card(p, profile, matrix, names, language, currency, demo, quotes)
                    for p in personas if isinstance(p, Mapping)]
    k = seg.get("k") or len(personas)
    method = k_method_text(seg, language)
    out["text"] = w(language, "persona.text", k=k, k_txt=fmt_int(k, language), method=method)
    return out
