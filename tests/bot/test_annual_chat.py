"""/report FROM TO [CODE…] in the chat: the annual report as files, and a clear line for a bad period."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.emulator import Emulator
from surveys.store.models import AuditEvent
from tests.support.botkit import TOKEN, USERNAME, World
from tests.support.factories import a_course
from tests.support.synthetic import chat_id_for, populate

EVALUATOR = 535353
SEED = 4


@pytest.fixture
async def world(engine: AsyncEngine, database_url: str) -> AsyncIterator[World]:
    """The usual World with an evaluator, and two 2026 courses that people answered."""
    async with Emulator(token=TOKEN, username=USERNAME, per_chat_rate=100, per_chat_burst=100) as emu:
        w = World(emu, engine, database_url)
        w.settings = w.settings.model_copy(update={"evaluator_ids": (EVALUATOR,)})
        async with w.sessions() as session, session.begin():
            for n, (code, day) in enumerate((("CSE-FEB", date(2026, 2, 10)), ("CSE-JUN", date(2026, 6, 9)))):
                course = await a_course(session, w.clock(), code=code, delivered_on=day)
                await populate(session, course, 10, seed=SEED + n, now=w.clock())
        await w.start_app()
        try:
            yield w
        finally:
            await w.stop_app()


async def test_an_evaluator_gets_the_annual_report_for_a_period_in_the_chat(world: World) -> None:
    evaluator = world.emu.user(EVALUATOR, "Eve")
    await evaluator.command("report", "2026-01-01", "2026-12-31")
    await evaluator.wait_for("Working on it")
    html = await evaluator.wait_for(lambda m: m.filename == "annual-2026-01-01-2026-12-31-report.html", timeout=60)
    pdf = await evaluator.wait_for(lambda m: m.filename == "annual-2026-01-01-2026-12-31-report.pdf", timeout=30)
    assert "Annual impact report, 2026-01-01 to 2026-12-31" in html.caption
    body = html.document_bytes.decode()
    assert 'id="annual-courses"' in body and "CSE-FEB" in body and "CSE-JUN" in body
    assert pdf.document_bytes.startswith(b"%PDF")
    for person in range(20):
        assert str(chat_id_for(SEED, person)).encode() not in html.document_bytes
    assert str(EVALUATOR) not in body
    async with world.sessions() as session:
        events = list(await session.scalars(select(AuditEvent).where(AuditEvent.action == "report.annual")))
    assert [(e.role, e.target) for e in events] == [("evaluator", "2026-01-01 to 2026-12-31: all courses")]


async def test_a_period_with_course_codes_reports_only_those(world: World) -> None:
    evaluator = world.emu.user(EVALUATOR, "Eve")
    await evaluator.command("report", "01/01/2026", "31/12/2026", "cse-jun")
    html = await evaluator.wait_for(lambda m: (m.filename or "").endswith("report.html"), timeout=60)
    assert "courses CSE-JUN" in html.caption
    assert "CSE-FEB" not in html.document_bytes.decode()


@pytest.mark.parametrize(
    ("args", "reply"),
    [
        (("2026-12-31", "2026-01-01"), "The period starts (2026-12-31) after it ends (2026-01-01). For the annual"),
        (("2026-01-01", "soon"), "The end date 'soon' is not a date: use YYYY-MM-DD (or DD/MM/YYYY)."),
        (("2026-01-01",), "The end date is missing. For the annual report: /report 2026-01-01 2026-12-31"),
        (("2030-01-01", "2030-12-31"), "No course was delivered from 2030-01-01 to 2030-12-31: nothing to report."),
    ],
    ids=["from-after-to", "bad-date", "no-end", "no-courses"],
)
async def test_a_bad_period_gets_a_clear_line_and_no_files(world: World, args, reply) -> None:
    evaluator = world.emu.user(EVALUATOR, "Eve")
    await evaluator.command("report", *args)
    assert reply in (await evaluator.wait_for(reply.split(" ")[1])).content
    await evaluator.command("courses")
    await evaluator.wait_for("CSE-FEB")  # the bot carried on, and sent no file
    assert not [m for m in evaluator.messages if m.filename]
