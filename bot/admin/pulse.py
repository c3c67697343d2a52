"""The weekly pulse in the chat: /pulse on demand, and every Monday at 09:30 to each training officer."""

from __future__ import annotations

import logging
from datetime import timedelta

from telegram import Update
from telegram.error import BadRequest, Forbidden
from telegram.ext import Application, CallbackContext, ContextTypes

from bot.admin.roles import Actor
from bot.admin.wording import chunks
from bot.delivery import deliver, send
from bot.replies import Reply, Text
from bot.texts import render_text
from scheduler.messages import local_day
from scheduler.pulse import Pulse, claim_week, next_pulse_at, week_of, weekly_pulse
from surveys.clock import Clock
from surveys.settings import Settings
from surveys.store.audit import record

log = logging.getLogger(__name__)

PULSE_JOB = "followup-pulse"


def pulse_text(pulse: Pulse) -> list[str]:
    """The pulse as chat messages (one unless there are very many courses); withheld counts in words."""
    k = pulse.suppress_below

    def count(n: int | None) -> str:
        return f"fewer than {k}" if n is None else ("none" if n == 0 else str(n))

    courses = [
        {
            "code": c.code,
            "title": c.title,
            "attendance": c.attendance,
            "attendance_known": c.attendance_known,
            "unreachable": count(c.unreachable),
            "waves": [
                {
                    "wave": w.wave,
                    "answered": count(w.answered),
                    "percent": w.percent,
                    "closed": w.closed,
                    "closing_this_week": w.closing_this_week,
                    "closes_on": local_day(w.closes_at, c.zone),
                }
                for w in c.waves
            ],
        }
        for c in pulse.courses
    ]
    alerts = [
        {
            "code": c.code,
            "wave": w.wave,
            "closed_on": local_day(w.closes_at, c.zone),
            "answered": count(w.answered),
            "attendance": c.attendance,
        }
        for c, w in pulse.alerts
    ]
    text = render_text(
        "pulse.txt",
        day=local_day(pulse.at, pulse.zone),
        alerts=alerts,
        courses=courses,
        alert_below=pulse.alert_below,
        k=k,
    )
    return chunks(text.split("\n"))


async def show(update: Update, context: ContextTypes.DEFAULT_TYPE, actor: Actor) -> None:
    """/pulse: this week's pulse now."""
    journey = context.application.bot_data["journey"]  # its store, settings and clock (bot.app)
    now = journey.clock()
    async with journey.sessions() as session, session.begin():
        pulse = await weekly_pulse(session, now, journey.settings)
        await record(session, actor.audited(journey.settings), "pulse", now=now)
    await deliver(update, context, Reply(tuple(Text(t) for t in pulse_text(pulse))))


def schedule_pulse(
    application: Application, settings: Settings, clock: Clock, *, after: timedelta = timedelta(0)
) -> None:
    """Put the next Monday-09:30 pulse on the JobQueue; each run sends, then puts on the next one.

    The delay is measured on the injected clock, so a rehearsal clock keeps its own Mondays; a claim per
    week in the database (scheduler.pulse.claim_week) makes several workers send it once. `after` skips
    a pulse about to be due (the run that just sent it may have fired a moment early).
    """
    assert application.job_queue is not None
    now = clock()
    application.job_queue.run_once(
        _weekly,
        next_pulse_at(now + after, settings.zone) - now,
        data=(settings, clock),
        name=PULSE_JOB,
        job_kwargs={
            "id": PULSE_JOB,
            "replace_existing": True,
            "misfire_grace_time": None,
            "max_instances": 1,
            "coalesce": True,
        },
    )


async def send_pulse(application: Application, settings: Settings, clock: Clock) -> int:
    """Claim this week's pulse and send it to every training officer; how many got it (0 if already sent)."""
    now = clock()
    async with application.bot_data["sessions"]() as session, session.begin():
        if not await claim_week(session, week_of(now, settings.zone), now):
            return 0
        pulse = await weekly_pulse(session, now, settings)
    messages = tuple(Text(t) for t in pulse_text(pulse))
    sent = 0
    for officer in settings.admin_ids:
        try:
            await send(application.bot, officer, messages)
            sent += 1
        except (Forbidden, BadRequest):
            # An officer who never started a chat with the bot (or blocked it); ids are not logged.
            log.warning("the weekly pulse could not reach one training officer")
    log.info("Weekly pulse sent to %d training officer(s).", sent)
    return sent


async def _weekly(context: CallbackContext) -> None:
    """The Monday job: send, then schedule the next (from just after this one, so a run a little early is fine)."""
    settings, clock = context.job.data  # type: ignore[union-attr, misc]
    try:
        await send_pulse(context.application, settings, clock)
    finally:
        schedule_pulse(context.application, settings, clock, after=timedelta(minutes=1))
