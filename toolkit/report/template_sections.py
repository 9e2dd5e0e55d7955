"""The report's chapters as template paragraphs and tables (used by ``build_templates``).

Every fixed word comes from the word catalog (``report.tpl.*``, ``report.heading.*``,
``report.col.*``); the variables come from ``toolkit.report.context.build_context``. Order
(REPORT.md): cover, contents, Decisions, who the clients are, journey maps (landscape, one
page per persona), where clients are lost, what keeps them, the two brands, profit formula
and CRM, roadmap, appendices (data and method, evidence tables).
"""

from __future__ import annotations

from toolkit.core.words import word

# (level, key): the report's headings in order; the text is report.heading.<key>
HEADINGS: list[tuple[int, str]] = [
    (1, "decisions"),
    (1, "clients"),
    (2, "rfm"),
    (2, "personas"),
    (1, "journeys"),
    (1, "losses"),
    (2, "funnel"),
    (2, "barriers"),
    (1, "loyalty"),
    (2, "repeat"),
    (2, "triggers"),
    (2, "cross"),
    (2, "staff"),
    (1, "double_funnel"),
    (1, "profit_crm"),
    (2, "profit"),
    (2, "crm"),
    (1, "roadmap"),
    (1, "appendix_data"),
    (2, "sources"),
    (2, "method"),
    (2, "parameters"),
    (1, "appendix_evidence"),
    (2, "barrier_evidence"),
    (2, "journey_evidence"),
    (2, "loyalty_stages"),
]


def heading(key: str, language: str) -> str:
    return word(f"report.heading.{key}", language)


def t(b, key: str, **values) -> str:
    return word(f"report.tpl.{key}", b.lang, **values)


def cols(b, key: str) -> list[str]:
    return word(f"report.col.{key}", b.lang).split("|")


def cover(b) -> None:
    b.p("{{ meta.title }}", "Title")
    b.p("{{ meta.client }}", "Subtitle")
    b.tag("{%p if meta.prepared_line %}")
    b.p("{{ meta.prepared_line }}", "Title Info")
    b.tag("{%p endif %}")
    b.p("{{ meta.date }}", "Title Info")
    b.p("{{ meta.confidentiality }}", "Note")


def contents(b) -> None:
    b.page_break()
    b.p(t(b, "contents"), "TOC Heading")
    b.toc("toc")


def decisions(b) -> None:
    b.h(1, "decisions")
    b.tag("{%p if decisions.available %}")
    b.tag("{%p for d in decisions.list %}")
    b.p("{{ d.n }}. {{ d.text }}", "Decision")
    b.p(t(b, "decision_line"), "Decision Info")
    b.tag("{%p endfor %}")
    b.p("{{ decisions.basis }}", "Note")
    b.tag("{%p else %}")
    b.na("decisions.na")
    b.tag("{%p endif %}")


def clients(b) -> None:
    b.h(1, "clients")
    b.h(2, "rfm")
    b.tag("{%p if rfm.available %}")
    b.p("{{ rfm.text }}")
    b.figure("rfm.figure")
    b.table(cols(b, "rfm"), ["r.name", "r.customers", "r.customer_share", "r.revenue_share", "r.action"],
            "r in rfm.rows", [3.4, 2.0, 2.0, 2.0, 6.6])
    b.tag("{%p else %}")
    b.na("rfm.na")
    b.tag("{%p endif %}")
    b.h(2, "personas")
    b.tag("{%p if personas.available %}")
    b.p("{{ personas.text }}")
    b.tag("{%p for c in personas.cards %}")
    b.h_text(3, "{{ c.name }}")
    labels = cols(b, "persona_card")
    fields = ["c.share", "c.demographics", "c.budget", "c.nps", "c.jobs", "c.main", "c.hard", "c.soft", "c.quote"]
    b.card(labels, fields)
    b.tag("{%p endfor %}")
    b.tag("{%p else %}")
    b.na("personas.na")
    b.tag("{%p endif %}")


