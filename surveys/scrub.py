"""Remove contact details (e-mail, phone numbers, UK postcodes, Telegram handles and links) from free text."""

from __future__ import annotations

import re

REMOVED = "[removed]"

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# Candidates only: a run of digits with the usual separators, optionally +44 / 0044 / (020).
_PHONE = re.compile(r"(?<![\w+])(?:\+|00)?\(?\d[\d\s().-]{6,}\d(?!\w)")
# Telegram (and other) handles and profile links name a person as surely as an e-mail does.
_LINK = re.compile(r"(?:https?://)?(?:www\.)?(?:t\.me|telegram\.me|telegram\.dog)/\S+", re.IGNORECASE)
_HANDLE = re.compile(r"(?<![\w@])@[A-Za-z][A-Za-z0-9_]{3,31}\b")
_POSTCODE = re.compile(
    r"\b(?:GIR ?0AA|[A-PR-UWYZ][A-HK-Y]?[0-9][A-HJKMNPR-Y0-9]? ?[0-9][ABD-HJLNP-UW-Z]{2})\b",
    re.IGNORECASE,
)


def _phone(match: re.Match[str]) -> str:
    # Years, ages and counts are short; a phone number has 9 to 15 digits (E.164 allows 15).
    digits = sum(ch.isdigit() for ch in match.group(0))
    return REMOVED if 9 <= digits <= 15 else match.group(0)


def scrub_free_text(text: str) -> str:
    """Replace e-mail addresses, phone numbers, UK postcodes, @handles and t.me links with "[removed]"."""
    text = _EMAIL.sub(REMOVED, text)
    text = _LINK.sub(REMOVED, text)
    text = _HANDLE.sub(REMOVED, text)
    text = _PHONE.sub(_phone, text)
    return _POSTCODE.sub(REMOVED, text)
