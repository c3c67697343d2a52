"""Message-only waves (a `commitment_reminder`): the invitation is the person's own commitments, and that is all.

Such a check-in asks nothing, so it is completed as soon as its message is delivered; a person who
made no commitments is sent nothing and their check-in is completed at once (every item it asks,
none, is answered: surveys.domain.states.COMPLETED). Neither ever gets a reminder.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.messenger import OutgoingMessage
from surveys.domain import states, waves
from surveys.domain.quiz_text import RenderContext, render
from surveys.domain.quizset import CommitmentReminderItem, QuizSet
from surveys.domain.states import CheckInState
from surveys.store.models import CheckIn
from surveys.store.own_commitments import own_commitments_by_enrolment, reviewed_items
from surveys.texts import render_text


async def own_commitments(
    session: AsyncSession, wanted: dict[int, tuple[QuizSet, str]]
) -> dict[int, dict[str, tuple[str, ...]]]:
    """enrolment → its commitments, for the enrolments whose message-only wave is going out (one query)."""
    items = set().union(*(reviewed_items(quiz, wave) for quiz, wave in wanted.values())) if wanted else set()
    conn = await session.connection()
    return await conn.run_sync(own_commitments_by_enrolment, wanted.keys(), items)


def nudge(quiz: QuizSet, wave: str, course_title: str, own: dict[str, tuple[str, ...]]) -> OutgoingMessage | None:
    """The wave's message: each reminder item with the person's own commitments; None when they made none."""
    context = RenderContext(course_title, wave, waves.months(wave))
    parts = [
        render_text(
            "commitments.txt",
            kind="reminder",
            own=own.get(item.of, ()),
            text=render(item.text, context),
            months=waves.months(wave),
            course_title=course_title,
        )
        for item in quiz.items_for(wave)
        if isinstance(item, CommitmentReminderItem) and own.get(item.of)
    ]
    return OutgoingMessage("\n\n".join(parts)) if parts else None


async def complete(session: AsyncSession, check_in_ids: list[int], now: datetime) -> None:
    """Complete message-only check-ins (delivered, or with nothing to say), letting go of their claims."""
    if check_in_ids:
        await session.execute(
            update(CheckIn)
            .where(CheckIn.id.in_(check_in_ids), CheckIn.state.in_(states.OPEN))
            .values(
                state=CheckInState.COMPLETED,
                completed_at=now,
                next_action_at=None,
                claimed_by=None,
                claim_expires_at=None,
            )
            .execution_options(synchronize_session=False)
        )
