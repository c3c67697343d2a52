"""Cymraeg end to end (issue 14): choice, consent, profile, a whole check-in, a reminder, /help, then /language."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from bot.messenger import TelegramMessenger
from scheduler.dispatch import Dispatcher
from surveys.store.models import Course
from tests.support.botkit import CONTACT, World, say, tap, world  # noqa: F401  (world is a fixture)


async def test_a_welsh_journey_then_english_from_the_message_after_language(world: World) -> None:
    token = await world.course(profile=None)  # the room's link: role and agency are asked too
    nia = world.emu.user(4001, "Nia")
    await nia.command("start", token)
    # The choice of language comes first: its line and its buttons above the consent request.
    offer = await nia.wait_for("Do you agree")
    assert offer.content.index("Cymraeg neu Saesneg?") < offer.content.index("Do you agree")
    assert [b[0] for b in offer.buttons] == ["Cymraeg", "English", "Agree", "No thanks"]

    consent = await tap(nia, offer, "Cymraeg", "Ydych chi'n cytuno i gymryd rhan?")
    assert "Do you agree" not in consent.content and CONTACT in consent.content
    assert "gwiriad ar ddiwedd y cwrs; gwiriad tri mis ar ôl y cwrs; gwiriad chwe mis ar ôl y cwrs" in consent.content
    assert [b[0] for b in consent.buttons] == ["Cymraeg", "English", "Cytuno", "Dim diolch"]

    role = await tap(nia, consent, "Cytuno", "pa un sy'n disgrifio eich rôl orau?")
    assert "Diolch am gymryd rhan yn y gwiriadau" in role.content
    assert {"Gweithiwr cymdeithasol", "Athro neu athrawes", "Arall"} <= {b[0] for b in role.buttons}
    agency = await tap(nia, role, "Athro neu athrawes", "i ba asiantaeth")
    first = await tap(nia, agency, "Addysg", "1/4")
    assert "Eich asiantaeth: Addysg ✓" in first.content
    [enrolment] = await world.enrolments()
    assert (enrolment.language, enrolment.role, enrolment.agency) == ("cy", "teacher", "education")  # stored in English

    second = await tap(nia, first, "16", "2/4")
    assert "Cwestiwn 1/4" in second.content and "Eich ateb: 16" in second.content
    assert "Cywir — The age of consent is 16" in second.content  # Welsh feedback around the quiz set's own words
    assert [b[0] for b in second.buttons] == ["Gwir", "Gau"]

    # She puts the phone down; the dispatcher's reminder comes in Welsh, with its date said in Welsh.
    [check_in] = [c for c in await world.check_ins() if c.wave == "post"]
    world.clock.set(check_in.next_action_at + timedelta(minutes=1))
    assert world.app is not None
    dispatcher = Dispatcher(
        world.sessions, TelegramMessenger(world.app.bot, backoff=0.01), world.clock, world.settings, "t"
    )
    assert (await dispatcher.run_once()).reminded == 1
    reminder = await nia.wait_for("Rydych chi hanner ffordd drwy eich gwiriad")
    assert "ar agor tan ddydd " in reminder.content and [b[0] for b in reminder.buttons] == [
        "Parhau",
        "Atgoffwch fi yfory",
    ]

    await nia.command("help")
    help_text = (await nia.wait_for("/iaith")).content
    assert "Rwy'n cynnal gwiriadau dilynol byr" in help_text and "/delete — stopio a dileu eich atebion" in help_text

    again = await tap(nia, reminder, "Parhau", "2/4")
    third = await say(nia, "gau", "3/4")  # typed in Welsh
    assert third.content.startswith("Ddim yn hollol") or third.content.startswith("Cywir")

    # Mid-way she switches: the reply is in English, and so is everything after it.
    await nia.command("language")
    asked = await nia.wait_for("Which language would you like?")
    switched = await tap(nia, asked, "English", "in English from now on")
    assert "/continue picks up your check-in" in switched.content
    [enrolment] = await world.enrolments()
    assert enrolment.language == "en"
    fourth = await tap(nia, third, "Disagree", "4/4")
    assert "Question 3/4" in fourth.content and "Your answer: Disagree" in fourth.content
    summary = await tap(nia, fourth, "Disagree", "check-in done")
    assert "Your answers:" in summary.content and "Eich" not in summary.content
    assert again is not None


async def test_a_course_in_welsh_asks_no_choice_and_iaith_switches_with_a_code(world: World) -> None:
    token = await world.course()
    async with world.sessions() as session, session.begin():
        await session.execute(update(Course).values(language="cy"))
    owen = world.emu.user(4002, "Owen")
    await owen.command("start", token)
    consent = await owen.wait_for("Ydych chi'n cytuno")
    assert "Cymraeg neu Saesneg" not in consent.content
    assert [b[0] for b in consent.buttons] == ["Cytuno", "Dim diolch"]
    first = await tap(owen, consent, "Cytuno", "1/4")
    assert "Diolch am gymryd rhan" in first.content
    await owen.command("iaith", "en")
    await owen.wait_for("in English from now on")
    await owen.command("status")
    assert "part-way through" in (await owen.wait_for("Your check-ins")).content


async def test_typed_answers_in_the_other_language_count(world: World) -> None:
    token = await world.course()
    alice = world.emu.user(4003, "Alice")
    first = await world.join(alice, token)  # in English
    await tap(alice, first, "16", "2/4")
    reply = await say(alice, "Gau", "3/4")  # Welsh for False, typed into an English check-in
    assert "Correct" in reply.content
    [_, answer] = await world.answers()
    assert answer.value == "false"


async def test_an_unknown_language_code_asks_rather_than_guesses(world: World) -> None:
    bob = world.emu.user(4004, "Bob")
    await bob.command("language", "fr")
    asked = await bob.wait_for("Which language would you like?")
    assert [b[0] for b in asked.buttons] == ["Cymraeg", "English"]
    told = await tap(bob, asked, "Cymraeg", "Byddaf yn ysgrifennu yn Gymraeg")
    assert "Pan fyddwch yn ymuno" in told.content  # nothing stored for a chat not enrolled


async def test_welsh_by_default_for_a_chat_not_enrolled(world: World) -> None:
    await world.stop_app()
    world.settings = world.settings.model_copy(update={"default_language": "cy"})
    await world.start_app()
    gwen = world.emu.user(4005, "Gwen")
    await gwen.command("help")
    assert "/iaith — newid iaith" in (await gwen.wait_for("Rwy'n cynnal")).content
    await gwen.command("nonsense")
    await gwen.wait_for("dydw i ddim yn gwybod y gorchymyn hwnnw")
    # Telegram apps set to Welsh get the command menu in Welsh; the default menu is the deployment's.
    assert {c["command"]: c["description"] for c in world.emu.commands(language_code="cy")}["continue"] == (
        "Parhau â'ch gwiriad"
    )


def test_a_language_code_other_than_en_or_cy_stops_start_up_naming_the_variable() -> None:
    import pytest

    from surveys.settings import SettingsError, load_settings

    with pytest.raises(SettingsError, match="FOLLOWUP_DEFAULT_LANGUAGE: expected cy or en, not 'fr'"):
        load_settings({"FOLLOWUP_DEFAULT_LANGUAGE": "fr"}, env_file=None)
    assert load_settings({"FOLLOWUP_DEFAULT_LANGUAGE": "CY"}, env_file=None).default_language == "cy"


async def test_a_welsh_course_from_the_cli_and_its_bilingual_invite_sheet(database_url, monkeypatch, tmp_path) -> None:
    import asyncio

    from click.testing import CliRunner

    from bot.cli import main
    from surveys.domain.quizset import bundled_quiz_set

    monkeypatch.setenv("FOLLOWUP_DATABASE_URL", database_url)
    monkeypatch.setenv("FOLLOWUP_BOT_USERNAME", "followup_test_bot")

    async def followup(*args: str):
        return await asyncio.to_thread(CliRunner().invoke, main, list(args), catch_exceptions=False)

    assert (await followup("quiz", "import", str(bundled_quiz_set("cse-core")))).exit_code == 0
    made = await followup(
        "course", "create", "CY-1", "--title", "CSE lefel 2", "--date", "2026-03-12", "--level", "2",
        "--quiz", "cse-core", "--waves", "pre,post,6m", "--language", "cy", "--yes",
    )  # fmt: skip
    assert made.exit_code == 0 and "in cy" in made.output, made.output
    wrong = await followup("course", "create", "CY-2", "--title", "x", "--date", "2026-03-12", "--level", "2",
                           "--quiz", "cse-core", "--language", "fr", "--yes")  # fmt: skip
    assert wrong.exit_code != 0 and "'fr' is not one of 'cy', 'en'" in wrong.output
    invited = await followup("course", "invite", "CY-1", "--out", str(tmp_path))
    assert invited.exit_code == 0, invited.output
    sheet = (tmp_path / "cy-1-invite.html").read_text()
    assert sheet.index("Sganiwch y cod") < sheet.index("Scan the code")
    assert "cyn y cwrs; ar ddiwedd y cwrs; chwe mis ar ôl y cwrs" in sheet
    assert "course and in six months" in sheet  # the English phrase, HTML-escaped


async def test_role_and_agency_typed_in_welsh_are_stored_as_the_configured_names(world: World) -> None:
    token = await world.course(profile=None)
    dafydd = world.emu.user(4006, "Dafydd")
    await dafydd.command("start", token)
    consent = await tap(dafydd, await dafydd.wait_for("Do you agree"), "Cymraeg", "Ydych chi'n cytuno")
    await tap(dafydd, consent, "Cytuno", "eich rôl orau?")
    await say(dafydd, "gweithiwr  cymdeithasol", "i ba asiantaeth")
    await say(dafydd, "Gwasanaethau plant", "1/4")
    [enrolment] = await world.enrolments()
    assert (enrolment.role, enrolment.agency) == ("social worker", "children's services")


async def test_a_bilingual_quiz_set_is_asked_in_welsh_and_its_answers_stored_as_values(world: World) -> None:
    from surveys.domain.quizset import bundled_quiz_set, load_quiz_set

    welsh = load_quiz_set(bundled_quiz_set("cse-core")).in_language("cy")
    token = await world.course(full=True)
    async with world.sessions() as session, session.begin():
        await session.execute(update(Course).values(language="cy"))
    elen = world.emu.user(4007, "Elen")
    await elen.command("start", token)
    consent = await elen.wait_for("Ydych chi'n cytuno")
    assert welsh.description.split("\n")[0][:40] in consent.content
    first = await tap(elen, consent, "Cytuno", "1/")
    [item, *_] = welsh.items_for("post")
    assert item.text.split("{{")[0][:30] in first.content
    await tap(elen, first, first.buttons[0][0], "2/")
    [answer] = await world.answers()
    assert answer.item_id == item.id and answer.value in {"1", "a", "true", "yes"} | {
        o.value for o in getattr(item, "options", ())
    }


async def test_an_invite_from_a_register_row_marked_cy_starts_in_welsh_with_no_choice(world: World) -> None:
    """The register says this attendee works in Welsh: their link asks nothing and enrols them in Welsh."""
    from sqlalchemy import select

    from surveys.store.invites import issue_invite
    from surveys.store.models import Enrolment

    await world.course()  # an English course: its own links would offer the choice
    async with world.sessions() as session, session.begin():
        course = await session.scalar(select(Course))
        token = (
            await issue_invite(session, course, world.clock(), role="teacher", agency="education", language="cy")
        ).token
    nia = world.emu.user(4009, "Nia")
    await nia.command("start", token)
    consent = await nia.wait_for("Ydych chi'n cytuno")
    assert "Cymraeg neu Saesneg" not in consent.content
    await tap(nia, consent, "Cytuno", "1/4")
    async with world.sessions() as session:
        assert await session.scalar(select(Enrolment.language)) == "cy"
