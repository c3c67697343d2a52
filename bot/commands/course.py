"""`followup course`: create courses, print invite links, list, show, end and close them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, timedelta
from pathlib import Path

import click
from sqlalchemy.ext.asyncio import AsyncSession

from bot.commands.common import bot_username, fail, run_async, settings_or_exit, transaction
from scheduler.timetable import release_post_wave
from surveys.clock import system_clock
from surveys.domain import lifecycle
from surveys.domain.dates import DATE_FORMATS, DATE_HELP
from surveys.domain.levels import LEVELS, RANGE_TEXT
from surveys.domain.registers import RegisterInvalid, read_register
from surveys.domain.waves import DEFAULT_WAVES, WaveError, parse_list
from surveys.language import LANGUAGES
from surveys.reporting.invite_sheet import write_invite_files
from surveys.settings import Settings
from surveys.store.audit import CLI
from surveys.store.catalog import UnknownQuizSet
from surveys.store.courses import CourseError, check_zone, close_course, create_course, get_course, list_courses
from surveys.store.invites import CourseClosed, deep_link, invite_course
from surveys.store.models import Course
from surveys.store.progress import course_progress


@click.group("course")
def cli() -> None:
    """Courses and their invites."""


@cli.command("create")
@click.argument("code")
@click.option("--title", required=True, help="The course title practitioners will see.")
@click.option(
    "--date", "delivered_on", required=True, type=click.DateTime(list(DATE_FORMATS)), help=f"Course day, {DATE_HELP}."
)
@click.option(
    "--level", required=True, type=click.IntRange(LEVELS.start, LEVELS.stop - 1), help=f"Audience level, {RANGE_TEXT}."
)
@click.option("--quiz", "quiz_ref", required=True, help="Quiz set SLUG or SLUG@VERSION.")
@click.option("--attendance", type=click.IntRange(1), help="Expected attendance (the response-rate denominator).")
@click.option(
    "--waves",
    default=None,
    help=f"Check-in waves, comma-separated, e.g. pre,post,12m (default {','.join(DEFAULT_WAVES)}, "
    "those the quiz set has items for).",
)
@click.option("--zone", default=None, help="Time zone for send windows (default FOLLOWUP_TIMEZONE).")
@click.option(
    "--language",
    type=click.Choice(LANGUAGES, case_sensitive=False),
    default=None,
    help="Speak to everyone on this course in cy (Cymraeg) or en (English); default: each person chooses.",
)
@click.option(
    "--yes", "-y", "confirmed", is_flag=True, help="Create it even if the date is in the past, without asking."
)
@run_async
async def create_command(
    code: str,
    title: str,
    delivered_on: date,
    level: int,
    quiz_ref: str,
    attendance: int | None,
    waves: str | None,
    zone: str | None,
    language: str | None,
    confirmed: bool,
) -> None:
    """Create a course on a stored quiz set (a past date is confirmed first)."""
    settings = settings_or_exit()
    now, day = system_clock(), delivered_on.date()
    try:
        zone = check_zone(zone or settings.timezone)
        chosen = parse_list(waves) if waves else None
    except (CourseError, WaveError) as exc:
        fail(str(exc))
    if lifecycle.day_has_passed(day, zone, now) and not confirmed:
        click.confirm(
            f"{day} is in the past: check-ins already due by now would be missed by everyone who joins. "
            "Create the course anyway?",
            abort=True,
            err=True,
        )
    try:
        async with transaction(settings) as session:
            course = await create_course(
                session,
                code=code,
                title=title,
                delivered_on=day,
                level=level,
                quiz_ref=quiz_ref,
                now=now,
                zone=zone,
                waves=chosen,
                expected_attendance=attendance,
                actor=CLI,
            )
            course.language = language.lower() if language else None
            click.echo(
                f"Created course {course.code} ({course.title}, {course.delivered_on}, level {course.level}, "
                f"{course.quiz_set.ref}, waves {', '.join(course.waves)}"
                f"{', in ' + course.language if course.language else ''})."
            )
    except (CourseError, WaveError, UnknownQuizSet) as exc:
        fail(str(exc))


@cli.command("invite")
@click.argument("code")
@click.option(
    "--register",
    "register",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Register CSV (role, agency, optional level, any other columns) for one link per attendee.",
)
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the printable sheet, QR code (PNG, SVG) and mail-merge CSV.",
)
@click.option(
    "--expires",
    "expires_days",
    type=click.IntRange(1, 365),
    default=None,
    help="Links stop working after this many days.",
)
@run_async
async def invite_command(code: str, register: Path | None, out: Path | None, expires_days: int | None) -> None:
    """Make the course's invite link (and with --register, one single-use link per attendee)."""
    settings = settings_or_exit()
    attendees = []
    if register is not None:
        if out is None:
            fail("--register needs --out DIR for the mail-merge file")
        try:
            attendees = read_register(register, roles=settings.roles, agencies=settings.agencies)
        except RegisterInvalid as exc:
            for problem in exc.problems:
                click.echo(f"{register}: {problem}", err=True)
            fail(f"{len(exc.problems)} problem(s) in the register: nothing was made")
    username = await bot_username(settings)
    now = system_clock()
    expires_at = now + timedelta(days=expires_days) if expires_days else None
    try:
        async with transaction(settings) as session:
            course = await get_course(session, code)
            shared, issued = await invite_course(
                session, course, now, attendees=attendees, expires_at=expires_at, actor=CLI
            )
            personal = [(a.echo, deep_link(username, i.token)) for a, i in zip(attendees, issued, strict=True)]
            code, title, day, waves = course.code, course.title, str(course.delivered_on), tuple(course.waves)
            sheet_language = course.language or settings.default_language
    except (CourseError, CourseClosed) as exc:
        fail(str(exc))
    link = deep_link(username, shared.token)
    click.echo(link)
    if out is not None:
        files = write_invite_files(
            out,
            course_code=code,
            course_title=title,
            course_date=day,
            waves=waves,
            link=link,
            bot_username=username,
            attendees=personal if register is not None else None,
            language=sheet_language,
        )
        click.echo(f"Wrote {files.sheet}, {files.png}, {files.svg}")
        if files.mail_merge:
            click.echo(f"Wrote {files.mail_merge} with {len(personal)} single-use link(s).")


