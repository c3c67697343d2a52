"""`followup db`: create or upgrade the database schema."""

from __future__ import annotations

import click

from bot.commands.common import settings_or_exit
from surveys.store.migrate import current_head, upgrade


@click.group("db")
def cli() -> None:
    """Database schema commands."""


@cli.command("upgrade")
def upgrade_command() -> None:
    """Create the database, or bring it up to the newest schema."""
    settings = settings_or_exit()
    upgrade(settings.database_url)
    click.echo(f"Database at revision {current_head()}.")
