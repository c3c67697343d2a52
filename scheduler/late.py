"""What to tell a practitioner who comes to a check-in after it closed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduler import messages
from surveys.domain.states import CheckInState
from surveys.models import CheckIn, Course, Enrolment

CLOSED_STATES = ("expired", "missed")


async def closed_notice(session: AsyncSession, check_in_id: int, now: datetime) -> str | None:
    """'That check-in has closed; the next one comes on …' — or None if the check-in is still open.

    A check-in counts as closed once it expired or was missed, or its window has passed even if
    the dispatcher has not marked it yet.
    """
    row = (
        await session.execute(
            select(CheckIn, Course.title, Course.zone)
            .join(Enrolment, Enrolment.id == CheckIn.enrolment_id)
            .join(Course, Course.id == Enrolment.course_id)
            .where(CheckIn.id == check_in_id)
        )
    ).first()
    if row is None:
        return None
    check_in, title, zone = row
    if check_in.state not in CLOSED_STATES and not (
        check_in.state in ("scheduled", "sent", "in_progress") and check_in.closes_at <= now
    ):
        return None
    next_due = await session.scalar(
        select(CheckIn.due_at)
        .where(CheckIn.enrolment_id == check_in.enrolment_id, CheckIn.state == "scheduled", CheckIn.due_at > now)
        .order_by(CheckIn.due_at)
        .limit(1)
    )
    return messages.closed(title, next_due, zone)


async def next_check_in_due(session: AsyncSession, check_in_id: int, now: datetime) -> datetime | None:
    """When the next check-in of the same enrolment is due (the earliest still scheduled after now), or None."""
    enrolment_id = select(CheckIn.enrolment_id).where(CheckIn.id == check_in_id).scalar_subquery()
    return await session.scalar(
        select(func.min(CheckIn.due_at))
        .where(CheckIn.enrolment_id == enrolment_id, CheckIn.state == CheckInState.SCHEDULED, CheckIn.due_at > now)
    )
