"""What keeps clients: repeat curve, loyalty visit and trigger plan, loyalty stages, cross-selling
to the right audience, dependence on individual specialists."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from toolkit.core.fmt import DASH, fmt_days, fmt_int, fmt_money, fmt_num, fmt_pct, is_number, ordinal
from toolkit.core.run_folder import RunFolder
from toolkit.report.common import Names, figure_ref, metrics_part, read_table, w
from toolkit.report.inputs import ALL_LINES

STAFF_RISK = 0.30  # one specialist holding this share of a line's repeat clients is a risk worth an action


def _loy_row(scope: str, d: Mapping, names: Names, language: str, currency: str) -> dict:
    p = d.get("p_return") or {}
    k = d.get("loyalty_visit")
    return {
        "line": names.line(scope),
        "customers": fmt_int(d.get("customers"), language),
        "visits": fmt_num(d.get("visits_per_customer"), language, 1),
        "ltv": fmt_money(d.get("revenue_per_customer"), currency, language),
        "p1": fmt_pct(p.get("1"), language, 0),
        "k": ordinal(k, language) if is_number(k) else w(language, "loyalty.none_found"),
        "pk": fmt_pct(p.get(str(k)), language, 0) if is_number(k) else DASH,
    }


def _loyalty_sentence(scope: str, d: Mapping, names: Names, language: str) -> str:
    p = d.get("p_return") or {}
    k = d.get("loyalty_visit")
    values = {"line": names.line(scope), "p1": fmt_pct(p.get("1"), language, 0)}
    if is_number(k):
        return w(language, "loyalty.sentence", visit=ordinal(k, language), pk=fmt_pct(p.get(str(k)), language, 0), **values)
    return w(language, "loyalty.sentence_none", **values)


def _trigger_plan(d: Mapping, language: str) -> list[str]:
    """The trigger plan up to the loyalty visit: one reminder before each visit, timed by the
    median gap before it (from metrics ``median_gap_days``)."""
    k = d.get("loyalty_visit")
    gaps = d.get("median_gap_days") or {}
    if not is_number(k):
        return []
    out = []
    for n in range(2, int(k) + 1):
        gap = gaps.get(str(n))
        if is_number(gap):
            out.append(w(language, "loyalty.trigger", visit=ordinal(n, language, genitive=True), day=fmt_int(gap, language),
                         n=int(round(gap))))
    return out


def _cross(cp: Mapping, by_attr: pd.DataFrame | None, names: Names, language: str, min_segment: int) -> dict:
    pairs = [(a, b, v) for a, d in cp.items() if isinstance(d, Mapping) for b, v in d.items() if is_number(v)]
    if not pairs:
        return {}
    a, b, v = max(pairs, key=lambda x: (x[2], x[0], x[1]))
    best = {"from_line": names.line(a), "to_line": names.line(b), "share": fmt_pct(v, language, 0), "audience": ""}
    if by_attr is not None and len(by_attr) and {"from_line", "to_line", "share_also", "base"} <= set(by_attr.columns):
        sel = by_attr[(by_attr["from_line"] == a) & (by_attr["to_line"] == b) & (by_attr["base"] >= min_segment)]
        if "suppressed" in sel.columns:
            sel = sel[sel["suppressed"].isna()]
        if len(sel):
            top = sel.sort_values(["share_also", "base"], ascending=[False, False]).iloc[0]
            who = []
            if "gender" in sel.columns and isinstance(top.get("gender"), str):
                who.append(w(language, f"gender.{top['gender']}") if top["gender"] in ("F", "M") else str(top["gender"]))
            if "age_band" in sel.columns and isinstance(top.get("age_band"), str):
                who.append(w(language, "loyalty.age", band=top["age_band"]))
            if who:
                best["audience"] = w(language, "loyalty.audience", who=", ".join(who),
                                     share=fmt_pct(top["share_also"], language, 0))
    return best


def loyalty_section(metrics: Mapping, run: RunFolder, names: Names, language: str, currency: str, conf: float,
                    min_segment: int = 30) -> dict:
    loy, na = metrics_part(metrics, "loyalty", language)
    out = {"available": loy is not None, "na": na, "repeat_figure": figure_ref(run, "repeat_curve"), "rows": [], "findings": [], "stages": [], "triggers": []}
    if loy is not None:
        scopes = []
        if isinstance(loy.get("overall"), Mapping):
            scopes.append((ALL_LINES, loy["overall"]))
            out["triggers"] = _trigger_plan(loy["overall"], language)
        scopes += [(s, d) for s, d in (loy.get("by_line") or {}).items() if isinstance(d, Mapping)]
        for scope, d in scopes:
            out["rows"].append(_loy_row(scope, d, names, language, currency))
            out["findings"].append(_loyalty_sentence(scope, d, names, language))
        st = read_table(run, "loyalty_stages")
        if st is not None and len(st):
            st = st[st["scope"] == ALL_LINES] if (st["scope"] == ALL_LINES).any() else st
            for r in st.to_dict("records"):
                out["stages"].append({
                    "visits": str(r.get("stage")).replace("-", "–"),
                    "customers": fmt_int(r.get("customers"), language),
                    "p_return": fmt_pct(r.get("p_return"), language, 0),
                    "gap": fmt_days(r.get("gap_median"), language),
                    "check": fmt_money(r.get("average_check"), currency, language),
                })
    cp, cna = metrics_part(metrics, "cross_penetration", language)
    best = _cross(cp or {}, read_table(run, "cross_penetration_by_attribute"), names, language, min_segment) if cp else {}
    out["cross"] = {"available": bool(best), "na": cna or ("" if best else not_measured(language)),
                    "figure": figure_ref(run, "cross_penetration"), "best": best,
                    "text": w(language, "loyalty.cross", **best) + (" " + best["audience"] if best.get("audience") else "")
                    if best else ""}
    sd, sna = metrics_part(metrics, "staff_dependency", language)
    staff = {"available": bool(sd), "na": sna, "rows": [], "text": ""}
    if sd:
        best_staff = None
        for line, d in sd.items():
            if not isinstance(d, Mapping):
                continue
            hidden = isinstance(d.get("suppressed"), str) and d.get("suppressed")
            v = d.get("top_staff_share_of_repeat_customers")
            staff["rows"].append({
                "line": names.line(line),
                "repeat": fmt_int(d.get("repeat_customers"), language),
                "top_share": DASH if hidden else fmt_pct(v, language, 0),
                "revenue_share": DASH if hidden else fmt_pct(d.get("top_staff_revenue_share"), language, 0),
            })
            if not hidden and is_number(v) and (best_staff is None or v > best_staff[1]):
                best_staff = (line, v)
        if best_staff:
            line, v = best_staff
            key = "loyalty.staff_risk" if v >= STAFF_RISK else "loyalty.staff_ok"
            staff["text"] = w(language, key, line=names.line(line), share=fmt_pct(v, language, 0))
    out["staff"] = staff
    return out


def not_measured(language: str) -> str:
    return w(language, "not_available", reason=w(language, "loyalty.cross_none"))
