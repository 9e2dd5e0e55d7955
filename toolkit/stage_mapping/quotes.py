"""One quote per segment: what the people of a persona (or business line) say in their own
words, for the persona card and the journey map's lens.

Rule (deterministic): among the segment's coded fragments of the kinds that say what drives
a person (``jtbd``, ``motivator``, ``choice_factor``, ``expectation``) and carry a quote, take
the code named by the most respondents of the segment (ties: code id); of its quotes, the one
of a respondent who names it, at least ``MIN_CHARS`` long, shortest first (ties: respondent id,
text). A segment with fewer than ``min_respondents`` interviewed people gets no quote (its
people could be recognised). Quotes are already masked of personal data by the loader.
"""

from __future__ import annotations

import pandas as pd

from toolkit.stage_mapping.journey import respondent_segments, segmented

DRIVER_TYPES = ("jtbd", "motivator", "choice_factor", "expectation")
MIN_CHARS = 30
COLUMNS = ["segment_type", "segment", "code", "respondents", "quote"]


def segment_quotes(codes: pd.DataFrame, respondents: pd.DataFrame | None = None, personas=None,
                   min_respondents: int = 5, code_types=DRIVER_TYPES) -> pd.DataFrame:
    """``segment_type, segment, code, respondents, quote``: one row per segment (module doc)."""
    if codes is None or not len(codes) or "quote" not in codes.columns:
        return pd.DataFrame(columns=COLUMNS)
    frag = codes.loc[codes["code_type"].astype(str).isin(code_types)].copy()
    frag["quote"] = frag["quote"].astype("string").str.strip()
    segs = respondent_segments(respondents, personas)
    frag = segmented(frag.astype({"respondent_id": "string"}), segs)
    size = segmented(codes[["respondent_id"]].drop_duplicates().astype("string"), segs)
    size = size.groupby(["segment_type", "segment"], observed=True)["respondent_id"].nunique()
    rows = []
    for (stype, seg), g in frag.groupby(["segment_type", "segment"], observed=True, sort=True):
        if size.get((stype, seg), 0) < min_respondents:
            continue
        n = g.groupby("code", observed=True)["respondent_id"].nunique()
        with_quote = g[g["quote"].fillna("").str.len() >= MIN_CHARS]
        if not len(with_quote):
            continue
        n = n[n.index.isin(set(with_quote["code"]))]
        code = sorted(n.index, key=lambda c: (-int(n[c]), str(c)))[0]
        q = with_quote[with_quote["code"] == code]
        q = q.assign(_len=q["quote"].str.len()).sort_values(["_len", "respondent_id", "quote"], kind="stable")
        rows.append({"segment_type": stype, "segment": seg, "code": str(code), "respondents": int(n[code]),
                     "quote": str(q["quote"].iloc[0])})
    return pd.DataFrame(rows, columns=COLUMNS)
