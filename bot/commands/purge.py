"""`followup purge`: delete chat links and invites past retention (the daily job does it too)."""

from __future__ import annotations

import asyncio
from datetime import datetime

import click

from bot.commands.common import database, settings_or_exit
from bot.commands.dispatch import parse_at
from scheduler.retention import PurgeReport, purge
from surveys.clock import system_clock
from surveys.settings import Settings
from surveys.store.audit import CLI
from surveys.store.db import make_sessionmaker


async def _purge(at: datetime, settings: Settings) -> PurgeReport:
    engine = await database(settings)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            return await purge(session, at, settings, actor=CLI)
    finally:
        await engine.dispose()


@click.command("purge")
@click.option("--at", "at", metavar="ISO-TIME", default=None, help="Act as if the clock read this time.")
def cli(at: str | None) -> None:
    """Forget who people are once their check-ins are over; drop expired and used invites."""
    settings = settings_or_exit()
    moment = parse_at(at) or system_clock()
    click.echo(str(asyncio.run(_purge(moment, settings))))


if __name__ == "__main__":
    cli()
