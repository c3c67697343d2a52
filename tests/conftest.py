"""Shared fixtures: every database test runs on SQLite and on the machine's PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from surveys.store.db import make_engine, make_sessionmaker
from surveys.store.migrate import upgrade
from surveys.store.models import Base

POSTGRES_SERVER = os.environ.get("FOLLOWUP_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
NOW = datetime(2026, 1, 15, 10, 0, tzinfo=UTC)
BACKENDS = [b for b in os.environ.get("FOLLOWUP_TEST_BACKENDS", "sqlite,postgresql").split(",") if b]


async def _admin(sql: str) -> None:
    import asyncpg

    dsn = POSTGRES_SERVER.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(dsn, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _postgres_database(request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh database per test run, so parallel runs never share state."""
    name = f"followup_t_{os.getpid()}_{secrets.token_hex(3)}"
    try:
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    except (TimeoutError, OSError, Exception) as exc:
        message = f"PostgreSQL at {POSTGRES_SERVER} is unreachable: {exc!r}"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (CI=true: a missing PostgreSQL is a failure)")
        pytest.skip(message)
    base = POSTGRES_SERVER.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated, empty database URL: SQLite file or PostgreSQL database."""
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("db") / "followup.db"
        url = f"sqlite:///{path}"
        upgrade(url)
        yield url
        return
    gen = _postgres_database(request)
    url = next(gen)
    upgrade(url)
    yield url
    next(gen, None)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on an emptied database: each test starts from nothing."""
    eng = make_engine(database_url)
    async with eng.begin() as conn:
        tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
        if eng.dialect.name == "postgresql":
            await conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                await conn.execute(text(f"DELETE FROM {name}"))
    yield eng
    await eng.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """The session factory the app itself would use."""
    return make_sessionmaker(engine)


@pytest.fixture
def now() -> datetime:
    """The pinned 'now' for tests that do not move the clock."""
    return NOW
