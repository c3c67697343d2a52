"""The training officer's and evaluator's tools in the chat, end to end through the emulator."""

from __future__ import annotations

import re
import zlib
from collections.abc import AsyncIterator
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from telegram.ext import CommandHandler, ConversationHandler

from bot.admin.registry import BUTTONS, COMMANDS
from bot.admin.wording import chunks
from bot.emulator import ChatMessage, Emulator, SimUser
from bot.handlers.commands import COMMANDS as PRACTITIONER_COMMANDS
from bot.messenger import TelegramMessenger
from scheduler.dispatch import Dispatcher
from surveys.store.models import AuditEvent, Course
from tests.support.botkit import MINI, TOKEN, USERNAME, World, tap

OFFICER = 424242
EVALUATOR = 535353
PRACTITIONER = 777000123  # distinctive, so finding it in a file cannot be a coincidence
BROKEN = MINI.parent / "many-errors.yaml"


@pytest.fixture
async def world(engine: AsyncEngine, database_url: str) -> AsyncIterator[World]:
    """The usual World, with one training officer and one evaluator configured."""
    async with Emulator(token=TOKEN, username=USERNAME, per_chat_rate=100, per_chat_burst=100) as emu:
        w = World(emu, engine, database_url)
        w.settings = w.settings.model_copy(update={"admin_ids": (OFFICER,), "evaluator_ids": (EVALUATOR,)})
        await w.start_app()
        try:
            yield w
        finally:
            await w.stop_app()


async def audit(world: World) -> list[AuditEvent]:
    """What people did (the world's own setup is audited too, as the system)."""
    async with world.sessions() as session:
        query = select(AuditEvent).where(AuditEvent.role != "system").order_by(AuditEvent.id)
        return list(await session.scalars(query))


async def upload(user: SimUser, path, expect: str) -> ChatMessage:
    await user.send_document(path.name, path.read_bytes(), "application/x-yaml")
    return await user.wait_for(expect)


async def create_course_in_chat(officer: SimUser, code: str, title: str, quiz_ref: str) -> ChatMessage:
    """/newcourse through every step, with one bad code and one bad head count on the way."""
    await officer.command("newcourse")
    quiz = await officer.wait_for("New course (1/8)")
    assert [label for label, _ in quiz.buttons] == [quiz_ref, "Cancel"]  # the latest version of each set
    level = await tap(officer, quiz, quiz_ref, "New course (2/8)")
    assert f"Quiz set: {quiz_ref}" in quiz.content and quiz.buttons == []
    day = await tap(officer, level, "2", "New course (3/8)")
    await tap(officer, day, "Today", "New course (4/8)")
    await officer.send("not a code!")
    assert "isn't a course code" in (await officer.wait_for("New course (4/8)")).content
    await officer.send(code)
    await officer.wait_for("New course (5/8)")
    await officer.send(title)
    waves = await officer.wait_for("New course (6/8)")
    assert [label for label, _ in waves.buttons] == ["post, 3m, 6m", "Cancel"]  # the defaults it has items for
    attendance = await tap(officer, waves, "post, 3m, 6m", "New course (7/8)")
    assert [label for label, _ in attendance.buttons] == ["Not known", "Cancel"]
    await officer.send("two dozen")
    assert "whole number" in (await officer.wait_for("New course (7/8)")).content
    await officer.send("24")
    zone = await officer.wait_for("New course (8/8)")
    return await tap(officer, zone, "Europe/London", "Created")


