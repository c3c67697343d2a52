"""A Messenger that records what it was asked to send and fails on cue: the scheduler's test double."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass, field

from scheduler.messenger import DeliveryError, OutgoingMessage


@dataclass(frozen=True)
class Sent:
    """One delivered message."""

    chat_id: int
    message: OutgoingMessage
    message_id: int

    @property
    def check_in_id(self) -> int:
        """The check-in the buttons refer to."""
        return self.message.actions[0].check_in_id


@dataclass
class RecordingMessenger:
    """Records every delivered message; `fail_next(chat, error, ...)` queues failures for a chat."""

    sent: list[Sent] = field(default_factory=list)
    attempts: int = 0
    _failures: dict[int, list[DeliveryError]] = field(default_factory=lambda: defaultdict(list))
    _next_id: int = 100

    def fail_next(self, chat_id: int, *errors: DeliveryError) -> None:
        """Make the next sends to `chat_id` raise these errors, in order."""
        self._failures[chat_id].extend(errors)

    async def send(self, chat_id: int, message: OutgoingMessage) -> int:
        """Deliver (record) or raise the next queued failure."""
        self.attempts += 1
        await asyncio.sleep(0)  # let other senders interleave, as real I/O would
        if self._failures.get(chat_id):
            raise self._failures[chat_id].pop(0)
        self._next_id += 1
        self.sent.append(Sent(chat_id, message, self._next_id))
        return self._next_id

    def to(self, chat_id: int) -> list[str]:
        """The texts delivered to one chat, in order."""
        return [s.message.text for s in self.sent if s.chat_id == chat_id]
