"""`followup report`: the impact report as report.html, report.pdf and report.json."""

from __future__ import annotations

import time
from pathlib import Path

import click

from bot.commands.common import fail, run_async, settings_or_exit, transaction
from surveys.reporting.codebook import SelectionError
from surveys.reporting.report import build_report, write_report
from surveys.store.audit import CLI


@click.command("report")
@click.option("--course", "courses", multiple=True, help="Course code (repeat for several; default all).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True, help="Directory to write into.")
@run_async
async def cli(courses: tuple[str, ...], out: Path) -> None:
    """Write the impact report; figures about fewer than FOLLOWUP_SUPPRESS_BELOW people are withheld."""
    settings = settings_or_exit()
    started = time.perf_counter()
    click.echo("Aggregating answers…", err=True)
    try:
        async with transaction(settings) as session:
            report = await build_report(session, list(courses) or None, settings, actor=CLI)
    except SelectionError as exc:
        fail(str(exc))
    click.echo(f"Drawing charts and writing files… ({time.perf_counter() - started:.1f}s so far)", err=True)
    paths = write_report(report, out)
    for path in paths.values():
        click.echo(f"Wrote {path}")
    click.echo(f"Done in {time.perf_counter() - started:.1f}s.", err=True)
