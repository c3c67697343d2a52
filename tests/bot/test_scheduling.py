"""The dispatcher inside the bot process: jobs on PTB's JobQueue; ending a course reaches the practitioner by itself."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.admin.pulse import PULSE_JOB
from bot.app import build_application, initialized, polling
from bot.emulator import Emulator
from bot.ratelimit import ChatRateLimiter
from bot.scheduling import DISPATCH_JOB, PURGE_JOB, dispatch_jobs
from scheduler.timetable import release_post_wave
from surveys.store.courses import get_course
from surveys.store.models import CheckIn, Contact
from tests.support.botkit import TOKEN, USERNAME, World, tap, world  # noqa: F401 - fixture
from tests.support.schedule_builders import a_course, many_due_check_ins


async def test_a_running_bot_sends_the_post_course_check_in_once_the_officer_ends_the_course(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], database_url: str
) -> None:
    async with Emulator(token=TOKEN, username=USERNAME, per_chat_rate=100, per_chat_burst=100) as emu:
        world = World(emu, engine, database_url)
        token = await world.course(delivered_on=world.clock().date())  # the course is today: not over yet
        settings = world.settings.model_copy(update={"dispatch_interval_seconds": 0.2})
        app = build_application(
            settings,
            engine=engine,
            clock=world.clock,
            on_start=[dispatch_jobs(settings, world.clock)],
            rate_limiter=ChatRateLimiter(chat_burst=100, chat_period=1.0),
        )
        async with AsyncExitStack() as stack:
            await stack.enter_async_context(polling(app, poll_timeout=1))
            sam = emu.user(2001, "Sam")
            await sam.command("start", token)
            consent = await sam.wait_for("Do you agree")
            await sam.press_button(consent, "Agree")
            await sam.wait_for_edit(consent, "Thank you for taking part")
            async with sessions() as session, session.begin():
                await release_post_wave(session, await get_course(session, "CSE-1"), world.clock(), settings)
            invitation = await sam.wait_for(lambda m: any(t == "Start now" for t, _ in m.buttons))
            first = await tap(sam, invitation, "Start now", "1/")
            assert "1/" in first.text
    states = [c.state for c in await world.check_ins() if c.wave == "post"]
    assert states == ["in_progress"]
    # Exactly one invitation for the post-course check-in, however many ticks ran meanwhile.
    invitations = [m for m in sam.messages if any(t == "Start now" for t, _ in m.buttons)]
    assert len(invitations) == 1


async def test_a_check_in_started_at_consent_and_left_half_done_gets_a_reminder(world) -> None:
    from datetime import UTC, datetime, timedelta

    from scheduler.dispatch import Dispatcher
    from tests.support.recording_messenger import RecordingMessenger

    token = await world.course()  # delivered yesterday: the post-course check-in starts at consent
    alex = world.emu.user(3001, "Alex")
    first = await world.join(alex, token)
    await tap(alex, first, "16", "2/")  # one answer, then they put the phone down
    messenger = RecordingMessenger()
    dispatcher = Dispatcher(world.sessions, messenger, world.clock, world.settings, "test")
    await dispatcher.run_once()
    assert messenger.sent == []  # nothing is due yet: no invitation for a check-in already under way
    [check_in] = [c for c in await world.check_ins() if c.wave == "post"]
    # Planned like an invitation's: reminder_days after starting, moved into the send window
    # (three days after Thursday 10:00 is a Sunday, so Monday 09:30 London).
    assert check_in.next_action_at == datetime(2026, 1, 19, 9, 30, tzinfo=UTC)
    world.clock.set(check_in.next_action_at + timedelta(minutes=1))
    report = await dispatcher.run_once()
    assert report.reminded == 1 and [s.chat_id for s in messenger.sent] == [3001]


async def test_dispatch_and_the_daily_purge_are_two_jobs_on_the_bots_job_queue_never_overlapping(
    engine: AsyncEngine, database_url: str
) -> None:
    async with Emulator(token=TOKEN, username=USERNAME) as emu:
        world = World(emu, engine, database_url)
        settings = world.settings.model_copy(update={"dispatch_interval_seconds": 30})
        app = build_application(
            settings, engine=engine, clock=world.clock, on_start=[dispatch_jobs(settings, world.clock)]
        )
        async with initialized(app):  # post_init has run; the queue has not started, so nothing fires
            jobs = {job.name: job.job for job in app.job_queue.jobs()}
    assert sorted(jobs) == sorted([DISPATCH_JOB, PURGE_JOB, PULSE_JOB])
    assert jobs[DISPATCH_JOB].trigger.interval == timedelta(seconds=30)
    assert jobs[PURGE_JOB].trigger.interval == timedelta(days=1)
    assert all((job.max_instances, job.coalesce) == (1, True) for job in jobs.values())


async def test_stopping_the_bot_lets_a_dispatch_pass_under_way_record_what_it_sent(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], database_url: str
) -> None:
    async with Emulator(token=TOKEN, username=USERNAME, limits=False) as emu:
        world = World(emu, engine, database_url)
        async with sessions() as session:
            due = world.clock() - timedelta(hours=1)
            await many_due_check_ins(session, await a_course(session, world.clock()), 30, due, first_chat=5000)
            await session.commit()
        for chat in range(5000, 5030):
            emu.user(chat).chat.started = True
        emu.inject("sendMessage", delay=0.3)  # every send is slow: the pass is under way when the bot stops
        app = build_application(
            world.settings,
            engine=engine,
            clock=world.clock,
            on_start=[dispatch_jobs(world.settings, world.clock)],
            rate_limiter=ChatRateLimiter(chat_burst=100, chat_period=1.0),
        )
        async with polling(app, poll_timeout=1):
            while not emu.stats.requests_by_method.get("sendMessage"):
                await asyncio.sleep(0.02)
        async with sessions() as session:
            rows = (
                await session.execute(
                    select(CheckIn, Contact.chat_id).join(Contact, Contact.enrolment_id == CheckIn.enrolment_id)
                )
            ).all()
        received = {chat for chat in range(5000, 5030) if emu.user(chat).messages}
    assert received  # the pass was under way
    assert all(check_in.claimed_by is None for check_in, _ in rows)  # nothing left claimed
    assert {chat for check_in, chat in rows if check_in.state == "sent"} == received
