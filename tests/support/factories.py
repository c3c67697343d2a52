"""Test builders: a stored quiz set, a course, an enrolled practitioner — through the real store."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from surveys.domain.quizset import bundled_quiz_set, load_quiz_set
from surveys.store.catalog import import_quiz_set
from surveys.store.courses import create_course
from surveys.store.enrolments import enrol
from surveys.store.invites import issue_invite
from surveys.store.models import Course, Enrolment


async def stored_cse_core(session: AsyncSession, now: datetime):
    """Import the bundled cse-core set and return its stored version."""
    path = bundled_quiz_set("cse-core")
    assert path is not None
    return (await import_quiz_set(session, load_quiz_set(path), now)).version


async def a_course(
    session: AsyncSession,
    now: datetime,
    *,
    code: str = "CSE-1",
    delivered_on: date | None = None,
    waves: tuple[str, ...] = ("post", "3m", "6m"),
    attendance: int | None = 20,
) -> Course:
    """A course on cse-core delivered today (by default)."""
    await stored_cse_core(session, now)
    return await create_course(
        session,
        code=code,
        title="CSE awareness level 2",
        delivered_on=delivered_on or now.date(),
        level=2,
        quiz_ref="cse-core",
        now=now,
        waves=waves,
        expected_attendance=attendance,
    )


async def an_enrolment(session: AsyncSession, course: Course, chat_id: int, now: datetime) -> Enrolment:
    """Enrol `chat_id` on `course` through a shared invite."""
    issued = await issue_invite(session, course, now)
    return await enrol(session, issued.invite, chat_id, now, role="teacher", agency="education")
