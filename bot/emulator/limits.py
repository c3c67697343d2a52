"""Token buckets enforcing Telegram's flood limits (about 30 msg/s overall, 1 msg/s per chat)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field


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


@dataclass
class FloodLimits:
    """Configuration of the limits; flip `enabled` at any time (e.g. for benchmarks)."""

    enabled: bool = True
    global_rate: float = 30.0
    global_burst: float = 30.0
    per_chat_rate: float = 1.0
    per_chat_burst: float = 3.0
    # A send arriving this much before its token is due still passes: a client pacing itself at
    # exactly the limit arrives a few ms "early" through connection jitter, and Telegram's limits
    # are approximate. Capped below one token interval so burst+1 instant sends always trip.
    slack: float = 0.05
    # Real monotonic time: limits guard wall-clock throughput even when message dates are simulated.
    now: Callable[[], float] = field(default=time.monotonic, repr=False)


class FloodControl:
    """Decides whether a send may go out now; refusals carry Telegram's integer retry_after."""

    def __init__(self, limits: FloodLimits) -> None:
        self.limits = limits
        self._global: TokenBucket | None = None
        self._chats: dict[int, TokenBucket] = {}

    def reset(self) -> None:
        self._global = None
        self._chats.clear()

    def acquire(self, chat_id: int) -> int | None:
        """Spend one send in `chat_id`; return retry_after seconds if Telegram would refuse it."""
        lim = self.limits
        if not lim.enabled:
            return None
        if self._global is None:
            self._global = TokenBucket(lim.global_rate, lim.global_burst, lim.now)
        chat = self._chats.get(chat_id)
        if chat is None:
            chat = self._chats[chat_id] = TokenBucket(lim.per_chat_rate, lim.per_chat_burst, lim.now)
        over = max(
            self._global.wait_time() - min(lim.slack, 0.9 / lim.global_rate),
            chat.wait_time() - min(lim.slack, 0.9 / lim.per_chat_rate),
        )
        if over > 0:
            # Telegram only ever answers whole seconds, and never 0.
            return max(1, math.ceil(max(self._global.wait_time(), chat.wait_time())))
        self._global.take()
        chat.take()
        return None
