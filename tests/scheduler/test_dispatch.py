"""Dispatch on both databases: sent once, reminders, snooze, expiry, failures, leases, concurrency."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select, update

from scheduler.claims import claim_due
from scheduler.dispatch import Dispatcher, DispatchReport
from scheduler.messenger import DeliveryError, Unreachable
from scheduler.reminders import snooze
from scheduler.timetable import release_post_wave, schedule_check_ins
from surveys.clock import FrozenClock
from surveys.domain.states import CheckInState
from surveys.settings import load_settings
from surveys.store.db import make_engine, make_sessionmaker
from surveys.store.models import CheckIn, Contact, Enrolment
from tests.support.recording_messenger import RecordingMessenger
from tests.support.schedule_builders import a_check_in, a_course, an_enrolment, many_due_check_ins

SETTINGS = load_settings(env={}, env_file=None)
CHAT = 501


async def one_due(sessions, now, *, chat_id=CHAT, **values):
    """A person with one 3-month check-in due an hour ago; returns its id."""
    async with sessions() as session:
        course = await a_course(session, now)
        enrolment = await an_enrolment(session, course, chat_id, now)
        check_in = await a_check_in(session, enrolment, due_at=now - timedelta(hours=1), **values)
        await session.commit()
        return check_in.id


async def load(sessions, check_in_id) -> CheckIn:
    async with sessions() as session:
        return await session.get_one(CheckIn, check_in_id)


async def run_days(dispatcher, clock, days, step=timedelta(hours=2)) -> DispatchReport:
    """Tick every `step` for `days` days, adding up the reports."""
    total = DispatchReport()
    end = clock() + timedelta(days=days)
    while clock() < end:
        clock.advance(step)
        total = total + await dispatcher.run_once()
    return total


async def test_a_due_check_in_is_sent_once_with_start_and_snooze_buttons(sessions, dispatcher, messenger, now):
    check_in_id = await one_due(sessions, now)

    first = await dispatcher.run_once()
    second = await dispatcher.run_once()

    assert (first.sent, second.sent) == (1, 0)
    [sent] = messenger.sent
    assert sent.chat_id == CHAT
    assert sent.message.text.startswith("It's 3 months since CSE Level 3. 12 questions, about 4 minutes.")
    assert [(a.label, a.kind, a.check_in_id) for a in sent.message.actions] == [
        ("Start now", "start", check_in_id),
        ("Remind me tomorrow", "snooze", check_in_id),
    ]
    stored = await load(sessions, check_in_id)
    assert (stored.state, stored.message_id, stored.sent_at, stored.claimed_by) == ("sent", sent.message_id, now, None)
    # Thursday 10:00 + 3 days = Sunday → Monday 09:30 for the first reminder.
    assert stored.next_action_at == datetime(2026, 1, 19, 9, 30, tzinfo=UTC)


async def test_a_check_in_not_yet_due_is_not_sent(sessions, dispatcher, messenger, now):
    async with sessions() as session:
        enrolment = await an_enrolment(session, await a_course(session, now), CHAT, now)
        await a_check_in(session, enrolment, due_at=now + timedelta(minutes=1))
        await session.commit()
    assert (await dispatcher.run_once()).sent == 0
    assert messenger.sent == []


async def test_reminders_come_three_and_seven_days_later_and_stop_at_two(sessions, dispatcher, messenger, clock, now):
    check_in_id = await one_due(sessions, now)

    report = await dispatcher.run_once() + await run_days(dispatcher, clock, 25)

    assert (report.sent, report.reminded, report.expired) == (1, 2, 1)
    texts = messenger.to(CHAT)
    assert len(texts) == 3
    assert texts[1].startswith("A gentle reminder: your check-in on CSE Level 3")
    stored = await load(sessions, check_in_id)
    assert (stored.state, stored.reminders_sent) == ("expired", 2)


async def test_nobody_who_finished_is_reminded(sessions, dispatcher, messenger, clock, now):
    check_in_id = await one_due(sessions, now)
    await dispatcher.run_once()
    async with sessions() as session:
        await session.execute(update(CheckIn).where(CheckIn.id == check_in_id).values(state="completed"))
        await session.commit()

    report = await run_days(dispatcher, clock, 25)

    assert report.reminded == 0 and len(messenger.sent) == 1
    assert (await load(sessions, check_in_id)).state == "completed"


async def test_someone_part_way_through_is_reminded_to_carry_on(sessions, dispatcher, messenger, clock, now):
    check_in_id = await one_due(sessions, now)
    await dispatcher.run_once()
    async with sessions() as session:
        await session.execute(update(CheckIn).where(CheckIn.id == check_in_id).values(state="in_progress"))
        await session.commit()

    await run_days(dispatcher, clock, 4)

    reminder = messenger.sent[-1].message
    assert reminder.text.startswith("You're part-way through")
    assert reminder.actions[0].label == "Carry on"


async def test_nobody_who_withdrew_is_reminded_and_their_check_ins_are_cancelled(
    sessions, dispatcher, messenger, clock, now
):
    check_in_id = await one_due(sessions, now)
    await dispatcher.run_once()
    async with sessions() as session:
        await session.execute(update(Enrolment).values(withdrawn_at=now))
        await session.commit()

    report = await run_days(dispatcher, clock, 10)

    assert report.reminded == 0 and len(messenger.sent) == 1
    stored = await load(sessions, check_in_id)
    assert (stored.state, stored.last_error) == ("cancelled", "withdrawn")


async def test_a_check_in_whose_window_closed_before_it_could_be_sent_is_missed_and_never_sent(
    sessions, dispatcher, messenger, now
):
    check_in_id = await one_due(sessions, now, days_open=0)

    report = await dispatcher.run_once()

    assert (report.expired, report.sent) == (1, 0)
    assert messenger.sent == []
    # Never sent, so not "expired" (which counts as reached in the report's response rates).
    assert (await load(sessions, check_in_id)).state == CheckInState.MISSED


async def test_remind_me_tomorrow_reminds_the_next_day_at_the_same_time(sessions, dispatcher, messenger, clock, now):
    check_in_id = await one_due(sessions, now)
    await dispatcher.run_once()

    async with sessions() as session, session.begin():
        when = await snooze(session, check_in_id, now, SETTINGS)

    assert when == now + timedelta(days=1)  # Friday 10:00 London
    clock.set(when - timedelta(seconds=1))
    assert (await dispatcher.run_once()).reminded == 0
    clock.set(when)
    assert (await dispatcher.run_once()).reminded == 1
    stored = await load(sessions, check_in_id)
    # The snooze did not use up an automatic reminder; the next is Monday 09:30 (3 days after sending).
    assert (stored.reminders_sent, stored.snoozed_until) == (0, None)
    assert stored.next_action_at == datetime(2026, 1, 19, 9, 30, tzinfo=UTC)


async def test_remind_me_tomorrow_on_a_friday_evening_waits_for_monday(sessions, dispatcher, now):
    check_in_id = await one_due(sessions, now)
    await dispatcher.run_once()
    async with sessions() as session, session.begin():
        when = await snooze(session, check_in_id, datetime(2026, 1, 16, 19, 0, tzinfo=UTC), SETTINGS)
    assert when == datetime(2026, 1, 19, 9, 30, tzinfo=UTC)


async def test_remind_me_tomorrow_after_both_reminders_still_reminds(sessions, dispatcher, messenger, clock, now):
    check_in_id = await one_due(sessions, now)
    await dispatcher.run_once()
    await run_days(dispatcher, clock, 8)
    assert len(messenger.sent) == 3
    async with sessions() as session, session.begin():
        when = await snooze(session, check_in_id, clock(), SETTINGS)
    assert when is not None

    await run_days(dispatcher, clock, 3)

    assert len(messenger.sent) == 4


async def test_a_finished_check_in_cannot_be_snoozed(sessions, now):
    check_in_id = await one_due(sessions, now, state="completed")
    async with sessions() as session, session.begin():
        assert await snooze(session, check_in_id, now, SETTINGS) is None


async def test_a_transient_failure_is_retried_later_and_never_lost(sessions, dispatcher, messenger, clock, now):
    check_in_id = await one_due(sessions, now)
    failure = DeliveryError("server error 502", permanent=False)
    messenger.fail_next(CHAT, failure, failure, failure)

    first = await dispatcher.run_once()
    stored = await load(sessions, check_in_id)
    assert (first.retried, stored.state, stored.attempts, stored.claimed_by) == (1, "scheduled", 1, None)
    assert stored.last_error == "server error 502" and stored.next_action_at > now

    report = await run_days(dispatcher, clock, 0.01, step=timedelta(minutes=1))

    assert (report.retried, report.sent) == (2, 1)
    stored = await load(sessions, check_in_id)
    assert (stored.state, stored.attempts, stored.last_error) == ("sent", 0, None)
    assert len(messenger.sent) == 1


async def test_a_flood_wait_is_waited_out_before_trying_again(sessions, dispatcher, messenger, clock, now):
    check_in_id = await one_due(sessions, now)
    messenger.fail_next(CHAT, DeliveryError("flood", permanent=False, retry_after=40))

    await dispatcher.run_once()

    assert (await load(sessions, check_in_id)).next_action_at == now + timedelta(seconds=40)
    clock.advance(timedelta(seconds=39))
    assert (await dispatcher.run_once()).sent == 0
    clock.advance(timedelta(seconds=1))
    assert (await dispatcher.run_once()).sent == 1


async def test_a_blocked_bot_marks_the_contact_unreachable_and_cancels_the_later_waves(
    sessions, dispatcher, messenger, now
):
    async with sessions() as session:
        enrolment = await an_enrolment(session, await a_course(session, now), CHAT, now)
        due = await a_check_in(session, enrolment, due_at=now - timedelta(hours=1))
        later = await a_check_in(session, enrolment, wave="6m", due_at=now + timedelta(days=90))
        await session.commit()
    messenger.fail_next(CHAT, Unreachable())

    report = await dispatcher.run_once()

    assert (report.unreachable, report.sent) == (1, 0)
    async with sessions() as session:
        contact = await session.scalar(select(Contact))
        assert contact.unreachable_at == now
        states = {c.id: (c.state, c.last_error) for c in await session.scalars(select(CheckIn))}
    assert states == {
        due.id: ("cancelled", "unreachable: blocked by the user"),
        later.id: ("cancelled", "unreachable: blocked by the user"),
    }


async def test_a_permanent_error_cancels_only_that_check_in_and_says_why(sessions, dispatcher, messenger, now):
    check_in_id = await one_due(sessions, now)
    messenger.fail_next(CHAT, DeliveryError("Bad Request: chat not found", permanent=True))

    report = await dispatcher.run_once()

    stored = await load(sessions, check_in_id)
    assert report.failed == 1
    assert (stored.state, stored.last_error) == ("cancelled", "failed: Bad Request: chat not found")


async def test_an_unexpected_exception_in_the_messenger_is_treated_as_transient(sessions, dispatcher, messenger, now):
    check_in_id = await one_due(sessions, now)

    class Broken(RecordingMessenger):
        async def send(self, chat_id, message):
            raise RuntimeError("boom")

    report = await Dispatcher(sessions, Broken(), FrozenClock(now), SETTINGS, "w").run_once()

    assert report.retried == 1
    assert (await load(sessions, check_in_id)).state == "scheduled"


async def test_two_workers_claiming_at_once_never_get_the_same_check_in(sessions, now):
    async with sessions() as session:
        await many_due_check_ins(session, await a_course(session, now), 50, now - timedelta(hours=1))
        await session.commit()

    async with sessions() as a, a.begin():
        first = await claim_due(a, now, "a", 30, timedelta(minutes=5))
    async with sessions() as b, b.begin():
        second = await claim_due(b, now, "b", 30, timedelta(minutes=5))

    assert len(first) == 30 and len(second) == 20
    assert not {c.check_in_id for c in first} & {c.check_in_id for c in second}


async def test_a_claim_whose_lease_expired_is_sent_by_another_worker(sessions, messenger, clock, now):
    check_in_id = await one_due(sessions, now)
    async with sessions() as session, session.begin():
        # Worker "dead" claims it and then dies before sending.
        assert await claim_due(session, now, "dead", 10, timedelta(minutes=10))

    other = Dispatcher(sessions, messenger, clock, SETTINGS, "alive")
    assert (await other.run_once()).sent == 0
    clock.advance(timedelta(minutes=10, seconds=1))
    assert (await other.run_once()).sent == 1
    assert [s.check_in_id for s in messenger.sent] == [check_in_id]


async def test_the_post_wave_is_released_when_the_officer_ends_the_course(sessions, dispatcher, messenger, clock):
    morning = datetime(2026, 1, 15, 8, 0, tzinfo=UTC)
    clock.set(morning)
    async with sessions() as session:
        course = await a_course(session, morning, delivered_on=date(2026, 1, 15), waves=("pre", "post", "3m"))
        enrolment = await an_enrolment(session, course, CHAT, morning)
        rows = await schedule_check_ins(session, enrolment, course, morning, SETTINGS)
        await session.commit()
    assert [(r.wave, r.state) for r in rows] == [("pre", "scheduled"), ("post", "scheduled"), ("3m", "scheduled")]

    await dispatcher.run_once()
    assert len(messenger.sent) == 1 and messenger.sent[0].message.text.startswith("Welcome to CSE Level 3")

    ended = datetime(2026, 1, 15, 16, 45, tzinfo=UTC)  # after the window: the room is still there
    clock.set(ended)
    async with sessions() as session:
        course = await session.merge(course)
        assert await release_post_wave(session, course, ended, SETTINGS) == 1
        await session.commit()
    report = await dispatcher.run_once()

    assert report.sent == 1
    assert messenger.sent[-1].message.text.startswith("Thank you for being part of CSE Level 3 today")


async def test_scheduling_twice_creates_each_wave_once(sessions, now):
    async with sessions() as session:
        course = await a_course(session, now)
        enrolment = await an_enrolment(session, course, CHAT, now)
        first = await schedule_check_ins(session, enrolment, course, now, SETTINGS)
        second = await schedule_check_ins(session, enrolment, course, now, SETTINGS)
        await session.commit()
    assert [c.id for c in first] == [c.id for c in second]
    assert sorted(c.wave for c in second) == ["3m", "6m", "post"]


async def test_a_late_enrolment_records_the_closed_waves_as_missed(sessions, now):
    async with sessions() as session:
        course = await a_course(session, now, delivered_on=date(2025, 6, 2), waves=("post", "3m", "6m", "12m"))
        enrolment = await an_enrolment(session, course, CHAT, now)
        rows = await schedule_check_ins(session, enrolment, course, now, SETTINGS)
        await session.commit()
    assert {r.wave: r.state for r in rows} == {"post": "scheduled", "3m": "missed", "6m": "missed", "12m": "scheduled"}


async def test_two_dispatchers_send_each_of_2000_check_ins_exactly_once(database_url, sessions, now):
    async with sessions() as session:
        await many_due_check_ins(session, await a_course(session, now), 2000, now - timedelta(hours=1))
        await session.commit()
    messenger = RecordingMessenger()
    engines = [make_engine(database_url), make_engine(database_url)]
    try:
        dispatchers = [
            Dispatcher(make_sessionmaker(e), messenger, FrozenClock(now), SETTINGS, f"worker-{i}", batch=50)
            for i, e in enumerate(engines)
        ]
        reports = await asyncio.gather(*(d.run_once() for d in dispatchers))
    finally:
        for e in engines:
            await e.dispose()

    ids = [s.check_in_id for s in messenger.sent]
    assert len(ids) == 2000 and len(set(ids)) == 2000
    assert sum(r.sent for r in reports) == 2000
    async with sessions() as session:
        states = set((await session.scalars(select(CheckIn.state).distinct())).all())
        message_ids = set((await session.scalars(select(CheckIn.message_id))).all())
    assert states == {"sent"}
    assert message_ids == {s.message_id for s in messenger.sent}


async def test_a_check_in_whose_message_cannot_be_built_fails_alone_and_others_are_still_sent(
    sessions, dispatcher, messenger, now
):
    async with sessions() as session:
        course = await a_course(session, now)
        odd = await a_check_in(session, await an_enrolment(session, course, 1, now), wave="3 months", due_at=now)
        fine = await a_check_in(session, await an_enrolment(session, course, 2, now), due_at=now)
        await session.commit()

    report = await dispatcher.run_once()

    assert (report.sent, report.failed) == (1, 1)
    assert [s.check_in_id for s in messenger.sent] == [fine.id]
    stored = await load(sessions, odd.id)
    assert (stored.state, stored.last_error) == ("cancelled", "failed: could not build the message")
