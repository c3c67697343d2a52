"""`followup run`: the bot, with long polling (default), as a webhook server, or dispatching only."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import click
from telegram.error import TelegramError
from telegram.ext import Application

from bot.app import build_application, initialized, polling
from bot.commands.common import ask_telegram, database, settings_or_exit, telegram_failure
from bot.logging import setup_logging
from bot.scheduling import dispatch_jobs
from bot.webhook import webhook
from surveys.settings import Settings, SettingsError

log = logging.getLogger("bot.run")


@click.command("run")
@click.option("--webhook-url", default=None, help="Public HTTPS URL Telegram should POST updates to (webhook mode).")
@click.option("--listen", default="127.0.0.1", show_default=True, help="Address to listen on in webhook mode.")
@click.option("--port", default=8443, show_default=True, type=click.IntRange(1, 65535), help="Port in webhook mode.")
@click.option("--secret", default=None, help="Secret Telegram sends in X-Telegram-Bot-Api-Secret-Token.")
@click.option(
    "--dispatch-only",
    is_flag=True,
    help="Receive no updates; only send invitations and reminders (and expire, purge). For a second "
    "worker beside the one that polls or serves the webhook: on PostgreSQL one worker sends at a "
    "time and the others stand by to take over. Telegram allows one polling process per bot.",
)
def cli(webhook_url: str | None, listen: str, port: int, secret: str | None, dispatch_only: bool) -> None:
    """Run the bot and its dispatcher (invitations, reminders, expiry, purge) until Ctrl-C or SIGTERM.

    Several may run on one PostgreSQL database (one polling, the others --dispatch-only): they take
    turns to send, one at a time; see "Running several workers" in the README.
    """
    if dispatch_only and webhook_url:
        raise click.UsageError("--dispatch-only receives no updates: leave out --webhook-url")
    settings = settings_or_exit()
    # A database not set up, a wrong token or an unreachable Telegram is one clear line here, before anything starts.
    asyncio.run(_preflight(settings))
    setup_logging(settings)
    try:
        application = build_application(settings, on_start=[dispatch_jobs(settings)])
    except SettingsError as exc:
        raise click.ClickException(f"bad setting: {exc}") from None
    running: AbstractAsyncContextManager[Application]
    if dispatch_only:
        running = _without_updates(application)
        mode = "dispatch only, no updates"
    elif webhook_url:
        running = webhook(application, webhook_url=webhook_url, listen=listen, port=port, secret=secret)
        mode = f"webhook on {listen}:{port}"
    else:
        running = polling(application)
        mode = "long polling"
    try:
        asyncio.run(_serve(running, mode))
    except TelegramError as exc:
        raise telegram_failure(exc) from None
    click.echo("Stopped.")


async def _preflight(settings: Settings) -> None:
    """Stop (a ClickException) unless the database is at the newest schema and the token works."""
    await (await database(settings)).dispose()
    if settings.bot_token is not None:
        await ask_telegram(settings)


@asynccontextmanager
async def _without_updates(application: Application) -> AsyncIterator[Application]:
    """Start the application (its JobQueue dispatches) without polling or a webhook: no getUpdates."""
    async with initialized(application):
        await application.start()
        try:
            yield application
        finally:
            if application.running:
                await application.stop()


async def _serve(running: AbstractAsyncContextManager[Application], mode: str) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # not on Windows
            loop.add_signal_handler(sig, stop.set)
    async with running:
        log.info("followup bot running (%s)", mode)
        await stop.wait()
