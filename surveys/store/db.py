"""Async engine and session factory for SQLite (aiosqlite) and PostgreSQL (asyncpg)."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry, PoolResetState

from surveys.settings import async_database_url


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """Create the async engine; on SQLite turn on foreign keys, WAL and a busy timeout."""
    url = async_database_url(url)
    # Statement parameters (chat ids among them) stay out of error messages and engine logs.
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"timeout": 30})
        # One connection per process: SQLite has one writer, and concurrent handlers on
        # several connections met in its busy handler, which sleeps 1-100 ms per retry; queuing
        # on the pool instead took the bot from ~70 to ~110 answers/s (bench/README.md).
        kwargs.setdefault("pool_size", 1)
        kwargs.setdefault("max_overflow", 0)
        # Returned connections are rolled back only with a transaction open (_rollback_if_open).
        kwargs.setdefault("pool_reset_on_return", None)
    else:
        # PostgreSQL: keep one pooled connection per concurrent handler (bot.app runs 8) plus
        # room for the dispatcher. With SQLAlchemy's default 5, bursts opened overflow
        # connections that were closed again on return, and each reopen paid a connect plus a
        # fresh prepared-statement cache on the answer path (bench/README.md, conversation).
        kwargs.setdefault("pool_size", 10)
    engine = create_async_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", sqlite_pragmas)
        if kwargs["pool_reset_on_return"] is None:
            event.listen(engine.sync_engine, "reset", _rollback_if_open)
    return engine


async def warm_pool(engine: AsyncEngine, connections: int) -> None:
    """Open `connections` pooled connections now, so the first updates don't pay for connecting.

    Nothing to do on SQLite (one connection, opened in microseconds).
    """
    if engine.dialect.name == "sqlite" or connections < 1:
        return
    opened = [engine.connect() for _ in range(connections)]
    try:
        await asyncio.gather(*(c.start() for c in opened))
    finally:
        await asyncio.gather(*(c.close() for c in opened if c.sync_connection is not None), return_exceptions=True)


def _rollback_if_open(dbapi_connection: Any, record: ConnectionPoolEntry, reset: PoolResetState) -> None:
    # SQLAlchemy's default reset rolls back every returned connection, an aiosqlite worker-thread
    # hop even after a commit; sqlite3 knows whether there is anything to roll back.
    if reset.asyncio_safe and not reset.terminate_only and record.driver_connection.in_transaction:
        dbapi_connection.rollback()


def sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the dispatcher read while the bot writes; busy_timeout rides out short locks.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)
