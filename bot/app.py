"""The one factory for the Telegram Application, and a context manager that runs it with long polling."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncEngine
from telegram import Update
from telegram.ext import Application, ApplicationBuilder, BaseRateLimiter
from telegram.request import BaseRequest

from bot.handlers import register
from bot.handlers.commands import menu
from bot.journey import Journey
from bot.logging import install_redaction
from bot.ratelimit import ChatRateLimiter
from bot.request import AiohttpRequest
from surveys import language
from surveys.clock import Clock, system_clock
from surveys.settings import Settings, SettingsError
from surveys.store.db import make_engine, make_sessionmaker, warm_pool
from surveys.store.transactions import Transactions

log = logging.getLogger(__name__)

Hook = Callable[[Application], Awaitable[None]]
# Handlers keep no per-chat state in memory and the database enforces one answer per item,
# so updates can be handled concurrently; a small bound keeps SQLite's single writer calm.
CONCURRENT_UPDATES = 8


def build_application(
    settings: Settings,
    *,
    engine: AsyncEngine | None = None,
    clock: Clock = system_clock,
    on_start: Sequence[Hook] = (),
    on_stop: Sequence[Hook] = (),
    rate_limiter: BaseRateLimiter | None = None,
    request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
) -> Application:
    """Build the bot from settings: handlers, commands menu, our DB for state (no PTB persistence).

    The database is `engine` (its caller disposes of it) or, by default, one made from settings.

    `on_start` hooks run after setMyCommands when the application starts (the scheduler's
    dispatcher plugs in here); `on_stop` hooks run once updates have stopped, while the bot can
    still send and before the engine is disposed.
    `request`/`get_updates_request` default to bot.request's aiohttp transport: PTB's default
    httpx stack cost several times more CPU per request (bench/README.md, conversation).
    """
    if settings.bot_token is None:
        raise SettingsError("FOLLOWUP_BOT_TOKEN: the bot token is required to run the bot")
    token = settings.bot_token.get_secret_value()
    install_redaction(token)
    own_engine = engine is None
    engine = engine or make_engine(settings.database_url)
    sessions = make_sessionmaker(engine)
    transactions = Transactions(engine)

    async def post_init(application: Application) -> None:
        # The menu in the deployment's language, and in Welsh for Telegram apps set to Welsh.
        with language.speaking(settings.default_language):
            await application.bot.set_my_commands(list(menu()))
        with language.speaking(language.WELSH):
            await application.bot.set_my_commands(list(menu()), language_code=language.WELSH)
        if own_engine:
            # One connection per concurrent handler, opened before the first update arrives.
            await warm_pool(engine, CONCURRENT_UPDATES)
        for hook in on_start:
            await hook(application)

    async def post_stop(application: Application) -> None:
        # After updates stop, before the bot's HTTP session closes: hooks can still send.
        for hook in on_stop:
            await hook(application)

    async def post_shutdown(application: Application) -> None:
        await transactions.close()
        if own_engine:
            await engine.dispose()

    application = (
        ApplicationBuilder()
        .request(request or AiohttpRequest())
        # One long poll at a time needs one connection.
        .get_updates_request(get_updates_request or AiohttpRequest(connection_pool_size=1))
        .token(token)
        .base_url(settings.telegram_api_url)
        .base_file_url(settings.telegram_api_url.replace("/bot", "/file/bot"))
        .rate_limiter(rate_limiter or ChatRateLimiter())
        .concurrent_updates(CONCURRENT_UPDATES)
        .post_init(post_init)
        .post_stop(post_stop)
        .post_shutdown(post_shutdown)
        .build()
    )
    application.bot_data["journey"] = Journey(sessions, transactions, settings, clock)
    application.bot_data["sessions"] = sessions
    register(application)
    return application


@asynccontextmanager
async def initialized(application: Application) -> AsyncIterator[Application]:
    """initialize + post_init on entry; post_stop, shutdown and post_shutdown on exit, in PTB's order.

    The lifecycle run_polling/run_webhook would give, for code that runs inside its own loop.
    """
    await application.initialize()
    try:
        if application.post_init is not None:
            await application.post_init(application)
        yield application
    finally:
        try:
            if application.post_stop is not None:
                await application.post_stop(application)
        finally:
            await application.shutdown()
            if application.post_shutdown is not None:
                await application.post_shutdown(application)


@asynccontextmanager
async def polling(application: Application, *, poll_timeout: float = 10.0) -> AsyncIterator[Application]:
    """Run the application with long polling inside an already running event loop, as run_polling would.

    For tests, the demo and embedding: post_init and post_shutdown run as they do under
    run_polling, and everything is stopped in order on exit.
    """
    async with initialized(application):
        await application.updater.start_polling(
            poll_interval=0.0,
            timeout=int(poll_timeout),
            allowed_updates=Update.ALL_TYPES,
            drop_pending_updates=False,
        )
        await application.start()
        try:
            yield application
        finally:
            if application.updater.running:
                await application.updater.stop()
            if application.running:
                await application.stop()
