"""End to end: invite → consent → a completed check-in, through the real Application and the emulator."""

from __future__ import annotations

import re
from datetime import date, timedelta

from bot import callbacks
from bot.callbacks import Kind
from tests.support.botkit import CONTACT, World, say, tap, world  # noqa: F401  (world is a fixture)


async def test_invite_consent_and_a_completed_check_in(world: World) -> None:
    token = await world.course()
    alice = world.emu.user(1001, "Alice", "alice_t")
    await alice.command("start", token)
    consent = await alice.wait_for("Do you agree")
    assert CONTACT in consent.content and "/stop" in consent.content and "/delete" in consent.content
    # The choice of language comes first (issue 14), then consent.
    assert [b[0] for b in consent.buttons] == ["Cymraeg", "English", "Agree", "No thanks"]

    await alice.press_button(consent, "Agree")
    q1 = await alice.wait_for_edit(consent, "1/4")  # the consent request becomes the welcome and question 1
    assert "Thank you for taking part" in q1.content and "age of consent" in q1.content
    q2 = await tap(alice, q1, "18", "2/4")
    assert "Your answer: 18" in q1.content and "Not quite — The age of consent is 16" in q1.content
    q3 = await tap(alice, q2, "False", "3/4")
    assert "Correct" in q2.content
    q4 = await tap(alice, q3, "Strongly disagree", "4/4")
    summary = await tap(alice, q4, "Agree", "check-in done")
    assert "1 of 2" in summary.content and "— The age of consent is 16" in summary.content
    # Each question's message became the next, so the summary keeps the exchange readable.
    assert "1. What is the age of consent in England and Wales? — 18 ✗" in summary.content
    assert "4. I feel powerless to change how my agency responds to CSE. — Agree" in summary.content

    answers = {a.item_id: (a.value, a.score) for a in await world.answers()}
    assert answers == {
        "aoc": ("c", 0.0),
        "choice-myth": ("false", 1.0),
        "vb-clothes": ("1", 1.0),
        "se-powerless": ("4", 2.0),
    }
    states = {c.wave: c.state for c in await world.check_ins()}
    assert states["post"] == "completed" and states["3m"] == "scheduled"


async def test_start_without_a_token_explains_how_to_join(world: World) -> None:
    bob = world.emu.user(1002, "Bob")
    await bob.command("start")
    reply = await bob.wait_for("invite link")
    assert not reply.buttons
    assert await world.enrolments() == []


async def test_a_bad_invite_gets_a_clear_reply_and_stores_nothing(world: World) -> None:
    bob = world.emu.user(1002, "Bob")
    await bob.command("start", "A" * 22)
    assert "don't recognise" in (await bob.wait_for("invite link")).content
    await bob.command("start", "not a token!")
    assert "don't recognise" in (await bob.wait_for("invite link")).content
    assert await world.enrolments() == []


async def test_an_expired_invite_says_so(world: World) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from surveys.store.models import Invite

    token = await world.course()
    async with world.sessions() as session, session.begin():
        await session.execute(update(Invite).values(expires_at=world.clock() - timedelta(days=1)))
    bob = world.emu.user(1002, "Bob")
    await bob.command("start", token)
    assert "expired" in (await bob.wait_for("invite link")).content


async def test_no_thanks_stores_nothing(world: World) -> None:
    token = await world.course()
    bob = world.emu.user(1002, "Bob")
    await bob.command("start", token)
    consent = await bob.wait_for("Do you agree")
    await bob.press_button(consent, "No thanks")
    await bob.wait_for_edit(consent, "nothing has been stored")
    assert consent.buttons == []
    assert await world.enrolments() == [] and await world.contacts() == []


async def test_joining_twice_says_you_are_already_taking_part(world: World) -> None:
    token = await world.course()
    alice = world.emu.user(1001, "Alice")
    await world.join(alice, token)
    await alice.command("start", token)
    assert "already taking part" in (await alice.wait_for("already")).content
    assert len(await world.enrolments()) == 1


async def test_before_the_course_ends_the_practitioner_learns_when_check_ins_come(world: World) -> None:
    from datetime import date

    token = await world.course(delivered_on=date(2026, 1, 20))
    carol = world.emu.user(1003, "Carol")
    await carol.command("start", token)
    consent = await carol.wait_for("Do you agree")
    await carol.press_button(consent, "Agree")
    welcome = await carol.wait_for_edit(consent, "Thank you for taking part")
    assert "when your trainer closes it" in welcome.content and "April" in welcome.content
    assert {c.wave: c.state for c in await world.check_ins()} == {
        "post": "scheduled",
        "3m": "scheduled",
        "6m": "scheduled",
    }


