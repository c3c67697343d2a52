"""A whole transaction as one sync function: stored together, rolled back together, serialised, on both databases."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Connection, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from surveys.domain.states import CheckInState
from surveys.store.models import Answer, AuditEvent, CheckIn, Course
from surveys.store.transactions import Transactions
from tests.support.factories import a_course, an_enrolment


@pytest.fixture
async def transactions(engine: AsyncEngine) -> AsyncIterator[Transactions]:
    store = Transactions(engine)
    yield store
    await store.close()


@pytest.fixture
async def check_in(sessions: async_sessionmaker[AsyncSession], now: datetime) -> tuple[int, int]:
    """An open check-in and its course's quiz-set id."""
    async with sessions() as session, session.begin():
        course: Course = await a_course(session, now)
        enrolment = await an_enrolment(session, course, chat_id=4242, now=now)
        row = CheckIn(
            enrolment_id=enrolment.id,
            wave="3m",
            state=CheckInState.IN_PROGRESS,
            due_at=now,
            closes_at=now + timedelta(days=21),
        )
        session.add(row)
        await session.flush()
        return row.id, course.quiz_set_id


def _answer(check_in_id: int, quiz_set_id: int, item_id: str, now: datetime) -> dict[str, object]:
    return {
        "check_in_id": check_in_id,
        "item_id": item_id,
        "quiz_set_id": quiz_set_id,
        "value": "agree",
        "score": 4.0,
        "answered_at": now,
    }


async def _stored(engine: AsyncEngine, check_in_id: int) -> list[str]:
    async with engine.connect() as conn:
        rows = await conn.scalars(select(Answer.item_id).where(Answer.check_in_id == check_in_id).order_by(Answer.id))
        return list(rows)


async def test_answers_written_in_one_run_are_stored_and_its_result_returned(engine, transactions, check_in, now):
    check_in_id, quiz_set_id = check_in

    def write(conn: Connection) -> int:
        conn.execute(insert(Answer), [_answer(check_in_id, quiz_set_id, item, now) for item in ("a1", "a2")])
        return conn.scalar(select(func.count()).select_from(Answer))

    assert await transactions.run(write) == 2
    assert await _stored(engine, check_in_id) == ["a1", "a2"]


async def test_a_run_that_fails_stores_nothing_and_its_error_reaches_the_caller(engine, transactions, check_in, now):
    check_in_id, quiz_set_id = check_in

    def twice(conn: Connection) -> None:
        conn.execute(insert(Answer), _answer(check_in_id, quiz_set_id, "a1", now))
        conn.execute(insert(Answer), _answer(check_in_id, quiz_set_id, "a1", now))  # the same item again

    with pytest.raises(IntegrityError):
        await transactions.run(twice)
    assert await _stored(engine, check_in_id) == []
    # The connection is usable again after the failure.
    await transactions.run(lambda conn: conn.execute(insert(Answer), _answer(check_in_id, quiz_set_id, "a2", now)))
    assert await _stored(engine, check_in_id) == ["a2"]


async def test_concurrent_presses_each_see_the_ones_before_them(engine, transactions, check_in, now):
    check_in_id, quiz_set_id = check_in

    def next_item(conn: Connection) -> None:
        # Read, then write what the read implies: two runs interleaving would store "i0" twice.
        conn.execute(select(CheckIn.id).where(CheckIn.id == check_in_id).with_for_update())
        count = conn.scalar(select(func.count()).select_from(Answer).where(Answer.check_in_id == check_in_id))
        conn.execute(insert(Answer), _answer(check_in_id, quiz_set_id, f"i{count:02d}", now))

    await asyncio.gather(*(transactions.run(next_item) for _ in range(20)))
    assert await _stored(engine, check_in_id) == [f"i{n:02d}" for n in range(20)]


async def test_runs_and_session_writes_side_by_side_all_land(engine, sessions, transactions, check_in, now):
    check_in_id, quiz_set_id = check_in

    async def audit(n: int) -> None:
        async with sessions() as session, session.begin():
            session.add(AuditEvent(at=now, role="admin", actor=f"actor{n}", action="test"))

    async def press(n: int) -> None:
        row = _answer(check_in_id, quiz_set_id, f"i{n}", now)
        await transactions.run(lambda conn: conn.execute(insert(Answer), row))

    await asyncio.gather(*(f(n) for n in range(10) for f in (audit, press)))
    assert len(await _stored(engine, check_in_id)) == 10
    async with engine.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "test")) == 10


async def test_answers_stored_in_a_run_read_back_as_aware_utc_times(engine, transactions, check_in, now):
    check_in_id, quiz_set_id = check_in
    await transactions.run(lambda conn: conn.execute(insert(Answer), _answer(check_in_id, quiz_set_id, "a1", now)))
    read = await transactions.run(lambda conn: conn.scalar(select(Answer.answered_at)))
    assert read == now and read.utcoffset() == timedelta(0)


async def test_a_write_left_uncommitted_on_a_returned_connection_is_rolled_back(engine, check_in, now):
    # surveys.store.db rolls back a returned SQLite connection only when a transaction is open: here one is.
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL keeps SQLAlchemy's default reset (always roll back)")
    check_in_id, quiz_set_id = check_in
    async with engine.connect() as conn:
        raw = (await conn.get_raw_connection()).driver_connection
        await raw.execute(
            "INSERT INTO answer (check_in_id, item_id, quiz_set_id, value, answered_at) "
            "VALUES (?, 'a1', ?, 'agree', '2026-01-15 10:00:00')",
            (check_in_id, quiz_set_id),
        )
    assert await _stored(engine, check_in_id) == []


async def test_a_cancelled_caller_leaves_the_run_to_finish_whole(engine, transactions, check_in, now):
    check_in_id, quiz_set_id = check_in
    started = threading.Event()

    def slow(conn: Connection) -> None:
        conn.execute(insert(Answer), _answer(check_in_id, quiz_set_id, "a1", now))
        started.set()
        time.sleep(0.2)
        conn.execute(insert(Answer), _answer(check_in_id, quiz_set_id, "a2", now))

    task = asyncio.create_task(transactions.run(slow))
    await asyncio.to_thread(started.wait, 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    stored = await _stored(engine, check_in_id)
    # SQLite: the thread finishes and commits before run() gives up the connection. PostgreSQL:
    # the cancel lands inside fn and rolls back. Never half a press.
    assert stored == ["a1", "a2"] if engine.dialect.name == "sqlite" else stored in ([], ["a1", "a2"])
