"""Injected time: the app asks a Clock, so tests and the demo can move it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """The real time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class FrozenClock:
    """A clock that stands still until moved: for tests, rehearsals and the demo."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("the clock needs a timezone-aware start")
        self.now = start.astimezone(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> datetime:
        """Move forward by delta and return the new time."""
        self.now += delta
        return self.now

    def set(self, when: datetime) -> None:
        """Jump to a given aware time."""
        if when.tzinfo is None:
            raise ValueError("naive datetime")
        self.now = when.astimezone(UTC)
