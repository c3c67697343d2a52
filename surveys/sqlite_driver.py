"""An aiosqlite connection that costs one thread hop per statement instead of four (SQLite only).

aiosqlite runs each sqlite3 call on its worker thread, and SQLAlchemy's adapter makes four of
them per SELECT (create the cursor, execute, fetchall, close) and three per INSERT, plus a
rollback when the pool takes a connection back after a commit. Each hop is a queue put, a
wake-up of the event loop and a GIL hand-over; on a button press these cost more than the SQL
(bench/README.md, conversation). Here a cursor's execute runs, prefetches its rows and closes the
sqlite3 cursor in one hop, and a rollback with no transaction open (sqlite3 would do nothing)
makes none. Results, errors and transactions are sqlite3's own, unchanged.
"""

from __future__ import annotations

import sqlite3
from collections import deque
from collections.abc import AsyncIterator, Callable
from functools import partial
from typing import Any

import aiosqlite

# Rows fetched in the execute hop. Small results (every one on the bot's paths) need no other
# hop; streamed exports still fetch in chunks, so memory stays bounded.
PREFETCH = 256


class Cursor:
    """The cursor SQLAlchemy's aiosqlite adapter drives: execute fetches ahead, fetch* read the buffer."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._cursor: sqlite3.Cursor | None = None  # open only while rows remain unfetched
        self._rows: deque[Any] = deque()
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self.arraysize = 1

    async def __aenter__(self) -> Cursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _run(self, sql: str, parameters: Any, many: bool) -> tuple[Any, ...]:
        # On the worker thread: everything sqlite3 will tell about this statement, in one go.
        cursor = self._connection._conn.cursor()  # noqa: SLF001 - aiosqlite's own accessor
        try:
            (cursor.executemany if many else cursor.execute)(sql, parameters)
            rows = cursor.fetchmany(PREFETCH) if cursor.description is not None else []
            done = cursor.description is None or len(rows) < PREFETCH
            result = (cursor.description, cursor.rowcount, cursor.lastrowid, rows)
        except BaseException:
            cursor.close()
            raise
        if done:
            cursor.close()
            return (*result, None)
        return (*result, cursor)

    async def _go(self, sql: str, parameters: Any, many: bool) -> Cursor:
        await self.close()
        # A failed execute leaves nothing of the previous statement behind.
        self.description, self.rowcount, self.lastrowid, self._rows = None, -1, None, deque()
        self.description, self.rowcount, self.lastrowid, rows, self._cursor = await self._connection._execute(
            self._run, sql, parameters, many)
        self._rows = deque(rows)
        return self

    async def execute(self, sql: str, parameters: Any = None) -> Cursor:
        """Execute one statement and fetch the first PREFETCH rows, in one hop."""
        return await self._go(sql, () if parameters is None else parameters, False)

    async def executemany(self, sql: str, parameters: Any) -> Cursor:
        """Execute a statement for each parameter set, in one hop."""
        return await self._go(sql, parameters, True)

    async def _more(self, size: int | None) -> None:
        cursor = self._cursor
        if cursor is None:
            return
        def fetch() -> tuple[list[Any], int, int | None]:
            rows = cursor.fetchall() if size is None else cursor.fetchmany(size)
            return rows, cursor.rowcount, cursor.lastrowid

        # rowcount of a RETURNING statement grows as its rows are fetched: refreshed with them.
        rows, self.rowcount, self.lastrowid = await self._connection._execute(fetch)
        self._rows.extend(rows)
        if size is None or len(rows) < size:
            await self.close()

    async def fetchone(self) -> Any:
        """The next row, or None."""
        if not self._rows:
            await self._more(PREFETCH)
        return self._rows.popleft() if self._rows else None

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        """Up to `size` (arraysize) rows."""
        size = self.arraysize if size is None else size
        if len(self._rows) < size:
            await self._more(max(size - len(self._rows), PREFETCH))
        return [self._rows.popleft() for _ in range(min(size, len(self._rows)))]

    async def fetchall(self) -> list[Any]:
        """Every remaining row."""
        await self._more(None)
        rows = list(self._rows)
        self._rows.clear()
        return rows

    async def close(self) -> None:
        """Close the sqlite3 cursor if rows were left unfetched (else it is closed already)."""
        cursor, self._cursor = self._cursor, None
        if cursor is not None:
            await self._connection._execute(cursor.close)

    async def __aiter__(self) -> AsyncIterator[Any]:
        while (row := await self.fetchone()) is not None:
            yield row


class Connection(aiosqlite.Connection):
    """aiosqlite's connection with the cursor above, and no hop for a rollback with nothing to roll back."""

    def __init__(self, connector: Callable[[], sqlite3.Connection], iter_chunk_size: int = 64) -> None:
        super().__init__(connector, iter_chunk_size)
        self._in_transaction = True  # unknown until the first call has run

    def cursor(self) -> Cursor:  # type: ignore[override]
        """A cursor; SQLAlchemy enters it, which costs nothing here."""
        return Cursor(self)

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        def run() -> Any:
            try:
                return fn(*args, **kwargs)
            finally:
                # Still on the worker thread, after the call: whether a transaction is open now.
                try:
                    self._in_transaction = self._connection is not None and self._connection.in_transaction
                except sqlite3.Error:
                    self._in_transaction = False
        return await super()._execute(run)

    async def rollback(self) -> None:
        """Roll back; nothing to do (no hop) when sqlite3 has no transaction open.

        The flag is read after each awaited call; a task cancelled with a statement still queued
        leaves it stale, which is safe only because SQLAlchemy invalidates (closes) a connection
        whose operation was cancelled rather than handing it back to the pool.
        """
        if self._in_transaction:
            await super().rollback()


async def connect(database: str, **kwargs: Any) -> Connection:
    """Open a connection as aiosqlite.connect does (the worker thread is a daemon, as SQLAlchemy makes it)."""
    connection = Connection(partial(sqlite3.connect, database, **kwargs))
    connection._thread.daemon = True  # noqa: SLF001 - as sqlalchemy.dialects.sqlite.aiosqlite does
    return await connection
