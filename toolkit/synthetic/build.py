"""How a case is put together: simulate, write the raw exports (or the parquet files), write truth.yml.

A case module (``clinic``, ``retail``) declares its planted numbers, vocabularies and export
layouts as module constants (read here and by ``truth.case_truth``) and provides:

- ``simulate(seed, scale) -> Simulated``: the random streams and the clean simulated data;
- ``write_sales_exports(raw, sim, scale) -> (counts, traffic)``: its own files of sales,
  customers, leads and web traffic (rows written per table, the traffic truth);
- optionally ``write_transcripts(raw, iv, rng) -> list[dict]``: interview transcripts.

The survey and interview workbooks, the persona key and ``truth.yml`` are written here, the
same way for every case.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from toolkit.synthetic.common import lead_ids, leads_canonical, write_parquet_case
from toolkit.synthetic.funnel import Leads
from toolkit.synthetic.interviews import simulate_interviews, write_interview_workbook
from toolkit.synthetic.reproducible import dump_yaml
from toolkit.synthetic.sales import Sales
from toolkit.synthetic.survey import write_survey_workbook
from toolkit.synthetic.truth import case_truth


# The independent random streams of a case, one per part (``reproducible.random_streams``):
# stream i is the same whatever follows it, so a case that does not use the last ones (no
# transcripts) draws exactly what it would with a shorter list.
CASE_STREAMS = ("leads", "sales", "codes", "people", "dirty", "traffic", "survey", "interviews", "transcripts")


@dataclass
class Simulated:
    """A case's clean simulated data.

    ``streams``: the case's independent random streams (``reproducible.random_streams``), some
    still to be used by the writers; ``codes``: each customer's code as the exports spell it;
    ``lead_customer``: per lead, the code of the customer it became ('' for none), or None when
    the case's leads are never linked to customers.
    """

    streams: dict[str, np.random.Generator]
    leads: Leads
    sales: Sales
    codes: np.ndarray
    lead_customer: np.ndarray | None = None


def build_case(m, out_dir, seed: int | None, scale: float, fmt: str) -> Path:
    """Write case module ``m`` into ``out_dir``: the raw exports (``fmt='native'``) or the clean
    canonical parquet files (``fmt='parquet'``), and ``truth.yml``; ``seed=None``: the case's default."""
    seed = m.DEFAULT_SEED if seed is None else int(seed)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    sim = m.simulate(seed, scale)
    if fmt == "parquet":
        ids = lead_ids(sim.leads.brand, sim.leads.seq, m.LEAD_ID_PREFIXES, m.LEAD_ID_WIDTH)
        leads_frame = leads_canonical(sim.leads, ids, m.FUNNELS, m.FUNNEL_STAGES, m.HISTORY_START, sim.lead_customer)
        counts = write_parquet_case(out_dir, sim.sales, m.SALES, sim.codes, m.BRANDS, leads_frame)
        truth = case_truth(m, seed, scale, fmt, sim.leads, sim.sales, sim.codes, None, None, None, counts)
        (out_dir / "truth.yml").write_text(dump_yaml(truth, m.TRUTH_HEADER), encoding="utf-8")
        return out_dir
    raw = out_dir / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    rs = sim.streams
    counts, traffic = m.write_sales_exports(raw, sim, scale)
    survey, survey_ids = write_survey_workbook(raw / "survey.xlsx", m.SURVEY, rs["survey"], m.FACTORS,
                                               m.SURVEY_TOUCHPOINTS, m.BRAND_NAME, m.SURVEY_WORKBOOK,
                                               m.DIRTY["survey"]["duplicate_id"])
    # the planted persona of every questionnaire, to score a segmentation (adjusted Rand index)
    pd.DataFrame({"respondent_id": survey_ids, "persona": survey.persona}).to_csv(
        out_dir / "truth_survey_personas.csv", index=False, lineterminator="\n")
    iv = simulate_interviews(m.INTERVIEWS, rs["interviews"])
    write_interview_workbook(raw / "interviews.xlsx", iv, m.INTERVIEWS, m.JOURNEY, rs["interviews"],
                             m.INTERVIEW_WORKBOOK, m.DIRTY["codes"], m.UNKNOWN_CODE_STAGES, m.OUT_OF_RANGE_SENTIMENTS)
    transcripts = m.write_transcripts(raw, iv, rs["transcripts"]) if hasattr(m, "write_transcripts") else None
    truth = case_truth(m, seed, scale, fmt, sim.leads, sim.sales, sim.codes, (traffic,), survey, iv, counts,
                       transcripts)
    (out_dir / "truth.yml").write_text(dump_yaml(truth, m.TRUTH_HEADER), encoding="utf-8")
    return out_dir
