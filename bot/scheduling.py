"""The dispatcher inside the bot process: one APScheduler job, started and stopped with the app."""

from __future__ import annotations

from datetime import UTC

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from telegram.ext import Application

from bot.app import Hook
from bot.messenger import TelegramMessenger
from scheduler.dispatch import Dispatcher
from scheduler.runner import start_periodic
from surveys.clock import Clock, system_clock
from surveys.settings import Settings


def dispatch_hooks(settings: Settings, clock: Clock = system_clock) -> tuple[Hook, Hook]:
    """(on_start, on_stop) hooks for build_application that run the dispatcher every interval.

    The job holds nothing durable: every schedule lives in the database, so a restart (or a
    second process running `followup dispatch`) picks up exactly where this one stopped.
    """
    scheduler = AsyncIOScheduler(timezone=UTC)

    async def start(application: Application) -> None:
        dispatcher = Dispatcher(application.bot_data["sessions"], TelegramMessenger(application.bot), clock, settings)
        application.bot_data["dispatcher"] = dispatcher
        job = start_periodic(dispatcher, settings.dispatch_interval_seconds, scheduler)
        application.bot_data["ticker"] = job.args[0]
        scheduler.start()

    async def stop(application: Application) -> None:
        # Runs before the bot's HTTP session closes: a pass under way finishes its sends and
        # records them, so nothing delivered is left claimed (and sent again after the lease).
        dispatcher = application.bot_data.get("dispatcher")
        if dispatcher is not None:
            dispatcher.stop()  # finish what is claimed, claim nothing more
        if scheduler.running:
            scheduler.shutdown(wait=False)
        ticker = application.bot_data.get("ticker")
        if ticker is not None:
            await ticker.drained()

    return start, stop
