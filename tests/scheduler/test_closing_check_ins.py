"""Closing open check-ins leaves nothing behind, and pre closes when post opens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from scheduler.messenger import DeliveryError, Unreachable
from scheduler.timetable import release_post_wave, schedule_check_ins
from surveys.domain.states import CheckInState as State
from surveys.settings import load_settings
from surveys.store.enrolments import withdraw
from surveys.store.models import CheckIn, Course, Enrolment
from tests.support.schedule_builders import a_check_in, a_course, an_enrolment

SETTINGS = load_settings(env={}, env_file=None)
CHAT = 601
MORNING = datetime(2026, 1, 15, 8, 0, tzinfo=UTC)  # a Thursday; the course is that day


async def a_person_with_a_snooze_and_a_claim(sessions, now) -> int:
    """A reminder due now after "remind me tomorrow", and a later wave another worker holds; returns the enrolment."""
    async with sessions() as session:
        enrolment = await an_enrolment(session, await a_course(session, now), CHAT, now)
        await a_check_in(
            session,
            enrolment,
            due_at=now - timedelta(days=2),
            state=State.SENT,
            sent_at=now,
            next_action_at=now - timedelta(minutes=1),
            snoozed_until=now - timedelta(minutes=1),
        )
        await a_check_in(
            session,
            enrolment,
            wave="6m",
            due_at=now + timedelta(days=90),
            claimed_by="other",
            claim_expires_at=now + timedelta(minutes=5),
        )
        await session.commit()
        return enrolment.id


async def leftovers(sessions) -> list[tuple]:
    """Every check-in: (state, anything still pending on it)."""
    async with sessions() as session:
        rows = await session.scalars(select(CheckIn).order_by(CheckIn.id))
        return [(c.state, c.next_action_at, c.snoozed_until, c.claimed_by, c.claim_expires_at) for c in rows]


def nothing_pending(state: State) -> tuple:
    return (state, None, None, None, None)


async def test_after_withdrawal_no_check_in_keeps_a_claim_a_snooze_or_a_next_action(sessions, now):
    await a_person_with_a_snooze_and_a_claim(sessions, now)
    async with sessions() as session:
        assert await withdraw(session, CHAT, now) == 1
        await session.commit()
        reasons = set(await session.scalars(select(CheckIn.last_error)))
    assert await leftovers(sessions) == [nothing_pending(State.CANCELLED)] * 2
    assert reasons == {"withdrawn"}


async def test_after_a_block_no_check_in_keeps_a_claim_a_snooze_or_a_next_action(sessions, dispatcher, messenger, now):
    await a_person_with_a_snooze_and_a_claim(sessions, now)
    messenger.fail_next(CHAT, Unreachable())

    assert (await dispatcher.run_once()).unreachable == 1
    assert await leftovers(sessions) == [nothing_pending(State.CANCELLED)] * 2


async def test_a_permanent_failure_of_a_snoozed_reminder_leaves_no_snooze_behind(sessions, dispatcher, messenger, now):
    await a_person_with_a_snooze_and_a_claim(sessions, now)
    messenger.fail_next(CHAT, DeliveryError("Bad Request: chat not found", permanent=True))

    assert (await dispatcher.run_once()).failed == 1
    [failed, later] = await leftovers(sessions)
    assert failed == nothing_pending(State.CANCELLED)
    assert later[0] == State.SCHEDULED  # only the check-in that failed


async def test_a_withdrawal_seen_by_the_dispatcher_leaves_no_snooze_behind(sessions, dispatcher, clock, now):
    enrolment_id = await a_person_with_a_snooze_and_a_claim(sessions, now)
    async with sessions() as session:
        # Withdrawn by another process that did not cancel (an older version, a hand-made fix).
        await session.execute(update(Enrolment).where(Enrolment.id == enrolment_id).values(withdrawn_at=now))
        await session.commit()
    clock.advance(timedelta(minutes=6))  # the other worker's claim has run out

    assert (await dispatcher.run_once()).cancelled == 2
    assert await leftovers(sessions) == [nothing_pending(State.CANCELLED)] * 2


async def on_the_course_day(sessions, clock, dispatcher, messenger) -> Course:
    """Two people join in the morning; one gets the pre check-in, the other's is not sent yet."""
    clock.set(MORNING)
    async with sessions() as session:
        course = await a_course(session, MORNING, delivered_on=MORNING.date(), waves=("pre", "post", "3m"))
        first = await an_enrolment(session, course, CHAT, MORNING)
        await schedule_check_ins(session, first, course, MORNING, SETTINGS)
        await session.commit()
    assert (await dispatcher.run_once()).sent == 1  # pre, to the first person
    async with sessions() as session:
        second = await an_enrolment(session, course, CHAT + 1, MORNING)
        await schedule_check_ins(session, second, course, MORNING, SETTINGS)
        await session.commit()
    return course


async def pre_states(sessions) -> list[tuple]:
    async with sessions() as session:
        rows = await session.scalars(select(CheckIn).where(CheckIn.wave == "pre").order_by(CheckIn.id))
        return [(c.state, c.next_action_at, c.claimed_by) for c in rows]


async def test_ending_the_course_closes_pre_and_its_reminders_stop(sessions, clock, dispatcher, messenger):
    course = await on_the_course_day(sessions, clock, dispatcher, messenger)
    ended = MORNING + timedelta(hours=8)
    clock.set(ended)
    async with sessions() as session:
        await release_post_wave(session, await session.merge(course), ended, SETTINGS)
        await session.commit()

    # Sent pre: it was open and closed unfinished. Never sent: the person was never asked.
    assert await pre_states(sessions) == [(State.EXPIRED, None, None), (State.MISSED, None, None)]
    for _ in range(10 * 12):  # ten days, every two hours
        await dispatcher.run_once()
        clock.advance(timedelta(hours=2))
    pre_texts = [s for s in messenger.sent if s.message.text.startswith("Welcome")]
    assert len(pre_texts) == 1  # the morning's invitation; no reminder for pre after the course ended


async def test_when_post_falls_due_by_date_the_dispatcher_closes_pre(sessions, clock, dispatcher, messenger):
    await on_the_course_day(sessions, clock, dispatcher, messenger)
    # Nobody ended the course; the dispatcher next runs in the first send window after the day,
    # when the second person's pre (never sent) and both posts are due at once.
    clock.set(datetime(2026, 1, 16, 9, 30, tzinfo=UTC))
    report = await dispatcher.run_once()

    assert report.sent == 2
    assert [s.message.text.split(" ")[0] for s in messenger.sent] == ["Welcome", "Thank", "Thank"]
    assert await pre_states(sessions) == [(State.EXPIRED, None, None), (State.MISSED, None, None)]


async def test_pre_stays_open_on_the_course_day_until_post_opens(sessions, clock, dispatcher, messenger):
    await on_the_course_day(sessions, clock, dispatcher, messenger)
    clock.set(MORNING + timedelta(hours=1))
    assert (await dispatcher.run_once()).sent == 1  # the second person's pre
    assert [s for s, _, _ in await pre_states(sessions)] == [State.SENT, State.SENT]
