"""Commitments in the chat: storing every row an answer makes (a commitment and its item's closing row), and
how a commitments or review item reads in the end-of-check-in list of answers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from surveys.domain import commitments
from surveys.domain.engine import Outcome, Recorded
from surveys.domain.quizset import CommitmentReviewItem, CommitmentsItem
from surveys.domain.quizset.models import Item
from surveys.domain.scrub import scrub_free_text
from surveys.store import answering
from surveys.texts import label


def stored_value(kind: str, row: Recorded) -> str:
    """The value to store: free text with contact details scrubbed out (the engine scrubs its own parts too)."""
    return scrub_free_text(row.value) if kind in ("text", "commitments") else row.value


def record_rows(
    conn: Connection,
    check_in_id: int,
    quiz_set_id: int,
    *,
    started: bool,
    kind: str,
    outcome: Outcome,
    now: datetime,
    completes: bool,
) -> bool:
    """Store an answer's rows in order, completing the check-in on the last; False if already answered.

    Nothing to store (a re-prompt, "Add another") is not a refusal. Runs inside the press's one transaction.
    """
    rows = outcome.records
    for n, row in enumerate(rows):
        last = n == len(rows) - 1
        if not answering.record(
            conn,
            check_in_id,
            quiz_set_id,
            started=started or n > 0,
            item_id=row.item_id,
            value=stored_value(kind, row),
            score=row.score,
            now=now,
            completes=completes and last,
        ):
            return False
    return True


def shown(item: Item, answers: dict[str, str]) -> str | None:
    """The commitments made («…» «…», or "none") or the statuses given ("Done, Not yet"); None for other items."""
    if isinstance(item, CommitmentsItem):
        made = commitments.commitments_from(answers, item.id)
        return " ".join(f"«{text}»" for text in made) if made else label("commitment.made_none")
    if isinstance(item, CommitmentReviewItem):
        statuses = [answers.get(commitments.entry_id(item.id, n)) for n in range(1, int(answers.get(item.id, 0)) + 1)]
        return ", ".join(label(f"commitment.{s}") for s in statuses if s in commitments.STATUSES)
    return None
