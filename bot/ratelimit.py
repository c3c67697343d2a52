"""The bot's one pacing layer: ~30 requests a second overall, about one a second per chat, and what a 429 means."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Coroutine
from datetime import timedelta
from typing import Any

from aiolimiter import AsyncLimiter
from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter, ExtBot
from telegram.request import BaseRequest

log = logging.getLogger(__name__)
JSON = bool | dict[str, Any] | list[dict[str, Any]]
# A per-chat limiter that is full again has forgotten its history, so dropping it is safe.
_CHAT_LIMITERS_KEPT = 10_000


def retry_after_seconds(exc: RetryAfter) -> float:
    """How long Telegram asked to wait, in seconds (PTB 22 gives a timedelta, older versions an int)."""
    value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class ChatRateLimiter(BaseRateLimiter[int]):
    """Paces every request that names a chat, per chat and overall; the one place that handles a 429.

    PTB's AIORateLimiter has no per-private-chat limit, and a button press here costs two
    requests in one chat (edit the question, send the next one), so a quick tapper would hit
    Telegram's one-a-second rule. Defaults allow a burst of 3 then a little under one a second.
    A 429 (flood control is per bot) pauses every request for `retry_after`, is counted in
    `flood_waits`, and the request is tried again, at most `max_retries` times; a wait longer
    than `max_wait` is not waited out here but raised, so a caller can reschedule instead of block.
    """

    def __init__(
        self,
        *,
        overall_rate: float = 30.0,
        chat_burst: float = 3.0,
        chat_period: float = 3.3,
        max_retries: int = 3,
        max_wait: float = 60.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        # The full rate, but bursts of only a third of a second's worth: requests bunch up on the
        # way to Telegram, and a burst as big as Telegram's own would then overflow it.
        self._overall = AsyncLimiter(max(1.0, overall_rate / 3), 1 / 3)
        self._chat_burst = chat_burst
        self._chat_period = chat_period
        self._chats: OrderedDict[Any, AsyncLimiter] = OrderedDict()
        self._max_retries = max_retries
        self._max_wait = max_wait
        self._sleep = sleep
        self._paused_until = 0.0
        self.flood_waits = 0

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""

    def _chat(self, chat_id: Any) -> AsyncLimiter:
        limiter = self._chats.pop(chat_id, None) or AsyncLimiter(self._chat_burst, self._chat_period)
        self._chats[chat_id] = limiter  # most recently used last
        if len(self._chats) > _CHAT_LIMITERS_KEPT:
            # Forget the least recently used chat if it is idle, so memory does not grow with the audience.
            oldest, old = next(iter(self._chats.items()))
            if old.has_capacity(old.max_rate):
                del self._chats[oldest]
        return limiter

    async def _flood_pause(self) -> None:
        wait = self._paused_until - time.monotonic()
        if wait > 0:
            await self._sleep(wait)

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, JSON]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> JSON:
        """Run one request under the limits; after a 429, pause every request for retry_after and try again."""
        chat_id = data.get("chat_id")
        retries = rate_limit_args if rate_limit_args is not None else self._max_retries
        for attempt in range(retries + 1):
            await self._flood_pause()
            # Per chat first, so a busy chat never holds one of the overall slots while it waits.
            chat = self._chat(chat_id) if chat_id is not None else contextlib.nullcontext()
            overall = self._overall if chat_id is not None else contextlib.nullcontext()
            try:
                async with chat, overall:
                    return await callback(*args, **kwargs)
            except RetryAfter as exc:
                wait = retry_after_seconds(exc)
                self.flood_waits += 1
                if attempt >= retries or wait > self._max_wait:
                    raise
                log.info("%s hit a flood limit; every request waits %.1f s", endpoint, wait)
                self._paused_until = max(self._paused_until, time.monotonic() + wait)
        raise AssertionError("unreachable")


def paced_bot(
    token: str, *, base_url: str, request: BaseRequest, rate_limiter: ChatRateLimiter | None = None
) -> ExtBot[int]:
    """A bot outside an Application (`followup dispatch`) paced by the same limiter the Application uses."""
    return ExtBot(token, base_url=base_url, request=request, rate_limiter=rate_limiter or ChatRateLimiter())
