"""Stage mapping (METHOD.md §§1, 3, 4): the journey matrix, the emotion curve and choice factors.

Terms used below
----------------
journey stage
    One column of the map: the case's ordered ``journey_stages`` (ids and display
    names in the case language; any list is allowed, the normative six by default).
stage model
    The case's stages with everything attached to them: each declared touchpoint's
    stage (``touchpoints[].stage``), each lead-funnel stage's journey stage
    (``funnel_stages[].journey_stage``), the declared choice factors.
    ``stage_problems`` lists whatever the model cannot place (a touchpoint with no
    stage, a code row whose stage is not a journey stage, an undeclared touchpoint
    named in the codes, a survey ``sat_`` column of a touchpoint with no stage...).
interviewed respondent
    A respondent with at least one row in the ``codes`` table (the coding sheet of
    the interviews). Survey-only respondents are not interviewed.
segment
    Whom a number describes: ``overall`` (segment ``all``: every interviewed
    respondent), ``persona`` (from the persona step's assignments, else the
    ``respondents.persona`` column) or ``business_line`` (``respondents.business_line``).
    A respondent without a persona is in ``overall`` only.
base
    The denominator of a share: the interviewed respondents of the segment.
mentioning respondents
    Distinct respondents with at least one coded fragment behind a cell or item
    (a respondent who names the same barrier three times counts once).
evidence level (one per matrix cell)
    ``none``: nobody is behind the cell (or no number exists for it);
    ``strong``: at least ``Parameters.evidence_min_respondents`` respondents (or
    records, for KPI cells) AND a confidence interval that says the finding is
    solid, by the kind of cell:

    - share cells (goals, touchpoints, motivators, barriers...: how many of the
      segment's interviewed respondents are behind it): the lower end of the Wilson
      interval of the share is at least ``STRONG_SHARE_FLOOR`` (0.10), i.e. with 95%
      confidence at least one in ten of the segment has it. (The interval's lower
      end, not its width: a Wilson interval is widest at 50%, so a width rule would
      rate 12 of 30 respondents weaker than 7 of 30.)
    - mean cells (emotions): the t-interval of the mean sentiment is at most
      ``MAX_MEAN_WIDTH`` (0.30) of the -2..+2 scale wide, i.e. 1.2 points.
    - KPI cells (rates from records, given with ``n`` and ``ci``): the interval is
      at most ``MAX_RATE_WIDTH`` (0.10, ten percentage points) wide; a KPI whose
      interval is not a proportion, or that comes without one, is ``partial``.

    ``partial``: anything in between (few respondents, a wide interval, a KPI
    string without its sample size). So a cell can never claim ``strong`` below
    the minimum number of respondents.
sentiment of a respondent at a stage
    The mean ``sentiment`` (-2..+2) of that respondent's *emotion* fragments at the
    stage (``code_type == 'emotion'``: what they felt, not what they complained
    about; barrier fragments are negative by definition and would drag every stage
    with many barriers down twice). When the coding sheet has no emotion fragment
    with a sentiment at all, every fragment with a sentiment is used instead
    (``basis`` says which). The stage's emotion is then the mean over respondents,
    with a t-interval (``toolkit.core.stats.mean_interval``), so a talkative respondent
    weighs no more than a quiet one.
survey emotion
    Touchpoint satisfaction ``sat_<touchpoint>`` rescaled linearly from the
    survey's scale [lo, hi] onto -2..+2: ``-2 + 4 * (x - lo) / (hi - lo)``
    (lo -> -2, midpoint -> 0, hi -> +2). Each column belongs to the stage of its
    touchpoint; a respondent's stage value is the mean of their rescaled answers at
    that stage, then the mean over respondents with a t-interval.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from toolkit.core.stats import mean_interval
from toolkit.coding.codebook import read_codebook
from toolkit.core.errors import CaseError
from toolkit.core.fmt import fmt_signed
from toolkit.core.words import word
from toolkit.core.vocabulary import actions_for, library_names
from toolkit.core.stages import ROWS, ROW_OF_CODE_TYPE, channel_label, row_label, EVIDENCE_MARKS, MAX_MEAN_WIDTH, MAX_RATE_WIDTH, SENTIMENT_RANGE, OVERALL, norm_key, column, evidence_level, share_evidence, StageModel, stage_model, match_touchpoints, match_factors
from toolkit.core.stats import share_with_ci


def stage_problems(
    model,
    codes: pd.DataFrame | None = None,
    leads: pd.DataFrame | None = None,
    survey: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Everything the stage model cannot place, one row per (table, column, value).

    Columns: ``table, column, value, rows, problem``. Reported: declared touchpoints
    with no stage; funnel stages pointing at an unknown journey stage; codes rows
    with an unknown stage (normally quarantined by the loader already); touchpoints
    named in the codes that the case does not declare (they still appear in the
    matrix, at the stage of the fragment, but cannot be rated or joined to the
    survey); leads whose ``stage_reached`` is not a funnel stage; survey ``sat_``
    columns naming an undeclared touchpoint or one without a stage (left out of the
    emotion curve).
    """
    model = stage_model(model)
    stages = set(model.stage_ids())
    out = []
    tp = model.touchpoints
    for t in tp.loc[tp["stage"].isna(), "touchpoint"]:
        out.append(("case", "touchpoints.stage", t, 1, "touchpoint has no journey stage"))
    fn = model.funnel
    for f, j in fn.loc[~fn["journey_stage"].isin(stages), ["funnel_stage", "journey_stage"]].itertuples(index=False):
        out.append(("case", "funnel_stages.journey_stage", f"{f} -> {j}", 1, "funnel stage maps to an unknown journey stage"))
    if codes is not None and len(codes):
        bad = codes.loc[~codes["stage"].isin(stages), "stage"].astype("string").fillna("(blank)")
        for value, n in bad.value_counts(sort=False).sort_index().items():
            out.append(("codes", "stage", value, int(n), "not a journey stage of the case"))
        named = column(codes, "touchpoint").astype("string")
        named = named[named.notna() & (named.str.strip() != "")]
        if len(named):
            unmatched = named[match_touchpoints(named, model).isna()]
            for value, n in unmatched.value_counts(sort=False).sort_index().items():
                out.append(("codes", "touchpoint", value, int(n), "touchpoint not declared in case.yml"))
    if leads is not None and len(leads) and len(fn):
        bad = leads.loc[~leads["stage_reached"].isin(set(fn["funnel_stage"])), "stage_reached"]
        for value, n in bad.astype("string").fillna("(blank)").value_counts(sort=False).sort_index().items():
            out.append(("leads", "stage_reached", value, int(n), "not a funnel stage of the case"))
    if survey is not None:
        staged = dict(zip(tp["touchpoint"], tp["stage"]))
        for c in sorted(c for c in survey.columns if c.startswith("sat_")):
            t = c[4:]
            if t not in staged:
                out.append(("survey", c, t, int(survey[c].notna().sum()), "touchpoint not declared in case.yml"))
            elif pd.isna(staged[t]):
                out.append(("survey", c, t, int(survey[c].notna().sum()), "touchpoint has no journey stage"))
    return pd.DataFrame(out, columns=["table", "column", "value", "rows", "problem"])


