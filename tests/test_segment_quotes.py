"""One quote per segment (toolkit.stage_mapping.quotes), on a hand-made coding sheet."""

import pandas as pd

from toolkit.stage_mapping.quotes import segment_quotes

LONG_A = "Хочу выглядеть свежее, чтобы на работе не спрашивали"   # 52 chars
LONG_B = "Хочу выглядеть моложе своих лет, это для меня главное сейчас"
SHORT = "Хочу моложе"                                               # too short to quote


def _codes():
    rows = [
        # persona P1: look_younger named by 3 people, price by 1; barrier fragments never quoted
        ("R1", "jtbd", "look_younger", LONG_B), ("R2", "jtbd", "look_younger", LONG_A),
        ("R3", "jtbd", "look_younger", SHORT), ("R1", "motivator", "price", "Цена была решающей, честно говоря, для всех нас"),
        ("R1", "barrier", "waiting", "Очень долго ждала в коридоре, минут сорок, не меньше"),
        # persona P2: two people only
        ("R4", "jtbd", "good_result", "Мне важен результат, а не цена, это главное"),
        ("R5", "jtbd", "good_result", "Результат, результат и ещё раз результат работы"),
    ]
    return pd.DataFrame(rows, columns=["respondent_id", "code_type", "code", "quote"]).assign(stage="framing")


def test_the_most_named_driver_and_its_shortest_long_enough_quote():
    resp = pd.DataFrame({"respondent_id": ["R1", "R2", "R3", "R4", "R5"], "persona": ["P1", "P1", "P1", "P2", "P2"]})
    q = segment_quotes(_codes(), resp, min_respondents=3).set_index(["segment_type", "segment"])
    p1 = q.loc[("persona", "P1")]
    assert p1["code"] == "look_younger" and p1["respondents"] == 3
    assert p1["quote"] == LONG_A  # the shorter of the two long enough; SHORT is under MIN_CHARS
    assert ("persona", "P2") not in q.index  # 2 interviewed people < 3: no quote that could identify them
    overall = q.loc[("overall", "all")]
    assert overall["code"] == "look_younger"


def test_no_quote_column_no_rows():
    codes = _codes().drop(columns="quote")
    assert segment_quotes(codes).empty
