"""Remove contact details (e-mail, phone numbers, UK postcodes, Telegram handles and links) from free text."""

from __future__ import annotations

import re
from collections.abc import Callable

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


# In the order applied (a link before a handle, so "t.me/@x" goes whole); each with what it removes, in words.
_RULES: tuple[tuple[str, re.Pattern[str], str | Callable[[re.Match[str]], str]], ...] = (
    ("e-mail addresses", _EMAIL, REMOVED),
    ("t.me and telegram.me links", _LINK, REMOVED),
    ("@handles", _HANDLE, REMOVED),
    ("phone numbers (9 to 15 digits)", _PHONE, _phone),
    ("UK postcodes", _POSTCODE, REMOVED),
)

SCRUBBED = tuple(description for description, _, _ in _RULES)
"""What scrub_free_text removes, in words, for reports and notices (names are NOT removed)."""


def scrub_free_text(text: str) -> str:
    """Replace e-mail addresses, phone numbers, UK postcodes, @handles and t.me links with "[removed]"."""
    for _, pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text


def scrubbed_sentence() -> str:
    """One sentence saying what free text is scrubbed of, and that names are not."""
    *rest, last = SCRUBBED
    return (
        f"Free text is scrubbed of {', '.join(rest)} and {last} (each replaced by “{REMOVED}”) when stored; "
        "names and other identifying details are not removed."
    )
