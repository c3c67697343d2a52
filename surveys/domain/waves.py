"""The wave grammar: `pre`, `post` and `Nm` (N calendar months, 1–99); parsing, labels and order."""

from __future__ import annotations

import re
from dataclasses import dataclass

PRE = "pre"
POST = "post"
DAY_WAVES = (PRE, POST)
"""Waves on the course day itself; every other wave is a calendar-month offset."""

PATTERN = r"^(pre|post|[1-9][0-9]?m)$"
"""A wave as a regular expression, for schemas (pydantic) that take one. `0m` is not a wave: it is post."""

DEFAULT_WAVES = ("pre", "post", "3m", "6m")
"""The board's plan: pre and post on the day, then three and six months later."""

_RE = re.compile(PATTERN)
_WORDS = {
    1: "one",
    2: "two",
    3: "three",
    4: "four",
    5: "five",
    6: "six",
    7: "seven",
    8: "eight",
    9: "nine",
    10: "ten",
    11: "eleven",
    12: "twelve",
    18: "eighteen",
    24: "twenty-four",
}


class WaveError(ValueError):
    """Text that is not a wave (or not a list of waves); the message says what is expected."""


@dataclass(frozen=True, order=False)
class Wave:
    """One parsed wave: its name, the months after the course date, and its words."""

    name: str
    months: int

    @property
    def on_course_day(self) -> bool:
        """Pre and post happen on the course day."""
        return self.name in DAY_WAVES

    @property
    def label(self) -> str:
        """The wave in words: "3m" → "three months after the course"."""
        if self.name == PRE:
            return "before the course"
        if self.name == POST:
            return "at the end of the course"
        if self.months == 1:
            return "one month after the course"
        return f"{_WORDS.get(self.months, str(self.months))} months after the course"

    @property
    def when(self) -> str:
        """A short phrase for lists: "today" for the day's waves, "in three months" otherwise."""
        if self.on_course_day:
            return "on the day"
        word = _WORDS.get(self.months, str(self.months))
        return "in one month" if self.months == 1 else f"in {word} months"


def is_wave(text: str) -> bool:
    """True when `text` is a wave name."""
    return bool(_RE.match(text))


def parse(text: str) -> Wave:
    """Parse one wave; WaveError says what waves look like."""
    if not isinstance(text, str) or not _RE.match(text):
        raise WaveError(f"unknown wave {text!r}: use pre, post or a number of months such as 3m, 6m, 12m")
    return Wave(text, 0 if text in DAY_WAVES else int(text[:-1]))


def months(wave: str) -> int:
    """Calendar months after the course date: 0 for pre and post, N for "Nm"."""
    return parse(wave).months


def label(wave: str) -> str:
    """The wave in words, for texts and reports."""
    return parse(wave).label


def order_key(wave: str) -> int:
    """Sort key: pre (-1), post (0), then months in order (N)."""
    parsed = parse(wave)
    return -1 if parsed.name == PRE else parsed.months


def parse_list(text: str | None) -> tuple[str, ...]:
    """Parse 'pre,post,3m,6m' (spaces allowed) into waves in time order; empty → the default waves."""
    if text is None or not text.strip():
        return DEFAULT_WAVES
    names = [w.strip() for w in text.split(",") if w.strip()]
    bad = [w for w in names if not is_wave(w)]
    if bad:
        raise WaveError(
            f"unknown wave(s) {', '.join(bad)}: use pre, post and months such as 3m, 6m, 12m, comma-separated"
        )
    if len(set(names)) != len(names):
        raise WaveError("a wave is listed twice")
    return tuple(sorted(names, key=order_key))
