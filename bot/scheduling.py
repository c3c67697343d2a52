"""The dispatcher inside the bot process: two jobs on the Application's JobQueue, dispatch and the daily purge."""

from __future__ import annotations

import logging
from datetime import timedelta

from telegram.ext import Application, CallbackContext

from bot.admin.pulse import schedule_pulse
from bot.app import Hook
from bot.messenger import TelegramMessenger
from scheduler.dispatch import Dispatcher, DispatchReport
from scheduler.leader import DispatchLock
from scheduler.retention import purge
from surveys.clock import Clock, system_clock
from surveys.settings import Settings

log = logging.getLogger(__name__)

DISPATCH_JOB = "followup-dispatch"
PURGE_JOB = "followup-purge"
PURGE_EVERY = timedelta(days=1)
# One run at a time (a slow pass is never overlapped by the next), missed runs folded into one,
# and a run late because the last pass was long still runs.
_ONE_AT_A_TIME = {"max_instances": 1, "coalesce": True, "misfire_grace_time": None, "replace_existing": True}


def dispatch_jobs(settings: Settings, clock: Clock = system_clock) -> Hook:
    """An on_start hook for build_application: dispatch every interval and purge daily, both from start-up.

    The jobs hold nothing durable: every schedule lives in the database, so a restart (or a
    second process running `followup dispatch`) picks up exactly where this one stopped, and a
    restart at worst purges once more (a purge is idempotent). On shutdown PTB's Application.stop
    waits for a job under way; the dispatcher sees the application stopping, claims nothing more
    and records what it sent, so nothing delivered is left claimed (and sent again after the lease).

    On PostgreSQL several bot processes may share one database: each pass first takes the dispatch
    lock (scheduler.leader), so one process sends at a time; a tick that finds it held stands by,
    and the first tick after the holder finishes, stops or dies takes over.
    """

    async def start(application: Application) -> None:
        sessions = application.bot_data["sessions"]
        dispatcher = Dispatcher(
            sessions,
            TelegramMessenger(application.bot),
            clock,
            settings,
            until=lambda: not application.running,
            lock=DispatchLock.on(sessions),
        )
        application.bot_data["dispatcher"] = dispatcher
        queue = application.job_queue
        if queue is None:
            raise RuntimeError("the bot needs PTB's job-queue extra: pip install 'python-telegram-bot[job-queue]'")
        queue.run_repeating(
            _dispatch,
            settings.dispatch_interval_seconds,
            first=0,
            data=dispatcher,
            name=DISPATCH_JOB,
            job_kwargs={"id": DISPATCH_JOB, **_ONE_AT_A_TIME},
        )
        queue.run_repeating(
            _purge,
            PURGE_EVERY,
            first=0,
            data=dispatcher,
            name=PURGE_JOB,
            job_kwargs={"id": PURGE_JOB, **_ONE_AT_A_TIME},
        )
        schedule_pulse(application, settings, clock)  # the training officers' Monday pulse

    return start


async def _dispatch(context: CallbackContext) -> None:
    """One dispatch pass; a failure goes to the application's error handler and the next run retries."""
    dispatcher: Dispatcher = context.job.data  # type: ignore[union-attr, assignment]
    report = await dispatcher.run_once()
    if report != DispatchReport():
        log.info("%s", report)


async def _purge(context: CallbackContext) -> None:
    """Forget chat links and invites past retention."""
    dispatcher: Dispatcher = context.job.data  # type: ignore[union-attr, assignment]
    async with dispatcher.sessions() as session, session.begin():
        log.info("%s", await purge(session, dispatcher.clock(), dispatcher.settings))