def code_stage_map(codes: pd.DataFrame, model) -> pd.DataFrame:
    """Where each code lives: one row per (code_type, code, stage) with fragments and respondents.

    ``main_stage`` marks the stage where the code has most respondents (ties: the
    earlier stage), i.e. the stage a consultant would file it under.
    """
    model = stage_model(model)
    order = model.stage_order()
    c = codes.loc[codes["stage"].isin(order)]
    g = (
        c.groupby(["code_type", "code", "stage"], observed=True, sort=True)
        .agg(fragments=("respondent_id", "size"), respondents=("respondent_id", "nunique"))
        .reset_index()
    )
    g["stage_order"] = g["stage"].map(order).astype(int)
    g = g.sort_values(["code_type", "code", "respondents", "stage_order"], ascending=[True, True, False, True], kind="stable")
    g["main_stage"] = ~g.duplicated(["code_type", "code"])
    return g.sort_values(["code_type", "code", "stage_order"], kind="stable").reset_index(drop=True)


# -- segments ---------------------------------------------------------------------


def respondent_segments(respondents: pd.DataFrame | None = None, personas=None) -> pd.DataFrame:
    """Long table ``respondent_id, segment_type, segment`` (persona and business line memberships).

    ``personas``: the persona step's assignments (DataFrame ``respondent_id, persona``
    or a Series indexed by respondent id); where given it overrides
    ``respondents.persona``. The overall segment is not listed (everyone is in it).
    """
    parts = []
    persona = pd.Series(dtype="string")
    if respondents is not None and "persona" in respondents.columns:
        persona = respondents.set_index("respondent_id")["persona"].astype("string")
    if personas is not None:
        p = personas
        if isinstance(p, pd.DataFrame):
            p = p.set_index("respondent_id")["persona"]
        p = p.astype("string")
        p.index = p.index.astype("string")
        persona = p.combine_first(persona) if len(persona) else p
    persona = persona.dropna()
    persona = persona[persona.str.strip() != ""]
    if len(persona):
        parts.append(
            pd.DataFrame({"respondent_id": persona.index.astype("string"), "segment_type": "persona", "segment": persona.values})
        )
    if respondents is not None and "business_line" in respondents.columns:
        bl = respondents[["respondent_id", "business_line"]].dropna()
        parts.append(
            pd.DataFrame(
                {"respondent_id": bl["respondent_id"].astype("string"), "segment_type": "business_line", "segment": bl["business_line"].astype("string")}
            )
        )
    if not parts:
        return pd.DataFrame({"respondent_id": pd.Series(dtype="string"), "segment_type": pd.Series(dtype="string"), "segment": pd.Series(dtype="string")})
    out = pd.concat(parts, ignore_index=True).drop_duplicates(["respondent_id", "segment_type"])
    return out.astype("string").reset_index(drop=True)


