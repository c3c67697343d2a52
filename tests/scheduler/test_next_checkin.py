"""A person who reaches a closed check-in can be told when their next one comes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from scheduler.next_checkin import next_check_in_due
from surveys.domain.states import CheckInState as State
from tests.support.schedule_builders import a_check_in, a_course, an_enrolment

APRIL_15 = datetime(2026, 4, 15, 8, 30, tzinfo=UTC)


async def test_after_an_expired_check_in_the_next_scheduled_one_is_named(sessions, now):
    async with sessions() as session:
        enrolment = await an_enrolment(session, await a_course(session, now), 1, now)
        closed = await a_check_in(session, enrolment, due_at=now - timedelta(days=30), state=State.EXPIRED)
        await a_check_in(session, enrolment, wave="12m", due_at=APRIL_15 + timedelta(days=180))
        await a_check_in(session, enrolment, wave="6m", due_at=APRIL_15)
        await session.commit()
        assert await next_check_in_due(session, closed.id, now) == APRIL_15
        assert await next_check_in_due(session, closed, now) == APRIL_15


async def test_after_the_last_wave_there_is_no_next_check_in(sessions, now):
    async with sessions() as session:
        enrolment = await an_enrolment(session, await a_course(session, now), 1, now)
        await a_check_in(session, enrolment, wave="post", due_at=now - timedelta(days=90), state=State.COMPLETED)
        last = await a_check_in(session, enrolment, wave="6m", due_at=now - timedelta(days=22), state=State.MISSED)
        await session.commit()
        assert await next_check_in_due(session, last.id, now) is None


async def test_a_check_in_already_open_is_the_next_one_and_due_already(sessions, now):
    async with sessions() as session:
        enrolment = await an_enrolment(session, await a_course(session, now), 1, now)
        pre = await a_check_in(session, enrolment, wave="pre", due_at=now - timedelta(days=2), state=State.EXPIRED)
        post = await a_check_in(session, enrolment, wave="post", due_at=now - timedelta(hours=1), state=State.SENT)
        await session.commit()
        assert await next_check_in_due(session, pre.id, now) == post.due_at <= now


async def test_another_persons_check_ins_and_cancelled_ones_do_not_count(sessions, now):
    async with sessions() as session:
        course = await a_course(session, now)
        mine, theirs = await an_enrolment(session, course, 1, now), await an_enrolment(session, course, 2, now)
        closed = await a_check_in(session, mine, due_at=now - timedelta(days=30), state=State.EXPIRED)
        await a_check_in(session, mine, wave="6m", due_at=APRIL_15, state=State.CANCELLED)
        await a_check_in(session, theirs, wave="6m", due_at=APRIL_15)
        await session.commit()
        assert await next_check_in_due(session, closed.id, now) is None
