"""Remove contact details (e-mail addresses, phone numbers, UK postcodes) from free text."""

from __future__ import annotations

import re

REMOVED = "[removed]"

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# Candidates only: a run of digits with the usual separators, optionally +44 / 0044 / (020).
_PHONE = re.compile(r"(?<![\w+])(?:\+|00)?\(?\d[\d\s().-]{6,}\d(?!\w)")
_POSTCODE = re.compile(
    r"\b(?:GIR ?0AA|[A-PR-UWYZ][A-HK-Y]?[0-9][A-HJKMNPR-Y0-9]? ?[0-9][ABD-HJLNP-UW-Z]{2})\b",
    re.IGNORECASE,
)


def _phone(match: re.Match[str]) -> str:
    # Years, ages and counts are short; a phone number has 9 to 15 digits (E.164 allows 15).
    digits = sum(ch.isdigit() for ch in match.group(0))
    return REMOVED if 9 <= digits <= 15 else match.group(0)


def scrub_free_text(text: str) -> str:
    """Replace e-mail addresses, UK and international phone numbers and UK postcodes with "[removed]"."""
    text = _EMAIL.sub(REMOVED, text)
    text = _PHONE.sub(_phone, text)
    return _POSTCODE.sub(REMOVED, text)
