"""Turning an enrolment into check-in rows, releasing the post-course wave when a course ends, closing pre then."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.plan import plan_check_ins
from surveys.domain import waves
from surveys.domain.states import CheckInState
from surveys.settings import Settings
from surveys.store.audit import SYSTEM, AuditActor, record
from surveys.store.enrolments import close_open_check_ins, unfinished_outcome
from surveys.store.models import CheckIn, Course, Enrolment


async def schedule_check_ins(
    session: AsyncSession, enrolment: Enrolment, course: Course, now: datetime, settings: Settings
) -> list[CheckIn]:
    """Create the enrolment's check-ins from the plan; running it again changes nothing."""
    plan = plan_check_ins(course, enrolment.consented_at, now, settings)
    if plan:
        rows: list[dict[str, Any]] = [
            {
                "enrolment_id": enrolment.id,
                "wave": p.wave,
                "state": p.state,
                "due_at": p.due_at,
                "closes_at": p.closes_at,
                "reminders_sent": 0,
                "attempts": 0,
            }
            for p in plan
        ]
        # ON CONFLICT DO NOTHING keeps this idempotent even when two taps race.
        insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
        stmt = insert(CheckIn).values(rows).on_conflict_do_nothing(index_elements=["enrolment_id", "wave"])
        await session.execute(stmt)
    result = await session.scalars(select(CheckIn).where(CheckIn.enrolment_id == enrolment.id).order_by(CheckIn.due_at))
    return list(result)


async def release_post_wave(
    session: AsyncSession, course: Course, now: datetime, settings: Settings, *, actor: AuditActor = SYSTEM
) -> int:
    """The officer ended the course: every enrolled person's post-course check-in is due now.

    Marks the course ended (if not yet) so later enrolments get `post` at once, and closes `pre`
    (see close_pre); returns how many post check-ins were brought forward. Withdrawn people and
    check-ins already sent are untouched.
    """
    if course.ended_at is None:
        course.ended_at = now
    enrolled = select(Enrolment.id).where(Enrolment.course_id == course.id, Enrolment.withdrawn_at.is_(None))
    result = await session.execute(
        update(CheckIn)
        .where(
            CheckIn.wave == waves.POST,
            CheckIn.state == CheckInState.SCHEDULED,
            CheckIn.due_at > now,
            CheckIn.enrolment_id.in_(enrolled),
        )
        .values(due_at=now, closes_at=now + timedelta(days=settings.checkin_window_days))
        .execution_options(synchronize_session=False)
    )
    await close_pre(session, CheckIn.enrolment_id.in_(enrolled))
    await record(session, actor, "course.end", now=now, target=course.code, detail=f"{result.rowcount or 0} released")
    return result.rowcount or 0


async def close_pre(session: AsyncSession, whose: ColumnElement[bool]) -> int:
    """Pre closes when post opens: the open `pre` check-ins matching `whose` end, and their reminders with them.

    Called when the officer ends the course and when the dispatcher sends a `post` invitation, so
    no answer given after the training is stored as "before". One already sent or begun becomes
    `expired` (it was open and closed unfinished, as at the end of any window); one never sent
    becomes `missed` (the person was never asked). Returns how many; the caller commits.
    """
    return await close_open_check_ins(session, (CheckIn.wave == waves.PRE) & whose, unfinished_outcome())
