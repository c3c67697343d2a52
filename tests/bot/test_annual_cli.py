"""`followup report --from/--to` and `followup figures`: clear messages and exit 1 on bad input, nothing written."""

from __future__ import annotations

import asyncio
import json
from datetime import date

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from bot.cli import main
from surveys.store.models import AuditEvent, OrgFigure
from tests.support.factories import a_course
from tests.support.synthetic import populate

pytestmark = pytest.mark.usefixtures("engine")


@pytest.fixture
def followup(database_url, monkeypatch):
    """Run `followup ARGS` against the test database, off the event loop (the CLI runs its own)."""
    monkeypatch.setenv("FOLLOWUP_DATABASE_URL", database_url)
    runner = CliRunner()

    async def run(*args: str):
        return await asyncio.to_thread(runner.invoke, main, list(args), catch_exceptions=False)

    return run


@pytest.fixture
async def a_year(sessions, now):
    """One course delivered in March 2026 with twelve people answering."""
    async with sessions() as session, session.begin():
        course = await a_course(session, now, code="CSE-MAR", delivered_on=date(2026, 3, 12))
        await populate(session, course, 12, seed=5, now=now)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2026-12-31", "--to", "2026-01-01"], "the period starts (2026-12-31) after it ends (2026-01-01)"),
        (["--from", "2026-01-01", "--to", "31 Dec"], "--to '31 Dec' is not a date: use YYYY-MM-DD (or DD/MM/YYYY)"),
        (["--from", "2026-01-01"], "give both --from and --to"),
        (["--from", "2027-01-01", "--to", "2027-12-31"], "no course was delivered from 2027-01-01 to 2027-12-31"),
        (
            ["--from", "2026-04-01", "--to", "2027-03-31", "--course", "CSE-MAR"],
            "not delivered from 2026-04-01 to 2027-03-31: CSE-MAR (delivered 2026-03-12)",
        ),
    ],
    ids=["from-after-to", "bad-date", "one-end", "no-courses", "named-course-outside"],
)
async def test_a_bad_period_is_a_clear_message_exit_1_and_nothing_written(
    followup, a_year, sessions, tmp_path, args, message
):
    out = tmp_path / "annual"
    result = await followup("report", *args, "--out", str(out))
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output
    assert not out.exists()
    async with sessions() as session:
        assert await session.scalar(select(func.count()).where(AuditEvent.role == "cli")) == 0


async def test_the_annual_report_is_written_for_a_period(followup, a_year, tmp_path):
    out = tmp_path / "annual"
    result = await followup("report", "--from", "01/01/2026", "--to", "2026-12-31", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert f"Wrote {out / 'report.html'}" in result.output
    report = json.loads((out / "report.json").read_text())
    assert report["period"]["label"] == "2026-01-01 to 2026-12-31"
    assert [r["group"] for r in report["annual"]["course"]] == ["CSE-MAR", "All courses"]
    # Without a period the report is the course report it always was.
    result = await followup("report", "--course", "CSE-MAR", "--out", str(tmp_path / "course"))
    assert result.exit_code == 0 and "annual" not in json.loads((tmp_path / "course" / "report.json").read_text())


async def test_figures_import_names_every_bad_row_and_stores_nothing(followup, sessions, tmp_path):
    bad = tmp_path / "board.csv"
    bad.write_text(
        "period_start,period_end,measure,value\n"
        "2026-01-01,2026-01-31,MASH referrals,12\n"
        "2026-02-01,2026-01-31,MASH referrals,9\n"
        "2026-03-01,2026-03-31,CSE 1 forms,several\n",
        encoding="utf-8",
    )
    result = await followup("figures", "import", str(bad))
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "board.csv has 2 problem(s); nothing was stored" in result.output
    assert "row 3: period_end 2026-01-31 is before period_start 2026-02-01" in result.output
    assert "row 4: value 'several' is not a number" in result.output
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(OrgFigure)) == 0
    missing = await followup("figures", "import", str(tmp_path / "nope.csv"))
    assert missing.exit_code == 1 and "no file" in missing.output


async def test_figures_import_then_list_and_a_re_import_replaces(followup, tmp_path):
    first = tmp_path / "q1.csv"
    first.write_text(
        "measure,period_start,period_end,value,notes\n"  # any column order; extra columns ignored
        "MASH referrals,2026-01-01,2026-03-31,61,draft\n"
        "Intelligence submissions,2026-01-01,2026-03-31,40,\n",
        encoding="utf-8",
    )
    result = await followup("figures", "import", str(first))
    assert result.exit_code == 0, result.output
    assert "Stored 2 figure(s) from q1.csv: 2 new, 0 replaced." in result.output
    fixed = tmp_path / "q1-final.csv"
    fixed.write_text(
        "period_start,period_end,measure,value\n2026-01-01,2026-03-31,MASH referrals,64\n", encoding="utf-8"
    )
    result = await followup("figures", "import", str(fixed))
    assert "1 figure(s) from q1-final.csv: 0 new, 1 replaced." in result.output
    listed = await followup("figures", "list")
    assert listed.exit_code == 0
    lines = listed.output.splitlines()
    assert lines[0] == "measure\tperiod\tvalue\timported"
    assert [line.rsplit("\t", 1)[0] for line in lines[1:]] == [
        "Intelligence submissions\t2026-01-01 to 2026-03-31\t40",
        "MASH referrals\t2026-01-01 to 2026-03-31\t64",
    ]


async def test_figures_list_says_how_to_start_when_there_are_none(followup):
    result = await followup("figures", "list")
    assert result.exit_code == 0 and "followup figures import FILE.csv" in result.output
