"""`followup export`: long or wide exports for evaluators (CSV, Excel, SPSS) with a codebook."""

from __future__ import annotations

from pathlib import Path

import click

from bot.commands.common import fail, run_async, settings_or_exit, transaction
from surveys.reporting.codebook import SelectionError
from surveys.reporting.export import ExportError, export
from surveys.store.audit import CLI


@click.command("export")
@click.option("--course", "courses", multiple=True, help="Course code (repeat for several; default all).")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx", "sav"]), required=True)
@click.option("--shape", type=click.Choice(["long", "wide"]), default="long", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="File to write.")
@run_async
async def cli(courses: tuple[str, ...], fmt: str, shape: str, out: Path) -> None:
    """Export answers under pseudonyms only (no chat ids, names or usernames)."""
    settings = settings_or_exit()

    def progress(stage: str, rows: int) -> None:
        # A line each 100,000 rows shows a big export is moving; the count itself is said once, at the end.
        if rows // 100_000 > progress.step:  # type: ignore[attr-defined]
            click.echo(f"  {stage}: {rows:,} rows so far…", err=True)
            progress.step = rows // 100_000  # type: ignore[attr-defined]

    progress.step = 0  # type: ignore[attr-defined]
    try:
        async with transaction(settings) as session:
            rows = await export(
                session,
                list(courses) or None,
                fmt,
                shape,
                out,
                progress=progress,
                actor=CLI,  # type: ignore[arg-type]
            )
    except (SelectionError, ExportError) as exc:
        fail(str(exc))
    click.echo(f"Wrote {rows:,} rows to {out}" + (" (codebook beside it)" if fmt == "csv" else " (codebook inside)"))
