"""/newcourse as a short guided flow: the draft so far, which question comes next, and typed dates."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from surveys.domain.dates import parse_day

# The numbered questions, in order; "past" (confirming a past date) belongs to "date", "done" follows "zone".
STEPS = ("quiz", "level", "date", "code", "title", "waves", "attendance", "zone")
STATES = (*STEPS[:3], "past", *STEPS[3:])  # every step the conversation can wait in
CANCEL_WORDS = re.compile(r"^\s*(?:cancel|stop)\s*$", re.IGNORECASE)  # typed, they stop the wizard (as /cancel does)


@dataclass
class NewCourse:
    """What the officer has chosen so far; kept in PTB's in-memory user_data (lost on restart, by design)."""

    quiz_ref: str | None = None
    quiz_waves: tuple[str, ...] = ()  # the waves the chosen quiz set has items for
    level: int | None = None
    delivered_on: date | None = None
    # A past date is kept only once the officer confirms it (every check-in already due would be missed).
    date_confirmed: bool = False
    code: str | None = None
    title: str | None = None
    waves: tuple[str, ...] | None = None
    attendance: int | None = None
    attendance_given: bool = False  # "not known" is an answer too
    zone: str | None = None
    finished: bool = False  # the course was created, or could not be: the conversation ends

    @property
    def step(self) -> str:
        """The next question: the first of STEPS not yet answered ("past" while a past date awaits confirmation)."""
        if self.quiz_ref is None:
            return "quiz"
        if self.level is None:
            return "level"
        if self.delivered_on is None:
            return "date"
        if not self.date_confirmed:
            return "past"
        for step, value in (("code", self.code), ("title", self.title), ("waves", self.waves)):
            if value is None:
                return step
        if not self.attendance_given:
            return "attendance"
        return "zone" if self.zone is None else "done"

    @property
    def number(self) -> int:
        """The question's number for "New course (n/8)"; the past-date check belongs to the date."""
        return STEPS.index("date" if self.step == "past" else self.step) + 1


def day_from_button(value: str, today: date) -> date | None:
    """'today' or 'tomorrow' in the course's zone; None for anything else."""
    return {"today": today, "tomorrow": today + timedelta(days=1)}.get(value)


def day_from_text(text: str) -> date | None:
    """A typed date (YYYY-MM-DD or DD/MM/YYYY, as everywhere officers type one), or None when it is not one."""
    return parse_day(text)


def attendance_from_text(text: str) -> int | None:
    """A typed head count (1 or more), or None when it is not one."""
    text = text.strip()
    return int(text) if text.isdigit() and int(text) >= 1 else None
