"""Bad input end to end: odd messages, groups, stale and forged buttons, log hygiene, no personal data stored."""

from __future__ import annotations

import asyncio
import logging
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from bot.emulator import Emulator
from surveys.store.models import Answer, Contact, Enrolment
from tests.support.botkit import TOKEN, USERNAME, World, tap, world  # noqa: F401  (world is a fixture)


async def _enrolled(world: World, user_id: int = 1001, name: str = "Alice"):
    token = await world.course()
    user = world.emu.user(user_id, name, name.lower() + "_tg")
    return user, await world.join(user, token)


async def test_stickers_photos_voice_and_documents_get_a_polite_line_and_nothing_is_stored(world: World) -> None:
    alice, _ = await _enrolled(world)
    await alice.send_sticker()
    assert "only read text" in (await alice.wait_for("Sorry")).content
    await alice.send_photo(caption="16")
    await alice.wait_for("only read text")
    await alice.send_voice()
    await alice.wait_for("only read text")
    await alice.send_document("notes.pdf", b"%PDF-1.4")
    await alice.wait_for("only read text")
    assert await world.answers() == []


async def test_an_edited_message_keeps_the_first_answer(world: World) -> None:
    alice, _ = await _enrolled(world)
    sent = await alice.send("16")
    await alice.wait_for("2/4")
    await alice.edit(sent, "18")
    await alice.wait_for("edited a message")
    assert [(a.item_id, a.value) for a in await world.answers()] == [("aoc", "b")]


async def test_over_long_text_is_refused_politely(world: World) -> None:
    alice, _ = await _enrolled(world)
    await alice.send("x" * 3000)
    assert "3000 characters" in (await alice.wait_for("long message")).content
    await alice.send("maybe")
    assert "isn't one of the choices" in (await alice.wait_for("1/4")).content
    assert await world.answers() == []


async def test_an_unknown_command_gets_a_usage_line(world: World) -> None:
    alice = world.emu.user(1001, "Alice")
    await alice.command("results")
    assert "/help" in (await alice.wait_for("don't know that command")).content


async def test_the_bot_refuses_to_work_in_groups(world: World) -> None:
    token = await world.course()
    alice = world.emu.user(1001, "Alice")
    group = world.emu.group(-5001, "Team chat")
    await group.command(alice, "start", token)
    assert "private chats" in (await group.wait_for("private")).content
    await group.send(alice, "16")
    await group.wait_for("private")
    assert await world.enrolments() == [] and await world.answers() == []


async def test_a_repeated_or_stale_button_press_changes_nothing(world: World) -> None:
    alice, q1 = await _enrolled(world)
    await alice.press_button(q1, "16")
    await alice.wait_for_edit(q1, "2/4")
    # q1 now shows item 2's buttons; an old copy of item 1's, pressed again, is recognised as answered.
    stale = await alice.press(q1, "a:1:0:0")
    answer = await alice.wait_for_answer(stale)
    assert answer.text == "You've already answered that one."
    ahead = await alice.press(q1, "a:1:3:0")  # an item not reached yet
    assert (await alice.wait_for_answer(ahead)).text == "That button is no longer active."
    assert [(a.item_id, a.value) for a in await world.answers()] == [("aoc", "b")]


async def test_a_press_on_a_closed_check_in_changes_nothing(world: World) -> None:
    alice, q1 = await _enrolled(world)
    world.clock.advance(timedelta(days=30))
    pressed = await alice.press_button(q1, "16")
    assert "closed" in (await alice.wait_for_answer(pressed)).text
    assert await world.answers() == []


async def test_a_forged_callback_for_someone_elses_check_in_is_refused(world: World) -> None:
    _alice, a1 = await _enrolled(world)
    token = await world.course("CSE-2")
    mallory = world.emu.user(6666, "Mallory")
    m1 = await world.join(mallory, token)
    alice_check_in = a1.buttons[0][1].split(":")[1]
    for forged in (
        f"a:{alice_check_in}:0:0",
        f"s:{alice_check_in}",
        f"z:{alice_check_in}",
        "a:999999:0:0",
        "garbage",
        "a:1:0:99",
    ):
        query = await mallory.press(m1, forged)
        assert (await mallory.wait_for_answer(query)).text == "That button is no longer active."
    assert await world.answers() == []
    check_ins = await world.check_ins()
    assert {c.state for c in check_ins if c.wave == "post"} == {"in_progress"}
    assert all(c.snoozed_until is None for c in check_ins)


async def test_no_chat_id_username_or_name_is_stored_with_answers_or_enrolments(world: World) -> None:
    alice, q = await _enrolled(world, 424242, "Alicia")
    for label, expect in (("16", "2/4"), ("False", "3/4"), ("Disagree", "4/4"), ("Disagree", "check-in done")):
        q = await tap(alice, q, label, expect)
    async with world.sessions() as session:
        rows = [*await session.scalars(select(Answer)), *await session.scalars(select(Enrolment))]
        contacts = list(await session.scalars(select(Contact)))
    values = " ".join(str(getattr(r, c.key)) for r in rows for c in r.__table__.columns)
    for secret in ("424242", "Alicia", "alicia_tg"):
        assert secret not in values
    assert [c.chat_id for c in contacts] == [424242]  # the one, deletable link


