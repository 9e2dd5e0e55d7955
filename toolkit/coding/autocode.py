"""Drafting codes from respondent turns: one row per (sentence, code) the keywords find.

- A **fragment** is one sentence of a respondent turn (``toolkit.coding.text.split_sentences``).
- A fragment **carries a code** when at least one of the code's keywords matches in it
  without negation (``toolkit.coding.text``) and in a segment whose tone does not
  contradict the code, and none of the code's ``exclude`` words/phrases matches in it.
- **Polarity check**: a code's polarity is the sign of its codebook ``sentiment``, else
  negative for a barrier and positive for a motivator, else none. A *segment* is the
  sentence cut at contrastive conjunctions («но», «а», «однако», «зато», «хотя», but,
  however, although). A match whose segment's lexicon sentiment is clearly opposite
  (sum of scores of the other sign, at least ``POLARITY_MIN`` = 2 in size) is dropped: «Чистота идеальная, претензий нет» mentions cleanliness in a positive
  segment and is not the barrier «сомнения в чистоте»; «Отличная клиника, но дорого»
  keeps the price barrier (its segment «но дорого» is negative). A codebook may turn
  the check off with ``polarity_check: false``.
- Phones and e-mails are removed before matching (so they never match a keyword) and
  masked in the quote (``toolkit.data.privacy.scrub_text``).
- ``matched_words``: the words of the fragment that matched the code's keywords, as
  written, in order of appearance, joined with ", ".
- ``suggested_sentiment``: the fragment's lexicon sentiment (-2..+2, see
  ``toolkit.coding.text``), else the code's codebook ``sentiment``, else blank.
"""

from __future__ import annotations

import re

import pandas as pd

from toolkit.coding.codebook import Codebook
from toolkit.coding.text import Token, segment_sentiment, sentiment_hits, split_sentences, to_scale, tokenize
from toolkit.data.privacy import scrub_text

# A segment contradicts a code only when its tone is clearly opposite (one mild word is not enough).
POLARITY_MIN = 2

DRAFT_COLUMNS = [
    "respondent_id",
    "turn",
    "sentence",
    "stage",
    "code_type",
    "code",
    "touchpoint",
    "factor_kind",
    "level",
    "matched_words",
    "quote",
    "question",
    "suggested_sentiment",
]


def natural_key(value: str) -> tuple:
    """Sort key that orders R2 before R10."""
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"(\d+)", str(value)) if p)


def code_sentence(sentence: str, codebook: Codebook) -> tuple[list[tuple[str, list[str]]], int | None, list[Token]]:
    """Codes a sentence carries, each with its matched words, and the sentiment suggestion."""
    clean = scrub_text(sentence, phone_mask=" ", email_mask=" ")
    tokens = tokenize(clean)
    hits = sentiment_hits(tokens, codebook.lexicon_index())
    polarity_of_segment = segment_sentiment(tokens, hits)
    found: dict[str, set[int]] = {}
    vetoed: set[str] = set()
    for (code, is_exclude), m in codebook.keyword_index().find(tokens):
        if m.negated:
            continue
        if is_exclude:
            vetoed.add(code)
            continue
        # polarity check: a barrier's word in a clearly positive segment is a mention, not a barrier
        tone = polarity_of_segment.get(tokens[m.positions[0]].segment, 0.0)
        if codebook.polarity_check and codebook.codes[code].polarity * tone <= -POLARITY_MIN:
            continue
        found.setdefault(code, set()).update(m.positions)
    out = []
    for code in codebook.codes:  # codebook order
        if code in found and code not in vetoed:
            words = [clean[tokens[i].start : tokens[i].end] for i in sorted(found[code])]
            out.append((code, list(dict.fromkeys(words))))
    sentiment = to_scale(sum(c for _, c in hits)) if (out and hits) else None
    return out, sentiment, tokens


def draft_codes(turns: pd.DataFrame, codebook: Codebook) -> pd.DataFrame:
    """Draft coding of transcript turns (``read_transcripts`` output): columns ``DRAFT_COLUMNS``.

    Only respondent turns are coded; rows are ordered by respondent (natural order),
    turn, sentence, then codebook order of codes.
    """
    rows = []
    resp = turns[turns["speaker"] == "respondent"]
    for rid, turn, text, question in zip(resp["respondent_id"], resp["turn"], resp["text"], resp["question"]):
        for n, sentence in enumerate(split_sentences(text), start=1):
            codes, sentiment, _ = code_sentence(sentence, codebook)
            for code, words in codes:
                c = codebook.codes[code]
                if sentiment is None and c.sentiment is not None:
                    s = c.sentiment
                else:
                    s = sentiment
                rows.append(
                    {
                        "respondent_id": str(rid),
                        "turn": int(turn),
                        "sentence": n,
                        "stage": c.stage,
                        "code_type": c.code_type,
                        "code": c.code,
                        "touchpoint": c.touchpoint,
                        "factor_kind": c.factor_kind,
                        "level": c.level,
                        "matched_words": ", ".join(words),
                        "quote": scrub_text(sentence),
                        "question": scrub_text(question) if question else "",
                        "suggested_sentiment": None if s is None else float(s),
                    }
                )
    df = pd.DataFrame(rows, columns=DRAFT_COLUMNS)
    if len(df):
        order = {c: i for i, c in enumerate(codebook.codes)}
        df = df.sort_values(
            ["respondent_id", "turn", "sentence", "code"],
            key=lambda s: s.map(natural_key) if s.name == "respondent_id" else (
                s.map(order) if s.name == "code" else s),
            kind="stable",
        ).reset_index(drop=True)
    df["turn"] = df["turn"].astype("int64")
    df["sentence"] = df["sentence"].astype("int64")
    df["suggested_sentiment"] = df["suggested_sentiment"].astype("float64")
    return df
