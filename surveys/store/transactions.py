"""A whole transaction as one sync function: one hop to a dedicated thread on SQLite, run_sync on PostgreSQL."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.ext.asyncio import AsyncEngine

from surveys.store.db import sqlite_pragmas

T = TypeVar("T")


class Transactions:
    """`await run(fn)` runs `fn(connection)` in one transaction, committed if it returns, rolled back if it raises."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._sync: Engine | None = None
        self._worker: ThreadPoolExecutor | None = None
        url = engine.url
        if engine.dialect.name == "sqlite" and url.database not in (None, "", ":memory:") and not url.query:
            # aiosqlite makes a worker-thread hop per DBAPI call (3-4 per statement); a sync
            # engine on one thread of our own makes one per transaction (bench/README.md,
            # conversation). An in-memory database can't be shared so: it takes run_sync below.
            self._sync = create_engine(url.set(drivername="sqlite"), pool_size=1, max_overflow=0, hide_parameters=True)
            event.listen(self._sync, "connect", sqlite_pragmas)
            self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="followup-sqlite")

    async def run(self, fn: Callable[[Connection], T]) -> T:
        """fn(connection) inside one transaction; its result, or its exception after the rollback.

        On SQLite it waits for the engine's one connection: don't call it while holding a session.
        A cancelled caller does not stop fn once started: it finishes (and commits) on the thread.
        """
        if self._sync is None or self._worker is None:
            async with self.engine.begin() as conn:
                return await conn.run_sync(fn)
        # Holding the async engine's one SQLite connection meanwhile keeps this process to one
        # writer at a time, as surveys.store.db's pool of one does: no meeting in SQLite's busy handler.
        async with self.engine.connect():
            # fn runs in the caller's context (as asyncio.to_thread does): the language being spoken, for one.
            context = contextvars.copy_context()
            job = asyncio.get_running_loop().run_in_executor(self._worker, context.run, self._in_transaction, fn)
            try:
                return await asyncio.shield(job)
            except asyncio.CancelledError:
                await asyncio.wait([job])  # still one writer: the connection is held until fn ends
                raise

    def _in_transaction(self, fn: Callable[[Connection], T]) -> T:
        assert self._sync is not None
        with self._sync.begin() as conn:
            return fn(conn)

    async def close(self) -> None:
        """Close the SQLite thread and its connection (the async engine is the caller's)."""
        if self._sync is not None and self._worker is not None:
            await asyncio.get_running_loop().run_in_executor(self._worker, self._sync.dispose)
            self._worker.shutdown(wait=True)