def segmented(df: pd.DataFrame, segments: pd.DataFrame) -> pd.DataFrame:
    """Each row of ``df`` once for the overall segment and once per segment its respondent is in."""
    overall = df.assign(segment_type=OVERALL[0], segment=OVERALL[1])
    if not len(segments):
        return overall.astype({"segment_type": "string", "segment": "string"})
    seg = df.merge(segments, on="respondent_id", how="inner")
    out = pd.concat([overall, seg], ignore_index=True)
    return out.astype({"segment_type": "string", "segment": "string"})


def _segment_key(df: pd.DataFrame) -> pd.Series:
    rank = df["segment_type"].map({"overall": 0, "persona": 1, "business_line": 2}).fillna(3)
    return rank


# -- journey matrix ---------------------------------------------------------------


def _item_cells(items: pd.DataFrame, max_items: int, keys: list[str]) -> pd.DataFrame:
    """Cell text from item rows (keys + item, label, respondent_id): 'label (n); ...' by n desc."""
    if not len(items):
        return pd.DataFrame(columns=[*keys, "text", "respondents"])
    per_item = (
        items.groupby([*keys, "item", "label"], observed=True, sort=True)["respondent_id"].nunique().rename("n").reset_index()
    )
    per_item = per_item.sort_values([*keys, "n", "label"], ascending=[True] * len(keys) + [False, True], kind="stable")
    top = per_item.groupby(keys, observed=True, sort=False).head(max_items)
    top = top.assign(piece=top["label"].astype(str) + " (" + top["n"].astype(str) + ")")
    text = top.groupby(keys, observed=True, sort=True)["piece"].agg("; ".join).rename("text")
    n = items.groupby(keys, observed=True, sort=True)["respondent_id"].nunique().rename("respondents")
    return pd.concat([text, n], axis=1).reset_index()


