"""The dispatcher inside the bot process: ending a course reaches the practitioner by itself."""

from __future__ import annotations

from contextlib import AsyncExitStack

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import build_application, polling
from bot.emulator import Emulator
from bot.ratelimit import ChatRateLimiter
from bot.scheduling import dispatch_hooks
from scheduler.enrolment import release_post_wave
from surveys.courses import get_course
from tests.botkit import TOKEN, USERNAME, World, tap


async def test_a_running_bot_sends_the_post_course_check_in_once_the_officer_ends_the_course(
    sessions: async_sessionmaker[AsyncSession], database_url: str
) -> None:
    async with Emulator(token=TOKEN, username=USERNAME, per_chat_rate=100, per_chat_burst=100) as emu:
        world = World(emu, sessions, database_url)
        token = await world.course(delivered_on=world.clock().date())  # the course is today: not over yet
        settings = world.settings.model_copy(update={"dispatch_interval_seconds": 0.2})
        start, stop = dispatch_hooks(settings, world.clock)
        app = build_application(settings, sessions=sessions, clock=world.clock, on_start=[start], on_stop=[stop],
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