async def test_an_officer_runs_a_course_from_the_chat_to_the_post_course_check_in(world: World) -> None:
    officer = world.emu.user(OFFICER, "Olive")
    errors = await upload(officer, BROKEN, "problem")
    assert "nothing was stored" in errors.content
    assert re.search(r"many-errors\.yaml:\d+:\d+: item 'aoc'", errors.content)
    assert (await upload(officer, MINI, "Imported")).content == "Imported mini-cse@1 (Mini CSE check)."
    changed = MINI.read_text().replace("title: Mini CSE check", "title: Mini CSE check (revised)")
    await officer.send_document("valid.yaml", changed.encode())
    assert "Imported mini-cse@2" in (await officer.wait_for("Imported")).content
    await officer.send_document("valid.yaml", changed.encode())
    assert "unchanged" in (await officer.wait_for("unchanged")).content

    created = await create_course_in_chat(officer, "CSE-CHAT-1", "CSE awareness, Northshire", "mini-cse@2")
    assert "level 2" in created.content and "mini-cse@2" in created.content and "2026-01-15" in created.content
    assert "check-ins post, 3m, 6m, 24 expected, Europe/London" in created.content
    await officer.command("invite", "CSE-CHAT-1")
    qr = await officer.wait_for(lambda m: m.photo is not None)
    assert qr.photo_bytes.startswith(b"\x89PNG\r\n\x1a\n")
    token = re.search(rf"https://t\.me/{USERNAME}\?start=([\w-]+)", qr.content).group(1)

    zeb = world.emu.user(PRACTITIONER, "Zebedee", "zeb_t")
    await zeb.command("start", token)
    consent = await zeb.wait_for("Do you agree")
    await zeb.press_button(consent, "Agree")
    role = await zeb.wait_for_edit(consent, "your role?")  # one request: the welcome leads the first question
    assert "two quick questions" in role.content
    rows = role.reply_markup["inline_keyboard"]
    assert [len(r) for r in rows] == [2, 2, 2, 2, 2, 1] and rows[0][0]["text"] == "Social worker"
    await zeb.send("SOCIAL   worker")
    agency = await zeb.wait_for("which agency")
    await zeb.send("the council")
    again = await zeb.wait_for("didn't recognise that agency")
    await zeb.press_button(again, "Police")
    await zeb.wait_for_edit(again, "We'll message you when your first check-in is ready")
    assert "Your agency: Police" in again.content  # one request: the answer leads what comes next
    assert agency.buttons  # the first agency question is left as it was; the re-ask took the tap
    (enrolment,) = await world.enrolments()
    assert (enrolment.role, enrolment.agency) == ("social worker", "police")

    await officer.command("end", "CSE-CHAT-1")
    confirm = await officer.wait_for("End CSE-CHAT-1 now?")
    await officer.press_button(confirm, "End CSE-CHAT-1 now")
    await officer.wait_for_edit(confirm, "1 post-course check-in go")
    report = await Dispatcher(
        world.sessions, TelegramMessenger(world.app.bot, backoff=0.01), world.clock, world.settings, "test"
    ).run_once()
    assert report.sent == 1
    invitation = await zeb.wait_for("Thank you for being part of CSE awareness, Northshire today")
    await tap(zeb, invitation, "Start", "1/")

    actions = [(e.action, e.outcome) for e in await audit(world)]
    assert actions == [
        ("quizset.import", "invalid"),
        ("quizset.import", "ok"),
        ("quizset.import", "ok"),
        ("quizset.import", "unchanged"),
        ("course.create", "ok"),
        ("course.invite", "ok"),
        ("course.end", "ok"),
    ]


async def test_a_late_joiner_on_the_room_link_answers_role_and_agency_then_the_check_in_starts(world: World) -> None:
    token = await world.course(profile=None)  # delivered yesterday: the post check-in is open
    zeb = world.emu.user(PRACTITIONER, "Zebedee")
    await zeb.command("start", token)
    role = await tap(zeb, await zeb.wait_for("Do you agree"), "Agree", "your role?")
    assert {c.state for c in await world.check_ins() if c.wave == "post"} == {"in_progress"}  # no invitation too
    await zeb.command("continue")
    await zeb.wait_for("your role?")  # the questions come first, whatever is pressed or typed
    agency = await tap(zeb, role, "Teacher", "which agency")
    first = await tap(zeb, agency, "Education", "1/4")
    assert "months since" in first.content or "age of consent" in first.content
    (enrolment,) = await world.enrolments()
    assert (enrolment.role, enrolment.agency) == ("teacher", "education")


async def test_per_attendee_invites_skip_the_role_and_agency_questions(world: World) -> None:
    token = await world.course(profile=("police", "police"))
    zeb = world.emu.user(PRACTITIONER, "Zebedee")
    await world.join(zeb, token)
    assert not [m for m in zeb.messages if "your role?" in m.content]


async def test_an_evaluator_gets_the_report_and_export_without_any_telegram_identity(world: World) -> None:
    token = await world.course(profile=None)
    zeb = world.emu.user(PRACTITIONER, "Zebedee", "zeb_t")
    await zeb.command("start", token)
    role = await tap(zeb, await zeb.wait_for("Do you agree"), "Agree", "your role?")
    agency = await tap(zeb, role, "Health", "which agency")
    q = await tap(zeb, agency, "Health", "1/4")
    for label, expect in (("16", "2/4"), ("False", "3/4"), ("Disagree", "4/4"), ("Disagree", "check-in done")):
        q = await tap(zeb, q, label, expect)

    evaluator = world.emu.user(EVALUATOR, "Eve")
    await evaluator.command("export", "cse-1")
    answers = await evaluator.wait_for(lambda m: m.filename == "cse-1-answers.csv")
    codebook = await evaluator.wait_for(lambda m: m.filename == "cse-1-answers_codebook.csv")
    assert b"P-" in answers.document_bytes and b"health" in answers.document_bytes
    await evaluator.command("report", "CSE-1")
    await evaluator.wait_for("Working on it")
    html = await evaluator.wait_for(lambda m: m.filename == "cse-1-report.html", timeout=60)
    pdf = await evaluator.wait_for(lambda m: m.filename == "cse-1-report.pdf", timeout=30)
    assert pdf.document_bytes.startswith(b"%PDF") and b"<html" in html.document_bytes.lower()

    streams = [
        zlib.decompress(s)
        for s in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf.document_bytes, re.DOTALL)
        if s[:1] == b"x"
    ]
    for body in (answers.document_bytes, codebook.document_bytes, html.document_bytes, pdf.document_bytes, *streams):
        for identity in (str(PRACTITIONER).encode(), b"zeb_t", b"Zebedee", str(EVALUATOR).encode()):
            assert identity not in body
    assert [(e.role, e.action) for e in await audit(world)] == [("evaluator", "export"), ("evaluator", "report")]


