"""Numbers as the reader sees them, in Russian or English.

- rounding is half up on the number as written (8.45 -> 8.5), as a reader rounds;
- integers: thousands separated by a no-break space in ru (``12 345``), by a comma in en
  (``12,345``);
- decimals: comma in ru (``0,45``), point in en;
- percentages: a fraction in [0, 1] shown as ``45,2%`` / ``45.2%``; with its interval
  ``45,2% (95% ДИ 40,1–50,3%)`` / ``45.2% (95% CI 40.1–50.3%)``;
- money: whole units of the case currency, ``1 234 567 руб.`` / ``RUB 1,234,567``; in
  sentences rounded (``1,2 млн руб.`` / ``RUB 1.2 million``);
- negative numbers carry the typographic minus (−);
- a missing number (None, NaN) is shown as ``—``, never as 0.

Nothing here computes a number: it only formats what metrics.json and the artifacts hold.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal
from numbers import Number

DASH = "—"
NBSP = "\u00a0"
MINUS = "\u2212"  # the typographic minus sign
WJ = "\u2060"  # word joiner: no line break after the dash of a range (86–91%)

CURRENCY_RU = {"RUB": "руб.", "USD": "долл.", "EUR": "евро", "KZT": "тенге", "BYN": "бел. руб."}


def is_number(x) -> bool:
    """A finite real number (bools are not numbers here)."""
    if x is None or isinstance(x, bool):
        return False
    try:
        return isinstance(x, Number) and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def _fixed(x, digits: int, scale: int = 1) -> Decimal:
    """``x * scale`` rounded half up to ``digits`` decimals, from the shortest decimal form of the
    float (so 8.45 -> 8.5 and 0.285 -> 28.5 % -> 29 %, as a reader rounds, not 8.4 and 28)."""
    d = Decimal(repr(float(x))) * scale
    return d.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)


def _dec(text: str, language: str) -> str:
    return text.replace(".", ",") if language == "ru" else text


def fmt_int(x, language: str = "ru") -> str:
    """``12 345`` (ru, no-break space) / ``12,345`` (en); rounded half away from zero."""
    if not is_number(x):
        return DASH
    n = int(_fixed(x, 0))
    s = f"{n:,}".replace("-", MINUS)
    return s.replace(",", NBSP) if language == "ru" else s


def fmt_num(x, language: str = "ru", digits: int = 1) -> str:
    """A decimal number with ``digits`` decimals and thousands separators."""
    if not is_number(x):
        return DASH
    s = f"{_fixed(x, digits):,.{digits}f}".replace("-", MINUS)
    if language == "ru":
        s = s.replace(",", NBSP).replace(".", ",")
    return s


def fmt_pct(x, language: str = "ru", digits: int = 1) -> str:
    """A fraction as a percentage: 0.4523 -> ``45,2%`` / ``45.2%``."""
    if not is_number(x):
        return DASH
    return _dec(f"{_fixed(x, digits, 100):.{digits}f}", language) + "%"


def ci_label(confidence: float = 0.95, language: str = "ru") -> str:
    """``95% ДИ`` / ``95% CI``."""
    level = fmt_pct(confidence, language, 0 if round(confidence * 100) == confidence * 100 else 1)
    return f"{level}{NBSP}{'ДИ' if language == 'ru' else 'CI'}"


def fmt_range(lo, hi, language: str = "ru", digits: int = 1, nobreak: bool = True) -> str:
    """``40,1–50,3%``: an interval of fractions as percentages; ``nobreak``: a word joiner after
    the dash keeps the range on one line in Word (figures pass False: their font lacks it)."""
    if not (is_number(lo) and is_number(hi)):
        return DASH
    joiner = WJ if nobreak else ""
    return f"{_dec(f'{_fixed(lo, digits, 100):.{digits}f}', language)}–{joiner}{fmt_pct(hi, language, digits)}"


def fmt_pct_ci(x, ci, language: str = "ru", digits: int = 1, confidence: float = 0.95) -> str:
    """``45,2% (95% ДИ 40,1–50,3%)``; the interval part is left out when unknown."""
    if not is_number(x):
        return DASH
    lo, hi = (ci or (None, None))[:2] if ci is not None else (None, None)
    if is_number(lo) and is_number(hi):
        return f"{fmt_pct(x, language, digits)} ({ci_label(confidence, language)} {fmt_range(lo, hi, language, digits)})"
    return fmt_pct(x, language, digits)


def fmt_money(x, currency: str = "RUB", language: str = "ru") -> str:
    """``1 234 567 руб.`` (ru) / ``RUB 1,234,567`` (en), whole units."""
    if not is_number(x):
        return DASH
    if language == "ru":
        return f"{fmt_int(x, 'ru')}{NBSP}{CURRENCY_RU.get(currency, currency)}"
    return f"{currency}{NBSP}{fmt_int(x, 'en')}"


def fmt_money_short(x, currency: str = "RUB", language: str = "ru") -> str:
    """Money for a sentence, rounded to what a reader keeps in mind: ``98,6 млн руб.`` /
    ``RUB 98.6 million``, ``556 тыс. руб.`` / ``RUB 556 thousand``; below 10 000 as
    :func:`fmt_money`. Tables keep the full number."""
    if not is_number(x):
        return DASH
    v = float(x)
    if abs(v) >= 1e6:
        num, unit = fmt_num(v / 1e6, language, 1), ("млн", "million")
    elif abs(v) >= 1e4:
        num, unit = fmt_int(v / 1e3, language), ("тыс.", "thousand")
    else:
        return fmt_money(v, currency, language)
    if language == "ru":
        return f"{num}{NBSP}{unit[0]}{NBSP}{CURRENCY_RU.get(currency, currency)}"
    return f"{currency}{NBSP}{num}{NBSP}{unit[1]}"


def ru_plural(n, one: str, few: str, many: str) -> str:
    """Russian noun form for a count: 1 визит, 2 визита, 5 визитов (21 визит, 11 визитов)."""
    n = abs(int(n))
    if n % 10 == 1 and n % 100 != 11:
        return one
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return few
    return many


def fmt_days(x, language: str = "ru") -> str:
    """``74 дня`` / ``74 days`` (rounded to whole days)."""
    if not is_number(x):
        return DASH
    n = int(_fixed(x, 0))
    if language == "ru":
        return f"{fmt_int(n, 'ru')}{NBSP}{ru_plural(n, 'день', 'дня', 'дней')}"
    return f"{fmt_int(n, 'en')} {'day' if n == 1 else 'days'}"


def ordinal(n: int, language: str = "ru", genitive: bool = False) -> str:
    """``6-й`` / ``6th``; ``genitive`` (ru): ``6-го`` ("после 6-го визита")."""
    n = int(n)
    if language == "ru":
        return f"{n}-го" if genitive else f"{n}-й"
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def fmt_signed(x, language: str = "ru", digits: int = 2) -> str:
    """``+0,45`` / ``−1.20`` (for sentiment on the −2..+2 scale)."""
    if not is_number(x):
        return DASH
    s = f"{_fixed(x, digits):+.{digits}f}".replace("-", MINUS)
    return _dec(s, language)