def journeys(b) -> None:
    b.landscape_start()
    b.h(1, "journeys")
    b.tag("{%p if journeys.available %}")
    b.p(t(b, "journeys_intro") + " {{ journeys.rule }}", "Note")
    b.tag("{%p for j in journeys.maps %}")
    b.tag("{%p if not loop.first %}")
    b.page_break()
    b.tag("{%p endif %}")
    b.h_text(2, "{{ j.title }}")
    b.p("{{ j.source }}", "Note")
    b.figure("j.map_figure")
    b.tag("{%p endfor %}")
    b.tag("{%p else %}")
    b.na("journeys.na")
    b.tag("{%p endif %}")
    b.landscape_end()


def losses(b) -> None:
    b.h(1, "losses")
    b.h(2, "funnel")
    b.tag("{%p if funnel.available %}")
    b.bullets("funnel.bottlenecks", "s")
    b.figure("funnel.figure")
    b.table(cols(b, "funnel"), ["r.brand", "r.transition", "r.entered", "r.moved", "r.conversion"],
            "r in funnel.rows", [3.0, 6.2, 2.2, 2.2, 2.4])
    b.tag("{%p else %}")
    b.na("funnel.na")
    b.tag("{%p endif %}")
    b.h(2, "barriers")
    b.tag("{%p if barriers.available %}")
    b.p("{{ barriers.text }}")
    b.table(cols(b, "barriers"), ["r.rank", "r.label", "r.stage", "r.share", "r.impact", "r.evidence"],
            "r in barriers.rows", [0.7, 4.3, 3.0, 2.2, 3.8, 2.0])
    b.figure("barriers.figure")
    b.tag("{%p else %}")
    b.na("barriers.na")
    b.tag("{%p endif %}")


def loyalty(b) -> None:
    b.h(1, "loyalty")
    b.h(2, "repeat")
    b.tag("{%p if loyalty.available %}")
    b.bullets("loyalty.findings", "s")
    b.figure("loyalty.repeat_figure")
    b.table(cols(b, "loyalty"), ["r.line", "r.customers", "r.visits", "r.ltv", "r.p1", "r.k", "r.pk"],
            "r in loyalty.rows", [3.0, 1.9, 1.8, 2.7, 2.2, 2.2, 2.2])
    b.h(2, "triggers")
    b.tag("{%p if loyalty.triggers %}")
    b.p(t(b, "triggers_intro"))
    b.bullets("loyalty.triggers", "s")
    b.tag("{%p else %}")
    b.p(t(b, "triggers_none"), "Note")
    b.tag("{%p endif %}")
    b.tag("{%p else %}")
    b.na("loyalty.na")
    b.tag("{%p endif %}")
    b.h(2, "cross")
    b.tag("{%p if loyalty.cross.available %}")
    b.p("{{ loyalty.cross.text }}")
    b.figure("loyalty.cross.figure")
    b.tag("{%p else %}")
    b.na("loyalty.cross.na")
    b.tag("{%p endif %}")
    b.h(2, "staff")
    b.tag("{%p if loyalty.staff.available %}")
    b.p("{{ loyalty.staff.text }}")
    b.table(cols(b, "staff"), ["r.line", "r.repeat", "r.top_share", "r.revenue_share"],
            "r in loyalty.staff.rows", [5.2, 3.4, 3.8, 3.6])
    b.tag("{%p else %}")
    b.na("loyalty.staff.na")
    b.tag("{%p endif %}")


def double_funnel(b) -> None:
    b.h(1, "double_funnel")
    b.tag("{%p if double_funnel.available %}")
    b.p("{{ double_funnel.recommendation }}")
    b.bullets("double_funnel.facts", "s")
    b.figure("double_funnel.figure")
    b.table(cols(b, "scenarios"), ["r.capture", "r.leads", "r.deals", "r.revenue"],
            "r in double_funnel.rows", [3.0, 3.0, 3.0, 7.0])
    b.tag("{%p else %}")
    b.na("double_funnel.na")
    b.tag("{%p endif %}")