def case_code_labels(case) -> dict[str, str]:
    """code -> display label from the case's codebook (``sources.transcripts.codebook``);
    empty when the case has none or it cannot be read (labels are cosmetic)."""
    src = case.sources.transcripts
    if src is None or not src.codebook:
        return {}
    try:
        book = read_codebook(case.path(src.codebook), case)
    except CaseError:  # an unreadable codebook means raw code ids are shown; cjm code reports it
        return {}
    return {c.code: c.label for c in book.codes.values() if c.label}


def code_labels(codes: pd.Series, library: Mapping | None = None, language: str = "ru", labels: Mapping | None = None) -> pd.Series:
    """Display label of each code: ``labels[code]``, else the library entry's name, else the code."""
    out = codes.astype("string")
    found = pd.Series(pd.NA, index=codes.index, dtype="string")
    if library:
        names = library_names(library, language)
        found = codes.map(norm_key, na_action="ignore").map(names).astype("string")
    if labels:
        found = codes.map(labels).astype("string").combine_first(found)
    return found.combine_first(out)


def journey_matrix(
    codes: pd.DataFrame,
    model,
    respondents: pd.DataFrame | None = None,
    personas=None,
    kpis: Mapping | None = None,
    library: Mapping | None = None,
    labels: Mapping | None = None,
    max_items: int = 5,
    min_segment_size: int | None = None,
    emotion_types: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The CJM table in tidy form: one row per (segment, stage, matrix row).

    Rows (``ROWS``) and what fills them at a stage:

    - goals / expectations / motivators / choice_factors / barriers: the codes of
      type jtbd / expectation / motivator / choice_factor / barrier at the stage,
      'label (n)' with n = mentioning respondents, top ``max_items`` by n;
    - touchpoints: the declared touchpoints of the stage (with their channel,
      online/offline) plus every touchpoint the interviews name at the stage
      (``touchpoint`` code type or the ``touchpoint`` column), with n;
    - emotions: mean sentiment at the stage (emotion fragments, or ``emotion_types``;
      respondent means first, then the mean over respondents, t-interval, n) and
      the top emotion codes;
    - opportunities: the respondents' ideas at the stage plus the library's actions
      for the stage's top barriers (``library``, see ``toolkit.barriers.ranking``);
      respondents = those behind the ideas or behind a barrier that has actions;
    - kpis: ``kpis[stage]``, a list of strings or of dicts ``{text, n, ci: [lo, hi]}``
      computed elsewhere (funnel, sales; e.g. ``toolkit.stage_mapping.funnel.stage_kpis``),
      the same for every segment; n counts records (leads, customers), not people.

    Columns: ``segment_type, segment, segment_respondents, stage, stage_name,
    stage_order, row, row_order, text, respondents,
    base, share, ci_lo, ci_hi, width, unit, evidence``. Evidence per cell as in the
    module docstring (width: the interval width on the cell's scale: shares and
    rates as fractions, emotions as a fraction of the -2..+2 range). Every stage x row appears
    for every segment (empty cells: text '', respondents 0, evidence ``none``).
    Segments (other than overall) with fewer interviewed respondents than
    ``min_segment_size`` are left out when it is given.
    """
    model = stage_model(model)
    lang = model.language
    order = model.stage_order()
    codes = codes.loc[codes["stage"].isin(order)].copy()
    codes["respondent_id"] = codes["respondent_id"].astype("string")
    seg = segmented(codes, respondent_segments(respondents, personas))
    keys = ["segment_type", "segment", "stage", "row"]

    base = seg.groupby(["segment_type", "segment"], observed=True, sort=True)["respondent_id"].nunique().rename("base")
    if OVERALL not in base.index:  # no interviews: the map still shows declared touchpoints and KPIs
        base = pd.concat([pd.Series([0], index=pd.MultiIndex.from_tuples([OVERALL], names=base.index.names), name="base"), base])
    if min_segment_size:
        keep = (base >= min_segment_size) | (base.index.get_level_values(0) == OVERALL[0])
        base = base[keep]
        seg = seg.merge(base.reset_index()[["segment_type", "segment"]], on=["segment_type", "segment"])

    seg = seg.assign(row=seg["code_type"].map(ROW_OF_CODE_TYPE).astype("string"))
    # display labels: the library's names for barriers, the case's names for choice factors
    label = code_labels(seg["code"], None, lang, labels)
    is_bar = seg["code_type"] == "barrier"
    label = label.where(~is_bar, code_labels(seg["code"], library, lang, labels))
    fid = match_factors(seg["code"].astype("string"), model)
    fname = fid.map(dict(zip(model.factors["factor"], model.factors["name"]))).astype("string")
    label = label.where(~((seg["code_type"] == "choice_factor") & fname.notna()), fname)
    seg = seg.assign(item=seg["code"].astype("string"), label=label)

    # plain code rows (touchpoints, emotions and opportunities are built below)
    plain = seg.loc[seg["row"].isin(["goals", "expectations", "motivators", "choice_factors", "barriers"])]
    cells = [_item_cells(plain, max_items, keys)]

    # touchpoints: declared at the stage + named in the interviews at the stage
    tp = model.touchpoints
    tp_name = dict(zip(tp["touchpoint"], tp["name"]))
    tp_channel = dict(zip(tp["touchpoint"], tp["channel"]))
    named = pd.concat(
        [
            seg.loc[seg["code_type"] == "touchpoint"].assign(raw=lambda d: d["code"]),
            seg.assign(raw=column(seg, "touchpoint")).loc[lambda d: d["raw"].notna() & (d["raw"].astype("string").str.strip() != "")],
        ],
        ignore_index=True,
    )
    named = named.drop_duplicates(["segment_type", "segment", "respondent_id", "stage", "raw"])
    tid = match_touchpoints(named["raw"].astype("string"), model)
    named = named.assign(row="touchpoints", item=tid.combine_first(named["raw"].astype("string")))

    def _tp_label(ids: pd.Series) -> pd.Series:
        name = ids.map(tp_name).astype("string").combine_first(ids.astype("string"))
        ch = ids.map(tp_channel).map(lambda c: channel_label(c, lang), na_action="ignore").astype("string")
        return (name + (" [" + ch + "]").fillna("")).astype("string")

    named = named.assign(label=_tp_label(named["item"]))
    tp_cells = _item_cells(named, max_items, keys)
    declared = tp.dropna(subset=["stage"]).assign(label=lambda d: _tp_label(d["touchpoint"]))
    seg_list = base.reset_index()[["segment_type", "segment"]]
    decl = seg_list.merge(declared[["touchpoint", "stage", "label"]], how="cross")
    # declared touchpoints nobody named in the segment are listed with (0)
    named_keys = named[["segment_type", "segment", "stage", "item"]].drop_duplicates().rename(columns={"item": "touchpoint"})
    key4 = ["segment_type", "segment", "stage", "touchpoint"]
    named_keys = named_keys.astype({k: "string" for k in key4})
    decl = decl.astype({k: "string" for k in key4})
    decl = decl.merge(named_keys, on=["segment_type", "segment", "stage", "touchpoint"], how="left", indicator=True)
    decl = decl.loc[decl["_merge"] == "left_only"].drop(columns="_merge")
    decl_text = (
        decl.assign(piece=decl["label"] + " (0)")
        .groupby(["segment_type", "segment", "stage"], sort=True)["piece"]
        .agg("; ".join)
        .rename("decl")
        .reset_index()
        .assign(row="touchpoints")
    )
    tp_cells = tp_cells.merge(decl_text, on=keys, how="outer")
    tp_cells["text"] = (
        tp_cells["text"].astype("string").fillna("")
        + np.where(tp_cells["text"].notna() & tp_cells["decl"].notna(), "; ", "")
        + tp_cells["decl"].astype("string").fillna("")
    )
    tp_cells["respondents"] = tp_cells["respondents"].fillna(0)
    cells.append(tp_cells.drop(columns="decl"))

    # emotions: mean sentiment (respondent first) + top emotion codes
    emo = _sentiment_by_stage(emotion_fragments(seg, emotion_types)[0], model.confidence)
    emo_codes = _item_cells(seg.loc[seg["code_type"] == "emotion"], max_items, keys)
    emo = emo.merge(emo_codes.rename(columns={"text": "codes_text", "respondents": "emo_n"}), on=keys, how="outer")
    mean_txt = np.where(
        emo["n"].fillna(0) > 0,
        [f"{fmt_signed(m, lang)} [{fmt_signed(lo, lang)}; {fmt_signed(hi, lang)}], n={int(n) if n == n else 0}"
         for m, lo, hi, n in zip(emo["mean"], emo["lo"], emo["hi"], emo["n"])],
        "",
    )
    emo["text"] = [
        "; ".join(p for p in (a, b) if isinstance(p, str) and p) for a, b in zip(mean_txt, emo["codes_text"].astype(object))
    ]
    emo["respondents"] = np.fmax(emo["n"].fillna(0).to_numpy(float), emo["emo_n"].fillna(0).to_numpy(float))
    emo["width"] = (emo["hi"] - emo["lo"]) / SENTIMENT_RANGE
    emo["unit"] = "respondents"
    cells.append(emo[[*keys, "text", "respondents", "width", "unit"]])

    # opportunities: ideas + library actions for the stage's top barriers
    cells.append(_opportunity_cells(seg, library, lang, max_items, keys))

    # KPIs of the stage (same for every segment)
    if kpis:
        cells.append(_kpi_cells(kpis, seg_list, model))

    out = pd.concat([c for c in cells if len(c)] or [pd.DataFrame(columns=[*keys, "text", "respondents"])], ignore_index=True)
    grid = seg_list.merge(model.stages[["stage"]], how="cross").merge(pd.DataFrame({"row": list(ROWS)}), how="cross")
    out = grid.merge(out, on=keys, how="left")
    out = out.merge(base.reset_index(), on=["segment_type", "segment"], how="left")
    out["text"] = out["text"].astype("string").fillna("")
    out["respondents"] = out["respondents"].fillna(0).astype(float)
    out["unit"] = out["unit"].astype("string").fillna("respondents") if "unit" in out else "respondents"
    is_share = out["unit"] == "respondents"
    sh = share_with_ci(out["respondents"].where(is_share, np.nan), out["base"].where(is_share, np.nan), model.confidence)
    out["share"] = sh["share"].to_numpy()
    out["ci_lo"] = sh["ci_lo"].to_numpy()
    out["ci_hi"] = sh["ci_hi"].to_numpy()
    if "width" not in out:
        out["width"] = np.nan
    share_rows = is_share & (out["row"] != "emotions")
    out["width"] = np.where(share_rows, out["ci_hi"] - out["ci_lo"], out["width"])
    minimum = model.evidence_min_respondents
    out["evidence"] = np.select(
        [share_rows, out["row"] == "emotions"],
        [share_evidence(out["respondents"], out["ci_lo"], minimum),
         evidence_level(out["respondents"], out["width"], minimum, MAX_MEAN_WIDTH)],
        evidence_level(out["respondents"], out["width"], minimum, MAX_RATE_WIDTH),
    )
    # a KPI given as a bare string (no n) is partial, not none; a declared touchpoint nobody
    # named stays none
    out.loc[(out["evidence"] == "none") & (out["text"] != "") & (out["unit"] == "records"), "evidence"] = "partial"
    out.loc[(out["evidence"] == "partial") & (out["text"] == ""), "evidence"] = "none"
    out["stage_name"] = out["stage"].map(model.stage_names())
    out["stage_order"] = out["stage"].map(order).astype(int)
    out["row_order"] = out["row"].map({r: i for i, r in enumerate(ROWS)}).astype(int)
    out = out.rename(columns={"base": "segment_respondents"})
    out["base"] = out["segment_respondents"]
    out = out.assign(_seg=_segment_key(out)).sort_values(
        ["_seg", "segment", "row_order", "stage_order"], kind="stable"
    )
    cols = [
        "segment_type", "segment", "segment_respondents", "stage", "stage_name", "stage_order", "row", "row_order",
        "text", "respondents", "base", "share", "ci_lo", "ci_hi", "width", "unit", "evidence",
    ]
    return out[cols].reset_index(drop=True)


def emotion_fragments(codes: pd.DataFrame, code_types: Sequence[str] | None = None) -> tuple[pd.DataFrame, str]:
    """Fragments behind the emotion curve and the basis used (see the module docstring).

    ``code_types`` given: those types. Otherwise the emotion fragments with a
    sentiment (``basis = 'emotion'``), or every fragment with a sentiment when
    there is none (``basis = 'all'``).
    """
    sent = pd.to_numeric(column(codes, "sentiment"), errors="coerce")
    with_sent = codes.loc[sent.notna()]
    if code_types is not None:
        return with_sent.loc[with_sent["code_type"].isin(list(code_types))], ",".join(code_types)
    emo = with_sent.loc[with_sent["code_type"] == "emotion"]
    if len(emo):
        return emo, "emotion"
    return with_sent, "all"


def _sentiment_by_stage(seg: pd.DataFrame, confidence: float) -> pd.DataFrame:
    """Mean sentiment per (segment, stage): respondent means first, then t-interval over respondents."""
    s = seg.assign(sentiment=pd.to_numeric(column(seg, "sentiment"), errors="coerce").astype(float)).dropna(subset=["sentiment"])
    per_resp = s.groupby(["segment_type", "segment", "stage", "respondent_id"], observed=True, sort=True)["sentiment"].mean()
    rows = []
    for (st, sg, stage), vals in per_resp.groupby(level=[0, 1, 2], observed=True, sort=True):
        m, lo, hi, n = mean_interval(vals.to_numpy(), confidence)
        rows.append((st, sg, stage, m, lo, hi, n))
    out = pd.DataFrame(rows, columns=["segment_type", "segment", "stage", "mean", "lo", "hi", "n"])
    out["row"] = "emotions"
    return out


def _opportunity_cells(seg: pd.DataFrame, library, lang: str, max_items: int, keys: list[str]) -> pd.DataFrame:
    ideas = seg.loc[seg["code_type"] == "idea"]
    idea_cells = _item_cells(ideas, max_items, keys)
    parts = []
    if len(idea_cells):
        parts.append(idea_cells.assign(kind=0))
    if library:
        bar = seg.loc[seg["code_type"] == "barrier"]
        if len(bar):
            per = bar.groupby(["segment_type", "segment", "stage", "code"], observed=True, sort=True)["respondent_id"].nunique().rename("n").reset_index()
            per = per.sort_values(["segment_type", "segment", "stage", "n", "code"], ascending=[True, True, True, False, True], kind="stable")
            per["actions"] = [actions_for(c, library, lang) for c in per["code"]]
            per = per.loc[per["actions"].map(len) > 0]
            top = per.groupby(["segment_type", "segment", "stage"], sort=False).head(3)
            if len(top):
                top = top.assign(piece=top["actions"].map(lambda a: a[0]))
                act_text = top.groupby(["segment_type", "segment", "stage"], sort=True)["piece"].agg(lambda s: " | ".join(dict.fromkeys(s)))
                with_actions = bar.merge(top[["segment_type", "segment", "stage", "code"]], on=["segment_type", "segment", "stage", "code"])
                parts.append(
                    pd.DataFrame(act_text).reset_index().assign(row="opportunities", kind=1).rename(columns={"piece": "text"})
                )
                # respondents behind the actions: those naming a barrier that has actions
                ideas = pd.concat([ideas, with_actions], ignore_index=True)
    if not parts:
        return pd.DataFrame(columns=[*keys, "text", "respondents"])
    prefix = {0: word("map.ideas_prefix", lang), 1: word("map.actions_prefix", lang)}
    txt = pd.concat(parts, ignore_index=True)
    txt["text"] = txt["kind"].map(prefix) + txt["text"].astype(str)
    txt = txt.sort_values([*keys, "kind"], kind="stable").groupby(keys, sort=True)["text"].agg("\n".join).reset_index()
    n = ideas.groupby(keys[:-1], observed=True, sort=True)["respondent_id"].nunique().rename("respondents").reset_index().assign(row="opportunities")
    return txt.merge(n, on=keys, how="left")


def _kpi_cells(kpis: Mapping, seg_list: pd.DataFrame, model: StageModel) -> pd.DataFrame:
    rows = []
    for stage, items in kpis.items():
        if stage not in model.stage_order():
            continue
        texts, ns, widths = [], [], []
        for it in items or []:
            if isinstance(it, Mapping):
                texts.append(str(it.get("text", "")))
                n = it.get("n")
                ns.append(float(n) if n is not None else np.nan)
                ci = it.get("ci")
                # only a proportion's interval can be judged (rates: at most ten points wide)
                is_rate = ci is not None and None not in ci and 0 <= float(ci[0]) <= float(ci[1]) <= 1
                widths.append(float(ci[1]) - float(ci[0]) if is_rate else np.nan)
            else:
                texts.append(str(it))
                ns.append(np.nan)
                widths.append(np.nan)
        if not texts:
            continue
        # the cell is as strong as its best-supported KPI
        best = int(np.nanargmax(ns)) if np.isfinite(ns).any() else 0
        rows.append((stage, "kpis", "; ".join(texts), ns[best], widths[best], "records"))
    kp = pd.DataFrame(rows, columns=["stage", "row", "text", "respondents", "width", "unit"])
    return seg_list.merge(kp, how="cross")


def pivot_journey_matrix(
    matrix: pd.DataFrame,
    segment: str = "all",
    segment_type: str | None = None,
    language: str = "ru",
    marks: bool = True,
) -> pd.DataFrame:
    """The matrix of one segment for display: rows = matrix rows (labels in ``language``),
    columns = stage names in case order; each cell is its text, followed by the
    evidence mark (● strong, ◐ partial, ○ none) and n when ``marks``."""
    m = matrix.loc[matrix["segment"] == segment]
    if segment_type is not None:
        m = m.loc[m["segment_type"] == segment_type]
    m = m.sort_values(["row_order", "stage_order"], kind="stable")
    text = m["text"].astype(str)
    if marks:
        n = m["respondents"].fillna(0).astype(int).astype(str)
        text = text + " " + m["evidence"].map(EVIDENCE_MARKS) + np.where(m["unit"] == "records", " N=", " n=") + n
    label = m["row"].map(lambda r: row_label(r, language))
    out = pd.DataFrame({"row": label.to_numpy(), "stage": m["stage_name"].to_numpy(), "text": text.to_numpy()})
    rows = list(dict.fromkeys(label))
    stages = list(dict.fromkeys(m["stage_name"]))
    return out.pivot(index="row", columns="stage", values="text").reindex(index=rows, columns=stages)


# -- emotion curve ----------------------------------------------------------------