async def test_neither_the_token_nor_who_the_person_is_reaches_the_logs_even_at_debug(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "telegram", "bot", "surveys", "scheduler"):
        caplog.set_level(logging.DEBUG, logger=name)
    # A restart inside the capture, so start-up logging (getMe, setMyCommands…) is included.
    await world.stop_app()
    await world.start_app()
    alice, q = await _enrolled(world, 5550123, "Marguerite")
    for label, expect in (("16", "2/4"), ("False", "3/4"), ("Disagree", "4/4"), ("Disagree", "check-in done")):
        q = await tap(alice, q, label, expect)
    await alice.send_sticker()
    await alice.wait_for("Sorry")
    await world.stop_app()
    text = caplog.text + " ".join(str(r.args) for r in caplog.records)
    assert len(caplog.records) > 20
    secret = TOKEN.split(":", 1)[1]
    assert TOKEN not in text and secret not in text
    for who in ("5550123", "Marguerite", "marguerite_tg"):
        assert who not in text, f"{who!r} reached the logs"


async def test_realistic_flood_limits_are_respected_without_429s(engine, database_url) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("pacing does not depend on the database; once (about 9 s) is enough")
    async with Emulator(token=TOKEN, username=USERNAME) as emu:
        w = World(emu, engine, database_url, realistic_limits=True)
        await w.start_app()
        try:
            token = await w.course()
            alice = emu.user(1001, "Alice")
            q = await w.join(alice, token)
            for label, expect in (("16", "2/4"), ("False", "3/4"), ("Disagree", "4/4"), ("Agree", "check-in done")):
                await alice.press_button(q, label)
                await alice.wait_for_edit(q, expect, timeout=10)
        finally:
            await w.stop_app()
    assert emu.stats.too_many_requests == 0


async def test_a_double_tap_stores_one_answer(world: World) -> None:
    alice, q1 = await _enrolled(world)
    edited = asyncio.ensure_future(alice.wait_for_edit(q1, "2/4"))
    first = await alice.press_button(q1, "16")
    second = await alice.press_button(q1, "13")
    answers = [await alice.wait_for_answer(first), await alice.wait_for_answer(second)]
    await edited
    assert [(a.item_id, a.value) for a in await world.answers()] in ([("aoc", "b")], [("aoc", "a")])
    assert any(a.text in ("You've already answered that one.", "That button is no longer active.") for a in answers)


async def test_a_failing_send_is_logged_with_its_traceback_and_the_bot_carries_on(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    alice = world.emu.user(1001, "Alice")
    world.emu.inject("sendMessage", status=500, description="Internal Server Error", times=1)
    with caplog.at_level(logging.ERROR, logger="bot.errors"):
        await alice.command("help")
        await alice.wait_for("something went wrong")
    (record,) = [r for r in caplog.records if r.name == "bot.errors"]
    assert record.exc_info is not None
    await alice.command("help")
    await alice.wait_for("/continue")


async def test_an_answer_telegram_will_not_edit_in_still_brings_the_next_question(world: World) -> None:
    alice, q1 = await _enrolled(world)
    world.emu.inject("editMessageText", status=400, description="Bad Request: message can't be edited", times=1)
    await alice.press_button(q1, "16")
    q2 = await alice.wait_for("2/4")  # sent as a new message instead
    assert "Your answer: 16" in q2.content and q2.buttons
    assert [(a.item_id, a.value) for a in await world.answers()] == [("aoc", "b")]


async def test_a_consent_request_longer_than_telegram_allows_comes_in_pieces_with_the_buttons_last(
    world: World,
) -> None:
    from surveys.domain.quizset import QuizSet, load_quiz_set
    from surveys.store.catalog import import_quiz_set
    from surveys.store.courses import create_course
    from surveys.store.invites import issue_invite
    from tests.support.botkit import MINI

    definition = load_quiz_set(MINI).to_definition()
    definition.update(slug="wordy", description="\n".join(["A long line about this check-in."] * 120))
    quiz = QuizSet.from_definition(definition)
    async with world.sessions() as session, session.begin():
        await import_quiz_set(session, quiz, world.clock())
        course = await create_course(
            session,
            code="WORDY",
            title="CSE",
            level=2,
            quiz_ref="wordy",
            delivered_on=date(2026, 1, 14),
            now=world.clock(),
        )
        token = (await issue_invite(session, course, world.clock(), role="teacher", agency="education")).token
    alice = world.emu.user(1001, "Alice")
    await alice.command("start", token)
    consent = await alice.wait_for("Do you agree")
    first, last = alice.messages
    assert last is consent and consent.buttons and not first.buttons
    assert max(len(m.content) for m in alice.messages) <= 4096
    assert sum(m.content.count("A long line") for m in alice.messages) == 120
