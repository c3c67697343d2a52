"""What every CLI command shares: settings, an open database, async running, clean errors."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, ParamSpec, TypeVar

import click
from sqlalchemy.ext.asyncio import AsyncSession

from surveys.db import make_engine, make_sessionmaker
from surveys.settings import Settings, SettingsError, load_settings

P = ParamSpec("P")
T = TypeVar("T")


def settings_or_exit() -> Settings:
    """Load settings; a bad value stops the command with a message naming the variable."""
    try:
        return load_settings()
    except SettingsError as exc:
        raise click.ClickException(f"bad setting: {exc}") from None


def run_async(func: Callable[P, Awaitable[T]]) -> Callable[P, T]:
    """Let a click command be an async function."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        return asyncio.run(func(*args, **kwargs))  # type: ignore[arg-type]

    return wrapper


@asynccontextmanager
async def transaction(settings: Settings) -> AsyncIterator[AsyncSession]:
    """One session in one transaction on the configured database, committed on success."""
    engine = make_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            yield session
    finally:
        await engine.dispose()


def fail(message: str, **kwargs: Any) -> None:
    """Stop with exit 1 and a friendly message (no traceback)."""
    raise click.ClickException(message.format(**kwargs) if kwargs else message)