def profit_crm(b) -> None:
    b.h(1, "profit_crm")
    b.h(2, "profit")
    b.p(t(b, "profit_intro"))
    b.tag("{%p if profit.available %}")
    b.table(cols(b, "profit"), ["r.scope", "r.new", "r.first_check", "r.returning", "r.visits", "r.repeat_check",
                                "r.formula", "r.other"],
            "r in profit.rows", [2.3, 1.9, 1.9, 1.8, 1.9, 1.9, 2.4, 1.9])
    b.p("{{ profit.text }}")
    b.figure("profit.figure")
    b.tag("{%p else %}")
    b.na("profit.na")
    b.tag("{%p endif %}")
    b.h(2, "crm")
    b.tag("{%p if crm.available %}")
    b.p(t(b, "crm_intro"))
    b.table(cols(b, "crm"), ["r.stage", "r.kind", "r.what", "r.value", "r.day"],
            "r in crm.rows", [2.6, 2.4, 6.6, 2.6, 1.8])
    b.tag("{%p else %}")
    b.na("crm.na")
    b.tag("{%p endif %}")


def roadmap(b) -> None:
    b.h(1, "roadmap")
    b.p("{{ roadmap.rule }} {{ roadmap.kpi_rule }}")
    b.tag("{%p if roadmap.available %}")
    b.table(cols(b, "roadmap"), ["r.priority", "r.action", "r.owner", "r.effort", "r.horizon", "r.kpi", "r.impact",
                                 "r.evidence"],
            "r in roadmap.rows", [0.6, 3.1, 2.3, 1.2, 1.7, 2.9, 2.6, 1.6])
    b.tag("{%p else %}")
    b.na("roadmap.na")
    b.tag("{%p endif %}")


def appendix(b) -> None:
    b.h(1, "appendix_data")
    b.h(2, "sources")
    b.tag("{%p if data.available %}")
    b.p("{{ data.text }}")
    b.table(cols(b, "sources"), ["r.table", "r.file", "r.period", "r.rows_read", "r.rows_used", "r.quarantined"],
            "r in data.sources", [3.2, 3.6, 3.8, 1.8, 1.8, 1.8])
    b.tag("{%p if data.quality %}")
    b.table(cols(b, "quality"), ["r.table", "r.reason", "r.rows"], "r in data.quality", [3.6, 10.4, 2.0])
    b.tag("{%p endif %}")
    b.tag("{%p else %}")
    b.na("data.na")
    b.tag("{%p endif %}")
    b.h(2, "method")
    b.bullets("method.text", "s")
    b.h(2, "parameters")
    b.tag("{%p if appendix.parameters %}")
    b.table(cols(b, "parameters"), ["r.name", "r.value"], "r in appendix.parameters", [9.0, 7.0])
    b.tag("{%p endif %}")
    b.table(cols(b, "inputs"), ["r.table", "r.file", "r.sha256", "r.rows"], "r in appendix.inputs",
            [3.4, 5.6, 4.8, 2.2])
    b.p(t(b, "version_line"), "Note")
    b.h(1, "appendix_evidence")
    b.h(2, "barrier_evidence")
    b.tag("{%p if barriers.details %}")
    b.tag("{%p for d in barriers.details %}")
    b.h_text(3, "{{ d.title }}")
    b.tag("{%p for q in d.quotes %}")
    b.p("{{ q }}", "Quote")
    b.tag("{%p endfor %}")
    b.bullets("d.actions", "a")
    b.tag("{%p endfor %}")
    b.tag("{%p else %}")
    b.na("barriers.na")
    b.tag("{%p endif %}")
    b.h(2, "journey_evidence")
    b.tag("{%p if journeys.appendix %}")
    b.table(cols(b, "journey_rows"), ["r.stage", "r.row", "r.text", "r.evidence"], "r in journeys.appendix",
            [2.8, 3.0, 8.2, 2.0])
    b.tag("{%p else %}")
    b.na("journeys.na")
    b.tag("{%p endif %}")
    b.h(2, "loyalty_stages")
    b.tag("{%p if loyalty.stages %}")
    b.table(cols(b, "loyalty_stages"), ["r.visits", "r.customers", "r.p_return", "r.gap", "r.check"],
            "r in loyalty.stages", [2.6, 3.0, 3.4, 3.4, 3.6])
    b.tag("{%p else %}")
    b.na("loyalty.na")
    b.tag("{%p endif %}")


CHAPTERS = (cover, contents, decisions, clients, journeys, losses, loyalty, double_funnel, profit_crm, roadmap, appendix)
