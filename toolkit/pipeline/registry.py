"""The step registry: the one list of the pipeline's steps, in data-flow order, with
what each step needs from earlier steps and what it makes.

Each step is a notebook ``notebooks/<notebook>.ipynb`` that calls ``<module>.run(ctx)``.
``needs`` and ``makes`` name run-folder artifacts (``artifacts/<name>.parquet`` or
``.json``; ``metrics/<part>`` for a metrics.json part): ``cjm run --only`` checks ``needs``
before it starts a kernel; the notebooks check them in their first cell; the report
declares what it reads. A step's module is named by string, so this registry imports no
step (it sits below them).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Step:
    notebook: str  # file stem, e.g. "04_loyalty"
    module: str  # the module whose run(ctx) the notebook calls
    title: str  # word catalog key of the step's name
    needs: tuple[str, ...] = ()  # artifacts of earlier steps; a missing optional input is not a need
    makes: tuple[str, ...] = ()

    @property
    def short(self) -> str:
        return self.notebook.split("_", 1)[1]

    @property
    def number(self) -> str:
        return self.notebook.split("_", 1)[0]


STEPS: tuple[Step, ...] = (
    Step("01_data_audit", "toolkit.data.step", "step.data_audit",
         needs=(),
         makes=("case.resolved.yml", "tables/*", "refunds", "quarantine", "quality", "metrics/case",
                "metrics/data_quality")),
    Step("02_segmentation", "toolkit.segmentation.step", "step.segmentation",
         needs=("tables/transactions",),
         makes=("rfm_segments", "persona_profile", "personas", "metrics/segments")),
    Step("03_stage_mapping", "toolkit.stage_mapping.step", "step.stage_mapping",
         needs=("tables/transactions",),
         makes=("journey_matrix", "emotion_curve", "segment_quotes", "funnel", "metrics/funnel")),
    Step("04_loyalty", "toolkit.loyalty.step", "step.loyalty",
         needs=("tables/transactions",),
         makes=("repeat_curve", "loyalty_visits", "gaps", "ltv", "metrics/loyalty", "metrics/cross_penetration",
                "metrics/staff_dependency")),
    Step("05_barriers", "toolkit.barriers.step", "step.barriers",
         needs=("tables/transactions",),
         makes=("barriers", "stage_losses", "barrier_sensitivity", "metrics/barriers", "metrics/money",
                "metrics/barrier_impact")),
    Step("06_double_funnel", "toolkit.double_funnel.step", "step.double_funnel",
         needs=("tables/transactions",),
         makes=("metrics/double_funnel", "metrics/profit", "metrics/roadmap", "profit_formula", "crm_spec")),
    Step("07_report", "toolkit.report.step", "step.report",
         needs=(),
         makes=("metrics.json", "report.docx")),
)


def step_named(name: str) -> list[Step]:
    """The steps a user names: "04", "4", "loyalty" or "04_loyalty" (several may match)."""
    key = name.strip().lower().replace("-", "_").replace(" ", "_")
    return [s for s in STEPS if key in (s.notebook, s.short, s.number, s.number.lstrip("0"))]
