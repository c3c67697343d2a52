"""The wave plan: when each check-in is due and when it closes, as pure DST-safe functions."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Protocol
from zoneinfo import ZoneInfo

from surveys.domain import lifecycle, waves
from surveys.domain.states import CheckInState

if TYPE_CHECKING:
    from surveys.settings import Settings

Window = tuple[time, time]


class CourseLike(lifecycle.CourseLike, Protocol):
    """What the plan needs from a course: its life (surveys.domain.lifecycle) and its waves."""

    waves: list[str]


@dataclass(frozen=True)
class PlannedCheckIn:
    """One wave of one enrolment as planned: due and closing times (UTC) and its first state."""

    wave: str
    due_at: datetime
    closes_at: datetime
    state: CheckInState  # scheduled, or missed when its window closed before enrolment


def add_months(day: date, months: int) -> date:
    """The same day `months` calendar months later, clamped to the month's end (31 Aug + 6 → 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _aware(day: date, at: time, zone: ZoneInfo) -> datetime:
    # A wall time inside a DST gap maps forward (fold=0 keeps the earlier offset), never back.
    return datetime.combine(day, at, tzinfo=zone)


def in_window(moment: datetime, zone: ZoneInfo, window: Window) -> bool:
    """True when `moment` falls on a weekday between the window's start and end, local time."""
    local = moment.astimezone(zone)
    start, end = window
    return local.weekday() < 5 and start <= local.time() <= end


def next_in_window(moment: datetime, zone: ZoneInfo, window: Window) -> datetime:
    """The earliest instant at or after `moment` that is on a weekday between start and end local time.

    Inside the window: unchanged. Before the start on a weekday: that day's start. After the end,
    or on a Saturday or Sunday: the start of the next weekday (Saturday → Monday 09:30).
    Returned in UTC.
    """
    if moment.tzinfo is None:
        raise ValueError("naive datetime")
    if in_window(moment, zone, window):
        return moment.astimezone(UTC)
    start, _ = window
    local = moment.astimezone(zone)
    day = local.date()
    if local.weekday() >= 5 or local.time() > start:
        day += timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return _aware(day, start, zone).astimezone(UTC)


def due_at(base: date | datetime, wave: str, zone: ZoneInfo, window: Window) -> datetime:
    """When `wave` is due: `base` plus the wave's calendar months, moved into the next send window.

    `base` is the course date (counted from the start of that local day) or an aware moment
    such as the time the course ended (its local wall-clock time is kept). Months are added to
    the local date, so 09:30 stays 09:30 across a DST change; a day missing from the target
    month is clamped to the month's last day. Returned in UTC.
    """
    months = waves.months(wave)
    if isinstance(base, datetime):
        if base.tzinfo is None:
            raise ValueError("naive datetime")
        local = base.astimezone(zone)
        nominal = _aware(add_months(local.date(), months), local.time(), zone)
    else:
        nominal = _aware(add_months(base, months), time(0, 0), zone)
    return next_in_window(nominal, zone, window)


def plan_check_ins(
    course: CourseLike, enrolled_at: datetime, now: datetime, settings: Settings
) -> list[PlannedCheckIn]:
    """The check-ins for someone enrolling at `enrolled_at`, judged at `now`.

    - `pre` is due at enrolment if the course day is not over yet, otherwise missed; it closes
      at the end of the course day (local midnight) at the latest, so no answer given after
      the training can count as "before" (ending the course closes it sooner).
    - `post` is due at enrolment once the course day is over (date passed or ended by the
      officer); before that it waits for the officer to end the course, with a fallback of
      the first send window after the course day, so a forgotten "end course" loses nothing.
    - `Nm` waves are N calendar months after the course date, in the send window.
    Waves triggered by the practitioner or officer acting (enrolment, ending the course) are
    due at that moment, outside the window too: the person is in the chat or the room now.
    Every other wave closes `checkin_window_days` after it is due; one already closed at `now`
    is recorded as `missed`, not dropped.
    """
    zone = ZoneInfo(course.zone or settings.timezone)
    window = settings.window
    span = timedelta(days=settings.checkin_window_days)
    over = lifecycle.has_ended(course, now)
    plan = []
    for wave in course.waves:
        state = CheckInState.SCHEDULED
        if wave == waves.PRE:
            due = enrolled_at.astimezone(UTC)
            state = CheckInState.MISSED if over else state
        elif wave == waves.POST and over:
            due = enrolled_at.astimezone(UTC)
        elif wave == waves.POST:
            due = due_at(course.delivered_on + timedelta(days=1), wave, zone, window)
        else:
            due = due_at(course.delivered_on, wave, zone, window)
        closes = due + span
        if wave == waves.PRE:
            closes = min(closes, _aware(course.delivered_on + timedelta(days=1), time(0, 0), zone).astimezone(UTC))
        if closes <= now:
            state = CheckInState.MISSED
        plan.append(PlannedCheckIn(wave, due, closes, state))
    return plan
