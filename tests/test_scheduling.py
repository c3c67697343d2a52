"""The dispatcher inside the bot process: ending a course reaches the practitioner by itself."""

from __future__ import annotations

from contextlib import AsyncExitStack

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.app import build_application, polling
from bot.emulator import Emulator
from bot.ratelimit import ChatRateLimiter
from bot.scheduling import dispatch_hooks
from scheduler.enrolment import release_post_wave
from surveys.courses import get_course
from tests.botkit import TOKEN, USERNAME, World, tap, world  # noqa: F401 - fixture


async def test_a_running_bot_sends_the_post_course_check_in_once_the_officer_ends_the_course(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], database_url: str
) -> None:
    async with Emulator(token=TOKEN, username=USERNAME, per_chat_rate=100, per_chat_burst=100) as emu:
        world = World(emu, engine, database_url)
        token = await world.course(delivered_on=world.clock().date())  # the course is today: not over yet
        settings = world.settings.model_copy(update={"dispatch_interval_seconds": 0.2})
        start, stop = dispatch_hooks(settings, world.clock)
        app = build_application(settings, engine=engine, clock=world.clock, on_start=[start], on_stop=[stop],
                                rate_limiter=ChatRateLimiter(chat_burst=100, chat_period=1.0))
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


async def test_a_check_in_started_at_consent_and_left_half_done_gets_a_reminder(world) -> None:  # noqa: ANN001
    from datetime import UTC, datetime, timedelta

    from scheduler.dispatch import Dispatcher
    from tests.recording_messenger import RecordingMessenger

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


async def test_stopping_waits_for_a_dispatch_pass_under_way_to_record_what_it_sent(now) -> None:  # noqa: ANN001
    import asyncio

    from scheduler.dispatch import DispatchReport
    from scheduler.runner import Ticker

    class SlowDispatcher:
        """A pass that takes a while; `recorded` is set only at its very end."""

        recorded = False

        def clock(self):  # noqa: ANN202
            return now

        async def run_once(self) -> DispatchReport:
            await asyncio.sleep(0.2)
            self.recorded = True
            return DispatchReport()

    dispatcher = SlowDispatcher()
    ticker = Ticker(dispatcher, last_purge=now)  # type: ignore[arg-type]
    running = asyncio.create_task(ticker.tick())
    await asyncio.sleep(0.01)
    await ticker.drained()
    assert dispatcher.recorded
    await running
