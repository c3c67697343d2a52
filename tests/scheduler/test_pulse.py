"""The weekly pulse: Monday 09:30 in the zone, its counts per wave, the alert, and the small-number rule."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import count
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.admin.pulse import pulse_text
from scheduler.pulse import claim_week, next_pulse_at, week_of, weekly_pulse
from surveys.domain.states import CheckInState
from surveys.settings import load_settings
from surveys.store.models import Contact, Enrolment
from tests.support.schedule_builders import a_check_in, a_course, an_enrolment

LONDON = ZoneInfo("Europe/London")
MONDAY = datetime(2026, 1, 19, 9, 30, tzinfo=UTC)  # 09:30 in London in winter
SETTINGS = load_settings(env={}, env_file=None)
_chats = count(70_000)


def test_the_pulse_is_due_next_monday_at_half_past_nine_in_the_zone() -> None:
    thursday = datetime(2026, 1, 15, 10, tzinfo=UTC)
    assert next_pulse_at(thursday, LONDON) == MONDAY
    assert next_pulse_at(MONDAY - timedelta(seconds=1), LONDON) == MONDAY
    assert next_pulse_at(MONDAY, LONDON) == MONDAY + timedelta(days=7)  # strictly after: not twice
    # Summer time began on Sunday 29 March 2026: Monday's 09:30 is 08:30 UTC.
    assert next_pulse_at(datetime(2026, 3, 27, 12, tzinfo=UTC), LONDON) == datetime(2026, 3, 30, 8, 30, tzinfo=UTC)
    # In another zone it is that zone's Monday morning.
    tokyo = next_pulse_at(thursday, ZoneInfo("Asia/Tokyo")).astimezone(ZoneInfo("Asia/Tokyo"))
    assert (tokyo.weekday(), tokyo.hour, tokyo.minute) == (0, 9, 30)
    assert week_of(MONDAY + timedelta(days=6), LONDON) == date(2026, 1, 19)


async def _wave(session, course, n, *, wave, due, closes, completed, unreachable=0):
    """`n` people on `course` at `wave`; the first `completed` answered, the last `unreachable` blocked."""
    for i in range(n):
        enrolment = await an_enrolment(session, course, next(_chats), due)
        done = i < completed
        await a_check_in(
            session,
            enrolment,
            wave=wave,
            due_at=due,
            days_open=(closes - due).days,
            state=CheckInState.COMPLETED if done else CheckInState.EXPIRED,
            completed_at=due if done else None,
        )
        if i >= n - unreachable:
            contact = await session.scalar(select(Contact).where(Contact.enrolment_id == enrolment.id))
            contact.unreachable_at = due


async def _courses(session) -> None:
    a = await a_course(session, MONDAY, code="CSE-A", delivered_on=date(2025, 10, 5))
    a.expected_attendance = 20
    # Closed within the past week at 3 of 20 (15%): an alert, with the count withheld.
    await _wave(
        session,
        a,
        12,
        wave="3m",
        due=datetime(2026, 1, 5, 9, 30, tzinfo=UTC),
        closes=datetime(2026, 1, 16, 9, 30, tzinfo=UTC),
        completed=3,
    )
    b = await a_course(session, MONDAY, code="CSE-B", delivered_on=date(2025, 10, 12))
    b.expected_attendance = 10
    # Still open, closing on Thursday: 6 of 10 answered; 2 unreachable.
    await _wave(
        session,
        b,
        9,
        wave="3m",
        due=datetime(2026, 1, 12, 9, 30, tzinfo=UTC),
        closes=datetime(2026, 1, 22, 9, 30, tzinfo=UTC),
        completed=6,
        unreachable=2,
    )
    old = await a_course(session, MONDAY, code="CSE-OLD", delivered_on=date(2025, 1, 10))
    # Closed a month ago at 1 of 12: long reported, not in this week's pulse.
    await _wave(
        session,
        old,
        6,
        wave="6m",
        due=datetime(2025, 11, 10, 9, 30, tzinfo=UTC),
        closes=datetime(2025, 12, 1, 9, 30, tzinfo=UTC),
        completed=1,
    )


async def test_the_pulse_counts_each_running_course_per_wave_against_attendance(sessions) -> None:
    async with sessions() as session, session.begin():
        await _courses(session)
        pulse = await weekly_pulse(session, MONDAY, SETTINGS)
    assert [c.code for c in pulse.courses] == ["CSE-A", "CSE-B"]
    a, b = pulse.courses
    (a3,) = a.waves
    assert (a.attendance, a3.answered, a3.percent, a3.closed, a3.alert) == (20, None, None, True, True)
    (b3,) = b.waves
    assert (b.attendance, b3.answered, b3.percent, b3.closing_this_week, b3.alert) == (10, 6, 60, True, False)
    assert b.unreachable is None and a.unreachable == 0  # 2 unreachable: fewer than 5
    assert [(c.code, w.wave) for c, w in pulse.alerts] == [("CSE-A", "3m")]


async def test_the_pulse_text_says_fewer_than_5_and_names_no_one(sessions) -> None:
    async with sessions() as session, session.begin():
        await _courses(session)
        pulse = await weekly_pulse(session, MONDAY, SETTINGS)
        pseudonyms = list(await session.scalars(select(Enrolment.pseudonym)))
    (text,) = pulse_text(pulse)
    assert "⚠️ ALERT: CSE-A 3m closed on Friday 16 January with fewer than 5 of 20 answered, below 50%" in text
    assert "3m: 6 answered (60%), closes this week (Thursday 22 January)" in text
    assert "Unreachable: fewer than 5" in text and "Unreachable: none" in text
    assert "CSE-OLD" not in text and "3m: fewer than 5 answered, closed Friday 16 January" in text
    assert "3 answered" not in text and "Unreachable: 2" not in text
    assert not any(p in text for p in pseudonyms)


async def test_the_alert_threshold_is_a_setting(sessions) -> None:
    strict = load_settings(env={"FOLLOWUP_PULSE_ALERT_BELOW": "70"}, env_file=None)
    async with sessions() as session, session.begin():
        await _courses(session)
        # CSE-B's wave closes on Thursday: by the next Monday it has closed at 60%, below 70%.
        later = await weekly_pulse(session, MONDAY + timedelta(days=7), strict)
        lenient = await weekly_pulse(session, MONDAY + timedelta(days=7), SETTINGS)
    assert [(c.code, w.wave) for c, w in later.alerts] == [("CSE-B", "3m")]
    assert lenient.alerts == []


async def test_a_week_is_claimed_once_so_several_workers_send_one_pulse(sessions) -> None:
    async with sessions() as session, session.begin():
        assert await claim_week(session, date(2026, 1, 19), MONDAY)
        assert not await claim_week(session, date(2026, 1, 19), MONDAY)
        assert await claim_week(session, date(2026, 1, 26), MONDAY)
