"""`followup report`: the impact report as report.html, report.pdf and report.json (annual with --from/--to)."""

from __future__ import annotations

import time
from pathlib import Path

import click

from bot.commands.common import fail, run_async, settings_or_exit, transaction
from surveys.reporting.codebook import SelectionError
from surveys.reporting.period import Period, PeriodError
from surveys.reporting.report import build_report, write_report
from surveys.store.audit import CLI


def period_from(start: str | None, end: str | None) -> Period | None:
    """The period --from and --to give (None when neither); exit 1 with a clear line when they cannot."""
    if start is None and end is None:
        return None
    if start is None or end is None:
        fail("give both --from and --to (e.g. --from 2026-01-01 --to 2026-12-31), or neither")
    try:
        return Period.parse(start, end)  # type: ignore[arg-type]
    except PeriodError as exc:
        fail(str(exc))
    return None  # unreachable: fail raised


@click.command("report")
@click.option("--course", "courses", multiple=True, help="Course code (repeat for several; default all).")
@click.option("--from", "start", metavar="DATE", help="Annual report: courses delivered on or after this date.")
@click.option("--to", "end", metavar="DATE", help="Annual report: courses delivered on or before this date.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True, help="Directory to write into.")
@run_async
async def cli(courses: tuple[str, ...], start: str | None, end: str | None, out: Path) -> None:
    """Write the impact report; figures about fewer than FOLLOWUP_SUPPRESS_BELOW people are withheld.

    With --from and --to (YYYY-MM-DD), the annual report: the courses delivered in the period (of those
    named with --course), a table per course, level and quarter, and the board's organisational figures.
    """
    settings = settings_or_exit()
    period = period_from(start, end)
    started = time.perf_counter()
    click.echo("Aggregating answers…", err=True)
    try:
        async with transaction(settings) as session:
            report = await build_report(session, list(courses) or None, settings, actor=CLI, period=period)
    except SelectionError as exc:
        fail(str(exc))
    click.echo(f"Drawing charts and writing files… ({time.perf_counter() - started:.1f}s so far)", err=True)
    paths = write_report(report, out)
    for path in paths.values():
        click.echo(f"Wrote {path}")
    click.echo(f"Done in {time.perf_counter() - started:.1f}s.", err=True)
