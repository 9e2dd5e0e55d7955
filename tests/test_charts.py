"""Unit tests of toolkit.charts on tiny hand-made inputs: each figure has the expected axes,
labels and drawn values, every text is legible at print size, and PNG bytes are reproducible."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.text import Text

from toolkit.core.plot import MIN_FONT
from toolkit.barriers import charts as barriers_charts
from toolkit.double_funnel import charts as double_funnel_charts
from toolkit.loyalty import charts as loyalty_charts
from toolkit.segmentation import charts as segmentation_charts
from toolkit.stage_mapping import charts as stage_mapping_charts
from toolkit.core.figures import A4_TEXT_WIDTH_IN, EVIDENCE_COLOURS, save_figure

NBSP = "\u00a0"


# --------------------------------------------------------------------------- hand-made inputs


def rfm_table():
    # 100 customers: champions 20 (50 % of revenue), lost 70 (20 %), cannot_lose 10 (30 %, small < 30)
    return pd.DataFrame({
        "segment": ["champions", "lost", "cannot_lose"],
        "customers": [20, 70, 10],
        "customer_share": [0.2, 0.7, 0.1],
        "revenue_share": [0.5, 0.2, 0.3],
        "small": [False, False, True],
    })


def profile_table():
    return pd.DataFrame({
        "persona": ["P1", "P1", "P2", "P2"],
        "factor_id": ["price", "doctor", "price", "doctor"],
        "name": ["Цена", "Врач", "Цена", "Врач"],
        "order": [0, 1, 0, 1],
        "mean_z": [1.2, -0.4, -0.8, 0.9],
    })


def matrix_table(n_items: int = 2):
    stages = [("framing", "Осмысление"), ("evaluation", "Оценка")]
    rows = [("goals", "Цели"), ("barriers", "Барьеры")]
    out = []
    for ri, (r, rl) in enumerate(rows):
        for si, (s, sn) in enumerate(stages):
            text = "; ".join(f"пункт {k} (3)" for k in range(n_items)) if (r, s) != ("barriers", "framing") else ""
            ev = {("goals", "framing"): "strong", ("goals", "evaluation"): "partial"}.get((r, s), "partial" if text else "none")
            out.append({"segment_type": "overall", "segment": "all", "segment_respondents": 12, "stage": s,
                        "stage_name": sn, "stage_order": si, "row": r, "row_order": ri, "text": text, "evidence": ev})
    return pd.DataFrame(out)


def draw(fig: Figure) -> Figure:
    FigureCanvasAgg(fig)
    fig.canvas.draw()
    return fig


def texts(fig: Figure) -> list[str]:
    draw(fig)
    return [t.get_text() for t in fig.findobj(Text) if t.get_visible() and t.get_text()]


def all_text(fig: Figure) -> str:
    return "\n".join(texts(fig))


# --------------------------------------------------------------------------- every chart


def every_chart(language: str) -> dict[str, Figure]:
    """One figure of each kind from the hand-made inputs (also used for the legibility test)."""
    curve = pd.DataFrame({
        "scope": ["all_lines"] * 4,
        "visit_number": [1, 2, 3, 4],
        "eligible": [200, 100, 50, 10],
        "returned": [80, 60, 40, 8],
        "p_return": [0.4, 0.6, 0.8, 0.8],
        "ci_lo": [0.33, 0.5, 0.67, 0.49],
        "ci_hi": [0.47, 0.69, 0.89, 0.94],
    })
    gaps = pd.DataFrame({"scope": ["all_lines"] * 3, "visit_number": [2, 3, 4], "gaps": [60, 40, 0],
                         "gap_q25": [30.0, 20.0, None], "gap_median": [50.0, 35.0, None], "gap_q75": [80.0, 50.0, None]})
    emo = pd.DataFrame({
        "source": "interviews", "segment_type": ["overall", "overall", "persona"], "segment": ["all", "all", "P1"],
        "stage": ["framing", "evaluation", "framing"], "stage_name": ["Осмысление", "Оценка", "Осмысление"],
        "stage_order": [0, 1, 0], "mean": [0.5, -1.0, 1.0], "lo": [0.1, -1.5, 0.4], "hi": [0.9, -0.5, 1.6], "n": [10, 10, 5],
    })
    funnel = pd.DataFrame({"brand": ["a", "a"], "stage": ["request", "deal"], "stage_name": ["Заявка", "Сделка"],
                           "order": [0, 1], "reached": [100, 50], "conversion": [0.5, None], "ci_lo": [0.4, None],
                           "ci_hi": [0.6, None]})
    barriers = [{"code": "price", "label": "Цена", "stage": "evaluation", "share": 0.5, "ci": [0.3, 0.7], "rank": 1},
                {"code": "wait", "label": "Ожидание", "stage": "experience", "share": 0.25, "ci": [0.1, 0.45], "rank": 2}]
    cross = pd.DataFrame({"from_line": ["a", "b"], "to_line": ["b", "a"], "base": [100, 10],
                          "share_also": [0.25, None], "suppressed": [None, "base 10 < min_segment_size 30"]})
    staff = {"a": {"repeat_customers": 100, "attached_share": 0.6, "top_staff": "S1",
                   "top_staff_share_of_repeat_customers": 0.3, "suppressed": None},
             "b": {"repeat_customers": 5, "attached_share": None, "top_staff": None,
                   "top_staff_share_of_repeat_customers": None, "suppressed": "repeat customers 5 < min_segment_size 30"}}
    df = {"premium_brand": "p", "budget_brand": "b", "premium_leads": 1000, "nontarget_share": 0.25,
          "nontarget_share_ci": [0.2, 0.3], "nontarget_conversion_now": 0.05, "budget_conversion": 0.2,
          "scenarios": [{"capture_rate": c, "leads": 250 * c, "deals": 50 * c, "revenue": 50 * c * 10000,
                         "revenue_low": 40 * c * 9000, "revenue_high": 60 * c * 11000} for c in (0.1, 0.3, 0.5)]}
    return {
        "rfm": segmentation_charts.rfm_segments_chart(rfm_table(), language),
        "persona": segmentation_charts.persona_profile_chart(profile_table(), [{"persona": "P1", "name": "Цена", "share": 0.6}], language),
        "matrix": stage_mapping_charts.journey_matrix_chart(matrix_table(), "all", language=language),
        "emotion": stage_mapping_charts.emotion_curve_chart(emo, language, segment_names={"P1": "Экономные"}),
        "funnel": stage_mapping_charts.funnel_chart(funnel, language, brand_names={"a": "Бренд А"}),
        "barriers": barriers_charts.barriers_chart(barriers, language, stage_names={"evaluation": "Оценка", "experience": "Опыт"}),
        "repeat": loyalty_charts.repeat_curve_chart(curve, {"all_lines": 3}, language, min_eligible=30),
        "gaps": loyalty_charts.gap_chart(gaps, language),
        "cross": loyalty_charts.cross_penetration_chart(cross, language, line_names={"a": "Косметология", "b": "Стоматология"}),
        "staff": loyalty_charts.staff_dependency_chart(staff, language),
        "double_funnel": double_funnel_charts.double_funnel_chart(df, language, brand_names={"p": "Премиум", "b": "Бюджет"}),
        "scenarios": double_funnel_charts.scenario_revenue_chart(df["scenarios"], language),
        "profit": double_funnel_charts.profit_whatif_chart({"traffic": 1000.0, "conversion": 1000.0}, language, improvement=0.1),
    }


@pytest.mark.parametrize("language", ["ru", "en"])
def test_every_chart_is_a_legible_a4_figure(language):
    for name, fig in every_chart(language).items():
        assert isinstance(fig, Figure), name
        w, _h = fig.get_size_inches()
        assert w <= A4_TEXT_WIDTH_IN + 1e-9, name  # inserted at the text width: font sizes are print sizes
        draw(fig)
        small = [(t.get_text(), t.get_fontsize()) for t in fig.findobj(Text)
                 if t.get_visible() and t.get_text().strip() and t.get_fontsize() < MIN_FONT]
        assert not small, (name, small)


def test_saving_twice_gives_identical_bytes(tmp_path):
    a = save_figure(barriers_charts.barriers_chart(every_chart_inputs_barriers(), "ru"), tmp_path / "a.png").read_bytes()
    b = save_figure(barriers_charts.barriers_chart(every_chart_inputs_barriers(), "ru"), tmp_path / "b.png").read_bytes()
    assert a == b
    m1 = save_figure(stage_mapping_charts.journey_matrix_chart(matrix_table(), "all"), tmp_path / "m1.png").read_bytes()
    m2 = save_figure(stage_mapping_charts.journey_matrix_chart(matrix_table(), "all"), tmp_path / "m2.png").read_bytes()
    assert m1 == m2


def every_chart_inputs_barriers():
    return [{"code": "price", "label": "Цена", "stage": "evaluation", "share": 0.5, "ci": [0.3, 0.7], "rank": 1}]


# --------------------------------------------------------------------------- one by one


def test_rfm_pools_small_segments_and_labels_shares():
    fig = segmentation_charts.rfm_segments_chart(rfm_table(), "ru")
    ax = fig.axes[0]
    draw(fig)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    # champions, lost, then the pooled small segment (cannot_lose, 10 customers)
    assert labels == ["Чемпионы\n(n=20)", "Потерянные\n(n=70)", "Прочие (малые сегменты)\n(n=10)"]
    widths = sorted(round(p.get_width(), 3) for p in ax.patches)
    assert widths == sorted([0.2, 0.7, 0.1, 0.5, 0.2, 0.3])
    assert ax.get_title() == "RFM-сегменты: доля клиентов и выручки"
    assert "50%" in all_text(fig)  # champions' revenue share


def test_rfm_from_metrics_dict_in_english():
    metrics = {"champions": {"customers": 40, "revenue_share": 0.8, "customer_share": 0.4, "small": False},
               "lost": {"customers": 60, "revenue_share": 0.2, "customer_share": 0.6, "small": False}}
    fig = segmentation_charts.rfm_segments_chart(metrics, "en")
    draw(fig)
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["Champions\n(n=40)", "Lost\n(n=60)"]
    assert fig.axes[0].get_xlabel() == "Share, %"


def test_persona_heatmap_holds_the_z_scores():
    fig = segmentation_charts.persona_profile_chart(profile_table(), [{"persona": "P1", "name": "Ценят цену", "share": 0.6}], "ru")
    ax = fig.axes[0]
    z = ax.images[0].get_array()
    np.testing.assert_allclose(np.asarray(z), [[1.2, -0.4], [-0.8, 0.9]])
    draw(fig)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Цена", "Врач"]
    assert ax.get_yticklabels()[0].get_text() == "P1: Ценят цену (60%)"
    assert {"1,2", "\u22120,4", "\u22120,8", "0,9"} <= set(texts(fig))  # decimal comma and minus sign in ru


def test_journey_matrix_colours_cells_by_evidence_and_cuts_long_cells():
    fig = stage_mapping_charts.journey_matrix_chart(matrix_table(n_items=5), "all", language="ru", max_items=3)
    ax = fig.axes[0]
    rects = [p for p in ax.patches if isinstance(p, Rectangle)]
    fills = [to_hex(p.get_facecolor()) for p in rects]
    # 2 rows x 2 stages: strong, partial / none (empty cell), partial
    assert fills.count(EVIDENCE_COLOURS["strong"]) == 1
    assert fills.count(EVIDENCE_COLOURS["partial"]) == 2
    assert fills.count(EVIDENCE_COLOURS["none"]) == 1
    t = all_text(fig)
    assert "Осмысление" in t and "Оценка" in t and "Цели" in t
    assert "пункт 2 (3)" in t and "пункт 3 (3)" not in t  # top 3 items of 5
    assert "…" in t  # the cut is shown
    assert "Сильные данные" in t and "Нет данных" in t  # legend


def test_journey_matrix_english_labels_and_unknown_segment():
    fig = stage_mapping_charts.journey_matrix_chart(matrix_table(), "all", language="en")
    assert "Goals" in all_text(fig) and "Map row" in all_text(fig)
    empty = stage_mapping_charts.journey_matrix_chart(matrix_table(), "P9", language="en")
    assert "no data" in all_text(empty)


def test_emotion_curve_leaves_gaps_not_zeros():
    emo = pd.DataFrame({
        "source": "interviews", "segment_type": ["overall", "overall", "persona"], "segment": ["all", "all", "P1"],
        "stage": ["framing", "evaluation", "framing"], "stage_name": ["Осмысление", "Оценка", "Осмысление"],
        "stage_order": [0, 1, 0], "mean": [0.5, -1.0, 1.0], "lo": [0.1, -1.5, 0.4], "hi": [0.9, -0.5, 1.6], "n": [10, 10, 5],
    })
    fig = stage_mapping_charts.emotion_curve_chart(emo, "ru", segment_names={"P1": "Экономные"})
    ax = fig.axes[0]
    lines = [ln for ln in ax.get_lines() if ln.get_marker() == "o"]
    assert len(lines) == 2
    y_p1 = lines[1].get_ydata()
    assert y_p1[0] == 1.0 and np.isnan(y_p1[1])  # P1 has no data at "Оценка": a gap
    assert list(lines[0].get_ydata()) == [0.5, -1.0]
    assert ax.get_ylim() == (-2.2, 2.2)
    assert "Экономные" in all_text(fig) and "Все респонденты" in all_text(fig)


def test_funnel_labels_counts_and_conversion_with_interval():
    f = {"a": {"stages": ["request", "deal"], "stage_names": ["Request", "Deal"], "counts": [100, 50],
               "conversion": [0.5], "conversion_ci": [[0.4, 0.6]]},
         "b": {"skipped": "no leads"}}
    fig = stage_mapping_charts.funnel_chart(f, "en", brand_names={"a": "Brand A"})
    t = all_text(fig)
    assert "↓ 50% [40–60%]" in t  # 50 / 100, interval as given
    assert "100" in t and "50" in t and "Brand A" in t
    bars = [p.get_width() for p in fig.axes[0].patches]
    assert bars == [100, 50]


def test_barriers_top_n_whiskers_and_stage_colours():
    b = pd.DataFrame({
        "segment_type": ["overall"] * 3 + ["persona"], "segment": ["all"] * 3 + ["P1"],
        "rank": [1, 2, 3, 1], "code": ["price", "wait", "rude", "price"], "label": ["Цена", "Ожидание", "Грубость", "Цена"],
        "stage": ["evaluation", "experience", "evaluation", "evaluation"], "stage_order": [1, 3, 1, 1],
        "share": [0.5, 0.25, 0.1, 0.9], "ci_lo": [0.3, 0.1, 0.02, 0.8], "ci_hi": [0.7, 0.45, 0.3, 0.95],
    })
    fig = barriers_charts.barriers_chart(b, "ru", top_n=2, stage_names={"evaluation": "Оценка", "experience": "Опыт"})
    ax = fig.axes[0]
    draw(fig)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["1. Цена", "2. Ожидание"]  # persona row left out
    bars = [p for p in ax.patches if isinstance(p, Rectangle)]
    assert [round(p.get_width(), 2) for p in bars] == [0.5, 0.25]
    assert to_hex(bars[0].get_facecolor()) != to_hex(bars[1].get_facecolor())  # two stages, two colours
    segs = ax.collections[0].get_segments()  # whiskers: from ci_lo to ci_hi
    assert [(s[0][0], s[1][0]) for s in segs] == [(0.3, 0.7), (0.1, 0.45)]
    assert "Оценка" in all_text(fig) and "Опыт" in all_text(fig)


def test_repeat_curve_marks_the_loyalty_visit_and_drops_sparse_points():
    curve = pd.DataFrame({"scope": ["all_lines"] * 4, "visit_number": [1, 2, 3, 4], "eligible": [200, 100, 50, 10],
                          "p_return": [0.4, 0.6, 0.8, 0.8], "ci_lo": [0.33, 0.5, 0.67, 0.49],
                          "ci_hi": [0.47, 0.69, 0.89, 0.94]})
    fig = loyalty_charts.repeat_curve_chart(curve, {"all_lines": 3}, "ru", min_eligible=30)
    ax = fig.axes[0]
    main = [ln for ln in ax.get_lines() if ln.get_marker() == "o"][0]
    assert list(main.get_xdata()) == [1, 2, 3]  # visit 4 has 10 < 30 eligible
    star = [ln for ln in ax.get_lines() if ln.get_marker() == "*"][0]
    assert (star.get_xdata()[0], star.get_ydata()[0]) == (3, 0.8)
    assert "Все направления (порог лояльности: 3)" in all_text(fig)


def test_gap_chart_draws_medians():
    gaps = pd.DataFrame({"scope": ["all_lines"] * 3, "visit_number": [2, 3, 4], "gaps": [60, 40, 0],
                         "gap_q25": [30.0, 20.0, None], "gap_median": [50.0, 35.0, None], "gap_q75": [80.0, 50.0, None]})
    fig = loyalty_charts.gap_chart(gaps, "en")
    line = [ln for ln in fig.axes[0].get_lines() if ln.get_marker() == "o"][0]
    assert list(line.get_xdata()) == [2, 3] and list(line.get_ydata()) == [50.0, 35.0]
    assert fig.axes[0].get_ylabel() == "Days since the previous visit"


def test_cross_penetration_shows_suppressed_cells_as_hidden():
    cross = pd.DataFrame({"from_line": ["a", "b"], "to_line": ["b", "a"], "base": [100, 10],
                          "share_also": [0.25, None], "suppressed": [None, "base 10 < min_segment_size 30"]})
    fig = loyalty_charts.cross_penetration_chart(cross, "ru", line_names={"a": "Косметология", "b": "Стоматология"})
    ax = fig.axes[0]
    z = np.ma.getdata(ax.images[0].get_array()).astype(float)
    mask = np.ma.getmaskarray(ax.images[0].get_array())
    assert z[0, 1] == 0.25 and mask[1, 0]  # the suppressed cell is masked, not 0
    t = texts(fig)
    assert "скрыто" in t and "25,0%" in t and t.count("—") == 2
    assert "Косметология\n(n=100)" in t


def test_cross_penetration_from_metrics_none_is_hidden():
    fig = loyalty_charts.cross_penetration_chart({"a": {"b": 0.1}, "b": {"a": None}}, "en")
    assert "hidden" in texts(fig) and "10.0%" in texts(fig)


def test_staff_dependency_hides_small_lines():
    staff = {"a": {"repeat_customers": 100, "attached_share": 0.6, "top_staff_share_of_repeat_customers": 0.3},
             "b": {"repeat_customers": 5, "suppressed": "repeat customers 5 < min_segment_size 30"}}
    fig = loyalty_charts.staff_dependency_chart(staff, "ru", line_names={"a": "Косметология"})
    t = all_text(fig)
    assert "60%" in t and "30%" in t
    assert "скрыто: меньше минимального размера сегмента" in t
    widths = sorted(round(p.get_width(), 2) for p in fig.axes[0].patches)
    assert widths == [0.0, 0.0, 0.3, 0.6]  # the hidden line draws no bar


def test_double_funnel_diagram_states_the_flows():
    df = {"premium_brand": "p", "budget_brand": "b", "premium_leads": 1000, "nontarget_share": 0.25,
          "nontarget_share_ci": [0.2, 0.3], "nontarget_conversion_now": 0.05, "budget_conversion": 0.2,
          "scenarios": [{"capture_rate": c, "leads": 250 * c, "deals": 50 * c, "revenue": 500000 * c}
                        for c in (0.1, 0.3, 0.5)]}
    fig = double_funnel_charts.double_funnel_chart(df, "ru", brand_names={"p": "Премиум", "b": "Бюджет"})
    t = all_text(fig)
    # target 1 - 0.25 = 75 %; headline scenario = median capture rate 30 %: 75 leads, 15 deals, 150 000
    assert "Целевые: 75%" in t
    assert "Нецелевые (цена): 25%" in t and "[20–30%]" in t
    assert "доля перехвата: 30%" in t
    assert f"≈ 75 лидов, 15 сделок" in t and f"150{NBSP}000" in t
    assert "70% нецелевых" in t  # 1 - 0.3 leak to competitors
    assert "Премиум" in t and "Бюджет" in t
    skipped = double_funnel_charts.double_funnel_chart({"skipped": "one brand"}, "en")
    assert "no data" in all_text(skipped)


def test_scenario_revenue_line_and_band():
    sc = [{"capture_rate": 0.1, "revenue": 2_000_000.0, "revenue_low": 1_000_000.0, "revenue_high": 3_000_000.0, "deals": 10},
          {"capture_rate": 0.2, "revenue": 4_000_000.0, "revenue_low": 2_000_000.0, "revenue_high": 6_000_000.0, "deals": 20}]
    fig = double_funnel_charts.scenario_revenue_chart(sc, "en", currency="RUB")
    ax = fig.axes[0]
    line = [ln for ln in ax.get_lines() if ln.get_marker() == "o"][0]
    assert list(line.get_ydata()) == [2.0, 4.0]  # in millions
    assert ax.get_ylabel() == "Revenue, m RUB"
    assert "2.0\n10 deals" in texts(fig)


def test_profit_whatif_bars_from_the_what_if_table():
    wi = pd.DataFrame({"brand": ["all"] * 3 + ["x"], "business_line": ["all"] * 4,
                       "factor": ["traffic", "average_check", "traffic+conversion", "traffic"],
                       "improvement": [0.1, 0.1, 0.21, 0.1], "revenue_change": [100.0, 100.0, 210.0, 5.0]})
    fig = double_funnel_charts.profit_whatif_chart(wi, "ru")
    ax = fig.axes[0]
    draw(fig)
    assert [round(p.get_width()) for p in ax.patches] == [210, 100, 100]  # brand "all" only, largest first
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0].replace("\n", " ") == "Трафик + Конверсия (все вместе): +21%"
    assert labels[1] == "Трафик: +10%"


def test_journey_figures_names_every_segment():
    m = pd.concat([matrix_table(), matrix_table().assign(segment_type="persona", segment="Ценители")], ignore_index=True)
    emo = pd.DataFrame({
        "source": "interviews", "segment_type": ["overall", "persona"], "segment": ["all", "Ценители"],
        "stage": ["framing", "framing"], "stage_name": ["Осмысление", "Осмысление"], "stage_order": [0, 0],
        "mean": [0.5, 1.0], "lo": [0.1, 0.4], "hi": [0.9, 1.6], "n": [10, 5],
    })
    figs = stage_mapping_charts.journey_figures(m, emo, "ru", segment_names={"Ценители": "Ценители качества"})
    p = stage_mapping_charts.journey_figure_name("journey_matrix", "persona", "Ценители")
    assert set(figs) == {"journey_matrix_overall_all", "emotion_curve_overall_all", p,
                         stage_mapping_charts.journey_figure_name("emotion_curve", "persona", "Ценители")}
    assert p.startswith("journey_matrix_persona_") and p.isascii()
    assert "Карта пути клиента: Ценители качества" in all_text(figs[p])
    persona_curve = figs[stage_mapping_charts.journey_figure_name("emotion_curve", "persona", "Ценители")]
    assert "Ценители качества" in all_text(persona_curve) and "Все респонденты" in all_text(persona_curve)


def test_matrix_cells_read_code_ids_as_words():
    assert stage_mapping_charts._cell_lines("expert_content (10)", 14, 3, 6) == "• expert\n  content (10)"
