"""The languages a practitioner can be spoken to in (Welsh and English), and the language of the message being built."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date

from babel.dates import format_date

ENGLISH = "en"
WELSH = "cy"
LANGUAGES = (WELSH, ENGLISH)
"""Every language a practitioner-facing text exists in; Welsh first, as the choice is offered."""

_LOCALES = {ENGLISH: "en_GB", WELSH: "cy_GB"}
"""Babel's locale for each language: British English, Welsh."""

_CURRENT: ContextVar[str] = ContextVar("followup_language", default=ENGLISH)


class LanguageError(ValueError):
    """Text that is not one of LANGUAGES."""


def parse(text: str) -> str:
    """A language code ('cy', 'EN ') as stored; LanguageError names what is accepted."""
    code = str(text).strip().lower()
    if code not in LANGUAGES:
        raise LanguageError(f"expected {' or '.join(sorted(LANGUAGES))}, not {text!r}")
    return code


def current() -> str:
    """The language of the message being built (English unless something said otherwise)."""
    return _CURRENT.get()


@contextmanager
def speaking(language: str) -> Iterator[str]:
    """Build messages in `language` inside the block (per task: concurrent chats do not mix)."""
    token = _CURRENT.set(parse(language))
    try:
        yield token.var.get()
    finally:
        _CURRENT.reset(token)


def set_for_task(language: str) -> None:
    """Speak `language` for the rest of the running task (one Telegram update is one task)."""
    _CURRENT.set(parse(language))


def say_date(day: date, pattern: str = "d MMMM y") -> str:
    """A date in the current language's words (Babel, CLDR patterns): '2 March 2026', '2 Mawrth 2026'."""
    return format_date(day, pattern, locale=_LOCALES[current()])
