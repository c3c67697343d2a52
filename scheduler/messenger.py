"""The Messenger protocol: how the scheduler hands a message to whatever delivers it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol


@dataclass(frozen=True)
class Action:
    """A button under a message: start the check-in now, or snooze it until tomorrow."""

    label: str
    kind: Literal["start", "snooze"]
    check_in_id: int


@dataclass(frozen=True)
class OutgoingMessage:
    """Text plus the buttons to show under it."""

    text: str
    actions: tuple[Action, ...] = field(default_factory=tuple)


class DeliveryError(Exception):
    """A send failed; `permanent` says whether retrying can ever help."""

    def __init__(self, reason: str, *, permanent: bool, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.retry_after = retry_after


class Unreachable(DeliveryError):
    """The person blocked the bot (Telegram 403): no more sends to them."""

    def __init__(self, reason: str = "blocked by the user") -> None:
        super().__init__(reason, permanent=True)


class MessengerUnavailable(Exception):
    """Nothing can be delivered at all (token rejected, service unreachable): the pass stops, no check-in is blamed.

    Its text is one line for the operator, naming what to check; it never holds the token.
    """


class Messenger(Protocol):
    """Delivers one message to one chat and returns the message id it got."""

    async def send(self, chat_id: int, message: OutgoingMessage) -> int:
        """Send; raise DeliveryError (or Unreachable) for this message, MessengerUnavailable for every message."""
        ...
