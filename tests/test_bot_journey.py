"""End to end: invite → consent → a completed check-in, through the real Application and the emulator."""

from __future__ import annotations

from tests.botkit import CONTACT, World, tap, world  # noqa: F401  (fixture)


async def test_invite_consent_and_a_completed_check_in(world: World) -> None:
    token = await world.course()
    alice = world.emu.user(1001, "Alice", "alice_t")
    await alice.command("start", token)
    consent = await alice.wait_for("Do you agree")
    assert CONTACT in consent.content and "/stop" in consent.content and "/delete" in consent.content
    assert [b[0] for b in consent.buttons] == ["Agree", "No thanks"]

    await alice.press_button(consent, "Agree")
    await alice.wait_for_edit(consent, "Thank you for taking part")
    q1 = await alice.wait_for("1/4")
    assert "age of consent" in q1.content
    q2 = await tap(alice, q1, "18", "2/4")
    assert "Your answer: 18" in q1.content and "the answer is 16" in q1.content
    q3 = await tap(alice, q2, "False", "3/4")
    assert "Correct" in q2.content
    q4 = await tap(alice, q3, "Strongly disagree", "4/4")
    summary = await tap(alice, q4, "Agree", "check-in done")
    assert "1 of 2" in summary.content and "the answer is 16" in summary.content

    answers = {a.item_id: (a.value, a.score) for a in await world.answers()}
    assert answers == {"aoc": ("c", 0.0), "choice-myth": ("false", 1.0), "vb-clothes": ("1", 1.0), "se-powerless": ("4", 2.0)}
    states = {c.wave: c.state for c in await world.check_ins()}
    assert states["post"] == "completed" and states["3m"] == "scheduled"
