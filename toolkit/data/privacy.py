"""Personal data stays out of everything the toolkit writes.

- Columns a case declares personal are never selected at load (see ``toolkit.data.load``).
- Free text (quotes, comments, lost reasons) is scrubbed of phone numbers and e-mails.
- Customer ids can be pseudonymised with a keyed hash whose key lives in the case
  folder's secrets file (``.secrets.yml``, git-ignored): the same key gives the same
  pseudonyms, so runs stay reproducible and tables stay joinable.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from pathlib import Path

import pandas as pd
import yaml

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+", re.UNICODE)
# Phones: +7/8 Russian numbers and international formats with 10+ digits, written
# with spaces, dashes, dots or brackets. Short numbers (prices, dates) are left alone.
PHONE = re.compile(r"(?<![\w])(\+?\d[\s\-().]{0,3}){9,14}\d(?![\w])")
EMAIL_MASK = "[e-mail]"
PHONE_MASK = "[телефон]"


def scrub_text(text, phone_mask: str = PHONE_MASK, email_mask: str = EMAIL_MASK):
    """Replace e-mail addresses and phone numbers in free text by masks.

    A phone is a run of 10 to 15 digits, optionally led by '+', with single spaces,
    dashes, dots or brackets between digits; a number such as a price "150 000" or a
    date "12.03.2024" has too few digits to match.
    """
    if not isinstance(text, str) or not text:
        return text
    text = EMAIL.sub(email_mask, text)
    return PHONE.sub(lambda m: phone_mask if sum(c.isdigit() for c in m.group()) >= 10 else m.group(), text)


def scrub_series(s: pd.Series, language: str = "ru") -> pd.Series:
    """Scrub a text column, working on its distinct values."""
    mask = PHONE_MASK if language == "ru" else "[phone]"
    uniq = s.dropna().unique()
    if len(uniq) == 0:
        return s
    lookup = {v: scrub_text(v, phone_mask=mask) for v in uniq}
    return s.map(lookup).astype(s.dtype)


def contains_personal(text: str) -> bool:
    """True when the text holds something that looks like an e-mail or a phone."""
    return scrub_text(text) != text


def load_or_create_key(case_dir: Path, secrets_file: str = ".secrets.yml") -> tuple[bytes, bool]:
    """The case's pseudonymisation key, created (and written) on first use.

    Returns (key, created). The file is git-ignored: never commit it; keep it with
    the client's data so that re-runs give the same pseudonyms.
    """
    path = Path(case_dir) / secrets_file
    if path.exists():
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        key = data.get("pseudonymisation_key")
        if not key:
            raise ValueError(f"{path} has no 'pseudonymisation_key'")
        return str(key).encode("utf-8"), False
    key = secrets.token_hex(32)
    path.write_text(
        "# Pseudonymisation key of this case. Never commit or send this file.\n"
        f"pseudonymisation_key: {key}\n",
        encoding="utf-8",
    )
    return key.encode("utf-8"), True


def pseudonymise(ids: pd.Series, key: bytes) -> pd.Series:
    """Keyed hash (HMAC-SHA256, first 16 hex digits) of each id; blanks stay blank."""
    uniq = ids.dropna().unique()
    lookup = {v: hmac.new(key, str(v).encode("utf-8"), hashlib.sha256).hexdigest()[:16] for v in uniq}
    return ids.map(lookup).astype("string")
