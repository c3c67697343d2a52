"""Turning the journey's messages into Telegram text and inline keyboards."""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardMarkup

from bot import callbacks
from bot.journey import Answered, Button, Out, Question, Text
from surveys.engine import Prompt
from surveys.texts import render_text

# Labels this short sit side by side (True / False, Yes / No); longer ones get a row each so
# Likert labels like "Neither agree nor disagree" are never cut off on a phone.
SHORT_LABEL = 12
MAX_PER_ROW = 3


def _markup(rows: tuple[tuple[Button, ...], ...]) -> dict[str, Any] | None:
    # The Bot API's JSON, as InlineKeyboardMarkup.to_dict() gives it, without building PTB objects.
    if not rows:
        return None
    return {"inline_keyboard": [[{"text": b.label, "callback_data": b.data} for b in row] for row in rows]}


def answer_rows(check_in_id: int, prompt: Prompt) -> tuple[tuple[Button, ...], ...]:
    """One button per choice; callback data names the check-in, item position and choice."""
    buttons = tuple(
        Button(choice.label, callbacks.encode(callbacks.Kind.ANSWER, check_in_id, prompt.position - 1, n))
        for n, choice in enumerate(prompt.choices)
    )
    if len(buttons) <= MAX_PER_ROW and all(len(b.label) <= SHORT_LABEL for b in buttons):
        return (buttons,) if buttons else ()
    return tuple((b,) for b in buttons)


def question_text(prompt: Prompt, lead: str = "") -> str:
    """The item with its progress ("3/12") and, for typed answers, how to answer."""
    return render_text(
        "question.txt", lead=lead, position=prompt.position, total=prompt.total, text=prompt.text,
        kind=prompt.kind, hint=prompt.hint, optional=bool(prompt.choices),
    )


def answered_text(answered: Answered) -> str:
    """The question once answered: what was chosen and the feedback, buttons gone."""
    p = answered.prompt
    return render_text("answered.txt", position=p.position, total=p.total, text=p.text,
                       answer=answered.answer, feedback=answered.feedback)


def render_plain(out: Out | Answered) -> tuple[str, dict[str, Any] | None]:
    """Text and reply_markup (Bot API JSON, None without buttons) for one of the journey's messages."""
    if isinstance(out, Question):
        return question_text(out.prompt, out.lead), _markup(answer_rows(out.check_in_id, out.prompt))
    if isinstance(out, Answered):
        return answered_text(out), None
    assert isinstance(out, Text)
    return out.text, _markup(out.rows)


def render(out: Out | Answered) -> tuple[str, InlineKeyboardMarkup | None]:
    """Text and keyboard for one of the journey's messages, as PTB objects (for Bot's own methods)."""
    text, markup = render_plain(out)
    return text, InlineKeyboardMarkup.de_json(markup, None) if markup else None
