"""The weekly pulse for training officers: per running course, answered per wave against attendance, counts only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from surveys.domain.states import CheckInState
from surveys.domain.waves import order_key
from surveys.reporting.report.stats import suppressed
from surveys.settings import Settings
from surveys.store.catalog import parsed
from surveys.store.models import CheckIn, Contact, Course, Enrolment, PulseSent, QuizSetVersion

PULSE_DAY = 0  # Monday, as date.weekday() counts
PULSE_AT = time(9, 30)
WEEK = timedelta(days=7)


def next_pulse_at(now: datetime, zone: ZoneInfo) -> datetime:
    """The next Monday 09:30 in `zone` strictly after `now` (a wall-clock time: it stays 09:30 across DST)."""
    local = now.astimezone(zone)
    day = local.date() + timedelta(days=(PULSE_DAY - local.weekday()) % 7)
    at = datetime.combine(day, PULSE_AT, tzinfo=zone)
    if at <= now:
        at = datetime.combine(day + WEEK, PULSE_AT, tzinfo=zone)
    return at


def week_of(now: datetime, zone: ZoneInfo) -> date:
    """The Monday (in `zone`) of the week `now` falls in: the week a pulse is for."""
    local = now.astimezone(zone).date()
    return local - timedelta(days=(local.weekday() - PULSE_DAY) % 7)


async def claim_week(session: AsyncSession, week: date, now: datetime) -> bool:
    """Claim this week's pulse; False when another worker (or an earlier run) already sent it."""
    try:
        async with session.begin_nested():
            session.add(PulseSent(week_of=week, sent_at=now))
    except IntegrityError:
        return False
    return True


@dataclass(frozen=True)
class WaveLine:
    """One wave of one course as the pulse shows it; `answered` is None when fewer than k answered."""

    wave: str
    answered: int | None
    percent: int | None  # of attendance, only beside a shown count
    closes_at: datetime  # the last of its check-ins to close
    closed: bool
    closing_this_week: bool
    alert: bool  # closed in the past week below FOLLOWUP_PULSE_ALERT_BELOW of attendance


@dataclass(frozen=True)
class CourseLine:
    """One running course: its denominator, its started waves, and how many chats are unreachable."""

    code: str
    title: str
    zone: str
    attendance: int | None  # None when it counts people (who enrolled) and is 1 to k-1
    attendance_known: bool  # False: the denominator is who enrolled, the attendance was not given
    waves: tuple[WaveLine, ...]
    unreachable: int | None  # None when 1 to k-1; 0 is shown as none


@dataclass(frozen=True)
class Pulse:
    """The week's pulse: counts only, every count below k withheld."""

    at: datetime
    zone: str  # the send window's zone: the pulse's own day is told in it
    suppress_below: int
    alert_below: int
    courses: tuple[CourseLine, ...]

    @property
    def alerts(self) -> list[tuple[CourseLine, WaveLine]]:
        """Waves that closed in the past week below the alert share of attendance."""
        return [(c, w) for c in self.courses for w in c.waves if w.alert]


def _shown(n: int, k: int) -> int | None:
    # The report's rule (stats.suppressed): a count about fewer than k people is not published.
    return suppressed(n, k, {})["n"]


async def weekly_pulse(session: AsyncSession, now: datetime, settings: Settings) -> Pulse:
    """Every course still following people up (or whose wave closed in the past week), wave by wave.

    A wave has started once its first check-in is due; it closes with its last check-in. Answered means
    completed; the denominator is the course's expected attendance (the report's), else who enrolled.
    """
    k, threshold = settings.suppress_below, settings.pulse_alert_below
    per_wave = (
        await session.execute(
            select(
                Enrolment.course_id,
                CheckIn.wave,
                func.count(case((CheckIn.state == CheckInState.COMPLETED, 1))),
                func.min(CheckIn.due_at),
                func.max(CheckIn.closes_at),
            )
            .join(Enrolment, Enrolment.id == CheckIn.enrolment_id)
            .group_by(Enrolment.course_id, CheckIn.wave)
        )
    ).all()
    running = {course_id for course_id, _, _, _, closes in per_wave if closes > now - WEEK}
    if not running:
        return Pulse(now, settings.timezone, k, threshold, ())
    courses = {c.id: c for c in await session.scalars(select(Course).where(Course.id.in_(running)))}
    quizzes = {
        version.id: parsed(version)
        for version in await session.scalars(
            select(QuizSetVersion).where(QuizSetVersion.id.in_({c.quiz_set_id for c in courses.values()}))
        )
    }
    enrolled = dict(
        (await session.execute(select(Enrolment.course_id, func.count()).group_by(Enrolment.course_id))).all()
    )
    unreachable = dict(
        (
            await session.execute(
                select(Enrolment.course_id, func.count())
                .join(Contact, Contact.enrolment_id == Enrolment.id)
                .where(Contact.unreachable_at.is_not(None))
                .group_by(Enrolment.course_id)
            )
        ).all()
    )
    lines = []
    for course in sorted(courses.values(), key=lambda c: (c.delivered_on, c.code)):
        attendance = course.expected_attendance or enrolled.get(course.id, 0)
        waves = []
        for _, wave, answered, first_due, closes in sorted(
            (row for row in per_wave if row[0] == course.id), key=lambda row: order_key(row[1])
        ):
            if first_due > now:
                continue  # not started: nothing to say yet
            if quizzes[course.quiz_set_id].message_only(wave):
                continue  # a reminder asks nothing: there a finished check-in means delivered, not answered
            closed = closes <= now
            low = bool(attendance) and 100 * answered < threshold * attendance
            shown = _shown(answered, k)
            if shown is not None and 0 < attendance - answered < k:
                # Beside the attendance, the count would give away how many (fewer than k) did not answer.
                shown = None
            waves.append(
                WaveLine(
                    wave=wave,
                    answered=shown,
                    percent=round(100 * answered / attendance) if shown is not None and attendance else None,
                    closes_at=closes,
                    closed=closed,
                    closing_this_week=not closed and closes < now + WEEK,
                    alert=closed and closes > now - WEEK and low,
                )
            )
        gone = unreachable.get(course.id, 0)
        lines.append(
            CourseLine(
                code=course.code,
                title=course.title,
                zone=course.zone,
                # An expected attendance is the officer's figure; who enrolled counts people, so k applies.
                attendance=attendance if course.expected_attendance is not None else _shown(attendance, k),
                attendance_known=course.expected_attendance is not None,
                waves=tuple(waves),
                unreachable=0 if gone == 0 else _shown(gone, k),
            )
        )
    return Pulse(now, settings.timezone, k, threshold, tuple(lines))
