"""Rows for scheduler tests: a quiz set of 12 questions, courses, enrolments with contacts, check-ins."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from surveys.domain.quizset import QuizSet
from surveys.domain.states import CheckInState
from surveys.store.models import CheckIn, Contact, Course, Enrolment, QuizSetVersion

WAVES = ["pre", "post", "3m", "6m", "12m"]
DEFINITION: dict[str, Any] = QuizSet.model_validate(
    {
        "slug": "sched-test",
        "title": "Scheduler test",
        "description": "Twelve yes/no questions at every wave.",
        "estimate_minutes": 4,
        "waves": WAVES,
        "items": [
            {"id": f"q{i}", "kind": "yes_no", "text": f"Q{i}", "tags": ["test"], "waves": WAVES} for i in range(12)
        ],
    }
).to_definition()


async def a_quiz_set(session: AsyncSession, now: datetime) -> QuizSetVersion:
    """The 12-question, 4-minute quiz set (stored once per test database)."""
    found = await session.scalar(select(QuizSetVersion).where(QuizSetVersion.slug == "sched-test"))
    if found:
        return found
    quiz = QuizSetVersion(
        slug="sched-test",
        version=1,
        title="Scheduler test",
        definition=DEFINITION,
        checksum="0" * 64,
        created_at=now,
    )
    session.add(quiz)
    await session.flush()
    return quiz


async def a_course(
    session: AsyncSession,
    now: datetime,
    *,
    code: str = "CSE-L3",
    title: str = "CSE Level 3",
    delivered_on: date = date(2025, 10, 15),
    waves: tuple[str, ...] = ("post", "3m", "6m"),
    zone: str = "Europe/London",
    ended_at: datetime | None = None,
) -> Course:
    """A course (by default delivered three months before the pinned now)."""
    quiz = await a_quiz_set(session, now)
    course = Course(
        code=code,
        title=title,
        level=3,
        delivered_on=delivered_on,
        zone=zone,
        quiz_set_id=quiz.id,
        waves=list(waves),
        ended_at=ended_at,
        created_at=now,
    )
    session.add(course)
    await session.flush()
    return course


async def an_enrolment(session: AsyncSession, course: Course, chat_id: int, now: datetime) -> Enrolment:
    """A consenting practitioner with a chat link."""
    # Random, as in the app: a pseudonym never derives from the chat id.
    enrolment = Enrolment(pseudonym=secrets.token_hex(6), course_id=course.id, consented_at=now)
    session.add(enrolment)
    await session.flush()
    session.add(Contact(enrolment_id=enrolment.id, chat_id=chat_id, created_at=now))
    await session.flush()
    return enrolment


async def a_check_in(
    session: AsyncSession,
    enrolment: Enrolment,
    *,
    due_at: datetime,
    wave: str = "3m",
    days_open: int = 21,
    **values: Any,
) -> CheckIn:
    """A check-in row, scheduled by default."""
    check_in = CheckIn(
        enrolment_id=enrolment.id,
        wave=wave,
        due_at=due_at,
        closes_at=due_at + timedelta(days=days_open),
        **{"state": CheckInState.SCHEDULED, **values},
    )
    session.add(check_in)
    await session.flush()
    return check_in


async def many_due_check_ins(
    session: AsyncSession, course: Course, count: int, due_at: datetime, first_chat: int = 10_000
) -> None:
    """`count` people on `course`, each with one due 3-month check-in (bulk inserts)."""
    created = datetime(2026, 1, 1, tzinfo=UTC)
    ids = (
        await session.scalars(
            insert(Enrolment).returning(Enrolment.id),
            [
                {"pseudonym": secrets.token_hex(6), "course_id": course.id, "consented_at": created}
                for i in range(count)
            ],
        )
    ).all()
    await session.execute(
        insert(Contact),
        [{"enrolment_id": eid, "chat_id": first_chat + i, "created_at": created} for i, eid in enumerate(ids)],
    )
    await session.execute(
        insert(CheckIn),
        [
            {
                "enrolment_id": eid,
                "wave": "3m",
                "state": CheckInState.SCHEDULED,
                "due_at": due_at,
                "closes_at": due_at + timedelta(days=21),
                "reminders_sent": 0,
                "attempts": 0,
            }
            for eid in ids
        ],
    )
    await session.flush()
