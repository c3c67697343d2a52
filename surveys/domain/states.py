"""The check-in states and the named sets every module uses (SQL conditions are built from the sets)."""

from __future__ import annotations

from enum import StrEnum


class CheckInState(StrEnum):
    """Where one check-in stands: scheduled → sent → in progress → completed | expired | cancelled | missed."""

    SCHEDULED = "scheduled"  # planned, not yet sent
    SENT = "sent"  # the invitation went out
    IN_PROGRESS = "in_progress"  # at least one answer given
    COMPLETED = "completed"  # every item asked answered (a message-only wave: its message delivered, or none owed)
    EXPIRED = "expired"  # it closed unfinished after being open
    CANCELLED = "cancelled"  # withdrawn, blocked or undeliverable
    MISSED = "missed"  # it closed before the person enrolled (or before it could be sent)


ALL = tuple(CheckInState)
"""Every state, in the order of the life of a check-in (reports list them so)."""

OPEN = (CheckInState.SCHEDULED, CheckInState.SENT, CheckInState.IN_PROGRESS)
"""Not finished: can still be answered, sent or reminded while its window is open."""

NOT_STARTED = (CheckInState.SCHEDULED, CheckInState.SENT)
"""Open but with no answer yet: the first answer moves it to in progress."""

REMINDABLE = (CheckInState.SENT, CheckInState.IN_PROGRESS)
"""The person has been invited and has not finished: a reminder may be owed."""

LAPSED = (CheckInState.EXPIRED, CheckInState.MISSED)
"""Closed without being finished by the time: a late person is told when the next one comes."""

FINISHED = (CheckInState.COMPLETED, CheckInState.EXPIRED, CheckInState.CANCELLED, CheckInState.MISSED)
"""Nothing more will happen to it."""

REACHED = (CheckInState.SENT, CheckInState.IN_PROGRESS, CheckInState.COMPLETED, CheckInState.EXPIRED)
"""The invitation went out (whatever happened after): the denominator of "answered of sent"."""
