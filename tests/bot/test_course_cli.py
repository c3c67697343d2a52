"""The officer's CLI: quiz import, course create/invite/show/end/close, on both databases."""

from __future__ import annotations

import asyncio
import csv
import html
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from bot.cli import main
from surveys.domain.quizset import bundled_quiz_set
from surveys.domain.tokens import hash_token
from surveys.reporting.invite_sheet import check_in_times
from surveys.store.models import Course, Invite
from tests.support.botkit import MINI

pytestmark = pytest.mark.usefixtures("engine")


@pytest.fixture
def followup(database_url, monkeypatch):
    """Run `followup ARGS` against the test database, off the event loop (the CLI runs its own)."""
    monkeypatch.setenv("FOLLOWUP_DATABASE_URL", database_url)
    monkeypatch.setenv("FOLLOWUP_BOT_USERNAME", "followup_test_bot")
    runner = CliRunner()

    async def run(*args: str):
        return await asyncio.to_thread(runner.invoke, main, list(args), catch_exceptions=False)

    return run


async def _course(followup, code="CSE-7"):
    result = await followup("quiz", "import", str(bundled_quiz_set("cse-core")))
    assert result.exit_code == 0, result.output
    result = await followup(
        "course",
        "create",
        code,
        "--title",
        "CSE level 2",
        "--date",
        "2026-03-12",
        "--level",
        "2",
        "--quiz",
        "cse-core",
        "--attendance",
        "24",
        "--yes",
    )
    assert result.exit_code == 0, result.output
    return result


async def test_an_officer_creates_a_course_and_gets_a_working_deep_link(followup, sessions):
    created = await _course(followup)
    assert "Created course CSE-7" in created.output and "cse-core@1" in created.output
    result = await followup("course", "invite", "CSE-7")
    assert result.exit_code == 0
    link = result.output.strip()
    assert link.startswith("https://t.me/followup_test_bot?start=")
    token = link.rsplit("=", 1)[1]
    async with sessions() as session:
        assert await session.scalar(select(func.count()).where(Invite.token_hash == hash_token(token))) == 1


async def test_a_duplicate_code_or_unknown_quiz_set_is_refused_and_nothing_changes(followup, sessions):
    await _course(followup)
    create = ("course", "create", "--title", "x", "--date", "2026-03-12", "--level", "2", "-y")
    again = await followup(*create, "CSE-7", "--quiz", "cse-core")
    unknown = await followup(*create, "CSE-8", "--quiz", "nope@3")
    assert again.exit_code == 1 and "already exists" in again.output
    assert unknown.exit_code == 1 and "no quiz set 'nope@3'" in unknown.output
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Course)) == 1


async def test_a_register_gives_single_use_links_a_sheet_and_qr_codes(followup, sessions, tmp_path):
    await _course(followup)
    register = tmp_path / "register.csv"
    register.write_text("name,email,role,agency\nAnn,ann@x.org,teacher,education\nBob,bob@x.org,police,police\n")
    out = tmp_path / "out"
    result = await followup("course", "invite", "CSE-7", "--register", str(register), "--out", str(out))
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader((out / "cse-7-mail-merge.csv").open(encoding="utf-8-sig")))
    assert [r["name"] for r in rows] == ["Ann", "Bob"]
    assert all(r["link"].startswith("https://t.me/followup_test_bot?start=") for r in rows)
    assert (out / "cse-7-qr.png").read_bytes().startswith(b"\x89PNG")
    assert "<svg" in (out / "cse-7-qr.svg").read_text()
    sheet = (out / "cse-7-invite.html").read_text()
    assert "CSE level 2" in sheet and "<svg" in sheet
    async with sessions() as session:
        invites = list(await session.scalars(select(Invite).where(Invite.single_use.is_(True))))
        assert sorted(i.role for i in invites) == ["police", "teacher"]
        # The register's names and e-mails are only in the mail-merge file.
        for invite in invites:
            assert "Ann" not in repr(vars(invite)) and "ann@x.org" not in repr(vars(invite))


async def test_a_bad_register_lists_its_problems_and_makes_no_invites(followup, sessions, tmp_path):
    await _course(followup)
    register = tmp_path / "register.csv"
    register.write_text("name,role,agency\nAnn,teacher,nowhere\nBob,pilot,police\n")
    result = await followup("course", "invite", "CSE-7", "--register", str(register), "--out", str(tmp_path / "o"))
    assert result.exit_code == 1
    assert "row 2: unknown agency 'nowhere'" in result.output and "row 3: unknown role 'pilot'" in result.output
    assert not Path(tmp_path / "o").exists()
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Invite)) == 0