@pytest.mark.parametrize("entry", COMMANDS, ids=lambda c: "/" + c.name)
async def test_every_admin_command_refuses_and_audits_a_practitioner(world: World, entry) -> None:
    zeb = world.emu.user(PRACTITIONER, "Zebedee", "zeb_t")
    await zeb.command(entry.name, "CSE-1")
    refusal = await zeb.wait_for("This command is for training officers")
    evaluators_may = "evaluator" in entry.roles
    assert refusal.content == f"This command is for training officers{' and evaluators' * evaluators_may}."
    (event,) = await audit(world)
    assert (event.role, event.action, event.outcome) == ("none", entry.action, "denied")
    assert str(PRACTITIONER) not in event.actor and "zeb" not in event.actor.lower()


@pytest.mark.parametrize("entry", BUTTONS, ids=lambda b: "x:" + b.name)
async def test_every_admin_button_refuses_and_audits_a_forged_press(world: World, entry) -> None:
    zeb = world.emu.user(PRACTITIONER, "Zebedee")
    await zeb.command("help")
    message = await zeb.wait_for("/continue")
    await zeb.press(message, f"x:{entry.name}:CSE-1")
    await zeb.wait_for("This command is for training officers")
    (event,) = await audit(world)
    assert (event.action, event.outcome) == (entry.action, "denied")


async def test_an_evaluator_cannot_use_the_officer_only_commands(world: World) -> None:
    eve = world.emu.user(EVALUATOR, "Eve")
    officer_only = [c for c in COMMANDS if "evaluator" not in c.roles]
    for entry in officer_only:
        await eve.command(entry.name, "CSE-1")
        await eve.wait_for("This command is for training officers")
    events = await audit(world)
    assert [(e.role, e.action, e.outcome) for e in events] == [("evaluator", c.action, "denied") for c in officer_only]
    assert len({e.actor for e in events}) == 1


async def test_no_command_is_registered_outside_the_guarded_registry(world: World) -> None:
    handlers = [h for group in world.app.handlers.values() for h in group]
    for conversation in [h for h in handlers if isinstance(h, ConversationHandler)]:
        handlers += [*conversation.entry_points, *conversation.fallbacks]
    registered = {name for h in handlers if isinstance(h, CommandHandler) for name in h.commands}
    assert registered == {"start", *PRACTITIONER_COMMANDS, *(c.name for c in COMMANDS), "cancel"}


async def test_a_closed_course_gets_no_new_invite(world: World) -> None:
    await world.course("CSE-1")
    async with world.sessions() as session, session.begin():
        (await session.scalars(select(Course))).one().closed_at = world.clock()
    officer = world.emu.user(OFFICER, "Olive")
    await officer.command("invite", "CSE-1")
    await officer.wait_for("CSE-1 is closed")
    assert not [m for m in officer.messages if m.photo is not None]


async def test_documents_from_practitioners_get_the_usual_polite_refusal(world: World) -> None:
    zeb = world.emu.user(PRACTITIONER, "Zebedee")
    await zeb.send_document("valid.yaml", MINI.read_bytes())
    await zeb.wait_for("I can only read text")
    assert await audit(world) == []
    async with world.sessions() as session:
        assert (await session.scalars(select(Course))).all() == []


async def test_the_wizard_reasks_bad_dates_and_codes_and_can_be_cancelled(world: World) -> None:
    await world.course("CSE-1")
    officer = world.emu.user(OFFICER, "Olive")
    await officer.command("newcourse")
    level = await tap(officer, await officer.wait_for("New course (1/8)"), "mini-cse@1", "(2/8)")
    await tap(officer, level, "6", "(3/8)")
    await officer.send("next tuesday")
    assert "YYYY-MM-DD" in (await officer.wait_for("(3/8)")).content
    await officer.send("2026-02-03")
    await officer.wait_for("(4/8)")
    await officer.send("cse-1")
    assert "already used" in (await officer.wait_for("(4/8)")).content
    await officer.send("cancel")
    await officer.wait_for("no course was created")
    await officer.send("hello")  # back to the practitioner side of the bot
    await officer.wait_for("not taking part")
    async with world.sessions() as session:
        assert [c.code for c in (await session.scalars(select(Course))).all()] == ["CSE-1"]


