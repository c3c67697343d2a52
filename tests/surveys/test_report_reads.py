"""The report's reads run on the engine's own connections: the same report whether the pool has room for them or not."""

from __future__ import annotations

from datetime import date

from sqlalchemy import event

from surveys.reporting.report import build_report
from surveys.settings import load_settings
from surveys.store.db import make_engine, make_sessionmaker
from tests.support.factories import a_course
from tests.support.synthetic import populate

SETTINGS = load_settings(env={}, env_file=None)
WAVES = ("pre", "post", "3m")


async def _report(url: str, connections: int, courses: list[str] | None, now) -> tuple[dict, int]:
    """The report through an engine whose pool holds `connections`, and how many connections it opened."""
    engine = make_engine(url, pool_size=connections, max_overflow=0)
    opened = []
    event.listen(engine.sync_engine, "connect", lambda *_: opened.append(1))
    try:
        async with make_sessionmaker(engine)() as session:
            return await build_report(session, courses, SETTINGS, now=now), len(opened)
    finally:
        await engine.dispose()


async def test_the_report_is_the_same_read_in_turn_on_one_connection_or_side_by_side(database_url, sessions, now):
    async with sessions() as session, session.begin():
        for n, code in enumerate(("CSE-A", "CSE-B")):
            course = await a_course(session, now, code=code, delivered_on=date(2025, 6, 2), waves=WAVES, attendance=30)
            await populate(session, course, 25, seed=11 + n, now=now)
    for courses in (None, ["CSE-B"]):
        alone, opened_alone = await _report(database_url, 1, courses, now)
        side_by_side, opened_side_by_side = await _report(database_url, 3, courses, now)
        assert alone == side_by_side
        # Never more than the pool allows: one connection in turn, or the three reads side by side.
        assert (opened_alone, opened_side_by_side) == (1, 3)
    assert {c["code"] for c in side_by_side["courses"]} == {"CSE-B"}
