"""The one-hop aiosqlite connection: same results and transactions as aiosqlite, fewer thread hops."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from surveys import sqlite_driver
from surveys.db import make_engine


@pytest.fixture
async def engine(tmp_path: Path):
    eng = make_engine(f"sqlite:///{tmp_path / 'hops.db'}")
    async with eng.begin() as conn:
        await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)"))
    yield eng
    await eng.dispose()


def _count_hops(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    hops = [0]
    run = sqlite_driver.aiosqlite.Connection._execute

    async def counted(self, fn, *args, **kwargs):  # noqa: ANN001, ANN202
        hops[0] += 1
        return await run(self, fn, *args, **kwargs)

    monkeypatch.setattr(sqlite_driver.aiosqlite.Connection, "_execute", counted)
    return hops


async def test_the_engine_uses_it_and_rows_come_back_whole(engine) -> None:
    rows = [{"id": n, "v": f"row {n}"} for n in range(1, sqlite_driver.PREFETCH * 2 + 8)]
    async with engine.begin() as conn:
        raw = await conn.get_raw_connection()
        assert isinstance(raw.driver_connection, sqlite_driver.Connection)
        inserted = await conn.execute(text("INSERT INTO t (id, v) VALUES (:id, :v)"), rows)
        assert inserted.rowcount == len(rows)
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT id, v FROM t ORDER BY id"))).all() == [(r["id"], r["v"]) for r in rows]
        # Streaming (server-side cursor) still reads in chunks, past the prefetched rows.
        streamed = await conn.stream(text("SELECT id FROM t ORDER BY id"))
        assert [r.id async for r in streamed] == [r["id"] for r in rows]
        assert (await conn.execute(text("UPDATE t SET v = 'x' WHERE id <= 3"))).rowcount == 3
        assert (await conn.execute(text("SELECT count(*) FROM t WHERE v = 'x'"))).scalar() == 3
        await conn.rollback()
        assert (await conn.execute(text("SELECT count(*) FROM t WHERE v = 'x'"))).scalar() == 0


async def test_errors_and_rollbacks_are_sqlite3s_own(engine) -> None:
    with pytest.raises(IntegrityError):
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO t (id, v) VALUES (1, 'a')"))
            await conn.execute(text("INSERT INTO t (id, v) VALUES (1, 'b')"))
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar() == 0


async def test_one_hop_per_statement_and_none_for_an_empty_rollback(engine, monkeypatch) -> None:
    async with engine.begin() as conn:  # the pool's first connect and its pragmas, not counted
        await conn.execute(text("SELECT 1"))
    hops = _count_hops(monkeypatch)
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO t (id, v) VALUES (1, 'a')"))
        assert (await conn.execute(text("SELECT v FROM t WHERE id = 1"))).scalar() == "a"
    # INSERT, SELECT, COMMIT; the pool's rollback on return has nothing to roll back.
    assert hops[0] == 3


async def test_a_returning_statement_counts_every_row_past_the_prefetch(engine) -> None:
    rows = sqlite_driver.PREFETCH + 44
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO t (id, v) VALUES (:id, 'a')"), [{"id": n} for n in range(1, rows + 1)])
        updated = await conn.execute(text("UPDATE t SET v = 'b' RETURNING id"))
        assert len(updated.all()) == rows
        assert updated.rowcount == rows
