"""The practitioner's commands end to end: /help, /privacy, /status, /continue, /stop, /delete."""

from __future__ import annotations

from tests.support.botkit import CONTACT, World, tap, world  # noqa: F401  (world is a fixture)


async def test_commands_are_registered_with_set_my_commands(world: World) -> None:
    names = [c["command"] for c in world.emu.commands()]
    assert set(names) == {"continue", "status", "cpd", "privacy", "stop", "delete", "language", "help"}


async def test_help_and_privacy_say_what_is_stored_and_who_to_contact(world: World) -> None:
    alice = world.emu.user(1001, "Alice")
    await alice.command("help")
    assert "/delete" in (await alice.wait_for("/continue")).content
    await alice.command("privacy")
    privacy = await alice.wait_for("What is stored")
    assert CONTACT in privacy.content and "30 days" in privacy.content


async def test_status_shows_the_open_check_in_and_when_the_next_comes(world: World) -> None:
    token = await world.course()
    alice = world.emu.user(1001, "Alice")
    await alice.command("status")
    assert "no check-ins pending" in (await alice.wait_for("check-ins")).content
    await world.join(alice, token)
    await alice.command("status")
    status = await alice.wait_for("Your check-ins")
    assert "part-way through" in status.content and "/continue" in status.content
    assert "three months after the course: comes on Tuesday 14 April" in status.content


async def test_continue_with_nothing_open_says_when_the_next_check_in_comes(world: World) -> None:
    token = await world.course()
    alice = world.emu.user(1001, "Alice")
    q = await world.join(alice, token)
    for label, expect in (("16", "2/4"), ("False", "3/4"), ("Disagree", "4/4"), ("Disagree", "check-in done")):
        q = await tap(alice, q, label, expect)
    await alice.command("continue")
    assert "Tuesday 14 April" in (await alice.wait_for("nothing to answer")).content
    await alice.send("thanks!")
    await alice.wait_for("nothing to answer")
    assert len(await world.answers()) == 4


async def test_stop_asks_first_then_withdraws_and_deletes_the_chat_link(world: World) -> None:
    token = await world.course()
    alice = world.emu.user(1001, "Alice")
    q1 = await world.join(alice, token)
    await tap(alice, q1, "16", "2/4")
    await alice.command("stop")
    confirm = await alice.wait_for("Stop the check-ins?")
    assert await world.contacts() != []
    await alice.press_button(confirm, "Stop check-ins")
    await alice.wait_for_edit(confirm, "won't get any more")
    assert await world.contacts() == []
    assert {c.state for c in await world.check_ins()} == {"cancelled"}
    assert [a.item_id for a in await world.answers()] == ["aoc"]  # kept, under the pseudonym only
    (enrolment,) = await world.enrolments()
    assert enrolment.withdrawn_at is not None
    await alice.send("16")
    await alice.wait_for("not taking part")
    assert len(await world.answers()) == 1


async def test_stop_can_be_cancelled(world: World) -> None:
    token = await world.course()
    alice = world.emu.user(1001, "Alice")
    await world.join(alice, token)
    await alice.command("stop")
    confirm = await alice.wait_for("Stop the check-ins?")
    await alice.press_button(confirm, "Keep going")
    await alice.wait_for_edit(confirm, "nothing changed")
    assert len(await world.contacts()) == 1


async def test_delete_asks_with_a_button_then_erases_everything(world: World) -> None:
    token = await world.course()
    alice = world.emu.user(1001, "Alice")
    bob = world.emu.user(1002, "Bob")
    q1 = await world.join(alice, token)
    await tap(alice, q1, "16", "2/4")
    b1 = await world.join(bob, token)
    await tap(bob, b1, "13", "2/4")
    await alice.command("delete")
    confirm = await alice.wait_for("Delete everything?")
    await alice.press_button(confirm, "Delete everything")
    await alice.wait_for_edit(confirm, "answers are deleted")
    assert [a.value for a in await world.answers()] == ["a"]  # only Bob's answer is left
    assert len(await world.enrolments()) == 1 and len(await world.contacts()) == 1
    await alice.command("delete")
    assert "nothing to delete" in (await alice.wait_for("nothing to delete")).content
