"""Course levels 1–6: who the course is for, from infrequent contact to strategic managers."""

from __future__ import annotations

LEVELS = range(1, 7)
"""The levels a course (or an attendee) can have."""

RANGE_TEXT = "1 (infrequent contact) to 6 (strategic managers)"
"""The range in words, as the board's plan describes its ends."""

SQL_CHECK = f"level BETWEEN {LEVELS.start} AND {LEVELS.stop - 1}"
"""The range as a check constraint."""


class LevelError(ValueError):
    """Not a course level; the message says what is expected."""


def parse_level(value: object) -> int:
    """A level from a number or text ('3'); LevelError names the range."""
    try:
        level = int(str(value).strip())
    except ValueError:
        level = 0
    if level not in LEVELS:
        raise LevelError(f"the level is {RANGE_TEXT}, not {value!r}")
    return level
