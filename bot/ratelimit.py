"""The bot's one pacing layer: ~30 requests a second overall, about one a second per chat, and what a 429 means."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter, ExtBot
from telegram.request import BaseRequest

log = logging.getLogger(__name__)
JSON = bool | dict[str, Any] | list[dict[str, Any]]
# A per-chat limiter that is full again has forgotten its history, so dropping it is safe.
_CHAT_LIMITERS_KEPT = 10_000
# Requests admitted at least this fraction of the average interval apart (see ChatRateLimiter).
SPACING = 0.5


def retry_after_seconds(exc: RetryAfter) -> float:
    """How long Telegram asked to wait, in seconds (PTB 22 gives a timedelta, older versions an int)."""
    value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class SlidingWindow:
    """At most `limit` requests in any `window` seconds as the server counts them, first come first served.

    The server counts a request when it arrives, some time after we send it and before its answer
    comes back. So a request holds its slot from the moment it is let through until `window`
    seconds after its answer (or failure): the next request a slot lets through then leaves at
    least `window` after the earlier one arrived, however late the earlier one arrived or early the
    later one does. No margin to guess, and no overshoot when a loaded machine or network delays
    one request and not the next; the price is one round trip per slot (29.9 a second at a 3 ms
    round trip, ~28 at 60 ms).

    Why not a library: aiolimiter's leaky bucket lets a full bucket through and then its refill
    within one second, so it holds "30 in any second" only as a bucket of one, and like
    `limits`' moving window it counts when a request is let through, not until its answer: a
    request that then waits (for the overall window, a connection, a loaded CPU) reaches Telegram
    next to later ones. `limits` also only answers hit/miss (waiters would poll and race, out of
    order) and reads the wall clock.
    """

    def __init__(
        self,
        limit: float,
        window: float,
        *,
        spacing: float = 0.0,
        now: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.limit = max(1, int(limit))
        self.window = window
        # Under a microsecond it paces nothing, but would put a sleep (a loop turn) between requests.
        self.spacing = spacing if spacing >= 1e-6 else 0.0
        self._now = now
        self._sleep = sleep
        self._in_flight = 0
        self._done: deque[float] = deque()  # when recent requests were answered, oldest first
        self._last = -math.inf  # when the last request was let through
        self._released = asyncio.Event()
        self._lock = asyncio.Lock()  # FIFO: the longest waiter goes next
        self.not_before = 0.0  # nothing is let through before this time (a flood pause)

    def _wait(self) -> float:
        """Seconds until one more may go (0 or less: now); math.inf until a request in flight is answered."""
        now = self._now()
        while self._done and now - self._done[0] >= self.window:
            self._done.popleft()
        wait = max(self.not_before - now, self._last + self.spacing - now)
        if self._in_flight + len(self._done) >= self.limit:
            # At least a hair: in floating point the oldest can read as due yet still be in the window.
            wait = max(wait, self._done[0] + self.window - now if self._done else math.inf, 1e-6)
        return wait

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Wait for a slot, hold it while the request runs, and for `window` after it is answered."""
        async with self._lock:
            while (wait := self._wait()) > 0:
                if wait == math.inf:
                    self._released.clear()
                    await self._released.wait()
                else:
                    await self._sleep(wait)
            self._in_flight += 1
            self._last = self._now()
        try:
            yield
        finally:
            self._in_flight -= 1
            self._done.append(self._now())
            self._released.set()


