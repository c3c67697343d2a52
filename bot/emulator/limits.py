"""Telegram's flood limits as the emulator counts them: 30 chat requests in any 1 s window, ~1 a second per chat."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

# Arrival times kept for the statistics (busiest and average second): ~20 minutes at 30 a second.
_TIMES_KEPT = 36_000


class TokenBucket:
    """Holds up to `burst` tokens, refilled at `rate` per second; one send spends one token."""

    def __init__(self, rate: float, burst: float, now: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = burst
        self._now = now
        self._tokens = float(burst)
        self._stamp = now()

    def _refill(self) -> None:
        now = self._now()
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    def wait_time(self) -> float:
        """Seconds until one token is available (0.0 if one is available now)."""
        self._refill()
        if self._tokens >= 1.0:
            return 0.0
        return (1.0 - self._tokens) / self.rate

    def take(self) -> None:
        self._refill()
        self._tokens -= 1.0


class SlidingWindow:
    """The times of the requests let through in the last `window` seconds; full at `limit`.

    Telegram's "30 a second" is read as any one-second window, not a bucket that refills: a
    bucket lets a full burst through and then the refill, up to twice the limit in one second.
    """

    def __init__(self, limit: float, window: float) -> None:
        self.limit = limit
        self.window = window
        self._times: deque[float] = deque()

    def wait_time(self, now: float) -> float:
        """Seconds until one more request fits in the window ending at `now` (0.0 if it fits now)."""
        while self._times and self._times[0] <= now - self.window:
            self._times.popleft()
        if len(self._times) < self.limit:
            return 0.0
        return self._times[-int(self.limit)] + self.window - now

    def take(self, now: float) -> None:
        self._times.append(now)


def busiest_window(times: Sequence[float], window: float = 1.0) -> int:
    """The most of `times` (sorted) that fall in any half-open window [t, t + window)."""
    best, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


def mean_window(times: Sequence[float], window: float = 1.0) -> float:
    """How many of `times` (sorted) an average window [t, t + window) holds, over every t that keeps
    the window inside the run: a sustained rate that neither a first burst nor a short run inflates.

    0.0 when the run is shorter than one window.
    """
    if len(times) < 2 or times[-1] - times[0] <= window:
        return 0.0
    first, last = times[0], times[-1] - window  # window starts from the first time to the last full window
    # Each time s is inside the window starting at t for t in (s - window, s]; sum its overlap with [first, last].
    covered = sum(max(0.0, min(s, last) - max(s - window, first)) for s in times)
    return covered / (last - first)


@dataclass
class FloodLimits:
    """Configuration of the limits; flip `enabled` at any time (e.g. for benchmarks)."""

    enabled: bool = True
    global_rate: float = 30.0  # requests that name a chat, in any `window` seconds, per bot
    window: float = 1.0
    per_chat_rate: float = 1.0
    per_chat_burst: float = 3.0
    # A send arriving this much before its per-chat token is due still passes: a client pacing
    # itself at exactly the limit arrives a few ms "early" through connection jitter. Capped below
    # one token interval so burst+1 instant sends always trip. The overall window has no slack:
    # it is the limit the benchmarks hold the bot to.
    slack: float = 0.05
    # Real monotonic time: limits guard wall-clock throughput even when message dates are simulated.
    now: Callable[[], float] = field(default=time.monotonic, repr=False)


class FloodControl:
    """Decides whether a request naming a chat may go through now; refusals carry Telegram's integer retry_after.

    It also keeps the arrival times of the requests it let through (with limits on or off), so a
    benchmark can read the busiest window and the sustained rate as Telegram would count them.
    """

    def __init__(self, limits: FloodLimits) -> None:
        self.limits = limits
        self._global: SlidingWindow | None = None
        self._chats: dict[int | str, TokenBucket] = {}
        self.times: deque[float] = deque(maxlen=_TIMES_KEPT)

    def reset(self) -> None:
        """Forget every count (each run of a benchmark starts alike)."""
        self._global = None
        self._chats.clear()
        self.times.clear()

    def acquire(self, chat_id: int | str) -> int | None:
        """Count one request in `chat_id`; return retry_after seconds if Telegram would refuse it."""
        lim = self.limits
        now = lim.now()
        if lim.enabled:
            if self._global is None:
                self._global = SlidingWindow(lim.global_rate, lim.window)
            chat = self._chats.get(chat_id)
            if chat is None:
                chat = self._chats[chat_id] = TokenBucket(lim.per_chat_rate, lim.per_chat_burst, lim.now)
            overall_wait = self._global.wait_time(now)
            chat_wait = chat.wait_time()
            if overall_wait > 0 or chat_wait - min(lim.slack, 0.9 / lim.per_chat_rate) > 0:
                # Telegram only ever answers whole seconds, and never 0.
                return max(1, math.ceil(max(overall_wait, chat_wait)))
            self._global.take(now)
            chat.take()
        self.times.append(now)
        return None

    def busiest(self, window: float | None = None) -> int:
        """The most requests let through in any window (default: the limits' window)."""
        return busiest_window(list(self.times), window or self.limits.window)

    def mean(self, window: float | None = None) -> float:
        """Requests let through in an average window of the run (see mean_window)."""
        return mean_window(list(self.times), window or self.limits.window)
