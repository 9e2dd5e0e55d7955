"""Drafting codes from respondent turns: one row per (sentence, code), each with a confidence.

- A **fragment** is one sentence of a respondent turn (``toolkit.coding.text.split_sentences``)
  after bracketed remarks are stripped (``toolkit.coding.rules``).
- **Keyword evidence**: a code's keyword or phrase matches in the fragment
  (``toolkit.coding.text``: lemmas, verb families, phrases in or out of order within a
  clause), not negated (a particle before or after it in its clause, or the scope of
  «не скажу, что…»), none of the code's ``exclude`` phrases matches, and the segment's
  tone does not contradict the code (**polarity check**: a code's polarity is the sign of
  its codebook ``sentiment``, else negative for a barrier and positive for a motivator; a
  match in a segment — the sentence cut at «но», «а», "but"... — whose lexicon tone is
  opposite by at least ``POLARITY_MIN`` is dropped; ``polarity_check: false`` turns it off).
- **Context rules** (``toolkit.coding.rules``): bracketed remarks are stripped; the closing
  exchange, sentences echoing the question, other people's clauses and other places'
  experiences are not coded; irony (positive codes), hypotheticals and quotations lower
  the confidence; an idea needs a wish; a bare «да»/"very" answer carries the codes its
  question (its interrogative sentences, not its thanks) names.
- **Meaning evidence** (``toolkit.coding.similar``): a code not found by its keywords may be
  proposed when the fragment is close to the code's example sentences.
- **Confidence** (0..1) of a row: ``CONFIDENCE`` by how the code was found (a phrase in
  order > one word > a phrase out of order > a verb family > an answer to the question >
  similarity), ``+BONUS`` when two different keywords agree, times the factors of the
  context rules (irony, hypothetical, quotation, idea without a wish). Rows below the codebook's ``min_confidence``
  (default 0.5) are left out of the draft.
- ``matched_words``: the fragment's words that matched, as written, in order, joined with
  ", " (the question's words for an answer to the question; blank for a similarity proposal).
- ``suggested_sentiment``: the lexicon sentiment of the clauses holding the match
  (``toolkit.coding.text``: negation, intensifiers), else of the whole fragment, else the
  code's codebook ``sentiment``, else blank.
- Phones and e-mails are removed before matching and masked in the quote
  (``toolkit.data.privacy.scrub_text``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

from toolkit.coding import classifier, rules
from toolkit.coding.codebook import Codebook
from toolkit.coding.similar import propose
from toolkit.coding.text import (
    Token,
    is_negator,
    segment_sentiment,
    sentiment_hits,
    split_sentences,
    to_scale,
    tokenize,
)
from toolkit.data.privacy import scrub_text

# A segment contradicts a code only when its tone is clearly opposite (one mild word is not enough).
POLARITY_MIN = 2
CONFIDENCE = {"phrase": 0.9, "exact": 0.8, "loose": 0.75, "family": 0.7, "question": 0.6}
BONUS = 0.05

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
    "confidence",
    "matched_words",
    "quote",
    "question",
    "suggested_sentiment",
]


def natural_key(value: str) -> tuple:
    """Sort key that orders R2 before R10."""
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"(\d+)", str(value)) if p)


@dataclass
class Evidence:
    """Why a fragment carries a code."""

    confidence: float
    words: list[str] = field(default_factory=list)
    positions: set[int] = field(default_factory=set)
    keywords: set[str] = field(default_factory=set)


@dataclass
class Context:
    """What the conversation says about the fragment being coded (see ``toolkit.coding.rules``)."""

    others_words: set[int] = field(default_factory=set)  # clauses about someone else (rules.clause_owners)
    hypothetical: bool = False
    quoted: set[int] = field(default_factory=set)  # token positions inside quotation marks
    place: bool = False  # about another clinic or shop
    place_words: set[int] = field(default_factory=set)  # token positions naming it in this sentence
    ironic: bool = False
    echo: bool = False
    question_lemmas: frozenset = frozenset()


def _kind(m) -> str:
    if m.kind == "exact":
        return "phrase" if len(m.positions) > 1 else "exact"
    return m.kind


def keyword_evidence(tokens: list[Token], clean: str, codebook: Codebook, ctx: Context | None = None,
                     hits=None) -> dict[str, Evidence]:
    """Codes a fragment's keywords carry, after negation, exclusions, polarity and context rules."""
    ctx = ctx or Context()
    hits = sentiment_hits(tokens, codebook.lexicon_index()) if hits is None else hits
    tone = segment_sentiment(tokens, hits)
    found: dict[str, Evidence] = {}
    vetoed: set[str] = set()
    short_echo = ctx.echo and len(tokens) <= rules.ECHO_MAX_TOKENS
    for (code, is_exclude), m in codebook.keyword_index().find(tokens):
        if m.negated:
            continue
        if is_exclude:
            vetoed.add(code)
            continue
        c = codebook.codes[code]
        if codebook.polarity_check and c.polarity * tone.get(tokens[m.positions[0]].segment, 0.0) <= -POLARITY_MIN:
            continue
        if ctx.echo and (short_echo or all(tokens[k].lemmas & ctx.question_lemmas for k in m.positions)):
            continue
        if not c.about_others and ctx.others_words.intersection(m.positions):
            continue
        if ctx.place and not ctx.place_words.intersection(m.positions):
            continue
        ev = found.setdefault(code, Evidence(0.0))
        conf = CONFIDENCE[_kind(m)]
        if ctx.quoted.issuperset(m.positions):
            conf *= rules.QUOTE_FACTOR
        if ev.keywords and m.keyword.text not in ev.keywords:
            conf = max(conf, ev.confidence) + BONUS
        ev.confidence = max(ev.confidence, conf)
        ev.positions.update(m.positions)
        ev.keywords.add(m.keyword.text)
    for code in vetoed:
        found.pop(code, None)
    for code, ev in found.items():
        ev.words = list(dict.fromkeys(clean[tokens[i].start : tokens[i].end] for i in sorted(ev.positions)))
        if ctx.ironic and codebook.codes[code].polarity > 0:
            ev.confidence *= rules.IRONY_FACTOR
        if codebook.codes[code].code_type == "idea":
            if not rules.wishes(tokens):
                ev.confidence *= rules.NO_WISH_FACTOR
        elif ctx.hypothetical:
            ev.confidence *= rules.HYPOTHETICAL_FACTOR
    return found


