"""The in-depth follow-up end to end through the emulator: the draw, agreement, the case study, the relay both ways."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.emulator import Emulator, SimUser
from surveys.reporting.export import export
from surveys.reporting.report import build_report, write_report
from surveys.store import in_depth as store
from surveys.store.models import AuditEvent, Contact, Course, Enrolment, InDepthAnswer, InDepthDraw, Relay
from tests.support.botkit import TOKEN, USERNAME, World, say

OFFICER = 424242
THREE_MONTHS = datetime(2026, 4, 15, 10, tzinfo=UTC)
TYPED_3M = [
    ("b", "2/8"),
    ("false", "3/8"),
    ("a", "4/8"),
    ("2", "5/8"),
    ("Disagree", "6/8"),
    ("yes", "7/8"),
    ("3", "8/8"),
]


@pytest.fixture
async def world(engine: AsyncEngine, database_url: str) -> AsyncIterator[World]:
    """The usual World with one training officer."""
    async with Emulator(token=TOKEN, username=USERNAME, per_chat_rate=100, per_chat_burst=100) as emu:
        w = World(emu, engine, database_url)
        w.settings = w.settings.model_copy(update={"admin_ids": (OFFICER,)})
        await w.start_app()
        try:
            yield w
        finally:
            await w.stop_app()


async def three_month_check_in(user: SimUser) -> None:
    """Answer the whole 3-month check-in by typing (the in-depth handler sees every typed line first)."""
    await user.command("continue")
    await user.wait_for("1/8")
    for text, expect in TYPED_3M:
        await say(user, text, expect)
    await say(user, "I ask about the child's age first now", "check-in done")


def is_invitation(message) -> bool:
    return "in-depth follow-up" in (message.content or "")


async def pseudonym_of(world: World, user: SimUser) -> str:
    async with world.sessions() as session:
        return await session.scalar(
            select(Enrolment.pseudonym)
            .join(Contact, Contact.enrolment_id == Enrolment.id)
            .where(Contact.chat_id == user.id)
        )


async def test_the_in_depth_follow_up_from_the_draw_to_the_relay_both_ways(
    world: World, caplog: pytest.LogCaptureFixture, tmp_path
) -> None:
    caplog.set_level(logging.DEBUG)
    token = await world.course()
    people = [world.emu.user(773019400 + i, f"Firstname{i}", f"handle_{i}", last_name=f"Lastname{i}") for i in range(4)]
    for person in people:
        await world.join(person, token)
    world.clock.set(THREE_MONTHS)
    for person in people:
        await three_month_check_in(person)

    # 25% of one agency's four completers: exactly one block of four, so exactly one invited.
    async with world.sessions() as session:
        draws = list(await session.scalars(select(InDepthDraw).order_by(InDepthDraw.sequence)))
        course = await session.scalar(select(Course))
        redrawn = await store.redraw(session, course)
        chosen = await session.scalar(
            select(Contact.chat_id)
            .join(InDepthDraw, InDepthDraw.enrolment_id == Contact.enrolment_id)
            .where(InDepthDraw.selected)
        )
    assert [(d.stratum, d.sequence, d.share) for d in draws] == [("education", n, 25) for n in (1, 2, 3, 4)]
    assert sum(d.selected for d in draws) == 1 and course.in_depth_seed
    assert all(r.stored == r.recomputed for r in redrawn)  # the recorded seed re-draws the same sample

    person = next(p for p in people if p.id == chosen)
    others = [p for p in people if p is not person]
    invitation = await person.wait_for(is_invitation)
    assert not any(is_invitation(m) for p in others for m in p.messages)
    assert [label for label, _ in invitation.buttons] == ["Yes, with my line manager", "No thanks"]
    await person.press_button(invitation, "Yes, with my line manager")
    await person.wait_for_edit(invitation, "1/5")
    assert "line manager" in invitation.content and "don't name" in invitation.content
    await say(person, "ok", "1/5")  # too short: asked again, nothing stored
    await say(person, "A 14-year-old was picked up by older men; her mum rang me on 07700 900123", "2/5")
    await say(person, "skip", "3/5")
    await say(person, "My designated lead helped; waiting lists got in the way", "4/5")
    theme = await say(person, "She is in a safer placement and back at school", "5/5")
    assert [label for label, _ in theme.buttons][1] == "Referral and the local pathway"
    await person.press_button(theme, "Referral and the local pathway")
    await person.wait_for_edit(theme, "very useful")

    async with world.sessions() as session:
        answers = dict((await session.execute(select(InDepthAnswer.question, InDepthAnswer.value))).all())
        status = await session.scalar(select(InDepthDraw.status).where(InDepthDraw.selected))
    assert status == "told"
    assert answers["situation"] == "A 14-year-old was picked up by older men; her mum rang me on [removed]"
    assert answers["different"] == "" and answers["theme"] == "referral"

    # The officer writes to the pseudonym; the person answers; neither sees the other's chat or name.
    officer = world.emu.user(OFFICER, "Olivia", "olivia_officer", last_name="Officer")
    pseudonym = await pseudonym_of(world, person)
    await officer.command("relay")
    listing = await officer.wait_for("you can write to")
    assert pseudonym in listing.content and "CSE-1" in listing.content
    await officer.send(f"/relay {pseudonym} Thank you. Could we talk about the referral?")
    await officer.wait_for(f"Sent to {pseudonym}")
    message = await person.wait_for("A message from the training officer")
    assert "Could we talk about the referral?" in message.content
    assert "Olivia" not in message.content and str(OFFICER) not in message.content
    await person.command("reply", "Yes please, any Tuesday")
    await person.wait_for("Sent to the training officer")
    back = await officer.wait_for(f"Reply from {pseudonym}")
    assert "Yes please, any Tuesday" in back.content
    for secret in (str(person.id), person.first_name, person.last_name, person.username):
        assert secret not in back.content

    # Refusals: an unknown pseudonym, a pseudonym not in the in-depth follow-up, a non-officer, a /reply with none.
    await officer.command("relay", "P-0000000000", "hello")
    assert "not in the in-depth follow-up" in (await officer.wait_for("P-0000000000")).content
    outsider = others[0]
    await officer.command("relay", await pseudonym_of(world, outsider), "hello")
    await officer.wait_for("not in the in-depth follow-up")
    await outsider.command("relay", pseudonym, "hello")
    await outsider.wait_for("for training officers")
    await outsider.command("reply", "hello")
    assert "no message from the training officer" in (await outsider.wait_for("/reply")).content
    assert not any("hello" in m.content for m in person.messages)

    async with world.sessions() as session:
        relays = [(r.direction) for r in await session.scalars(select(Relay).order_by(Relay.id))]
        events = [
            (e.action, e.outcome, e.target)
            for e in await session.scalars(select(AuditEvent).where(AuditEvent.action.like("relay%")))
        ]
    assert relays == ["to_person", "to_officer"]
    assert ("relay", "ok", pseudonym) in events and ("relay.reply", "ok", pseudonym) in events
    assert ("relay", "refused", "P-0000000000") in events
    assert sum(e[:2] == ("relay", "refused") for e in events) == 2 and ("relay", "denied", None) in events

    # No chat id, name or username in any export, the report or the log.
    async with world.sessions() as session, session.begin():
        for fmt, shape in (("csv", "long"), ("csv", "wide")):
            await export(session, ["CSE-1"], fmt, shape, tmp_path / f"{shape}.{fmt}")
        report = await build_report(session, ["CSE-1"], world.settings, now=world.clock())
    files = write_report(report, tmp_path / "report")
    assert report["in_depth"]["counts"]["invited"] == {"n": None, "withheld": False}  # one person: fewer than 5
    assert report["in_depth"]["themes"] == [{"theme": "Case studies", "n": None, "case_studies": None}]
    outputs = [(tmp_path / name).read_text() for name in ("long.csv", "wide.csv")]
    outputs += [files["html"].read_text(), files["json"].read_text(), json.dumps(report)]
    log = caplog.text + " ".join(str(r.args) for r in caplog.records)
    secrets = [officer, *people]
    for text in [*outputs, log]:
        for user in secrets:
            # An id as a whole number: a timing such as 0.7730190 in a library's DEBUG line is not one.
            assert not re.search(rf"(?<!\d){user.id}(?!\d)", text)
            for secret in (user.first_name, user.last_name, user.username):
                assert secret not in text
    assert "Could we talk" not in log and "any Tuesday" not in log  # relayed text is never logged

    # /delete erases the case study with the rest; the draw stays, without the person, for the audit.
    await person.command("delete")
    confirm = await person.wait_for("Delete everything")
    await person.press_button(confirm, "Delete everything")
    await person.wait_for_edit(confirm, "answers are deleted")
    async with world.sessions() as session:
        assert await session.scalar(select(InDepthAnswer.id)) is None
        assert await session.scalar(select(Relay.id)) is None
        kept = await session.scalar(select(InDepthDraw).where(InDepthDraw.selected))
    assert kept.enrolment_id is None and kept.status == "told"


async def test_no_thanks_stores_the_refusal_and_a_second_press_changes_nothing(world: World) -> None:
    token = await world.course()
    async with world.sessions() as session, session.begin():
        (await session.scalar(select(Course))).in_depth_share = 100
    alice = world.emu.user(1001, "Alice")
    await world.join(alice, token)
    world.clock.set(THREE_MONTHS)
    await three_month_check_in(alice)
    invitation = await alice.wait_for(is_invitation)
    await alice.press_button(invitation, "No thanks")
    await alice.wait_for_edit(invitation, "No problem")
    await alice.send("hello again")
    await alice.wait_for("nothing to answer")  # no case study takes her text
    async with world.sessions() as session:
        assert await session.scalar(select(InDepthDraw.status)) == "declined"
        assert await session.scalar(select(InDepthAnswer.id)) is None


async def test_pulse_on_demand_for_officers_only_and_the_monday_job(world: World) -> None:
    from bot.admin.pulse import PULSE_JOB, schedule_pulse, send_pulse
    from scheduler.pulse import next_pulse_at

    token = await world.course()
    await world.join(world.emu.user(1001, "Alice"), token)
    officer = world.emu.user(OFFICER, "Olivia")
    await officer.command("pulse")
    shown = await officer.wait_for("Weekly pulse")
    assert "CSE-1" in shown.content and "post: fewer than 5 answered" in shown.content
    outsider = world.emu.user(1002, "Bob")
    await outsider.command("pulse")
    await outsider.wait_for("for training officers")

    # The Monday job: one message to each officer, once a week however many workers run it.
    assert world.app is not None
    assert await send_pulse(world.app, world.settings, world.clock) == 1
    await officer.wait_for("Weekly pulse")
    assert await send_pulse(world.app, world.settings, world.clock) == 0
    schedule_pulse(world.app, world.settings, world.clock)
    (job,) = world.app.job_queue.get_jobs_by_name(PULSE_JOB)
    wait = next_pulse_at(world.clock(), world.settings.zone) - world.clock()
    assert wait == timedelta(days=3, hours=23, minutes=30)  # Thursday 10:00 → Monday 09:30 in London
    assert timedelta(0) < job.next_t - datetime.now(UTC) <= wait
