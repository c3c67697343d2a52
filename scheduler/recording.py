"""Writing send outcomes back: delivered, failed for good, unreachable, to retry, or let go unsent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam, case, update
from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.backoff import backoff
from scheduler.claims import Claim
from scheduler.messenger import DeliveryError, OutgoingMessage, Unreachable
from scheduler.plan import next_in_window
from scheduler.reminders import first_reminder, next_reminder
from surveys.domain.states import CheckInState
from surveys.settings import Settings
from surveys.store.enrolments import cancel_open_check_ins
from surveys.store.models import CheckIn, Contact

Failure = Literal["unreachable", "failed", "retried"]


@dataclass(frozen=True)
class Job:
    """One claimed check-in with what its message needs and what recording its outcome needs."""

    claim: Claim
    wave: str
    chat_id: int
    enrolment_id: int
    zone: ZoneInfo
    sent_at: datetime | None
    reminders_sent: int
    snoozed: bool
    attempts: int
    message: OutgoingMessage | None  # None: building it failed, recorded as a permanent failure
    message_only: bool = False  # a commitments reminder: completed once delivered (scheduler.nudges)


@dataclass(frozen=True)
class Outcome:
    """What became of one job's send."""

    job: Job
    message_id: int | None = None
    error: DeliveryError | None = None
    not_sent: bool = False  # the messenger was unavailable: let go of the claim, change nothing else


async def record_delivered(
    session: AsyncSession, delivered: list[Outcome], worker_id: str, now: datetime, settings: Settings
) -> tuple[int, int]:
    """Record delivered messages, one executemany per kind (a statement a row costs more than the send).

    Returns (invitations, reminders).
    """
    table = CheckIn.__table__
    mine = and_(table.c.id == bindparam("b_id"), table.c.claimed_by == bindparam("b_worker"))
    common = {
        "message_id": bindparam("b_message_id"),
        "next_action_at": bindparam("b_next"),
        "snoozed_until": None,
        "claimed_by": None,
        "claim_expires_at": None,
        "attempts": 0,
        "last_error": None,
    }
    invitations = [o for o in delivered if o.job.claim.kind == "invitation"]
    reminders = [o for o in delivered if o.job.claim.kind == "reminder"]
    if invitations:
        # Someone may have started (or been cancelled) while the message was in flight.
        state = case((table.c.state == CheckInState.SCHEDULED, CheckInState.SENT), else_=table.c.state)
        await session.execute(
            table.update().where(mine).values(state=state, sent_at=now, reminders_sent=0, **common),
            [_delivered_params(o, worker_id, now, settings) for o in invitations],
        )
    if reminders:
        await session.execute(
            table.update().where(mine).values(reminders_sent=bindparam("b_count"), **common),
            [_delivered_params(o, worker_id, now, settings) for o in reminders],
        )
    return len(invitations), len(reminders)


def _delivered_params(outcome: Outcome, worker_id: str, now: datetime, settings: Settings) -> dict[str, Any]:
    """The row's schedule after delivery: the reminders sent so far and when the next one is due."""
    job = outcome.job
    if job.claim.kind == "invitation":
        count, following = 0, first_reminder(now, job.zone, settings)
    else:
        count = job.reminders_sent + (0 if job.snoozed else 1)  # a snoozed reminder is owed on top
        following = next_reminder(job.sent_at or now, count, now, job.zone, settings)
    return {
        "b_id": job.claim.check_in_id,
        "b_worker": worker_id,
        "b_message_id": outcome.message_id,
        "b_next": following,
        "b_count": count,
    }


async def release(session: AsyncSession, unsent: list[Outcome], worker_id: str) -> None:
    """Let go of claims not sent: due again on the next pass, as if never claimed."""
    if unsent:
        await session.execute(
            update(CheckIn)
            .where(CheckIn.id.in_([o.job.claim.check_in_id for o in unsent]), CheckIn.claimed_by == worker_id)
            .values(claimed_by=None, claim_expires_at=None)
            .execution_options(synchronize_session=False)
        )


async def record_failed(
    session: AsyncSession, job: Job, error: DeliveryError, worker_id: str, now: datetime, settings: Settings
) -> Failure:
    """Record one failed send: unreachable, failed for good, or to be retried later; says which."""
    mine = and_(CheckIn.id == job.claim.check_in_id, CheckIn.claimed_by == worker_id)
    released = {"claimed_by": None, "claim_expires_at": None}
    if isinstance(error, Unreachable):
        await session.execute(
            update(Contact)
            .where(Contact.enrolment_id == job.enrolment_id, Contact.unreachable_at.is_(None))
            .values(unreachable_at=now)
        )
        await cancel_open_check_ins(session, CheckIn.enrolment_id == job.enrolment_id, f"unreachable: {error.reason}")
        # Finished meanwhile (answered while the reminder was in flight)? Still let go of it.
        await session.execute(update(CheckIn).where(mine).values(**released))
        return "unreachable"
    if error.permanent:
        await cancel_open_check_ins(session, mine, f"failed: {error.reason}")
        await session.execute(update(CheckIn).where(mine).values(**released))
        return "failed"
    attempts = job.attempts + 1
    retry = next_in_window(now + backoff(attempts, error.retry_after), job.zone, settings.window)
    await session.execute(
        update(CheckIn)
        .where(mine)
        .values(attempts=attempts, last_error=error.reason[:200], next_action_at=retry, **released)
    )
    return "retried"
