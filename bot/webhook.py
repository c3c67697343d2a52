"""Webhook mode on aiohttp: Telegram POSTs updates, checked against the secret header, into PTB's queue.

PTB's own run_webhook needs tornado (`python-telegram-bot[webhooks]`), which this project does not
install; aiohttp is already a dependency, and this is PTB's documented custom-webhook pattern.
"""

from __future__ import annotations

import hmac
import json
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlparse

from aiohttp import web
from telegram import Update
from telegram.ext import Application

from bot.app import initialized

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def webhook_app(application: Application, path: str, secret: str | None) -> web.Application:
    """An aiohttp app that accepts updates on `path` and hands them to the Application."""

    async def receive(request: web.Request) -> web.Response:
        if secret and not hmac.compare_digest(request.headers.get(SECRET_HEADER, ""), secret):
            return web.Response(status=403, text="wrong secret token")
        try:
            update = Update.de_json(json.loads(await request.read()), application.bot)
        except (ValueError, TypeError, KeyError):
            return web.Response(status=400, text="not an update")
        await application.update_queue.put(update)
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post(path, receive)
    app.router.add_get("/healthz", _healthz)
    return app


async def _healthz(_request: web.Request) -> web.Response:
    """For a reverse proxy's health check."""
    return web.Response(text="ok")


@asynccontextmanager
async def webhook(
    application: Application,
    *,
    webhook_url: str,
    listen: str = "127.0.0.1",
    port: int = 8443,
    secret: str | None = None,
) -> AsyncIterator[Application]:
    """Run the application in webhook mode: serve, setWebhook, process; deleteWebhook on exit.

    Without a secret anyone who finds the URL could post forged updates (say, an evaluator's id
    asking for /export), so one is generated when none is given; Telegram sends it back on every push.
    """
    secret = secret or secrets.token_urlsafe(32)
    path = urlparse(webhook_url).path or "/"
    runner = web.AppRunner(webhook_app(application, path, secret), access_log=None)
    async with initialized(application):
        await runner.setup()
        await web.TCPSite(runner, listen, port).start()
        await application.start()
        await application.bot.set_webhook(webhook_url, secret_token=secret, allowed_updates=Update.ALL_TYPES)
        log.info("webhook mode: listening on %s:%s%s", listen, port, path)
        try:
            yield application
        finally:
            await application.bot.delete_webhook()
            await application.stop()
            await runner.cleanup()
