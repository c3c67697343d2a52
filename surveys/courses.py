"""Courses: create, find, end and close; what counts as an ended course."""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from surveys.catalog import find_quiz_set
from surveys.models import Course
from surveys.render import MAX_COURSE_TITLE

CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{1,39}$")
DEFAULT_WAVES = ("post", "3m", "6m")
WAVE_PATTERN = re.compile(r"^(pre|post|\d{1,2}m)$")


class CourseError(ValueError):
    """A course request that cannot be carried out; the message says why, for the officer."""


def parse_waves(text: str | None) -> tuple[str, ...]:
    """Parse 'pre,post,3m,6m'; the default is post, 3m, 6m."""
    if not text:
        return DEFAULT_WAVES
    waves = tuple(w.strip() for w in text.split(",") if w.strip())
    bad = [w for w in waves if not WAVE_PATTERN.match(w)]
    if bad or not waves:
        raise CourseError(f"unknown wave(s) {', '.join(bad) or '(none)'}: use pre, post and months like 3m, 6m, 12m")
    if len(set(waves)) != len(waves):
        raise CourseError("a wave is listed twice")
    return waves


async def create_course(
    session: AsyncSession,
    *,
    code: str,
    title: str,
    delivered_on: date,
    level: int,
    quiz_ref: str,
    now: datetime,
    zone: str = "Europe/London",
    waves: tuple[str, ...] = DEFAULT_WAVES,
    expected_attendance: int | None = None,
) -> Course:
    """Create a course on a stored quiz-set version; CourseError on any bad value."""
    if not CODE_PATTERN.match(code):
        raise CourseError("a course code is 2–40 letters, digits, '-' or '_', e.g. CSE-2026-03")
    if not title.strip():
        raise CourseError("the course needs a title")
    if len(title.strip()) > MAX_COURSE_TITLE:
        # Item texts quote the title; the quiz-set validator checks lengths against this bound.
        raise CourseError(f"the title is longer than {MAX_COURSE_TITLE} characters")
    if not 1 <= level <= 6:
        raise CourseError("the level is 1 (infrequent contact) to 6 (strategic managers)")
    if expected_attendance is not None and expected_attendance < 1:
        raise CourseError("expected attendance must be at least 1")
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise CourseError(f"unknown time zone {zone!r}, e.g. Europe/London") from None
    if await find_course(session, code) is not None:
        raise CourseError(f"a course with code {code} already exists")
    quiz = await find_quiz_set(session, quiz_ref)
    known = set(quiz.definition.get("waves", ()))
    missing = [w for w in waves if w not in known]
    if missing:
        raise CourseError(
            f"quiz set {quiz.ref} has no items for wave(s) {', '.join(missing)}; it knows {', '.join(sorted(known))}"
        )
    course = Course(
        code=code,
        title=title.strip(),
        delivered_on=delivered_on,
        level=level,
        zone=zone,
        quiz_set_id=quiz.id,
        quiz_set=quiz,
        waves=list(waves),
        expected_attendance=expected_attendance,
        created_at=now,
    )
    session.add(course)
    await session.flush()
    return course


async def find_course(session: AsyncSession, code: str) -> Course | None:
    """The course with this code (case-insensitive), or None."""
    return await session.scalar(select(Course).where(Course.code.ilike(code)))


async def get_course(session: AsyncSession, code: str) -> Course:
    """The course with this code; CourseError naming it if there is none."""
    course = await find_course(session, code)
    if course is None:
        raise CourseError(f"no course with code {code}; `followup course list` shows them")
    return course


async def list_courses(session: AsyncSession) -> list[Course]:
    """All courses, newest first."""
    return list(await session.scalars(select(Course).order_by(Course.delivered_on.desc(), Course.code)))


def course_has_ended(course: Course, now: datetime) -> bool:
    """A course has ended once the officer ends it, or once its date has passed in its zone."""
    if course.ended_at is not None:
        return True
    return now.astimezone(ZoneInfo(course.zone)).date() > course.delivered_on


def course_is_closed(course: Course) -> bool:
    """A closed course takes no more enrolments."""
    return course.closed_at is not None
