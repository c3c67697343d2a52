"""How long a transient delivery failure waits before the check-in is tried again."""

from __future__ import annotations

from datetime import timedelta

MAX_BACKOFF = timedelta(hours=1)


def backoff(attempts: int, retry_after: float | None) -> timedelta:
    """How long to wait before trying again: Telegram's retry_after, else 1, 2, 4 … minutes up to an hour."""
    if retry_after is not None:
        return timedelta(seconds=max(1.0, retry_after))
    return min(MAX_BACKOFF, timedelta(minutes=2 ** max(0, attempts - 1)))
