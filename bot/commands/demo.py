"""`followup demo`: the whole cycle offline, from invites to the impact report."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("demo")
@click.option(
    "--out",
    "out",
    default="demo-out",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the database, report and exports.",
)
@click.option(
    "--attendees",
    default=60,
    show_default=True,
    type=click.IntRange(5, 500),
    help="How many simulated practitioners attend the course.",
)
@click.option("--seed", default=7, show_default=True, help="Seed for the simulated behaviour.")
def cli(out: Path, attendees: int, seed: int) -> None:
    """Run a course's follow-up end to end on a local Bot API emulator and SQLite, offline."""
    click.echo(f"followup demo: {attendees} simulated practitioners, six months, offline (SQLite in {out}/).")
    # The demo is a tool the product ships, not part of the bot: loaded only when asked for.
    from bot.demo.run import run_demo

    result = run_demo(out, attendees, seed, echo=click.echo)
    click.echo("")
    click.echo(
        f"Done in {result.seconds:.0f} s. Completed check-ins: "
        + ", ".join(f"{wave} {n}" for wave, n in result.completed.items())
        + f" (of {result.attendees} attending)."
    )
    click.echo(f"Dispatch: {result.dispatch}")
    for path in result.files:
        click.echo(f"  {path}")
