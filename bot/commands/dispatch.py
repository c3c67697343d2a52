"""`followup dispatch`: send due check-ins through Telegram, once (cron) or every interval."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from datetime import datetime

import click

from bot.commands.common import settings_or_exit
from bot.logging import setup_logging
from bot.messenger import TelegramMessenger
from bot.ratelimit import paced_bot
from bot.request import AiohttpRequest
from scheduler.dispatch import Dispatcher, DispatchReport
from scheduler.leader import DispatchLock
from scheduler.messenger import MessengerUnavailable
from surveys.clock import Clock, FrozenClock, system_clock
from surveys.settings import Settings
from surveys.store.db import make_engine, make_sessionmaker

log = logging.getLogger("bot.dispatch")


def parse_at(value: str | None) -> datetime | None:
    """An ISO time with a zone (a trailing Z is UTC); None stays None."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter("expected an ISO time such as 2026-04-15T09:30+01:00") from None
    if moment.tzinfo is None:
        raise click.BadParameter("give the time zone too, e.g. 2026-04-15T09:30Z")
    return moment


STANDING_BY = "Another worker holds the dispatch lock and sends what is due; nothing sent here."


async def dispatch(
    settings: Settings, clock: Clock, *, once: bool, worker_id: str | None = None
) -> tuple[DispatchReport, bool]:
    """Run one pass (or passes every interval until SIGTERM/SIGINT); the summed report, and whether it only stood by.

    Telegram is first called when something is due; a token it rejects or a server it cannot
    reach ends the command with one line saying what to check (claims are let go first). On
    PostgreSQL it sends only while it holds the dispatch lock (scheduler.leader), so it never
    doubles the rate of a running `followup run`; standing by, it tries again every interval.
    """
    if settings.bot_token is None:
        raise click.ClickException("bad setting: FOLLOWUP_BOT_TOKEN is not set")
    engine = make_engine(settings.database_url)
    # aiohttp: far less CPU per request than PTB's httpx default; a pool as wide as the sends in flight.
    request = AiohttpRequest(connection_pool_size=64)
    # Not `async with`: that would call getMe at once, even when nothing is due.
    bot = paced_bot(settings.bot_token.get_secret_value(), base_url=settings.telegram_api_url, request=request)
    sessions = make_sessionmaker(engine)
    dispatcher = Dispatcher(
        sessions, TelegramMessenger(bot), clock, settings, worker_id, lock=DispatchLock.on(sessions)
    )
    try:
        report = await _passes(dispatcher, settings, once=once)
        return report, dispatcher.stood_by and report == DispatchReport()
    except MessengerUnavailable as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        await bot.shutdown()  # closes the HTTP session if a send opened it
        await engine.dispose()


async def _passes(dispatcher: Dispatcher, settings: Settings, *, once: bool) -> DispatchReport:
    """One pass, or one every interval until SIGTERM/SIGINT; the reports added up."""
    stop = asyncio.Event()

    def on_signal() -> None:
        # Sends already claimed finish and are recorded; nothing new is claimed.
        stop.set()
        dispatcher.stop()

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, on_signal)
    total = DispatchReport()
    while True:
        total = total + await dispatcher.run_once()
        if once or stop.is_set():
            return total
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), settings.dispatch_interval_seconds)
        if stop.is_set():
            return total


@click.command("dispatch")
@click.option("--once", is_flag=True, help="Run one pass and exit (for cron).")
@click.option(
    "--at",
    "at",
    metavar="ISO-TIME",
    default=None,
    help="Act as if the clock read this time (rehearsals and checks); needs --once.",
)
@click.option("--worker-id", default=None, help="Name this worker in claims (default: host:pid:random).")
def cli(once: bool, at: str | None, worker_id: str | None) -> None:
    """Send due invitations and reminders, expire closed check-ins.

    On PostgreSQL one process sends at a time (a `followup run` included): this one stands by
    while another holds the dispatch lock.
    """
    moment = parse_at(at)
    if moment is not None and not once:
        raise click.UsageError("--at needs --once: a frozen clock would never move on")
    settings = settings_or_exit()
    setup_logging(settings)  # the token redactor on every record, as in `followup run`
    clock: Clock = FrozenClock(moment) if moment else system_clock
    report, stood_by = asyncio.run(dispatch(settings, clock, once=once, worker_id=worker_id))
    if stood_by:
        click.echo(STANDING_BY)
    elif report == DispatchReport():
        click.echo(f"Nothing due at {clock():%Y-%m-%d %H:%M %Z}.")
    else:
        click.echo(str(report))


if __name__ == "__main__":
    cli()
