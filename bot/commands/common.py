"""What every CLI command shares: settings, an open database, async running, clean errors."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, ParamSpec, TypeVar

import click
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from telegram import Bot
from telegram.error import InvalidToken, TelegramError

from bot.logging import redact
from surveys.settings import Settings, SettingsError, load_settings
from surveys.store.db import make_sessionmaker
from surveys.store.migrate import DatabaseNotReady, ready_engine

P = ParamSpec("P")
T = TypeVar("T")


def settings_or_exit() -> Settings:
    """Load settings; a bad value stops the command with a message naming the variable."""
    try:
        return load_settings()
    except SettingsError as exc:
        raise click.ClickException(f"bad setting: {exc}") from None


def telegram_failure(exc: TelegramError) -> click.ClickException:
    """A Telegram error as one line that never holds the token; a 401 names the setting to check."""
    if isinstance(exc, InvalidToken):
        return click.ClickException("the bot token was rejected (401); check FOLLOWUP_BOT_TOKEN")
    return click.ClickException(f"Telegram did not answer as expected: {redact(str(exc))}")


def run_async(func: Callable[P, Awaitable[T]]) -> Callable[P, T]:
    """Let a click command be an async function; a Telegram error ends it with one line, not a traceback."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return asyncio.run(func(*args, **kwargs))  # type: ignore[arg-type]
        except TelegramError as exc:
            raise telegram_failure(exc) from None

    return wrapper


@asynccontextmanager
async def transaction(settings: Settings) -> AsyncIterator[AsyncSession]:
    """One session in one transaction on the configured database, committed on success."""
    engine = await database(settings)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            yield session
    finally:
        await engine.dispose()


async def database(settings: Settings) -> AsyncEngine:
    """An engine on the configured database; a missing or old schema stops the command saying what to run."""
    try:
        return await ready_engine(settings.database_url)
    except DatabaseNotReady as exc:
        raise click.ClickException(str(exc)) from None


def fail(message: str, **kwargs: Any) -> None:
    """Stop with exit 1 and a friendly message (no traceback)."""
    raise click.ClickException(message.format(**kwargs) if kwargs else message)


async def ask_telegram(settings: Settings) -> str:
    """The bot's username from getMe: proves the token works; one clear line (no token) when it does not."""
    assert settings.bot_token is not None
    bot = Bot(settings.bot_token.get_secret_value(), base_url=settings.telegram_api_url)
    try:
        async with bot:
            return bot.username
    except TelegramError as exc:
        raise telegram_failure(exc) from None


async def bot_username(settings: Settings) -> str:
    """FOLLOWUP_BOT_USERNAME if set, else getMe; a clear error when neither can answer."""
    if settings.bot_username:
        return settings.bot_username.lstrip("@")
    if settings.bot_token is None:
        raise click.ClickException(
            "set FOLLOWUP_BOT_USERNAME (or FOLLOWUP_BOT_TOKEN, to ask Telegram) to build invite links"
        )
    return await ask_telegram(settings)
