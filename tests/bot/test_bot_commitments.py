"""Commitments in the chat: typed at post, reminded at 1m, shown back verbatim (as scrubbed) and reviewed at 3m."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import func, select

from bot.messenger import TelegramMessenger
from scheduler.dispatch import Dispatcher
from surveys.domain.quizset import load_quiz_set
from surveys.store.catalog import import_quiz_set
from surveys.store.courses import create_course
from surveys.store.invites import issue_invite
from surveys.store.models import CheckIn
from tests.support.botkit import World, say, tap, world  # noqa: F401  (world is a fixture)

BRANCHING = Path(__file__).resolve().parents[1] / "support" / "data" / "branching.yaml"


async def _course(world: World) -> str:
    quiz = load_quiz_set(BRANCHING)
    async with world.sessions() as session, session.begin():
        await import_quiz_set(session, quiz, world.clock())
        course = await create_course(
            session,
            code="CSE-C",
            title="CSE awareness level 2",
            level=2,
            quiz_ref=quiz.slug,
            delivered_on=date(2026, 1, 14),
            now=world.clock(),
            waves=("post", "1m", "3m"),
        )
        return (await issue_invite(session, course, world.clock(), role="teacher", agency="education")).token


async def _to_wave(world: World, wave: str) -> None:
    """Move the clock to the wave and run one dispatch pass through the running bot."""
    async with world.sessions() as session:
        due = await session.scalar(select(func.min(CheckIn.due_at)).where(CheckIn.wave == wave))
    world.clock.set(due)
    assert world.app is not None
    await Dispatcher(world.sessions, TelegramMessenger(world.app.bot), world.clock, world.settings, "t").run_once()


async def _post(world: World, user, token: str, commitments: list[str]) -> None:
    first = await world.join(user, token)
    await tap(user, first, "Frontline", "2/3")
    commit = await say(user, "skip", "3/3")
    assert "What will you do differently?" in commit.content
    if not commitments:
        await tap(user, commit, "Skip", "check-in done")
        return
    for text in commitments:
        commit = await say(user, text, "Saved ✓")
    await tap(user, commit, "That's all", "check-in done")


async def test_commitments_come_back_verbatim_and_not_yet_asks_what_got_in_the_way(world: World) -> None:
    token = await _course(world)
    alice, bob = world.emu.user(4001, "Alice"), world.emu.user(4002, "Bob")

    first = await world.join(alice, token)
    await tap(alice, first, "Frontline", "2/3")
    commit = await say(alice, "skip", "3/3")
    await alice.send_sticker()
    assert "answer the question above" in (await alice.wait_for("Sorry")).content
    assert "one thing" in (await say(alice, "...", "one thing you'll do differently")).content  # no words: asked again
    assert "280" in (await say(alice, "x" * 300, "characters")).content
    saved = await say(alice, "Ask about older boyfriends; ring me on 07700 900123", "Saved ✓")
    assert "«Ask about older boyfriends; ring me on [removed]»" in saved.content
    assert [label for label, _ in alice.buttons(saved)] == ["Add another", "That's all"]
    typing = await tap(alice, saved, "Add another", "Type your next one")
    assert typing.message_id == saved.message_id  # the pressed message is edited: one chat request
    saved = await say(alice, "Refer through the pathway sooner", "Saved ✓")
    summary = await tap(alice, saved, "That's all", "check-in done")
    assert "Your answer: That's all" in summary.content  # the button pressed, not the count stored
    assert "«Ask about older boyfriends; ring me on [removed]» «Refer through the pathway sooner»" in summary.content
    del commit, typing
    await _post(world, bob, token, [])  # Bob makes none

    stored = {a.item_id: a.value for a in await world.answers() if a.item_id.startswith("commit.")}
    assert stored == {
        "commit.1": "Ask about older boyfriends; ring me on [removed]",
        "commit.2": "Refer through the pathway sooner",
    }
    # The closing rows: how many each made (Bob chose to make none).
    assert sorted(a.value for a in await world.answers() if a.item_id == "commit") == ["0", "2"]

    # One month on: Alice is reminded of her own words; Bob, who made none, gets nothing.
    alice.mark_read()
    bob.mark_read()
    await _to_wave(world, "1m")
    nudge = await alice.wait_for("On the course day you wrote down")
    assert "«Ask about older boyfriends; ring me on [removed]»" in nudge.content and not nudge.buttons
    assert [m for m in bob.messages if m.text and "course day" in m.text] == []
    # Both 1m check-ins are done (a message asks nothing): Alice's sent, Bob's completed unsent; no reminders follow.
    month = [c for c in await world.check_ins() if c.wave == "1m"]
    assert [(c.state, c.sent_at is not None, c.next_action_at) for c in month] == [
        ("completed", True, None),
        ("completed", False, None),
    ]

    # Three months on: each commitment shown back, verbatim as stored.
    await _to_wave(world, "3m")
    invitation = await alice.wait_for(lambda m: any(label == "Start now" for label, _ in alice.buttons(m)))
    first = await tap(alice, invitation, "Start now", "1/")
    await tap(alice, first, "Frontline", "2/")
    review = await say(alice, "skip", "On the course day you wrote")
    assert "«Ask about older boyfriends; ring me on [removed]»" in review.content
    second = await tap(alice, review, "Done", "Refer through the pathway sooner")
    assert "What got in the way" not in second.content  # "done": no barrier question
    barrier = await tap(alice, second, "Not yet", "What got in the way")
    follow_up = await say(alice, "No time this term", "Would support help?")
    await tap(alice, follow_up, "No", "check-in done")
    rows = {a.item_id: a.value for a in await world.answers() if a.item_id.startswith("review")}
    assert rows == {"review.1": "done", "review.2": "notyet", "review.2.barrier": "No time this term", "review": "2"}
    del barrier


async def test_an_old_commitment_button_after_the_check_in_closed_changes_nothing(world: World) -> None:
    from datetime import timedelta

    token = await _course(world)
    alice = world.emu.user(4003, "Alice")
    first = await world.join(alice, token)
    await tap(alice, first, "Frontline", "2/3")
    await say(alice, "skip", "3/3")
    saved = await say(alice, "Ask about gifts", "Saved ✓")  # then the phone goes down
    world.clock.advance(timedelta(days=30))  # the post-course check-in has closed
    before = [(a.item_id, a.value) for a in await world.answers()]
    for label in ("Add another", "That's all"):
        pressed = await alice.press_button(saved, label)
        assert "closed" in (await alice.wait_for_answer(pressed)).text
    await alice.send("Refer sooner")
    await alice.wait_for("nothing to answer right now")
    assert [(a.item_id, a.value) for a in await world.answers()] == before
