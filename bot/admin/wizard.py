"""/newcourse as a short guided flow: the draft so far, which question comes next, and typed dates."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

STEPS = ("quiz", "level", "date", "code", "title")
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass
class NewCourse:
    """What the officer has chosen so far; kept in PTB's in-memory user_data (lost on restart, by design)."""

    quiz_ref: str | None = None
    level: int | None = None
    delivered_on: date | None = None
    code: str | None = None

    @property
    def step(self) -> str:
        """The next question: the first of quiz, level, date, code, title not yet answered."""
        if self.quiz_ref is None:
            return "quiz"
        if self.level is None:
            return "level"
        if self.delivered_on is None:
            return "date"
        return "code" if self.code is None else "title"


def day_from_button(value: str, today: date) -> date | None:
    """'today' or 'tomorrow' in the course's zone; None for anything else."""
    return {"today": today, "tomorrow": today + timedelta(days=1)}.get(value)


def day_from_text(text: str) -> date | None:
    """A typed YYYY-MM-DD date, or None when it is not one."""
    if not ISO_DAY.fullmatch(text.strip()):
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


def wants_cancel(text: str) -> bool:
    """Typing "cancel" (any case) stops the wizard."""
    return text.strip().lower() in {"cancel", "/cancel", "stop"}
