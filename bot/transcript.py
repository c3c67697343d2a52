"""The answers a check-in was given, as its end summary lists them (the questions' messages were edited away)."""

from __future__ import annotations

from typing import Any

from bot import commitments
from bot.texts import label
from surveys.domain.engine import SKIPPED_VALUE, Conversation, choices_of
from surveys.domain.quiz_text import render
from surveys.domain.scrub import scrub_free_text

# A typed answer is cut to this in the list: the person's own message above holds it whole.
SHOWN_TYPED = 80


def answers_given(conversation: Conversation) -> list[dict[str, Any]]:
    """Each answered item in order: its position, text, the answer as shown and, if scored, whether it was right."""
    answers = conversation.answers
    given = []
    for position, item in enumerate(conversation.items, start=1):
        value = answers.get(item.id)
        if value is None:
            continue
        labels = {c.value: c.label for c in choices_of(item)}
        if (parts := commitments.shown(item, answers)) is not None:
            shown = parts  # the commitments typed, or their statuses, not the count stored under the item
        elif value == SKIPPED_VALUE:
            shown = label("answer.skipped")
        elif value in labels:
            shown = labels[value]
        else:
            # Typed words as stored: contact details scrubbed (the answer is fresh from the chat here).
            shown = scrub_free_text(value)
            shown = shown if len(shown) <= SHOWN_TYPED else shown[: SHOWN_TYPED - 1] + "…"
        given.append(
            {
                "position": position,
                "text": render(item.text, conversation.context),
                "answer": shown,
                "correct": value == item.correct_value if item.scored else None,
            }
        )
    return given
