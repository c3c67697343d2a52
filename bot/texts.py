"""The chat's wording: bot/templates first, then the core's shared templates and labels."""

from __future__ import annotations

from functools import cache
from typing import Any

from surveys.texts import Texts


@cache
def chat_texts() -> Texts:
    """The bot's templates beside the core's (invitations and reminders are the dispatcher's)."""
    return Texts("bot", "surveys")


def render_text(name: str, **context: Any) -> str:
    """Render a chat template (e.g. 'welcome.txt') with the given values, stripped."""
    return chat_texts().render(name, **context)


def label(key: str, **context: Any) -> str:
    """A short label from labels.yaml."""
    return chat_texts().label(key, **context)


def has_label(key: str) -> bool:
    """Whether `key` is a label in the current language (a configured role's words may not be)."""
    return chat_texts().has_label(key)