async def test_a_check_in_resumes_after_the_application_restarts(world: World) -> None:
    token = await world.course()
    alice = world.emu.user(1001, "Alice")
    q1 = await world.join(alice, token)
    await tap(alice, q1, "16", "2/4")
    await world.stop_app()
    await world.start_app()  # a new process: nothing in memory, state from the database
    await alice.command("continue")
    q2 = await alice.wait_for("2/4")
    assert "15-year-old" in q2.content
    # Coming back days later with any message works too.
    world.clock.advance(__import__("datetime").timedelta(days=3))
    await alice.send("hello again")
    again = await alice.wait_for("2/4")
    assert "isn't" in again.content or "True or False" in again.content
    await tap(alice, again, "False", "3/4")
    assert [a.item_id for a in await world.answers()] == ["aoc", "choice-myth"]


async def test_three_month_check_in_takes_typed_answers_and_scrubs_free_text(world: World) -> None:
    from datetime import UTC, datetime

    token = await world.course()
    alice = world.emu.user(1001, "Alice")
    q = await world.join(alice, token)
    for label, expect in (("16", "2/4"), ("False", "3/4"), ("Disagree", "4/4"), ("Disagree", "check-in done")):
        q = await tap(alice, q, label, expect)
    world.clock.set(datetime(2026, 4, 15, 10, tzinfo=UTC))
    await alice.command("continue")
    await alice.wait_for("1/8")
    steps = [("b", "2/8"), ("false", "3/8"), ("a", "4/8"), ("2", "5/8"), ("Disagree", "6/8"), ("yes", "7/8")]
    for text, expect in steps:
        await alice.send(text)
        await alice.wait_for(expect)
    await alice.send("lots")
    assert "whole number" in (await alice.wait_for("7/8")).content
    await alice.send("3")
    ask = await alice.wait_for("8/8")
    assert "don't name children, families or colleagues" in ask.content
    await alice.send("I now call the MASH on 020 7946 0958 or jo.bloggs@example.org, SW1A 1AA")
    done = await alice.wait_for("check-in done")
    assert "3 of 3" in done.content and "six months" not in done.content
    stored = {a.item_id: a.value for a in await world.answers()}
    assert stored["cases-seen"] == "3" and stored["who-refers"] == "a"
    assert stored["change"] == "I now call the MASH on [removed] or [removed], [removed]"


async def test_the_full_cse_core_pre_course_check_in_starts_at_once_before_the_course(world: World) -> None:
    from datetime import date

    token = await world.course(delivered_on=date(2026, 1, 20), waves=("pre", "post", "3m", "6m"), full=True)
    dan = world.emu.user(1004, "Dan")
    question = await world.join(dan, token)
    total = int(re.search(r"^1/(\d+) · ", question.content, re.M).group(1))
    assert total >= 12
    for n in range(2, total + 1):
        question = await tap(dan, question, question.buttons[0][0], f"{n}/{total}")
    summary = await tap(dan, question, question.buttons[0][0], "check-in done")
    assert f"{total}. " in summary.content  # the summary lists every answer given
    assert len(await world.answers()) == total
    states = {c.wave: c.state for c in await world.check_ins()}
    assert states == {"pre": "completed", "post": "scheduled", "3m": "scheduled", "6m": "scheduled"}


async def test_start_now_and_remind_me_tomorrow_under_an_invitation(world: World) -> None:
    from bot.messenger import keyboard
    from scheduler.messenger import Action, OutgoingMessage

    token = await world.course(delivered_on=__import__("datetime").date(2026, 1, 20))
    erin = world.emu.user(1005, "Erin")
    await erin.command("start", token)
    consent = await erin.wait_for("Do you agree")
    await erin.press_button(consent, "Agree")
    await erin.wait_for_edit(consent, "Thank you for taking part")  # before the course: no question yet
    (post, *_) = await world.check_ins()
    world.clock.set(post.due_at)
    # What the dispatcher does when it sends the invitation.
    from sqlalchemy import update

    from surveys.store.models import CheckIn

    async with world.sessions() as session, session.begin():
        await session.execute(update(CheckIn).where(CheckIn.id == post.id).values(state="sent", sent_at=post.due_at))
    assert world.app is not None
    buttons = (Action("Start now", "start", post.id), Action("Remind me tomorrow", "snooze", post.id))
    await world.app.bot.send_message(
        erin.id, "Your check-in is ready", reply_markup=keyboard(OutgoingMessage("x", buttons))
    )
    invitation = await erin.wait_for("ready")
    snoozed = await erin.press_button(invitation, "Remind me tomorrow")
    assert "remind you on" in (await erin.wait_for_answer(snoozed)).text
    await erin.press_button(invitation, "Start now")
    await erin.wait_for("1/4")
    (post, *_) = await world.check_ins()
    assert post.state == "in_progress" and post.snoozed_until is not None


