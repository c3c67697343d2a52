"""The periodic tick: one APScheduler job that dispatches and, once a day, purges."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from apscheduler.job import Job
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from scheduler.dispatch import Dispatcher, DispatchReport
from scheduler.retention import PurgeReport, purge

log = logging.getLogger(__name__)

PURGE_EVERY = timedelta(days=1)


@dataclass
class Ticker:
    """Runs one dispatch pass per tick and a purge when a day has passed since the last one.

    Remembering the last purge only in memory is safe: a purge is idempotent, so a restart at
    worst purges once more. Everything durable is in the database.
    """

    dispatcher: Dispatcher
    last_purge: datetime | None = None
    _busy: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)

    async def drained(self) -> None:
        """Return once no tick is running (call after dispatcher.stop() at shutdown)."""
        async with self._busy:
            pass

    async def tick(self) -> tuple[DispatchReport, PurgeReport | None]:
        """Dispatch once; purge if due. Errors are logged, never stop the schedule."""
        async with self._busy:
            return await self._tick()

    async def _tick(self) -> tuple[DispatchReport, PurgeReport | None]:
        report = await self.dispatcher.run_once()
        if report != DispatchReport():
            log.info("%s", report)
        now = self.dispatcher.clock()
        purged = None
        if self.last_purge is None or now - self.last_purge >= PURGE_EVERY:
            async with self.dispatcher.sessions() as session:
                purged = await purge(session, now, self.dispatcher.settings)
            self.last_purge = now
            log.info("%s", purged)
        return report, purged


async def _safe_tick(ticker: Ticker) -> None:
    try:
        await ticker.tick()
    except Exception:
        # The next tick retries from the database; one failed pass must not end the schedule.
        log.exception("dispatch tick failed")


def start_periodic(dispatcher: Dispatcher, interval: float, scheduler: AsyncIOScheduler) -> Job:
    """Add the dispatch job (every `interval` seconds, one at a time, missed runs coalesced)."""
    ticker = Ticker(dispatcher)
    return scheduler.add_job(
        _safe_tick,
        "interval",
        args=[ticker],
        seconds=interval,
        id="followup-dispatch",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=None,
        replace_existing=True,
        # First pass at start-up, not one interval later. APScheduler runs on the wall clock,
        # whatever clock the dispatcher was given.
        next_run_time=datetime.now().astimezone(),
    )
