"""Outgoing request pacing: ~30 a second overall and about one a second per chat, retrying 429s."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from aiolimiter import AsyncLimiter
from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

log = logging.getLogger(__name__)
JSON = bool | dict[str, Any] | list[dict[str, Any]]


class ChatRateLimiter(BaseRateLimiter[int]):
    """Paces every request that names a chat, per chat and overall; waits out RetryAfter.

    PTB's AIORateLimiter has no per-private-chat limit, and a button press here costs two
    requests in one chat (edit the question, send the next one), so a quick tapper would hit
    Telegram's one-a-second rule. Defaults allow a burst of 3 then a little under one a second.
    """

    def __init__(self, *, overall_rate: float = 30.0, chat_burst: float = 3.0, chat_period: float = 3.3,
                 max_retries: int = 3) -> None:
        self._overall = AsyncLimiter(overall_rate, 1.0)
        self._chat_burst = chat_burst
        self._chat_period = chat_period
        self._chats: dict[Any, AsyncLimiter] = {}
        self._max_retries = max_retries

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""

    def _chat(self, chat_id: Any) -> AsyncLimiter:
        if len(self._chats) > 1024:
            # Forget idle chats so a long-running bot's memory does not grow with its audience.
            for key, limiter in list(self._chats.items()):
                if limiter.has_capacity(limiter.max_rate):
                    del self._chats[key]
        limiter = self._chats.get(chat_id)
        if limiter is None:
            limiter = self._chats[chat_id] = AsyncLimiter(self._chat_burst, self._chat_period)
        return limiter

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, JSON]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> JSON:
        """Run one request under the limits; after a 429, wait retry_after and try again."""
        chat_id = data.get("chat_id")
        retries = rate_limit_args if rate_limit_args is not None else self._max_retries
        for attempt in range(retries + 1):
            chat = self._chat(chat_id) if chat_id is not None else contextlib.nullcontext()
            overall = self._overall if chat_id is not None else contextlib.nullcontext()
            try:
                async with chat, overall:
                    return await callback(*args, **kwargs)
            except RetryAfter as exc:
                if attempt >= retries:
                    raise
                delay = exc.retry_after.total_seconds() if hasattr(exc.retry_after, "total_seconds") else float(exc.retry_after)
                log.info("%s hit a flood limit; retrying in %.1f s", endpoint, delay)
                await asyncio.sleep(delay + 0.1)
        raise AssertionError("unreachable")
