"""The /newcourse conversation's edges: Cancel, stale and expired buttons, a new /newcourse, a forgotten draft."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from telegram.ext import ConversationHandler

from bot.admin.registry import new_course_conversation
from bot.emulator import Emulator
from bot.handlers import NEW, PRIVATE
from surveys.store.models import Course
from tests.support.botkit import TOKEN, USERNAME, World, tap

OFFICER = 424242
STALE = "That button is no longer active"


@pytest.fixture
async def world(engine: AsyncEngine, database_url: str) -> AsyncIterator[World]:
    """A running app with one training officer and one stored quiz set (mini-cse@1)."""
    async with Emulator(token=TOKEN, username=USERNAME, per_chat_rate=100, per_chat_burst=100) as emu:
        w = World(emu, engine, database_url)
        w.settings = w.settings.model_copy(update={"admin_ids": (OFFICER,)})
        await w.start_app()
        await w.course("CSE-1")
        try:
            yield w
        finally:
            await w.stop_app()


async def courses(world: World) -> list[str]:
    async with world.sessions() as session:
        return [c.code for c in await session.scalars(select(Course))]


async def test_the_cancel_button_ends_the_wizard_and_its_buttons_then_say_it_has_expired(world: World) -> None:
    officer = world.emu.user(OFFICER, "Olive")
    await officer.command("newcourse")
    first = await officer.wait_for("New course (1/8)")
    await officer.press_button(first, "Cancel")
    await officer.wait_for_edit(first, "no course was created")
    answer = await officer.wait_for_answer(await officer.press(first, "x:quiz:mini-cse@1"))
    assert answer.text is not None and STALE in answer.text
    await officer.wait_for_edit(first, "has expired")
    await officer.send("CSE-2")  # no wizard now: the practitioner side answers
    await officer.wait_for("not taking part")
    assert await courses(world) == ["CSE-1"]


async def test_slash_cancel_and_typed_cancel_both_stop_the_wizard(world: World) -> None:
    officer = world.emu.user(OFFICER, "Olive")
    for stop in ("/cancel", "Stop"):
        await officer.command("newcourse")
        await tap(officer, await officer.wait_for("New course (1/8)"), "mini-cse@1", "(2/8)")
        await officer.send(stop)
        await officer.wait_for("no course was created")
        officer.mark_read()


async def test_a_button_for_an_earlier_question_gets_a_toast_and_the_wizard_carries_on(world: World) -> None:
    officer = world.emu.user(OFFICER, "Olive")
    await officer.command("newcourse")
    first = await officer.wait_for("New course (1/8)")
    level = await tap(officer, first, "mini-cse@1", "(2/8)")
    for data in ("x:quiz:mini-cse@1", "x:level:9", "x:level:!!"):  # an earlier question's, a forged level, garbage
        answer = await officer.wait_for_answer(await officer.press(level, data))
        assert answer.text is not None and STALE in answer.text
    await tap(officer, level, "4", "(3/8)")


async def test_a_new_newcourse_starts_afresh(world: World) -> None:
    officer = world.emu.user(OFFICER, "Olive")
    await officer.command("newcourse")
    await tap(officer, await officer.wait_for("New course (1/8)"), "mini-cse@1", "(2/8)")
    officer.mark_read()
    await officer.command("newcourse")
    await officer.wait_for("New course (1/8)")


async def test_a_forgotten_draft_ends_with_a_polite_line(world: World) -> None:
    # The same conversation with a short timeout in the place of the hour-long one.
    group = next(g for g in world.app.handlers.values() if any(isinstance(h, ConversationHandler) for h in g))
    at = next(n for n, h in enumerate(group) if isinstance(h, ConversationHandler))
    group[at] = new_course_conversation(PRIVATE & NEW, timeout=0.5)
    officer = world.emu.user(OFFICER, "Olive")
    await officer.command("newcourse")
    await tap(officer, await officer.wait_for("New course (1/8)"), "mini-cse@1", "(2/8)")
    await officer.wait_for("set it aside")
    await officer.send("2")  # the level question is gone: the practitioner side answers
    await officer.wait_for("not taking part")


def test_a_course_day_is_typed_as_officers_type_dates_everywhere() -> None:
    """/newcourse takes the same dates as /report and the figures CSV: ISO or the UK's day first."""
    from datetime import date

    from bot.admin.wizard import day_from_text

    assert day_from_text("2026-04-01") == day_from_text("01/04/2026") == date(2026, 4, 1)
    assert day_from_text("31/02/2026") is None and day_from_text("April 1st") is None
