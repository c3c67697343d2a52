"""A late practitioner is told the check-in closed and when the next one comes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from scheduler.late import closed_notice
from tests.schedule_builders import a_check_in, a_course, an_enrolment


async def test_a_late_practitioner_hears_it_closed_and_when_the_next_one_comes(sessions, now):
    async with sessions() as session:
        enrolment = await an_enrolment(session, await a_course(session, now), 1, now)
        closed = await a_check_in(session, enrolment, due_at=now - timedelta(days=30), state="expired")
        await a_check_in(session, enrolment, wave="6m", due_at=datetime(2026, 4, 15, 8, 30, tzinfo=UTC))
        await session.commit()
        text = await closed_notice(session, closed.id, now)
    assert text.startswith("That check-in on CSE Level 3 has closed")
    assert "The next one comes on Wednesday 15 April" in text


async def test_after_the_last_wave_the_notice_says_there_are_no_more(sessions, now):
    async with sessions() as session:
        enrolment = await an_enrolment(session, await a_course(session, now), 1, now)
        # Not yet marked expired by the dispatcher, but its window has passed.
        last = await a_check_in(session, enrolment, wave="6m", due_at=now - timedelta(days=22), state="sent")
        await session.commit()
        text = await closed_notice(session, last.id, now)
    assert "There are no more check-ins for this course." in text


async def test_an_open_check_in_gets_no_closed_notice(sessions, now):
    async with sessions() as session:
        enrolment = await an_enrolment(session, await a_course(session, now), 1, now)
        open_one = await a_check_in(session, enrolment, due_at=now - timedelta(days=1), state="sent")
        await session.commit()
        assert await closed_notice(session, open_one.id, now) is None
