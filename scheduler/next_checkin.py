"""When a person's next check-in comes: told to someone who reaches a check-in after it closed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from surveys.store.enrolments import is_open
from surveys.store.models import CheckIn


async def next_check_in_due(session: AsyncSession, check_in: int | CheckIn, now: datetime) -> datetime | None:
    """When this person's next check-in on the same course is due, or None when none is left.

    The next one is the earliest-due other check-in of the enrolment that is still open and whose
    window has not passed. A time at or before `now` means it is open already (post, once pre
    closed); a withdrawn or blocked person has none.
    """
    check_in_id = check_in if isinstance(check_in, int) else check_in.id
    this = aliased(CheckIn)
    return await session.scalar(
        select(CheckIn.due_at)
        .join(this, this.enrolment_id == CheckIn.enrolment_id)
        .where(this.id == check_in_id, CheckIn.id != check_in_id, is_open(), CheckIn.closes_at > now)
        .order_by(CheckIn.due_at)
        .limit(1)
    )
