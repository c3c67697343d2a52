"""The dispatch lock: one pass at a time on PostgreSQL, a dead holder's claims taken over, SQLite as before."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from scheduler.claims import claim_due
from scheduler.dispatch import Dispatcher, DispatchReport
from scheduler.leader import LOCK_KEY, DispatchLock
from surveys.settings import load_settings
from surveys.store.db import make_sessionmaker
from surveys.store.models import CheckIn
from tests.support.recording_messenger import RecordingMessenger
from tests.support.schedule_builders import a_course, many_due_check_ins

SETTINGS = load_settings(env={}, env_file=None)
PEOPLE = 40
LOCK_HOLDER = (
    "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
    f"AND classid = {LOCK_KEY >> 32} AND objid = {LOCK_KEY & 0xFFFFFFFF} AND objsubid = 1"
)


def postgres_only(engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("the lock is for several processes on PostgreSQL; SQLite is one process")


class Slow(RecordingMessenger):
    """Sends only while `gate` is open, each send taking `pause` seconds: a pass that lasts."""

    def __init__(self, pause: float = 0.0) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.gate.set()
        self.pause = pause
        self.started = 0

    async def send(self, chat_id, message):
        self.started += 1
        await self.gate.wait()
        await asyncio.sleep(self.pause)
        return await super().send(chat_id, message)


async def people_due(sessions, now, count=PEOPLE) -> None:
    async with sessions() as session:
        await many_due_check_ins(session, await a_course(session, now), count, now - timedelta(hours=1))
        await session.commit()


async def claimed(sessions) -> int:
    async with sessions() as session:
        return len((await session.scalars(select(CheckIn.id).where(CheckIn.claimed_by.is_not(None)))).all())


def locked(engine, messenger, clock, name, **lock) -> Dispatcher:
    """A dispatcher behind the dispatch lock, without the waits meant for real processes."""
    options = {"settle": 0.0, "quiet": 0.0, **lock}
    return Dispatcher(make_sessionmaker(engine), messenger, clock, SETTINGS, name, lock=DispatchLock(engine, **options))


async def test_while_one_worker_sends_another_workers_tick_stands_by_and_sends_nothing(engine, sessions, clock, now):
    postgres_only(engine)
    await people_due(sessions, now)
    busy, idle = Slow(), RecordingMessenger()
    busy.gate.clear()
    first = locked(engine, busy, clock, "first")
    second = locked(engine, idle, clock, "second")

    passing = asyncio.create_task(first.run_once())
    while not busy.started:  # the first pass holds the lock and is sending
        await asyncio.sleep(0.01)
    standing_by, stood_by = await second.run_once(), second.stood_by
    busy.gate.set()
    done = await passing
    after = await second.run_once()  # the pass is over: the lock is free again

    assert (standing_by, stood_by, idle.sent) == (DispatchReport(), True, [])
    assert done.sent == PEOPLE and len({s.check_in_id for s in busy.sent}) == PEOPLE
    assert after == DispatchReport() and not second.stood_by


async def test_check_ins_claimed_by_a_worker_that_died_go_out_with_the_next_lock_holder(
    engine, sessions, messenger, clock, now
):
    await people_due(sessions, now, 5)
    async with sessions() as session:  # a worker claims them, then dies before sending any
        await claim_due(session, now, "dead-worker", 10, timedelta(minutes=10))
        await session.commit()

    report = await locked(engine, messenger, clock, "next").run_once()

    if engine.dialect.name == "postgresql":
        # Only the holder claims, and the holder's session is gone: its claims are due at once.
        assert report.sent == 5 and await claimed(sessions) == 0
    else:
        # SQLite is one process: as before, a claim waits out its lease (10 minutes).
        assert report.sent == 0 and await claimed(sessions) == 5


async def test_a_holder_whose_session_is_ended_stops_sending_and_lets_go_of_its_claims(engine, sessions, clock, now):
    postgres_only(engine)
    await people_due(sessions, now)
    slow, rest = Slow(pause=0.05), RecordingMessenger()
    first = locked(engine, slow, clock, "first", check_every=0.1)
    first.concurrency = 1  # one send at a time: the pass lasts PEOPLE × 0.05 s

    passing = asyncio.create_task(first.run_once())
    while len(slow.sent) < 3:
        await asyncio.sleep(0.01)
    async with engine.connect() as admin:  # the server ends the holder's lock session
        await admin.execute(text(f"SELECT pg_terminate_backend(pid) FROM ({LOCK_HOLDER}) AS holder"))
        await admin.commit()
    cut_short = await passing
    taken_over = await locked(engine, rest, clock, "second").run_once()

    assert 3 <= cut_short.sent < PEOPLE  # stopped within a lock check, not at the end of the pass
    assert cut_short.sent + taken_over.sent == PEOPLE
    assert {s.check_in_id for s in slow.sent}.isdisjoint(s.check_in_id for s in rest.sent)
    assert await claimed(sessions) == 0
