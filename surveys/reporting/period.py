"""A reporting period (the board's year): parsing its dates and choosing the courses delivered in it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from surveys.domain.dates import DATE_HELP, parse_day
from surveys.reporting.codebook import CourseInfo, SelectionError, select_courses


class PeriodError(ValueError):
    """A period that cannot be used: a date that does not parse, or a start after its end."""


def parse_date(text: str, what: str = "date") -> date:
    """A date as an officer types it (surveys.domain.dates); PeriodError naming `what` when it does not parse."""
    day = parse_day(text)
    if day is None:
        raise PeriodError(f"{what} {text!r} is not a date: use {DATE_HELP}")
    return day


@dataclass(frozen=True)
class Period:
    """From one date to another, both included."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise PeriodError(f"the period starts ({self.start}) after it ends ({self.end})")

    @classmethod
    def parse(cls, start: str, end: str, names: tuple[str, str] = ("--from", "--to")) -> Period:
        """A period from two typed dates; PeriodError saying which one (by its name in `names`) is wrong."""
        return cls(parse_date(start, names[0]), parse_date(end, names[1]))

    def holds(self, day: date) -> bool:
        """Whether the day falls in the period (its first and last day included)."""
        return self.start <= day <= self.end

    def overlaps(self, start: date, end: date) -> bool:
        """Whether any day from start to end (included) falls in the period."""
        return start <= self.end and self.start <= end

    @property
    def label(self) -> str:
        """How the report and the audit log name the period."""
        return f"{self.start.isoformat()} to {self.end.isoformat()}"


def quarter(day: date) -> str:
    """The calendar quarter a day falls in, as the report labels it: "2026 Q2" (April to June)."""
    return f"{day.year} Q{(day.month - 1) // 3 + 1}"


async def courses_in(session: AsyncSession, period: Period, codes: list[str] | None) -> list[CourseInfo]:
    """The courses delivered in the period (only the named ones when codes are given).

    SelectionError for an unknown code, a named course delivered outside the period, or a period
    in which no course was delivered.
    """
    try:
        chosen = await select_courses(session, codes)
    except SelectionError:
        if codes:
            raise
        chosen = []  # no courses at all: said below, in terms of the period
    outside = [c for c in chosen if not period.holds(c.delivered_on)]
    if codes and outside:
        named = ", ".join(f"{c.code} (delivered {c.delivered_on.isoformat()})" for c in outside)
        raise SelectionError(f"not delivered from {period.label}: {named}")
    inside = [c for c in chosen if period.holds(c.delivered_on)]
    if not inside:
        raise SelectionError(f"no course was delivered from {period.label}: nothing to report")
    return inside
