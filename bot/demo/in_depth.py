"""The demo's in-depth follow-up and weekly pulse: the draw after 3 months, one case study, a relay, the pulse."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import func, select

from bot.emulator import ChatMessage
from surveys.store.models import Contact, Enrolment, InDepthDraw

if TYPE_CHECKING:
    from bot.demo.run import Demo

OFFICER = 7000000099  # the demo's training officer (FOLLOWUP_ADMIN_IDS)
CASE_STUDY = (
    "A 15-year-old in my class had new phones and was picked up by older men after school.",
    "I recorded what I saw and went straight to our DSL the same day instead of waiting.",
    "skip",
    "She has a safety plan and a youth worker; her mum says she is home on time again.",
)


def _invitation(message: ChatMessage) -> bool:
    return "in-depth follow-up" in (message.content or "")


async def show_in_depth(demo: Demo) -> None:
    """After the 3-month wave: how many were drawn and invited, one case study, a relay both ways, the pulse."""
    async with demo.sessions() as session:
        drawn, invited, strata = (
            await session.execute(
                select(
                    func.count(), func.count().filter(InDepthDraw.selected), func.count(InDepthDraw.stratum.distinct())
                )
            )
        ).one()
    demo.echo(
        f"      in-depth: {drawn} 3-month completers drawn in {strata} agencies (seeded, 25% per agency): "
        f"{invited} invited."
    )
    invitees = [p.user for p in demo.people.values() if any(_invitation(m) for m in p.user.messages)]
    if not invitees:
        return
    person = invitees[0]
    for other in invitees[1:]:
        await other.press_button(next(m for m in other.messages if _invitation(m)), "No thanks")
    invitation = next(m for m in person.messages if _invitation(m))
    await person.press_button(invitation, "Yes, with my line manager")
    await person.wait_for_edit(invitation, "1/5", timeout=15)
    for number, answer in enumerate(CASE_STUDY, start=2):
        await person.send(answer)
        await person.wait_for(f"{number}/5", timeout=15)
    theme = person.messages[-1]
    await person.press_button(theme, "Spotting the signs")
    await person.wait_for_edit(theme, "very useful", timeout=15)
    for user in invitees:
        user.mark_read()  # the case study's "n/5" questions are not the next check-in's
    declined = len(invitees) - 1
    demo.echo(f"      in-depth: 1 agreed and told their case study with their line manager; {declined} declined.")

    async with demo.sessions() as session:
        pseudonym = await session.scalar(
            select(Enrolment.pseudonym)
            .join(Contact, Contact.enrolment_id == Enrolment.id)
            .where(Contact.chat_id == person.id)
        )
    officer = demo.emu.user(OFFICER, "Training officer")
    await officer.send(f"/relay {pseudonym} Thank you for your case study. Could we use it, unnamed, in training?")
    await officer.wait_for("Sent to", timeout=15)
    await person.wait_for("A message from the training officer", timeout=15)
    await person.send("/reply Yes, happy for you to use it.")
    back = await officer.wait_for("Reply from", timeout=15)
    demo.echo(f"      relay: officer → {pseudonym} → officer; the officer saw: {' '.join(back.content.splitlines())!r}")
    await officer.send("/pulse")
    pulse = await officer.wait_for("Weekly pulse", timeout=15)
    demo.echo("      /pulse as the officer sees it:")
    for line in pulse.content.splitlines():
        if line.strip():
            demo.echo(f"        {line}")