class ChatPace:
    """One chat's pace: a burst of `burst`, then one every `interval` seconds, as Telegram counts them.

    A leaky bucket (GCRA) fed with each request's answer time, the latest it can have reached
    Telegram; one request in flight at a time, so the next one leaves after the previous arrived.
    Bucket libraries (aiolimiter) count a request when they let it through: one that then waits
    for the overall window would reach Telegram together with the next ones in its chat.
    """

    def __init__(
        self,
        burst: float,
        interval: float,
        *,
        now: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.interval = interval
        self._tolerance = max(0.0, burst - 1) * interval
        self._now = now
        self._sleep = sleep
        self._due = -math.inf  # the bucket is empty from this time on (GCRA's theoretical arrival time)
        self._lock = asyncio.Lock()  # one in flight, first come first served

    def idle(self) -> bool:
        """Nothing in flight and the bucket empty: forgetting this chat loses nothing."""
        return not self._lock.locked() and self._due <= self._now()

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Wait until the bucket has room, run the request, and count it when it is answered."""
        async with self._lock:
            while (wait := self._due - self._tolerance - self._now()) > 0:
                await self._sleep(wait)
            try:
                yield
            finally:
                self._due = max(self._due, self._now()) + self.interval


class ChatRateLimiter(BaseRateLimiter[int]):
    """Paces every request that names a chat, per chat and overall; the one place that handles a 429.

    Overall: at most `overall_rate` requests that name a chat in any `window` seconds as Telegram
    receives them (SlidingWindow), let through at least `spacing` apart (default half the average
    interval, 17 ms) so that a burst does not queue on its own connections. Per chat (ChatPace):
    a burst of `chat_burst`, then one every `chat_period / chat_burst` s (3, then one every 1.1 s
    by default, inside Telegram's ~1 a second per chat). PTB's AIORateLimiter has no
    per-private-chat limit.
    A 429 (flood control is per bot) pauses every request for `retry_after`, is counted in
    `flood_waits`, and the request is tried again, at most `max_retries` times; a wait longer
    than `max_wait` is not waited out here but raised, so a caller can reschedule instead of block.
    """

    def __init__(
        self,
        *,
        overall_rate: float = 30.0,
        window: float = 1.0,
        spacing: float | None = None,
        chat_burst: float = 3.0,
        chat_period: float = 3.3,
        max_retries: int = 3,
        max_wait: float = 60.0,
        now: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if spacing is None:
            spacing = SPACING * window / overall_rate
        self._overall = SlidingWindow(overall_rate, window, spacing=spacing, now=now, sleep=sleep)
        self._chat_burst = chat_burst
        self._chat_period = chat_period
        self._chats: OrderedDict[Any, ChatPace] = OrderedDict()
        self._max_retries = max_retries
        self._max_wait = max_wait
        self._now = now
        self._sleep = sleep
        self._paused_until = 0.0
        self.flood_waits = 0

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""

    def _chat(self, chat_id: Any) -> ChatPace:
        limiter = self._chats.pop(chat_id, None) or ChatPace(
            self._chat_burst, self._chat_period / self._chat_burst, now=self._now, sleep=self._sleep
        )
        self._chats[chat_id] = limiter  # most recently used last
        if len(self._chats) > _CHAT_LIMITERS_KEPT:
            # Forget the least recently used chat if it is idle, so memory does not grow with the audience.
            oldest, old = next(iter(self._chats.items()))
            if old.idle():
                del self._chats[oldest]
        return limiter

    async def _flood_pause(self) -> None:
        while (wait := self._paused_until - self._now()) > 0:
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
            try:
                if chat_id is None:
                    return await callback(*args, **kwargs)
                # Per chat first, so a busy chat never holds one of the overall slots while it waits.
                async with self._chat(chat_id).slot(), self._overall.slot():
                    return await callback(*args, **kwargs)
            except RetryAfter as exc:
                wait = retry_after_seconds(exc)
                self.flood_waits += 1
                if attempt >= retries or wait > self._max_wait:
                    raise
                log.info("%s hit a flood limit; every request waits %.1f s", endpoint, wait)
                self._paused_until = max(self._paused_until, self._now() + wait)
                # Those already queued for the window wait too.
                self._overall.not_before = self._paused_until
        raise AssertionError("unreachable")


def paced_bot(
    token: str, *, base_url: str, request: BaseRequest, rate_limiter: ChatRateLimiter | None = None
) -> ExtBot[int]:
    """A bot outside an Application (`followup dispatch`) paced by the same limiter the Application uses."""
    return ExtBot(token, base_url=base_url, request=request, rate_limiter=rate_limiter or ChatRateLimiter())
