"""`followup audit`: list admin actions and refused attempts, newest first."""

from __future__ import annotations

import click

from bot.commands.common import run_async, settings_or_exit, transaction
from surveys.store.audit import format_event, recent


@click.command("audit")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 100000), help="How many events.")
@click.option("--action", default=None, help="Only this action, e.g. course.end or denied.")
@run_async
async def cli(limit: int, action: str | None) -> None:
    """List the audit log (time, role, pseudonymised actor, action, target, outcome)."""
    settings = settings_or_exit()
    async with transaction(settings) as session:
        events = await recent(session, limit, action)
        if not events:
            click.echo("The audit log is empty.")
        for event in events:
            click.echo(format_event(event))
