"""What keeps clients: repeat curve, loyalty visit, loyalty stages, cross-selling, staff dependency."""

from __future__ import annotations

from collections.abc import Mapping

from toolkit.core.fmt import DASH, NBSP, fmt_days, fmt_int, fmt_money, fmt_num, fmt_pct, fmt_pct_ci, is_number, ordinal, ru_plural
from toolkit.core.run_folder import RunFolder
from toolkit.report.common import Names, _w, figure_ref, metrics_part, read_table
from toolkit.report.inputs import ALL_LINES


def _loy_row(scope: str, d: Mapping, names: Names, language: str, currency: str, conf: float) -> dict:
    p = d.get("p_return") or {}
    ci = d.get("p_return_ci") or {}
    k = d.get("loyalty_visit")
    gaps = d.get("median_gap_days") or {}
    return {
        "line": names.line(scope),
        "customers": fmt_int(d.get("customers"), language),
        "visits": fmt_num(d.get("visits_per_customer"), language, 2),
        "ltv": fmt_money(d.get("revenue_per_customer"), currency, language),
        "p1": fmt_pct_ci(p.get("1"), ci.get("1"), language, 0, conf),
        "k": ordinal(k, language) if is_number(k) else _w(language, "не выявлен", "none found"),
        "pk": fmt_pct_ci(p.get(str(k)), ci.get(str(k)), language, 0, conf) if is_number(k) else DASH,
        "gap2": fmt_days(gaps.get("2"), language),
    }

def _loyalty_sentence(scope: str, d: Mapping, names: Names, language: str, conf: float) -> str:
    p = d.get("p_return") or {}
    ci = d.get("p_return_ci") or {}
    el = d.get("eligible") or {}
    k = d.get("loyalty_visit")
    who = names.line(scope)
    p1 = fmt_pct_ci(p.get("1"), ci.get("1"), language, 0, conf)
    if is_number(k):
        pk = fmt_pct_ci(p.get(str(k)), ci.get(str(k)), language, 0, conf)
        return _w(
            language,
            f"{who}: после первого визита возвращаются {p1} клиентов (n{NBSP}={NBSP}{fmt_int(el.get('1'), 'ru')}); "
            f"порог лояльности — {ordinal(k, 'ru')} визит: после него вероятность возврата выходит на плато, "
            f"{pk}.",
            f"{who}: {p1} of customers return after the first visit (n{NBSP}={NBSP}{fmt_int(el.get('1'), 'en')}); "
            f"the loyalty visit is the {ordinal(k, 'en')}: after it the return probability reaches its plateau, {pk}.",
        )
    return _w(
        language,
        f"{who}: после первого визита возвращаются {p1} клиентов; устойчивого порога лояльности данные не показывают.",
        f"{who}: {p1} of customers return after the first visit; the data show no stable loyalty threshold.",
    )

