"""`followup course`: create courses, print invite links, list, show, end and close them."""

from __future__ import annotations

from datetime import date

import click

from bot.commands.common import fail, run_async, settings_or_exit, transaction
from bot.identity import bot_username
from surveys.catalog import UnknownQuizSet
from surveys.clock import system_clock
from surveys.courses import CourseError, create_course, get_course, list_courses, parse_waves
from surveys.invites import deep_link, issue_invite


@click.group("course")
def cli() -> None:
    """Courses and their invites."""


@cli.command("create")
@click.argument("code")
@click.option("--title", required=True, help="The course title practitioners will see.")
@click.option("--date", "delivered_on", required=True, type=click.DateTime(["%Y-%m-%d"]), help="Course day, YYYY-MM-DD.")
@click.option("--level", required=True, type=click.IntRange(1, 6), help="Audience level 1–6.")
@click.option("--quiz", "quiz_ref", required=True, help="Quiz set SLUG or SLUG@VERSION.")
@click.option("--attendance", type=click.IntRange(1), help="Expected attendance (the response-rate denominator).")
@click.option("--waves", default=None, help="Waves, e.g. pre,post,3m,6m (default post,3m,6m).")
@click.option("--zone", default=None, help="Time zone for send windows (default FOLLOWUP_TIMEZONE).")
@run_async
async def create_command(
    code: str, title: str, delivered_on: date, level: int, quiz_ref: str,
    attendance: int | None, waves: str | None, zone: str | None,
) -> None:
    """Create a course on a stored quiz set."""
    settings = settings_or_exit()
    try:
        async with transaction(settings) as session:
            course = await create_course(
                session, code=code, title=title, delivered_on=delivered_on.date(), level=level,
                quiz_ref=quiz_ref, now=system_clock(), zone=zone or settings.timezone,
                waves=parse_waves(waves), expected_attendance=attendance,
            )
            click.echo(
                f"Created course {course.code} ({course.title}, {course.delivered_on}, level {course.level}, "
                f"{course.quiz_set.ref}, waves {', '.join(course.waves)})."
            )
    except (CourseError, UnknownQuizSet) as exc:
        fail(str(exc))


@cli.command("invite")
@click.argument("code")
@run_async
async def invite_command(code: str) -> None:
    """Print the course's shared deep link (a new one each time; old ones keep working)."""
    settings = settings_or_exit()
    username = await bot_username(settings)
    try:
        async with transaction(settings) as session:
            course = await get_course(session, code)
            issued = await issue_invite(session, course, system_clock())
    except CourseError as exc:
        fail(str(exc))
    click.echo(deep_link(username, issued.token))


@cli.command("list")
@run_async
async def list_command() -> None:
    """List courses, newest first."""
    settings = settings_or_exit()
    async with transaction(settings) as session:
        courses = await list_courses(session)
        if not courses:
            click.echo("No courses yet: `followup course create` makes one.")
        for course in courses:
            state = "closed" if course.closed_at else ("ended" if course.ended_at else "open")
            click.echo(f"{course.code}\t{course.delivered_on}\t{state}\t{course.quiz_set.ref}\t{course.title}")
