"""Turning the bot's messages into Telegram text and inline keyboards: Button rows in, Bot API reply_markup out."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import callbacks
from bot.replies import Button, Question, Rows, Shown
from bot.texts import render_text
from surveys.domain.engine import Prompt

# Labels this short sit side by side (True / False, Yes / No); longer ones get a row each so
# Likert labels like "Neither agree nor disagree" are never cut off on a phone.
SHORT_LABEL = 12
MAX_PER_ROW = 3


def answer_rows(check_in_id: int, prompt: Prompt) -> Rows:
    """One button per choice; callback data names the check-in, the step (Prompt.index) and the choice."""
    buttons = tuple(
        Button(choice.label, callbacks.encode(callbacks.Kind.ANSWER, check_in_id, prompt.index, n))
        for n, choice in enumerate(prompt.choices)
    )
    if len(buttons) <= MAX_PER_ROW and all(len(b.label) <= SHORT_LABEL for b in buttons):
        return (buttons,) if buttons else ()
    return tuple((b,) for b in buttons)


def question_text(prompt: Prompt, lead: str = "") -> str:
    """The item with its progress ("3/12") and, for typed answers, how to answer."""
    return render_text(
        "question.txt",
        lead=lead,
        position=prompt.position,
        total=prompt.total,
        text=prompt.text,
        kind=prompt.kind,
        hint=prompt.hint,
        optional=bool(prompt.choices),
    )


def text_and_rows(shown: Shown) -> tuple[str, Rows]:
    """The words and the buttons of one message, before Telegram's form."""
    if isinstance(shown, Question):
        return question_text(shown.prompt, shown.lead), answer_rows(shown.check_in_id, shown.prompt)
    return shown.text, shown.rows


def markup(rows: Rows) -> InlineKeyboardMarkup | None:
    """Button rows in Telegram's form, at the edge (every keyboard the bot sends is built here); None if empty."""
    if not rows:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(b.label, callback_data=b.data) for b in row] for row in rows])