def loyalty_section(metrics: Mapping, run: RunFolder, names: Names, language: str, currency: str, conf: float) -> dict:
    loy, na = metrics_part(metrics, "loyalty", language)
    out = {"available": loy is not None, "na": na, "repeat_figure": figure_ref(run, "repeat_curve"),
           "gap_figure": figure_ref(run, "gap_intervals"), "rows": [], "findings": [], "stages": []}
    if loy is not None:
        scopes = []
        if isinstance(loy.get("overall"), Mapping):
            scopes.append((ALL_LINES, loy["overall"]))
        scopes += [(s, d) for s, d in (loy.get("by_line") or {}).items() if isinstance(d, Mapping)]
        for scope, d in scopes:
            out["rows"].append(_loy_row(scope, d, names, language, currency, conf))
            out["findings"].append(_loyalty_sentence(scope, d, names, language, conf))
        st = read_table(run, "loyalty_stages")
        if st is not None and len(st):
            st = st.assign(_o=(st["scope"] != ALL_LINES).astype(int))
            st = st.sort_values(["_o", "scope", "first_visit"], kind="stable")
            last = None
            for r in st.to_dict("records"):
                iqr = (f"{fmt_int(r.get('gap_q25'), language)}–{fmt_int(r.get('gap_q75'), language)}"
                       if is_number(r.get("gap_q25")) and is_number(r.get("gap_q75")) else DASH)
                out["stages"].append({
                    "line": names.line(r["scope"]) if r["scope"] != last else "",
                    "visits": str(r.get("stage")).replace("-", "–"),
                    "customers": fmt_int(r.get("customers"), language),
                    "p_return": fmt_pct_ci(r.get("p_return"), [r.get("ci_low"), r.get("ci_high")], language, 0, conf),
                    "gap": fmt_days(r.get("gap_median"), language),
                    "iqr": iqr,
                    "check": fmt_money(r.get("average_check"), currency, language),
                })
                last = r["scope"]
    # cross-penetration
    cp, cna = metrics_part(metrics, "cross_penetration", language)
    cross = {"available": bool(cp), "na": cna, "figure": figure_ref(run, "cross_penetration"), "text": ""}
    if cp:
        pairs = [(a, b, v) for a, d in cp.items() if isinstance(d, Mapping) for b, v in d.items()]
        shown = [x for x in pairs if is_number(x[2])]
        hidden = len(pairs) - len(shown)
        if shown:
            a, b, v = max(shown, key=lambda x: (x[2], x[0], x[1]))
            lo = min(shown, key=lambda x: (x[2], x[0], x[1]))
            cross["text"] = _w(
                language,
                f"Сильнее всего связаны направления «{names.line(a)}» → «{names.line(b)}»: {fmt_pct(v, 'ru')} клиентов "
                f"первого покупали и второе; слабее всего — «{names.line(lo[0])}» → «{names.line(lo[1])}» "
                f"({fmt_pct(lo[2], 'ru')}).",
                f"The strongest link is “{names.line(a)}” → “{names.line(b)}”: {fmt_pct(v, 'en')} of the first line's "
                f"customers also bought the second; the weakest is “{names.line(lo[0])}” → “{names.line(lo[1])}” "
                f"({fmt_pct(lo[2], 'en')}).",
            )
        if hidden:
            cross["text"] += " " + _w(
                language,
                f"{hidden} {ru_plural(hidden, 'ячейка скрыта', 'ячейки скрыты', 'ячеек скрыто')}: база меньше "
                "минимального размера сегмента.",
                f"{hidden} cell{'s are' if hidden != 1 else ' is'} hidden: the base is below the minimum segment size.",
            )
    out["cross"] = cross
    # staff dependency
    sd, sna = metrics_part(metrics, "staff_dependency", language)
    staff = {"available": bool(sd), "na": sna, "figure": figure_ref(run, "staff_dependency"), "rows": [], "text": ""}
    if sd:
        best = None
        for line, d in sd.items():
            if not isinstance(d, Mapping):
                continue
            hidden = isinstance(d.get("suppressed"), str) and d.get("suppressed")
            staff["rows"].append({
                "line": names.line(line),
                "repeat": fmt_int(d.get("repeat_customers"), language),
                "attached": DASH if hidden else fmt_pct(d.get("attached_share"), language, 0),
                "top_staff": _w(language, "скрыто", "hidden") if hidden else str(d.get("top_staff") or DASH),
                "top_share": DASH if hidden else fmt_pct(d.get("top_staff_share_of_repeat_customers"), language, 0),
                "revenue_share": DASH if hidden else fmt_pct(d.get("top_staff_revenue_share"), language, 0),
            })
            v = d.get("top_staff_share_of_repeat_customers")
            if not hidden and is_number(v) and (best is None or v > best[1]):
                best = (line, v, d)
        if best:
            line, v, d = best
            staff["text"] = _w(
                language,
                f"Сильнее всего от одного специалиста зависит направление «{names.line(line)}»: за специалистом "
                f"{d.get('top_staff')} закреплены {fmt_pct(v, 'ru', 0)} повторных клиентов направления"
                + (f" и {fmt_pct(d.get('top_staff_revenue_share'), 'ru', 0)} его выручки" if is_number(d.get("top_staff_revenue_share")) else "")
                + ". Если этот специалист уйдёт, поток может уйти вместе с ним.",
                f"The line most dependent on one person is “{names.line(line)}”: staff member {d.get('top_staff')} holds "
                f"{fmt_pct(v, 'en', 0)} of the line's repeat customers"
                + (f" and {fmt_pct(d.get('top_staff_revenue_share'), 'en', 0)} of its revenue" if is_number(d.get("top_staff_revenue_share")) else "")
                + ". If they leave, the flow may leave with them.",
            )
    out["staff"] = staff
    return out
