"""`followup in-depth`: a course's share invited to the in-depth follow-up, and re-drawing its sample for audit."""

from __future__ import annotations

import click

from bot.commands.common import fail, run_async, settings_or_exit, transaction
from surveys.clock import system_clock
from surveys.store.audit import CLI, record
from surveys.store.courses import find_course
from surveys.store.in_depth import ShareError, parse_share, redraw


@click.group("in-depth")
def cli() -> None:
    """The in-depth follow-up: a random share of the 3-month completers, with their line manager."""


@cli.command("share")
@click.argument("code")
@click.argument("percent")
@run_async
async def share(code: str, percent: str) -> None:
    """Invite PERCENT (0-100, default 25) of CODE's 3-month completers from now on."""
    try:
        value = parse_share(percent)
    except ShareError as exc:
        fail(str(exc))
    async with transaction(settings_or_exit()) as session:
        course = await find_course(session, code)
        if course is None:
            fail(f"there is no course with code {code}: `followup course list` shows them")
        assert course is not None
        course.in_depth_share = value
        await record(session, CLI, "in_depth.share", now=system_clock(), target=course.code, detail=f"{value}%")
    click.echo(f"{course.code}: {value}% of 3-month completers will be invited to the in-depth follow-up.")


@cli.command("redraw")
@click.argument("code")
@run_async
async def redraw_command(code: str) -> None:
    """Re-draw CODE's sample from its recorded seed and check it against the stored draw (exit 1 if not)."""
    async with transaction(settings_or_exit()) as session:
        course = await find_course(session, code)
        if course is None:
            fail(f"there is no course with code {code}: `followup course list` shows them")
        assert course is not None
        draws = await redraw(session, course)
        await record(session, CLI, "in_depth.redraw", now=system_clock(), target=course.code)
    for d in draws:
        mark = "invited" if d.recomputed else "-"
        click.echo(f"{d.stratum}\t{d.sequence}\t{mark}\t{'ok' if d.stored == d.recomputed else 'DIFFERS'}")
    differ = sum(d.stored != d.recomputed for d in draws)
    if differ:
        fail(f"{differ} of {len(draws)} stored draws differ from the re-draw")
    click.echo(f"{len(draws)} draws, {sum(d.stored for d in draws)} invited: the re-draw from the seed agrees.")