def question_evidence(question: str, codebook: Codebook) -> dict[str, Evidence]:
    """Codes an interviewer's question names, for a bare «да»/"yes" answer: only its
    interrogative sentences count («Андрей, спасибо, что согласились. Вы проходили программу
    вместе с женой?» asks about the programme, not gratitude), and a match made only of
    thanks or farewell words is politeness, not a topic."""
    asked = [q for q in split_sentences(question) if q.rstrip(" .…»\"”").endswith("?")]
    found: dict[str, Evidence] = {}
    for q in asked:
        tokens = tokenize(q)
        for code, ev in keyword_evidence(tokens, q, codebook).items():
            if all(tokens[k].text in rules.FAREWELL for k in ev.positions):
                continue
            if code not in found or ev.confidence > found[code].confidence:
                found[code] = ev
    return found


def code_sentence(sentence: str, codebook: Codebook) -> tuple[list[tuple[str, list[str]]], int | None, list[Token]]:
    """Codes a sentence's keywords carry (no conversation context), each with its matched words,
    and the sentiment suggestion."""
    clean = scrub_text(sentence, phone_mask=" ", email_mask=" ")
    tokens = tokenize(clean)
    hits = sentiment_hits(tokens, codebook.lexicon_index())
    found = keyword_evidence(tokens, clean, codebook, hits=hits)
    out = [(code, found[code].words) for code in codebook.codes if code in found]
    sentiment = to_scale(sum(c for _, c in hits)) if (out and hits) else None
    return out, sentiment, tokens


def _sentiment(tokens, hits, positions, code_sentiment):
    """Sentiment of the clauses holding the match, else of the sentence, else the code's."""
    clauses = {tokens[k].clause for k in positions}
    near = [c for pos, c in hits if tokens[pos[0]].clause in clauses]
    if near:
        return float(to_scale(sum(near)))
    if hits:
        return float(to_scale(sum(c for _, c in hits)))
    return None if code_sentiment is None else float(code_sentiment)


def _row(rid, turn, n, c, confidence, words, quote, question, sentiment):
    return {
        "respondent_id": str(rid),
        "turn": int(turn),
        "sentence": n,
        "stage": c.stage,
        "code_type": c.code_type,
        "code": c.code,
        "touchpoint": c.touchpoint,
        "factor_kind": c.factor_kind,
        "level": c.level,
        "confidence": round(float(confidence), 3),
        "matched_words": ", ".join(words),
        "quote": scrub_text(quote),
        "question": scrub_text(question) if question else "",
        "suggested_sentiment": sentiment,
    }