@asynccontextmanager
async def _course_transaction(code: str) -> AsyncIterator[tuple[Settings, AsyncSession, Course]]:
    """Settings, a transaction and the course CODE; a CourseError anywhere ends the command cleanly."""
    settings = settings_or_exit()
    try:
        async with transaction(settings) as session:
            yield settings, session, await get_course(session, code)
    except CourseError as exc:
        fail(str(exc))


@cli.command("show")
@click.argument("code")
@run_async
async def show_command(code: str) -> None:
    """Show a course and its response rates per wave."""
    async with _course_transaction(code) as (_, session, course):
        progress = await course_progress(session, course)
    click.echo("\n".join(progress.lines()))


@cli.command("end")
@click.argument("code")
@run_async
async def end_command(code: str) -> None:
    """The course day is over: send the post-course check-in to everyone enrolled now."""
    async with _course_transaction(code) as (settings, session, course):
        if course.ended_at is not None:
            fail(f"{course.code} was already ended on {course.ended_at:%Y-%m-%d %H:%M} UTC")
        released = await release_post_wave(session, course, system_clock(), settings, actor=CLI)
    click.echo(f"Ended {course.code}: {released} post-course check-in(s) go out with the next dispatch.")


@cli.command("close")
@click.argument("code")
@run_async
async def close_command(code: str) -> None:
    """Take no more enrolments on this course (check-ins already planned still go out)."""
    async with _course_transaction(code) as (_, session, course):
        await close_course(session, course, system_clock(), actor=CLI)
    click.echo(f"Closed {course.code}: its invite links no longer enrol anyone.")


@cli.command("list")
@run_async
async def list_command() -> None:
    """List courses, newest first."""
    settings = settings_or_exit()
    now = system_clock()
    async with transaction(settings) as session:
        courses = await list_courses(session)
        if not courses:
            click.echo("No courses yet: `followup course create` makes one.")
        for course in courses:
            progress = await course_progress(session, course)
            state = lifecycle.status(course, now)
            waves = "  ".join(f"{w.wave} {w.completed}/{w.asked}" for w in progress.waves)
            attendance = f"/{course.expected_attendance}" if course.expected_attendance else ""
            click.echo(
                f"{course.code}\t{course.delivered_on}\t{state}\tenrolled {progress.enrolled}{attendance}"
                f"\t{waves}\t{course.title}"
            )
