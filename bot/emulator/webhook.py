"""Pushes pending updates to the webhook URL, in order, retrying failures with backoff."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import aiohttp

from .state import State


class WebhookPusher:
    """One delivery at a time keeps updates ordered (Telegram's max_connections=1 behaviour)."""

    def __init__(self, state: State, retry_delay: float = 0.2, max_retry_delay: float = 5.0) -> None:
        self.state = state
        self.retry_delay = retry_delay
        self.max_retry_delay = max_retry_delay
        self._task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None

    def start(self) -> None:
        self._session = aiohttp.ClientSession()
        self._task = asyncio.create_task(self._run(), name="emulator-webhook-pusher")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _next(self) -> dict[str, Any] | None:
        if self.state.webhook is None or not self.state.updates:
            return None
        return self.state.updates[0]

    async def _run(self) -> None:
        delay = self.retry_delay
        while True:
            update = await self.state.updates_changed.wait_until(self._next, timeout=3600)
            hook = self.state.webhook
            if update is None or hook is None:
                continue
            error = await self._deliver(hook.url, hook.secret_token, update)
            if error is None:
                self.state.stats.webhook_pushes += 1
                self.state.updates = [u for u in self.state.updates if u["update_id"] != update["update_id"]]
                delay = self.retry_delay
                continue
            self.state.stats.webhook_failures += 1
            hook.last_error_date = self.state.now()
            hook.last_error_message = error
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.max_retry_delay)

    async def _deliver(self, url: str, secret: str | None, update: dict[str, Any]) -> str | None:
        """POST one update; None on success, else Telegram's wording of what went wrong."""
        assert self._session is not None
        headers = {"Content-Type": "application/json"}
        if secret:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        try:
            async with self._session.post(
                url, data=json.dumps(update), headers=headers, timeout=aiohttp.ClientTimeout(total=10)
            ) as resp:
                await resp.read()
                if 200 <= resp.status < 300:
                    return None
                return f"Wrong response from the webhook: {resp.status} {resp.reason}"
        except (aiohttp.ClientError, TimeoutError) as exc:
            return f"Connection failed: {exc.__class__.__name__}"
