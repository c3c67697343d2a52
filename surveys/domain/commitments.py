"""Commitments to change: how they and their later reviews are stored as answers, and their statuses.

The contract shared by the quiz engine, the chat, the CPD record, the report and the exports.
A `commitments` item with id ``commit`` stores each commitment typed as its own answer row,
``commit.1``, ``commit.2`` … (value: the scrubbed text), and, once the person says "That's all"
(or reaches the item's maximum), a closing row ``commit`` whose value is how many they made
("0" when they chose to make none). An item counts as answered when its own id has a row, as
every other item does.

A `commitment_review` item with id ``review`` (reviewing the commitments of item ``commit``)
stores, for commitment n, ``review.n`` = one of STATUSES and, when the status asks for it
(BARRIER_ASKED), ``review.n.barrier`` = what got in the way (scrubbed free text, "" if skipped);
then a closing row ``review`` whose value is how many were reviewed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_MAX = 3
# Long enough for "Ask every young person I see about who they spend time with"; short enough
# that a pasted case note is refused rather than stored.
MAX_LENGTH = 280

DONE = "done"
PARTLY = "partly"
NOT_YET = "notyet"
NOT_RELEVANT = "nlr"
STATUSES: tuple[str, ...] = (DONE, PARTLY, NOT_YET, NOT_RELEVANT)
# Where a commitment was not (fully) carried out, the review asks what got in the way.
BARRIER_ASKED: frozenset[str] = frozenset({PARTLY, NOT_YET})
# Counted as carried out in the report's level-3 section ("done" fully, "partly" in part).
CARRIED_OUT: frozenset[str] = frozenset({DONE, PARTLY})

_PART = re.compile(r"^(?P<item>[a-z0-9][a-z0-9_-]{0,39})\.(?P<n>[1-9][0-9]?)(?P<barrier>\.barrier)?$")


def entry_id(item_id: str, n: int) -> str:
    """The answer row id of commitment n (1-based) of a commitments item, or of its review."""
    return f"{item_id}.{n}"


def barrier_id(review_item_id: str, n: int) -> str:
    """The answer row id of what got in the way of commitment n."""
    return f"{review_item_id}.{n}.barrier"


@dataclass(frozen=True)
class Part:
    """An answer row id split into the item it belongs to, the commitment number and whether it is a barrier."""

    item_id: str
    n: int
    barrier: bool


def split(answer_item_id: str) -> Part | None:
    """`commit.2` → Part('commit', 2, False); `review.1.barrier` → Part('review', 1, True); other ids → None."""
    match = _PART.match(answer_item_id)
    if match is None:
        return None
    return Part(match["item"], int(match["n"]), match["barrier"] is not None)


def commitments_from(answers: dict[str, str], item_id: str) -> tuple[str, ...]:
    """The commitments stored under a commitments item in one check-in's answers, in the order made."""
    found: list[tuple[int, str]] = []
    for key, value in answers.items():
        part = split(key)
        if part is not None and part.item_id == item_id and not part.barrier and value.strip():
            found.append((part.n, value))
    return tuple(text for _, text in sorted(found))
