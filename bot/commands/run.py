"""`followup run`: the bot, with long polling (default) or as a webhook server."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from contextlib import AbstractAsyncContextManager

import click
from telegram.error import TelegramError
from telegram.ext import Application

from bot.app import build_application, polling
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
def cli(webhook_url: str | None, listen: str, port: int, secret: str | None) -> None:
    """Run the bot and its dispatcher (invitations, reminders, expiry, purge) until Ctrl-C or SIGTERM."""
    settings = settings_or_exit()
    # A database not set up, a wrong token or an unreachable Telegram is one clear line here, before anything starts.
    asyncio.run(_preflight(settings))
    setup_logging(settings)
    try:
        application = build_application(settings, on_start=[dispatch_jobs(settings)])
    except SettingsError as exc:
        raise click.ClickException(f"bad setting: {exc}") from None
    if webhook_url:
        running: AbstractAsyncContextManager[Application] = webhook(
            application, webhook_url=webhook_url, listen=listen, port=port, secret=secret
        )
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


async def _serve(running: AbstractAsyncContextManager[Application], mode: str) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # not on Windows
            loop.add_signal_handler(sig, stop.set)
    async with running:
        log.info("followup bot running (%s)", mode)
        await stop.wait()
