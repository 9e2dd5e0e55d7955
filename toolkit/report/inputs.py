"""What the report reads from a run folder, listed in one place (the notebooks write exactly these names)."""

from __future__ import annotations




ALL_LINES = "all_lines"

METRICS_USED = {
    "case": "client, name, as_of, currency, toolkit_version, inputs {table: {file, sha256, rows}}",
    "data_quality": "{table: {rows_read, rows_used, quarantined {reason: count}}}",
    "segments": "rfm {segment: {customers, revenue_share, customer_share, small}}, personas [...], k",
    "loyalty": "overall / by_line LOY (p_return, p_return_ci, eligible, loyalty_visit, median_gap_days, "
               "customers, visits_per_customer, revenue_per_customer)",
    "cross_penetration": "{from_line: {to_line: share or None}}",
    "staff_dependency": "{line: {top_staff, top_staff_share_of_repeat_customers, repeat_customers, attached_share, "
                        "top_staff_revenue_share, suppressed}}",
    "funnel": "{brand: {stages, stage_names, counts, conversion, conversion_ci, bottleneck, traffic_to_lead}}",
    "barriers": "[{code, label, stage, respondents, base, share, ci, severity, annual_impact {estimate, low, high} "
                "or None, rank_basis, rank, evidence, quotes, actions}]",
    "double_funnel": "premium_brand, budget_brand, premium_leads, premium_leads_per_year, nontarget_share(_ci), "
                     "nontarget_conversion_now, target_conversion_now, budget_conversion(_ci), budget_avg_check, "
                     "scenarios [{capture_rate, leads, deals, incremental_deals, incremental_annual_revenue "
                     "{estimate, low, high}}], leak_to_competitors, material, merge_brands, recommendation {action, "
                     "sentences}, verdict, evidence_leads",
    "profit": "{all | brand | line: {scope, factors {factor: {value, stage}}, formula_revenue, actual_revenue, "
              "other, other_reason, reconciliation, what_if {factor: annual change}}}, period, what_if_improvement",
}

ARTIFACTS_USED: dict[str, tuple[str, ...]] = {
    # toolkit.stage_mapping.quotes.segment_quotes (the persona cards' quote)
    "segment_quotes": ("segment_type", "segment", "quote"),
    # toolkit.stage_mapping.journey.journey_matrix (every segment: overall, personas, business lines)
    "journey_matrix": ("segment_type", "segment", "segment_respondents", "stage", "stage_name", "stage_order",
                       "row", "row_order", "text", "evidence"),
    # toolkit.loyalty.repeat.intervals_by_stage (loyalty_tables()["stages"])
    "loyalty_stages": ("scope", "stage", "first_visit", "customers", "p_return", "ci_lo", "ci_hi",
                       "gap_median", "gap_q25", "gap_q75", "average_check"),
    # toolkit.double_funnel.crm_spec.crm_spec
    "crm_spec": ("stage", "stage_name", "kind", "metric_id", "metric_ru", "metric_en", "value", "ci_lo", "ci_hi",
                 "n", "touchpoints", "action_ru", "action_en", "send_day"),
    # toolkit.data.load.quality_table (only kind == "value blanked/kept" rows: the warnings)
    "quality": ("table", "problem", "kind", "rows"),
}

JSON_ARTIFACTS_USED = {
    "periods": "{table: {from, to, rows}}: the date range of each table (data-audit step)",
}

FIGURES_USED = {
    "rfm_segments": "charts.rfm_segments_chart",
    "persona_profile": "charts.persona_profile_chart",
    "journey_matrix_<segment_type>_<segment>": "charts.journey_matrix_chart (all at once: charts.journey_figures)",
    "emotion_curve_<segment_type>_<segment>": "charts.emotion_curve_chart (all at once: charts.journey_figures)",
    "funnel": "charts.funnel_chart",
    "barriers": "charts.barriers_chart",
    "repeat_curve": "charts.repeat_curve_chart",
    "gap_intervals": "charts.gap_chart",
    "cross_penetration": "charts.cross_penetration_chart",
    "staff_dependency": "charts.staff_dependency_chart",
    "double_funnel": "charts.double_funnel_chart",
    "double_funnel_scenarios": "charts.scenario_revenue_chart",
    "profit_what_if": "charts.profit_whatif_chart",
}

MAX_BARRIERS_TABLE = 10

MAX_BARRIER_DETAILS = 5

MAX_ROADMAP_BARRIERS = 5
