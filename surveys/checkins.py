"""Check-ins as the practitioner sees them: which one is open, whose it is, recording answers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer, lazyload

from surveys.answering import complete, insert_answer
from surveys.domain import states
from surveys.models import Answer, CheckIn, Contact, Course, Enrolment, QuizSetVersion


@dataclass(frozen=True)
class OpenCheckIn:
    """A check-in with what is needed to continue it."""

    check_in: CheckIn
    course: Course
    quiz_set: QuizSetVersion


def _chat_check_ins(chat_id: int):  # noqa: ANN202 - a Select
    """Check-ins of this chat's unwithdrawn enrolments, with their course and quiz-set version."""
    return (
        select(CheckIn, Course, QuizSetVersion)
        .join(Enrolment, Enrolment.id == CheckIn.enrolment_id)
        .join(Contact, Contact.enrolment_id == Enrolment.id)
        .join(Course, Course.id == Enrolment.course_id)
        .join(QuizSetVersion, QuizSetVersion.id == Course.quiz_set_id)
        .where(Contact.chat_id == chat_id, Enrolment.withdrawn_at.is_(None))
        # On every button press: skip the models' eager joins (Course and the quiz set are
        # selected here already) and the quiz definition (JSON), which callers cache by checksum.
        .options(lazyload(CheckIn.enrolment), lazyload(Course.quiz_set), defer(QuizSetVersion.definition))
    )


async def owned_check_in(session: AsyncSession, check_in_id: int, chat_id: int) -> OpenCheckIn | None:
    """The check-in if it belongs to this chat's (unwithdrawn) enrolment; None otherwise.

    Every button press goes through here: a forged id for someone else's check-in finds nothing.
    """
    found = (await session.execute(_chat_check_ins(chat_id).where(CheckIn.id == check_in_id))).first()
    return OpenCheckIn(*found) if found else None


async def open_check_in(session: AsyncSession, chat_id: int, now: datetime) -> OpenCheckIn | None:
    """The chat's check-in to answer now: started ones first, then the oldest due one."""
    rows = await session.execute(
        _chat_check_ins(chat_id)
        .where(CheckIn.state.in_(states.OPEN), CheckIn.due_at <= now, CheckIn.closes_at > now)
        .order_by((CheckIn.state == "in_progress").desc(), CheckIn.due_at, CheckIn.id)
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
    rows = await session.execute(
        select(Answer.item_id, Answer.value).where(Answer.check_in_id == check_in_id)
    )
    return {item_id: value for item_id, value in rows.all()}


async def mark_started(
    session: AsyncSession, check_in: CheckIn, now: datetime, *, remind_at: datetime | None = None
) -> None:
    """The practitioner has begun: in progress, and no more invitations for it.

    `remind_at` is when to nudge them if they stop part-way; a check-in started without an
    invitation (at consent, or by typing) has no reminder planned yet, and without one the
    dispatcher would never remind it.
    """
    if check_in.state in ("scheduled", "sent"):
        check_in.state = "in_progress"
        check_in.started_at = check_in.started_at or now
        check_in.sent_at = check_in.sent_at or now
    if remind_at is not None and check_in.next_action_at is None and check_in.reminders_sent == 0:
        check_in.next_action_at = remind_at
    await session.flush()


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
    """Store one answer (and complete the check-in if it was the last); False if already answered.

    The unique (check-in, item) constraint makes a double tap harmless, even from two processes.
    `quiz_set_id` saves loading the check-in's enrolment and course when the caller has it.
    """
    if quiz_set_id is None:
        quiz_set_id = check_in.enrolment.course.quiz_set_id
    row = {"check_in_id": check_in.id, "item_id": item_id, "quiz_set_id": quiz_set_id,
           "value": value, "score": score, "answered_at": now}
    # The same statements as the answer-button path (surveys.answering), on the session's
    # connection: flush first, as session.execute would, so pending rows are there for the FK.
    await session.flush()
    conn = await session.connection()
    if not await insert_answer(conn, row):
        return False
    await mark_started(session, check_in, now)
    if completes:
        await complete(conn, check_in.id, now)
        await session.refresh(check_in)
    return True
