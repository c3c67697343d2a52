"""The reminder rule: when reminders fall after an invitation, and "remind me tomorrow"."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.plan import next_in_window
from surveys.domain import states
from surveys.settings import Settings
from surveys.store.models import CheckIn, Course, Enrolment


def reminder_times(sent_at: datetime, zone: ZoneInfo, settings: Settings) -> list[datetime]:
    """The automatic reminders: `reminder_days` after the invitation, each moved into the send window."""
    return [next_in_window(sent_at + timedelta(days=d), zone, settings.window) for d in settings.reminder_days]


def first_reminder(now: datetime, zone: ZoneInfo, settings: Settings) -> datetime | None:
    """After an invitation delivered `now`: the first automatic reminder, or None if there are none."""
    times = reminder_times(now, zone, settings)
    return times[0] if times else None


def next_reminder(sent_at: datetime, count: int, now: datetime, zone: ZoneInfo, settings: Settings) -> datetime | None:
    """After the `count`-th reminder went out `now`: the next automatic one, never sooner than a day later.

    None once all automatic reminders are spent. The day's gap matters after a snoozed reminder,
    which can fall just before an automatic one: never two messages back to back.
    """
    times = reminder_times(sent_at, zone, settings)
    if count >= len(times):
        return None
    return max(times[count], next_in_window(now + timedelta(days=1), zone, settings.window))


async def snooze(session: AsyncSession, check_in_id: int, now: datetime, settings: Settings) -> datetime | None:
    """'Remind me tomorrow': remind 24 hours from now, moved into the send window; the caller commits.

    Returns when the reminder will come, or None if the check-in is no longer open (finished,
    closed, cancelled) or would have closed by then. The snoozed reminder is owed even after the
    two automatic ones.
    """
    row = (
        await session.execute(
            select(CheckIn.closes_at, Course.zone)
            .join(Enrolment, Enrolment.id == CheckIn.enrolment_id)
            .join(Course, Course.id == Enrolment.course_id)
            .where(CheckIn.id == check_in_id, CheckIn.state.in_(states.OPEN))
        )
    ).first()
    if row is None:
        return None
    closes_at, zone = row
    when = next_in_window(now + timedelta(days=1), ZoneInfo(zone or settings.timezone), settings.window)
    if when >= closes_at:
        return None
    result = await session.execute(
        update(CheckIn)
        .where(CheckIn.id == check_in_id, CheckIn.state.in_(states.REMINDABLE))
        .values(next_action_at=when, snoozed_until=when)
        .execution_options(synchronize_session=False)
    )
    return when if result.rowcount else None