async def test_the_quiz_sets_description_is_shown_before_the_first_check_in(world: World) -> None:
    token = await world.course()
    alice = world.emu.user(1001, "Alice")
    await alice.command("start", token)
    consent = await alice.wait_for("Do you agree")
    assert consent.content.startswith("A small set used by the tests.\n\n") and consent.buttons


async def test_a_typed_answer_goes_to_the_check_in_whose_question_is_on_screen(world: World) -> None:
    token = await world.course(full=True, delivered_on=date(2026, 1, 15), waves=("pre", "post", "3m", "6m"))
    alice = world.emu.user(1001, "Alice")
    pre_q1 = await world.join(alice, token)
    pre_q2 = await tap(alice, pre_q1, "Strongly agree", "2/")  # pre is now in progress
    world.clock.advance(timedelta(days=2))  # the course day is over: post is due, pre still open
    post = next(c for c in await world.check_ins() if c.wave == "post")
    # Post's "Start now" (the data the dispatcher's invitation carries) shows post's first question.
    await alice.press(pre_q2, callbacks.encode(Kind.START, post.id))
    await alice.wait_for("1/")
    world.clock.advance(timedelta(minutes=1))
    await say(alice, "5", "2/")
    by_wave = {c.id: c.wave for c in await world.check_ins()}
    assert [by_wave[a.check_in_id] for a in await world.answers()] == ["pre", "post"]
    # After a restart the rule still holds: it is read from what is stored, not remembered.
    await world.stop_app()
    await world.start_app()
    world.clock.advance(timedelta(minutes=1))
    await say(alice, "5", "3/")
    assert [by_wave[a.check_in_id] for a in await world.answers()] == ["pre", "post", "post"]


async def test_a_button_on_a_closed_check_in_says_when_the_next_one_comes(world: World) -> None:
    token = await world.course()
    alice = world.emu.user(1001, "Alice")
    q1 = await world.join(alice, token)
    world.clock.advance(timedelta(days=30))
    pressed = await alice.press_button(q1, "16")
    answer = await alice.wait_for_answer(pressed)
    assert answer.text == "This check-in has closed — your next one comes on Tuesday 14 April."
    assert await world.answers() == []


async def test_a_button_on_the_last_closed_check_in_says_only_that_it_closed(world: World) -> None:
    token = await world.course(waves=("post",))
    alice = world.emu.user(1001, "Alice")
    q1 = await world.join(alice, token)
    world.clock.advance(timedelta(days=30))
    pressed = await alice.press_button(q1, "16")
    assert (await alice.wait_for_answer(pressed)).text == "That check-in has closed — thank you."


async def test_a_press_telegram_no_longer_lets_us_answer_still_gets_its_next_question(world: World) -> None:
    # After about 15 minutes (or a restart) Telegram refuses answerCallbackQuery; the answer is stored all the same,
    # so the person must still see the next question rather than be stuck on a spinner.
    token = await world.course()
    dana = world.emu.user(1004, "Dana")
    await dana.command("start", token)
    consent = await dana.wait_for("Do you agree")
    await dana.press_button(consent, "Agree")
    q1 = await dana.wait_for_edit(consent, "1/4")
    world.emu.inject("answerCallbackQuery", status=400, description="Bad Request: query is too old", times=1)
    await tap(dana, q1, "16", "2/4")
    assert "Your answer: 16" in q1.content
    assert {a.item_id for a in await world.answers()} == {"aoc"}


async def test_each_tap_costs_one_chat_request_so_a_whole_room_can_answer_at_once(world: World) -> None:
    # Telegram allows about 30 requests a second that name a chat: one per tap serves 30 taps a second.
    token = await world.course(profile=None)  # the room link: role and agency are answers too
    zeb = world.emu.user(1007, "Zeb")
    stats = world.emu.stats.requests_by_method
    before = {m: stats[m] for m in ("sendMessage", "editMessageText", "answerCallbackQuery")}
    await zeb.command("start", token)
    consent = await zeb.wait_for("Do you agree")
    q = await tap(zeb, consent, "Agree", "your role?")
    q = await tap(zeb, q, "Teacher", "which agency")
    q = await tap(zeb, q, "Education", "1/4")
    for label, expect in (("16", "2/4"), ("False", "3/4"), ("Disagree", "4/4"), ("Agree", "check-in done")):
        q = await tap(zeb, q, label, expect)
    spent = {m: stats[m] - n for m, n in before.items()}
    assert spent == {"sendMessage": 1, "editMessageText": 7, "answerCallbackQuery": 7}
    assert zeb.messages == [consent] and q is consent  # one message carried the whole exchange
    assert "Question 3/4: Young people who dress provocatively are partly to blame." in q.history[-1]
