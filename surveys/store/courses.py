"""Courses: create, find, end and close."""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from surveys.domain import lifecycle
from surveys.domain.levels import LevelError, parse_level
from surveys.domain.quiz_text import MAX_COURSE_TITLE
from surveys.domain.waves import DEFAULT_WAVES, WaveError, is_wave, order_key, parse_list
from surveys.store.audit import SYSTEM, AuditActor, record
from surveys.store.catalog import find_quiz_set, parsed
from surveys.store.models import Course, QuizSetVersion

CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{1,39}$")


class CourseError(ValueError):
    """A course request that cannot be carried out; the message says why, for the officer."""


class CodeTaken(CourseError):
    """Another course already has this code."""


class CourseClosed(CourseError):
    """The course takes no more enrolments: closing it again or inviting to it would do nothing."""


def check_title(title: str) -> str:
    """The title without outer spaces; CourseError when empty or too long to quote in item texts."""
    if not title.strip():
        raise CourseError("the course needs a title")
    if len(title.strip()) > MAX_COURSE_TITLE:
        # Item texts quote the title; the quiz-set validator checks lengths against this bound.
        raise CourseError(f"the title is longer than {MAX_COURSE_TITLE} characters")
    return title.strip()


def check_zone(zone: str) -> str:
    """A known IANA time zone name; CourseError otherwise."""
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise CourseError(f"unknown time zone {zone!r}, e.g. Europe/London") from None
    return zone


def default_waves(known: tuple[str, ...]) -> tuple[str, ...]:
    """A course's waves when none are named: the quiz set's waves within the default plan (pre, post, 3m, 6m).

    A wave the set adds inside that span (cse-core's 1m reminder of people's commitments) comes with it;
    later ones (12m) are for officers to ask for.
    """
    last = max(order_key(w) for w in DEFAULT_WAVES)
    return tuple(sorted((w for w in known if order_key(w) <= last), key=order_key)) or known


def check_waves(quiz_ref: str, known: tuple[str, ...], waves: tuple[str, ...]) -> None:
    """CourseError naming any wave the quiz-set version (which has items for `known`) cannot ask."""
    missing = [w for w in waves if w not in known]
    if missing:
        raise CourseError(
            f"quiz set {quiz_ref} has no items for wave(s) {', '.join(missing)}; it knows {', '.join(known)}"
        )


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
    waves: tuple[str, ...] | None = None,
    expected_attendance: int | None = None,
    actor: AuditActor = SYSTEM,
) -> Course:
    """Create a course on a stored quiz-set version, audited; CourseError on any bad value.

    Without `waves` the course gets the default waves its quiz set has items for (default_waves).
    """
    if not CODE_PATTERN.match(code):
        raise CourseError("a course code is 2–40 letters, digits, '-' or '_', e.g. CSE-2026-03")
    title = check_title(title)
    try:
        level = parse_level(level)
        bad_waves = [w for w in waves or () if not is_wave(w)]
        if bad_waves:
            parse_list(",".join(bad_waves))
    except (LevelError, WaveError) as exc:
        raise CourseError(str(exc)) from None
    if waves is not None and not waves:
        raise CourseError("a course needs at least one wave, e.g. pre,post,3m,6m")
    if expected_attendance is not None and expected_attendance < 1:
        raise CourseError("expected attendance must be at least 1")
    check_zone(zone)
    if await find_course(session, code) is not None:
        raise CodeTaken(f"a course with code {code} already exists")
    quiz = await find_quiz_set(session, quiz_ref)
    known = parsed(quiz).waves
    waves = default_waves(known) if waves is None else waves
    check_waves(quiz.ref, known, waves)
    course = Course(
        code=code,
        title=title,
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
    await record(session, actor, "course.create", now=now, target=course.code)
    return course


async def close_course(session: AsyncSession, course: Course, now: datetime, *, actor: AuditActor = SYSTEM) -> None:
    """Take no more enrolments (check-ins already planned still go out), audited; CourseClosed if already closed."""
    if lifecycle.is_closed(course):
        raise CourseClosed(f"{course.code} is already closed")
    course.closed_at = now
    await record(session, actor, "course.close", now=now, target=course.code)


async def find_course(session: AsyncSession, code: str) -> Course | None:
    """The course with exactly this code, ignoring case ('_' and '%' are characters, not patterns), or None.

    Its quiz-set version comes with it (progress lines name it), not the version's definition.
    """
    loaded = joinedload(Course.quiz_set, innerjoin=True).defer(QuizSetVersion.definition, raiseload=True)
    return await session.scalar(select(Course).where(func.lower(Course.code) == code.lower()).options(loaded))


async def get_course(session: AsyncSession, code: str) -> Course:
    """The course with this code; CourseError naming it if there is none."""
    course = await find_course(session, code)
    if course is None:
        raise CourseError(f"no course with code {code}; `followup course list` shows them")
    return course


async def list_courses(session: AsyncSession) -> list[Course]:
    """All courses, newest first, without their quiz-set versions."""
    return list(await session.scalars(select(Course).order_by(Course.delivered_on.desc(), Course.code)))