def _code_turn(rid, turn, text, question, codebook: Codebook, last_turn: bool) -> list[dict]:
    q_clean = scrub_text(question or "", phone_mask=" ", email_mask=" ")
    q_tokens = tokenize(q_clean)
    text = rules.strip_remarks(text)
    sentences = split_sentences(text)
    toks = [tokenize(scrub_text(s, phone_mask=" ", email_mask=" ")) for s in sentences]
    quotes = rules.quoted_spans(text)
    offsets, at = [], 0
    for sentence in sentences:
        at = text.find(sentence, at)
        offsets.append(max(at, 0))
        at = max(at, 0) + len(sentence)
    if last_turn and rules.is_closing(q_tokens, [t for ts in toks for t in ts]):
        return []
    model = classifier.model_for(codebook, str(rid)) if codebook.classifier else None
    probs = model.probabilities([scrub_text(s, phone_mask=" ", email_mask=" ") for s in sentences]) if model else None
    q_lemmas = frozenset().union(*(t.lemmas for t in q_tokens)) if q_tokens else frozenset()
    others = social_context = bool(rules.social_positions(q_tokens))
    place = bool(rules.place_positions(q_tokens))
    rows = []
    for n, (sentence, tokens) in enumerate(zip(sentences, toks), start=1):
        clean = scrub_text(sentence, phone_mask=" ", email_mask=" ")
        place_words = rules.place_positions(tokens)
        if place_words:
            place = True
        elif rules.brings_back(tokens):
            place = False
        speech_from = rules.speech_start(clean, tokens)
        others_words, end_others = rules.clause_owners(tokens, others, social_context, speech_from)
        social_context = social_context or bool(rules.social_positions(tokens)) or end_others
        nxt = toks[n] if n < len(toks) else None
        base = offsets[n - 1]
        quoted = {k for k, t in enumerate(tokens) if any(a <= base + t.start < b for a, b in quotes)}
        ctx = Context(
            others_words=others_words,
            hypothetical=rules.is_hypothetical(tokens), quoted=quoted, place=place, place_words=place_words,
            ironic=rules.is_ironic(tokens, nxt), echo=rules.is_echo(sentence, tokens), question_lemmas=q_lemmas,
        )
        others = end_others
        hits = sentiment_hits(tokens, codebook.lexicon_index())
        found = keyword_evidence(tokens, clean, codebook, ctx, hits)
        if n == 1 and rules.is_short_affirmation(tokens) and q_tokens:
            for code, ev in question_evidence(q_clean, codebook).items():
                if code not in found:
                    found[code] = Evidence(CONFIDENCE["question"], ev.words)
        negated = any(is_negator(t.text) for t in tokens)  # the proposers cannot tell a negation's scope
        if not (others_words or ctx.place or ctx.echo or negated):
            meaning = propose(clean, tokens, codebook, exclude=set(found)) if codebook.similarity else {}
            if probs is not None:
                for code, conf in classifier.proposals(probs[n - 1], list(codebook.codes),
                                                       codebook.classifier.min_probability, set(found)).items():
                    meaning[code] = max(conf, meaning.get(code, 0.0))
            for code, score in meaning.items():
                found[code] = Evidence(score * (rules.IRONY_FACTOR if ctx.ironic and codebook.codes[code].polarity > 0
                                                else 1.0))
        for code in codebook.codes:  # codebook order
            ev = found.get(code)
            if ev is None or ev.confidence < codebook.min_confidence:
                continue
            c = codebook.codes[code]
            sentiment = _sentiment(tokens, hits, ev.positions, c.sentiment)
            rows.append(_row(rid, turn, n, c, min(ev.confidence, 1.0), ev.words, sentence, question, sentiment))
    return rows


def draft_codes(turns: pd.DataFrame, codebook: Codebook) -> pd.DataFrame:
    """Draft coding of transcript turns (``read_transcripts`` output): columns ``DRAFT_COLUMNS``.

    Only respondent turns are coded; rows are ordered by respondent (natural order),
    turn, sentence, then codebook order of codes.
    """
    rows = []
    resp = turns[turns["speaker"] == "respondent"]
    last = resp.groupby("respondent_id")["turn"].transform("max")
    for rid, turn, text, question, lt in zip(resp["respondent_id"], resp["turn"], resp["text"], resp["question"], last):
        rows += _code_turn(rid, turn, text, question, codebook, last_turn=(turn == lt))
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
    df["confidence"] = df["confidence"].astype("float64")
    df["suggested_sentiment"] = df["suggested_sentiment"].astype("float64")
    return df
