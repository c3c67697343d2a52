"""Check-ins as the practitioner sees them: which one is on screen, what is pending, recording answers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from surveys.domain import states
from surveys.store import answering
from surveys.store.models import Answer, CheckIn, Course, Enrolment, QuizSetVersion


@dataclass(frozen=True)
class OpenCheckIn:
    """A check-in with what is needed to continue it."""

    check_in: CheckIn
    course: Course
    quiz_set: QuizSetVersion


def _chat_check_ins(chat_id: int):
    """Check-ins of this chat's unwithdrawn enrolments, with their course and quiz-set version."""
    return (
        answering.of_chat(select(CheckIn, Course, QuizSetVersion), chat_id)
        # Not the quiz definition (JSON): callers parse it once per checksum and cache it.
        .options(defer(QuizSetVersion.definition, raiseload=True))
    )


def _last_shown():
    """When this check-in's question was last on screen: its latest answer (the next item follows), else its start."""
    latest_answer = select(func.max(Answer.answered_at)).where(Answer.check_in_id == CheckIn.id).scalar_subquery()
    # The first answer starts a check-in that was not started, so started_at is never after it.
    return func.coalesce(latest_answer, CheckIn.started_at)


async def open_check_in(session: AsyncSession, chat_id: int, now: datetime) -> OpenCheckIn | None:
    """The chat's check-in to answer now: the one whose question was shown last, else the oldest due one.

    Typed text goes here, so it must be the check-in on screen: with pre still open when post's
    first question is shown, an answer typed then belongs to post. Derived from stored times
    (start, answers), so it holds across a restart.
    """
    rows = await session.execute(
        _chat_check_ins(chat_id)
        .where(CheckIn.state.in_(states.OPEN), CheckIn.due_at <= now, CheckIn.closes_at > now)
        .order_by(_last_shown().desc().nulls_last(), CheckIn.due_at, CheckIn.id)
        .limit(1)
    )
    found = rows.first()
    return OpenCheckIn(*found) if found else None


async def pending_check_ins(session: AsyncSession, chat_id: int) -> list[tuple[CheckIn, Course]]:
    """Everything not yet finished for this chat, soonest first (for /status)."""
    rows = await session.execute(
        _chat_check_ins(chat_id).where(CheckIn.state.in_(states.OPEN)).order_by(CheckIn.due_at)
    )
    return [(check_in, course) for check_in, course, _ in rows.all()]


async def stored_answers(session: AsyncSession, check_in_id: int) -> dict[str, str]:
    """item id → stored value, for resuming a check-in where it stopped."""
    rows = await session.execute(select(Answer.item_id, Answer.value).where(Answer.check_in_id == check_in_id))
    return {item_id: value for item_id, value in rows.all()}


async def mark_started(
    session: AsyncSession, check_in: CheckIn, now: datetime, *, remind_at: datetime | None = None
) -> None:
    """The practitioner has begun (answering.start on the session's connection); `check_in` is reloaded."""
    await session.flush()
    await (await session.connection()).run_sync(answering.start, check_in.id, now, remind_at=remind_at)
    await session.refresh(check_in)


async def record_answer(
    session: AsyncSession,
    check_in: CheckIn,
    *,
    item_id: str,
    value: str,
    score: float | None,
    now: datetime,
    completes: bool,
    quiz_set_id: int | None = None,
) -> bool:
    """Store one answer through surveys.store.answering.record (as a button press does); False if already answered.

    `quiz_set_id` saves looking up the check-in's course when the caller has it.
    """
    if quiz_set_id is None:
        quiz_set_id = await session.scalar(
            select(Course.quiz_set_id)
            .join(Enrolment, Enrolment.course_id == Course.id)
            .where(Enrolment.id == check_in.enrolment_id)
        )
    # Flush first, as session.execute would, so pending rows are there for the foreign key.
    await session.flush()
    started = check_in.state == states.CheckInState.IN_PROGRESS
    stored = await (await session.connection()).run_sync(
        answering.record,
        check_in.id,
        quiz_set_id,
        started=started,
        item_id=item_id,
        value=value,
        score=score,
        now=now,
        completes=completes,
    )
    if stored and (completes or not started):
        await session.refresh(check_in)
    return stored