async def test_ending_closing_and_showing_a_course(followup):
    await _course(followup)
    ended = await followup("course", "end", "CSE-7")
    assert ended.exit_code == 0 and "Ended CSE-7" in ended.output
    assert (await followup("course", "end", "CSE-7")).exit_code == 1
    shown = await followup("course", "show", "cse-7")
    assert "Enrolled 0 of 24 attending" in shown.output and "3m:" in shown.output
    closed = await followup("course", "close", "CSE-7")
    assert closed.exit_code == 0
    listed = await followup("course", "list")
    assert "CSE-7" in listed.output and "closed" in listed.output
    missing = await followup("course", "show", "NOPE")
    assert missing.exit_code == 1 and "no course with code NOPE" in missing.output


async def test_officer_actions_from_the_cli_are_audited(followup):
    await _course(followup)
    await followup("course", "end", "CSE-7")
    await followup("course", "end", "CSE-7")  # refused: nothing happened, nothing audited
    result = await followup("audit")
    actions = [line.split("\t")[3] for line in result.output.strip().splitlines()]
    assert actions == ["course.end", "course.create", "quizset.import"]
    only = await followup("audit", "--action", "course.create")
    assert len(only.output.strip().splitlines()) == 1


async def _create(followup, code: str):
    return await followup(
        "course",
        "create",
        code,
        "--title",
        "CSE",
        "--date",
        "2099-03-12",
        "--level",
        "2",
        "--quiz",
        "cse-core",
    )


async def test_a_code_with_an_underscore_ends_only_the_course_with_exactly_that_code(followup, sessions):
    await _course(followup, "NOATT")
    result = await followup("course", "end", "NO_TT")
    assert result.exit_code == 1 and "no course with code NO_TT" in result.output
    async with sessions() as session:
        assert (await session.scalar(select(Course).where(Course.code == "NOATT"))).ended_at is None


async def test_a_percent_sign_shows_no_course(followup):
    await _course(followup)
    result = await followup("course", "show", "%")
    assert result.exit_code == 1 and "no course with code %" in result.output


async def test_a_code_that_differs_only_by_underscore_for_hyphen_can_be_created(followup):
    await _course(followup, "Y-12")
    result = await _create(followup, "y_12")
    assert result.exit_code == 0, result.output
    again = await _create(followup, "y-12")
    assert again.exit_code == 1 and "already exists" in again.output


async def test_the_invite_sheet_names_the_courses_own_waves(followup, tmp_path):
    # The mini set asked at 12 months instead of 3 and 6.
    late = tmp_path / "late.yaml"
    late.write_text(MINI.read_text().replace("[post, 3m, 6m]", "[post, 12m]").replace("[3m, 6m]", "[12m]"))
    assert (await followup("quiz", "import", str(late))).exit_code == 0
    created = await followup(
        "course",
        "create",
        "LATE-1",
        "--title",
        "CSE",
        "--date",
        "2026-03-12",
        "--level",
        "2",
        "--quiz",
        "mini-cse",
        "--waves",
        "post,12m",
        "--yes",
    )
    assert created.exit_code == 0, created.output
    result = await followup("course", "invite", "late-1", "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    sheet = html.unescape((tmp_path / "out" / "late-1-invite.html").read_text())
    assert "(at the end of today's course and in twelve months)" in sheet
    assert "three months" not in sheet and "six months" not in sheet


@pytest.mark.parametrize(
    ("waves", "said"),
    [
        (("pre", "post", "3m", "6m"), "before and after today's course, in three months and in six months"),
        (("post", "3m", "6m"), "at the end of today's course, in three months and in six months"),
        (("pre", "1m"), "before today's course and in one month"),
        (("12m",), "in twelve months"),
    ],
)
def test_the_sheet_says_when_each_wave_comes(waves, said):
    assert check_in_times(waves) == said


async def test_a_past_date_is_confirmed_before_the_course_is_made(followup, sessions):
    await followup("quiz", "import", str(bundled_quiz_set("cse-core")))
    args = ("course", "create", "OLD-1", "--title", "CSE", "--date", "2020-03-12", "--level", "2", "--quiz", "cse-core")
    refused = await followup(*args)  # no answer to the question: nothing is made
    assert refused.exit_code == 1 and "2020-03-12 is in the past" in refused.output
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Course)) == 0
    assert (await followup(*args, "--yes")).exit_code == 0


async def test_the_example_register_in_the_docs_is_accepted(followup, tmp_path):
    await _course(followup)
    example = Path(__file__).resolve().parents[2] / "docs" / "register-example.csv"
    result = await followup("course", "invite", "CSE-7", "--register", str(example), "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader((tmp_path / "cse-7-mail-merge.csv").open(encoding="utf-8-sig")))
    assert [r["name"] for r in rows] == ["Ann Example", "Bilal Example", "Cara Example", "Dev Example"]
