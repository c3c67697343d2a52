"""A course's life: open, ended (the day is over) or closed (no more enrolments)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Protocol
from zoneinfo import ZoneInfo


class CourseLike(Protocol):
    """What these rules need from a course (the ORM Course satisfies it)."""

    delivered_on: date
    zone: str
    ended_at: datetime | None
    closed_at: datetime | None


class CourseStatus(StrEnum):
    """What officers see beside a course."""

    OPEN = "open"  # the course day has not passed and nobody ended it
    ENDED = "ended"  # the day is over: post check-ins go out; people may still join
    CLOSED = "closed"  # no more enrolments


def day_has_passed(day: date, zone: str, now: datetime) -> bool:
    """A course day has passed once the date in its zone is later than it."""
    return now.astimezone(ZoneInfo(zone)).date() > day


def has_ended(course: CourseLike, now: datetime) -> bool:
    """The course day is over once the officer ended it or its date has passed in the course's zone."""
    if course.ended_at is not None:
        return True
    return day_has_passed(course.delivered_on, course.zone, now)


def is_closed(course: CourseLike) -> bool:
    """A closed course takes no more enrolments."""
    return course.closed_at is not None


def status(course: CourseLike, now: datetime) -> CourseStatus:
    """Closed beats ended beats open; "ended" includes a course whose date has passed."""
    if is_closed(course):
        return CourseStatus.CLOSED
    return CourseStatus.ENDED if has_ended(course, now) else CourseStatus.OPEN
