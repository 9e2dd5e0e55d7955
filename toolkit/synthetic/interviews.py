"""Coded interviews: respondents, coded fragments with planted frequencies, and transcripts.

Definitions (also in ``truth.yml``):

- a code's *share* is the share of interview respondents with at least one fragment of that
  code; the generator plants it exactly: ``round(share * respondents)`` respondents are drawn
  (without replacement, weighted by persona) to mention each code;
- an *emotion* code has one fixed sentiment and one fragment per mentioning respondent, so the
  *emotion curve* (mean sentiment of emotion fragments per stage) is planted exactly;
- barrier fragments carry sentiment -1/-2, motivator fragments +1/+2; 10% of mentions of a
  non-emotion code produce a second fragment (respondent shares are unaffected).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from toolkit.synthetic.dirty import add_dirty_codes
from toolkit.synthetic.writers import Sheet, write_xlsx


@dataclass(frozen=True)
class CodeSpec:
    code: str
    code_type: str
    stage: str  # journey stage id
    share: float
    sentiments: tuple[int, ...]
    quotes: tuple[str, ...]
    label: str = ""
    touchpoint: str | None = None  # as written in the coding sheet
    factor_kind: str | None = None
    level: str | None = None
    persona_weight: dict[str, float] = field(default_factory=dict)
    keywords: tuple[str, ...] = ()  # base forms, for the codebook
    phrases: tuple[str, ...] = ()
    negations: tuple[str, ...] = ()  # sentences mentioning the topic negated: NOT this code


@dataclass(frozen=True)
class InterviewSpec:
    respondents: int
    id_prefix: str
    personas: tuple[tuple[str, str, float], ...]  # (persona id, label in the sheet, share)
    brands: dict[str, tuple[tuple[str, float], ...]]  # persona -> (brand label, weight)
    lines: dict[str, tuple[tuple[str, float], ...]]  # brand label -> (line label, weight)
    client_share: float
    female_share: float
    age_range: tuple[int, int]
    codes: tuple[CodeSpec, ...]
    stages: tuple[str, ...]  # journey stage ids in order
    repeat_fragment_share: float = 0.10
    age_by_line: dict[str, tuple[int, int]] = field(default_factory=dict)  # line label -> age range


@dataclass
class Interviews:
    resp_id: np.ndarray
    persona: np.ndarray  # persona id
    persona_label: np.ndarray
    brand: np.ndarray
    line: np.ndarray
    is_client: np.ndarray
    female: np.ndarray
    age: np.ndarray
    # fragments
    f_resp: np.ndarray  # respondent index
    f_code: np.ndarray  # index into spec.codes
    f_sentiment: np.ndarray
    f_quote: np.ndarray
    mentions: dict[str, np.ndarray]  # code -> respondent indices mentioning it


def _exact_counts(shares: np.ndarray, n: int) -> np.ndarray:
    """Integer counts summing to n, as close as possible to shares * n (largest remainder)."""
    raw = shares / shares.sum() * n
    base = np.floor(raw).astype(int)
    rest = n - base.sum()
    order = np.argsort(-(raw - base), kind="stable")
    base[order[:rest]] += 1
    return base


def simulate_interviews(spec: InterviewSpec, rng: np.random.Generator) -> Interviews:
    n = spec.respondents
    counts = _exact_counts(np.array([p[2] for p in spec.personas]), n)
    persona = np.repeat(np.arange(len(spec.personas)), counts)
    persona = persona[rng.permutation(n)]
    pid = np.array([p[0] for p in spec.personas], dtype=object)[persona]
    plabel = np.array([p[1] for p in spec.personas], dtype=object)[persona]
    brand = np.empty(n, dtype=object)
    line = np.empty(n, dtype=object)
    for p in np.unique(pid):
        sel = np.flatnonzero(pid == p)
        opts = spec.brands[p]
        w = np.array([o[1] for o in opts])
        brand[sel] = np.array([o[0] for o in opts], dtype=object)[rng.choice(len(opts), sel.size, p=w / w.sum())]
    for b in np.unique(brand):
        sel = np.flatnonzero(brand == b)
        opts = spec.lines[b]
        w = np.array([o[1] for o in opts])
        line[sel] = np.array([o[0] for o in opts], dtype=object)[rng.choice(len(opts), sel.size, p=w / w.sum())]
    is_client = rng.random(n) < spec.client_share
    female = rng.random(n) < spec.female_share
    age = rng.integers(spec.age_range[0], spec.age_range[1] + 1, n)
    for label, (lo, hi) in spec.age_by_line.items():
        sel = line == label
        age[sel] = lo + (age[sel] - spec.age_range[0]) % (hi - lo + 1)

    f_resp, f_code, f_sent, f_quote = [], [], [], []
    mentions = {}
    for ci, c in enumerate(spec.codes):
        k = int(round(c.share * n))
        w = np.array([c.persona_weight.get(p, 1.0) for p in pid])
        who = np.sort(rng.choice(n, size=k, replace=False, p=w / w.sum()))
        mentions[c.code] = who
        if c.code_type != "emotion":
            extra = who[rng.random(k) < spec.repeat_fragment_share]
            who_frag = np.sort(np.concatenate([who, extra]), kind="stable")
        else:
            who_frag = who
        m = who_frag.size
        f_resp.append(who_frag)
        f_code.append(np.full(m, ci))
        f_sent.append(np.array(c.sentiments)[rng.integers(0, len(c.sentiments), m)])
        # quotes rotate so that every written quote (incl. the tricky ones) is used
        f_quote.append(np.array(c.quotes, dtype=object)[np.arange(m) % len(c.quotes)])
    f_resp = np.concatenate(f_resp)
    f_code = np.concatenate(f_code)
    f_sent = np.concatenate(f_sent)
    f_quote = np.concatenate(f_quote)
    stage_rank = {s: i for i, s in enumerate(spec.stages)}
    f_stage = np.array([stage_rank[spec.codes[c].stage] for c in f_code])
    order = np.lexsort((f_code, f_stage, f_resp))
    ids = np.array([f"{spec.id_prefix}{i + 1:02d}" for i in range(n)], dtype=object)
    return Interviews(ids, pid, plabel, brand, line, is_client, female, age,
                      f_resp[order], f_code[order], f_sent[order], f_quote[order], mentions)


@dataclass(frozen=True)
class TranscriptBank:
    """Language material of transcripts: labels, stage questions, filler, openings."""

    interviewer: str
    respondent: str
    questions: dict[str, tuple[str, ...]]  # stage id -> interviewer questions
    fillers: tuple[str, ...]  # neutral sentences that mention no code
    opening: tuple[str, str]  # (interviewer greeting, respondent reply)
    closing: tuple[str, str]
    title: str  # format string with {rid}


def build_transcript(iv: Interviews, r: int, spec: InterviewSpec, bank: TranscriptBank,
                     rng: np.random.Generator) -> tuple[list[tuple[str, str]], list[str]]:
    """Turns of respondent ``r``'s interview and the codes it contains (the hand coding).

    For each stage the interviewer asks a question; the respondent answers with the quotes
    of their fragments at that stage, neutral filler, and sometimes a *negated* sentence about
    a code they do NOT have (a trap for keyword coding: "совсем не дорого" is not high_price).
    """
    codes = spec.codes
    mine = iv.f_resp == r
    present = sorted({codes[c].code for c in iv.f_code[mine]})
    absent_with_neg = [c for c in codes if c.code not in present and c.negations]
    turns = [(bank.interviewer, bank.opening[0]), (bank.respondent, bank.opening[1])]
    neg_order = rng.permutation(len(absent_with_neg))
    neg_i = 0
    for s in spec.stages:
        at = np.flatnonzero(mine & np.array([codes[c].stage == s for c in iv.f_code]))
        qs = bank.questions[s]
        turns.append((bank.interviewer, qs[int(rng.integers(0, len(qs)))]))
        parts = []
        if rng.random() < 0.5:
            parts.append(bank.fillers[int(rng.integers(0, len(bank.fillers)))])
        parts += [str(q) for q in iv.f_quote[at]]
        stage_negs = [absent_with_neg[j] for j in neg_order if absent_with_neg[j].stage == s]
        if stage_negs and (rng.random() < 0.6 or not at.size):
            c = stage_negs[0]
            parts.append(c.negations[neg_i % len(c.negations)])
            neg_i += 1
        if not parts:
            parts.append(bank.fillers[int(rng.integers(0, len(bank.fillers)))])
        turns.append((bank.respondent, " ".join(parts)))
    turns += [(bank.interviewer, bank.closing[0]), (bank.respondent, bank.closing[1])]
    return turns, present


def codebook(spec: InterviewSpec, language: str) -> dict:
    """The codebook as a YAML-ready mapping (code -> type, journey-stage id, keywords in base form...)."""
    return {
        "language": language,
        "codes": [
            {
                "code": c.code,
                "label": c.label,
                "type": c.code_type,
                "stage": c.stage,
                "touchpoint": c.touchpoint,
                "factor_kind": c.factor_kind,
                "level": c.level,
                "sentiment": int(np.sign(np.mean(c.sentiments))) if c.sentiments else 0,
                "keywords": list(c.keywords),
                "phrases": list(c.phrases),
            }
            for c in spec.codes
        ],
    }


# -- the coding workbook (interviews.xlsx) ---------------------------------------------------

# The coding sheet's fields, in column order (each case names them in its own language).
CODE_FIELDS = ("respondent", "stage", "code_type", "code", "touchpoint", "sentiment", "factor_kind", "level", "quote")


@dataclass(frozen=True)
class InterviewWorkbook:
    """How a case's interviews.xlsx is laid out: a respondents sheet (respondent, brand, line,
    persona, client, gender, age) and a coding sheet (``CODE_FIELDS``), with the case's headers
    and its spellings of yes/no and female/male; ``alias_share`` of fragments name their stage
    by its alias (as analysts write it) instead of its name."""

    respondents_sheet: str
    respondent_header: tuple[str, ...]
    yes_no: tuple[str, str]
    female_male: tuple[str, str]
    codes_sheet: str
    code_header: tuple[str, ...]
    code_widths: tuple[float, ...]
    alias_share: float = 0.15


def write_interview_workbook(path, iv: Interviews, spec: InterviewSpec, journey, rng: np.random.Generator,
                             book: InterviewWorkbook, plan: dict[str, int], unknown_stages: tuple[str, ...],
                             bad_sentiments: tuple[int, ...]) -> None:
    """interviews.xlsx: the respondents and their coded fragments, with the planted dirty code rows.

    ``journey``: (stage id, stage name, alias) of each journey stage.
    """
    codes = spec.codes
    stage_name = {s: name for s, name, _ in journey}
    stage_alias = {s: a for s, _, a in journey}
    resp = Sheet(book.respondents_sheet, list(book.respondent_header),
                 [list(iv.resp_id), list(iv.brand), list(iv.line), list(iv.persona_label),
                  list(np.where(iv.is_client, *book.yes_no)), list(np.where(iv.female, *book.female_male)),
                  list(iv.age)])
    m = iv.f_resp.size
    use_alias = rng.random(m) < book.alias_share
    frame = pd.DataFrame({
        "respondent": iv.resp_id[iv.f_resp],
        "stage": np.array([stage_alias[codes[c].stage] if a else stage_name[codes[c].stage]
                           for c, a in zip(iv.f_code, use_alias)], dtype=object),
        "code_type": [codes[c].code_type for c in iv.f_code],
        "code": [codes[c].code for c in iv.f_code],
        "touchpoint": [codes[c].touchpoint for c in iv.f_code],
        "sentiment": iv.f_sentiment.astype(np.int64),
        "factor_kind": [codes[c].factor_kind for c in iv.f_code],
        "level": [codes[c].level for c in iv.f_code],
        "quote": iv.f_quote,
    })
    frame = add_dirty_codes(frame, plan, rng, codes, stage_name, unknown_stages, bad_sentiments)
    cols = list(CODE_FIELDS)
    write_xlsx(path, [resp, Sheet(book.codes_sheet, list(book.code_header), [list(frame[c]) for c in cols],
                                  widths=list(book.code_widths))])
