"""Personal data stays out of everything the toolkit writes.

- Columns a case declares personal are never selected at load (see ``toolkit.data.load``).
- Free text (quotes, comments, lost reasons) is scrubbed of phone numbers (any dash or space)
  and e-mails (also written "(at)", " at ", «собака»), and of personal names
  (``toolkit.data.names``: the case's own personal values, Russian and English names).
- Customer ids can be pseudonymised with a keyed hash whose key lives in the case
  folder's secrets file (``.secrets.yml``, git-ignored): the same key gives the same
  pseudonyms, so runs stay reproducible and tables stay joinable.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path

import pandas as pd
import yaml

from toolkit.core.config import load_yaml
from toolkit.core.errors import InputFileError

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+", re.UNICODE)
# Obfuscated e-mails: ivanova(at)yandex.ru, ivanova [at] mail dot ru, ivanova собака mail.ru,
# ivanova at gmail.com: an "at" word between a login and a domain with a dot (or "dot"/"точка").
_AT = r"(?:\s*[(\[{<]\s*(?:at|собака|эт)\s*[)\]}>]\s*|\s+(?:at|собака)\s+|\s*@\s+|\s+@\s*)"
_DOT = r"(?:\.|\s*[(\[{<]\s*(?:dot|точка)\s*[)\]}>]\s*|\s+(?:dot|точка)\s+)"
EMAIL_OBFUSCATED = re.compile(rf"(?<![\w.+-])[\w.+-]{{2,}}{_AT}[\w-]+(?:{_DOT}[\w-]+)*{_DOT}[a-zа-я]{{2,}}\b",
                              re.UNICODE | re.IGNORECASE)
# Phones: +7/8 Russian numbers and international formats with 10+ digits, written with spaces
# (also non-breaking), any dash (- – — ‒ −), dots or brackets. Short numbers (prices, dates) are left alone.
PHONE = re.compile(r"(?<![\w])(\+?\d[\s\u00a0\-‐‑‒–—−().]{0,3}){9,14}\d(?![\w])")
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
    text = EMAIL_OBFUSCATED.sub(email_mask, text)
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


def load_or_create_key(path: Path) -> tuple[bytes, bool]:
    """The case's pseudonymisation key from its secrets file ``path`` (already confined to the
    case folder by ``Case.path``), created on first use readable by its owner only (0600).

    Returns (key, created). The file is git-ignored: never commit it; keep it with
    the client's data so that re-runs give the same pseudonyms.
    """
    path = Path(path)
    name = path.name
    if path.exists():
        if not path.is_file():
            raise InputFileError(f"The secrets file {name} (privacy.secrets_file in case.yml) is not a file.")
        try:
            data = load_yaml(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, yaml.YAMLError):
            data = None
        key = data.get("pseudonymisation_key") if isinstance(data, dict) else None
        if not key:
            raise InputFileError(
                f"The secrets file {name} (privacy.secrets_file in case.yml) holds no 'pseudonymisation_key: ...' "
                "line; restore the file kept with the case, or point privacy.secrets_file at a new file name."
            )
        return str(key).encode("utf-8"), False
    key = secrets.token_hex(32)
    text = ("# Pseudonymisation key of this case. Never commit or send this file.\n"
            f"pseudonymisation_key: {key}\n")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    return key.encode("utf-8"), True


def pseudonymise(ids: pd.Series, key: bytes) -> pd.Series:
    """Keyed hash (HMAC-SHA256, first 16 hex digits) of each id; blanks stay blank."""
    uniq = ids.dropna().unique()
    lookup = {v: hmac.new(key, str(v).encode("utf-8"), hashlib.sha256).hexdigest()[:16] for v in uniq}
    return ids.map(lookup).astype("string")