async def test_course_and_courses_show_response_rates(world: World) -> None:
    token = await world.course("CSE-1", delivered_on=date(2026, 1, 14))
    await world.join(world.emu.user(PRACTITIONER, "Zebedee"), token)
    officer = world.emu.user(OFFICER, "Olive")
    await officer.command("courses")
    listing = await officer.wait_for("Courses, newest first")
    assert "CSE-1 — CSE awareness level 2" in listing.content and "enrolled 1" in listing.content
    assert "2026-01-14 · ended ·" in listing.content  # the day has passed, though nobody pressed /end
    await officer.command("course", "cse-1")
    shown = await officer.wait_for("Enrolled 1")
    assert "post: 0 answered of 1 asked" in shown.content
    await officer.command("course")
    await officer.wait_for("Please add the course code")
    await officer.command("quizsets")
    assert "• mini-cse@1 — Mini CSE check (8 items," in (await officer.wait_for("Stored quiz sets")).content
    await officer.command("report", "CSE-9")
    await officer.wait_for("Working on it")
    assert (await officer.wait_for("CSE-9")).content == "No course with code CSE-9; /courses lists them."


def test_long_error_lists_are_split_under_telegrams_limit() -> None:
    lines = [f"x.yaml:{n}:1: item 'q{n}': {'too long ' * 20}" for n in range(200)]
    parts = chunks(lines)
    assert len(parts) > 1 and all(len(p) <= 4096 for p in parts)
    assert "\n".join(parts).split("\n") == lines


async def test_an_evaluator_may_list_and_show_courses(world: World) -> None:
    await world.course("CSE-1", delivered_on=date(2026, 1, 14))
    eve = world.emu.user(EVALUATOR, "Eve")
    await eve.command("courses")
    assert "CSE-1" in (await eve.wait_for("Courses, newest first")).content
    await eve.command("course", "CSE-1")
    await eve.wait_for("Enrolled 0")
    assert [(e.role, e.action, e.outcome) for e in await audit(world)] == [
        ("evaluator", "course.list", "ok"),
        ("evaluator", "course.show", "ok"),
    ]
    assert not [m for m in eve.messages if "for training officers" in m.content]


async def test_the_wizard_asks_before_taking_a_past_date_and_takes_typed_waves_and_zone(world: World) -> None:
    officer = world.emu.user(OFFICER, "Olive")
    await upload(officer, MINI, "Imported")
    await officer.command("newcourse")
    level = await tap(officer, await officer.wait_for("New course (1/8)"), "mini-cse@1", "(2/8)")
    await tap(officer, level, "3", "(3/8)")
    await officer.send("2026-01-10")  # the clock reads 2026-01-15
    past = await officer.wait_for("is in the past")
    assert [label for label, _ in past.buttons] == ["Yes, that date", "Change the date", "Cancel"]
    await tap(officer, past, "Change the date", "(3/8)")
    await officer.send("2026-01-12")
    await tap(officer, await officer.wait_for("is in the past"), "Yes, that date", "(4/8)")
    await officer.send("OLD-1")
    await officer.wait_for("(5/8)")
    await officer.send("A course last week")
    await officer.wait_for("(6/8)")
    await officer.send("pre, post, 12m")
    assert "no items for wave(s) pre, 12m" in (await officer.wait_for("(6/8)")).content
    await officer.send("post, 6m")
    attendance = await officer.wait_for("(7/8)")
    await tap(officer, attendance, "Not known", "(8/8)")
    await officer.send("Mars/Olympus")
    assert "Unknown time zone 'Mars/Olympus'" in (await officer.wait_for("(8/8)")).content
    await officer.send("Europe/Dublin")
    await officer.wait_for("Created OLD-1")
    async with world.sessions() as session:
        course = await session.scalar(select(Course).where(Course.code == "OLD-1"))
    assert (course.delivered_on, course.waves, course.expected_attendance, course.zone) == (
        date(2026, 1, 12),
        ["post", "6m"],
        None,
        "Europe/Dublin",
    )
    assert [(e.role, e.action, e.target) for e in await audit(world)] == [
        ("officer", "quizset.import", "mini-cse@1"),
        ("officer", "course.create", "OLD-1"),
    ]
