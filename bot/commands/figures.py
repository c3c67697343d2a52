"""`followup figures`: the board's organisational figures (referrals, CSE forms, intelligence) from a CSV."""

from __future__ import annotations

from pathlib import Path

import click

from bot.commands.common import fail, run_async, settings_or_exit, transaction
from surveys.clock import system_clock
from surveys.domain.org_figures import COLUMNS, FiguresError, parse_figures, period_text
from surveys.store.audit import CLI
from surveys.store.figures import import_figures, stored_figures


@click.group("figures")
def cli() -> None:
    """The board's own figures, shown in the annual report beside the training dates."""


@cli.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@run_async
async def import_file(file: Path) -> None:
    """Store FILE.csv (columns period_start, period_end, measure, value); a stored period is replaced.

    Any bad row stops the import with every problem and its row number; nothing is stored then.
    """
    settings = settings_or_exit()
    try:
        text = file.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        fail(f"no file {file}")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read {file} as UTF-8 text ({exc.__class__.__name__}); save it as CSV UTF-8")
    try:
        rows = parse_figures(text)
        async with transaction(settings) as session:
            result = await import_figures(session, rows, now=system_clock(), actor=CLI, source=file.name)
    except FiguresError as exc:
        lines = "\n".join(f"  {p}" for p in exc.problems)
        fail(f"{file.name} has {len(exc.problems)} problem(s); nothing was stored:\n{lines}")
    click.echo(f"Stored {len(rows)} figure(s) from {file.name}: {result.added} new, {result.replaced} replaced.")


@cli.command("list")
@run_async
async def list_figures() -> None:
    """Every stored figure: measure, period and value, tab-separated."""
    settings = settings_or_exit()
    async with transaction(settings) as session:
        figures = await stored_figures(session)
    if not figures:
        click.echo(f"No figures stored yet: `followup figures import FILE.csv` (columns {', '.join(COLUMNS)}).")
        return
    click.echo("\t".join(("measure", "period", "value", "imported")))
    for f in figures:
        click.echo(
            "\t".join(
                (f.measure, period_text(f.period_start, f.period_end), f"{f.value:g}", f"{f.imported_at:%Y-%m-%d}")
            )
        )
