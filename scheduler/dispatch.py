"""The dispatch loop: claim due check-ins, send invitations and reminders, expire, snooze."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, bindparam, case, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from scheduler import messages
from scheduler.enrolment import close_pre
from scheduler.messenger import DeliveryError, Messenger, MessengerUnavailable, OutgoingMessage, Unreachable
from scheduler.plan import next_in_window
from surveys.clock import Clock
from surveys.domain import states, waves
from surveys.domain.states import CheckInState
from surveys.enrolments import cancel_open_check_ins, close_open_check_ins
from surveys.models import CheckIn, Contact, Course, Enrolment, QuizSetVersion
from surveys.quizset import QuizSet
from surveys.settings import Settings

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=1)

Kind = Literal["invitation", "reminder"]


@dataclass
class DispatchReport:
    """What one pass did, counted."""

    sent: int = 0
    reminded: int = 0
    expired: int = 0
    unreachable: int = 0
    retried: int = 0
    failed: int = 0
    cancelled: int = 0

    def __add__(self, other: DispatchReport) -> DispatchReport:
        return DispatchReport(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    def __str__(self) -> str:
        return (
            f"Sent {self.sent} invitation(s) and {self.reminded} reminder(s); "
            f"{self.expired} expired, {self.unreachable} unreachable, {self.retried} to retry, "
            f"{self.failed} failed, {self.cancelled} cancelled."
        )


@dataclass(frozen=True)
class Claim:
    """A check-in this worker now holds, and what to send for it."""

    check_in_id: int
    kind: Kind


def default_worker_id() -> str:
    """Host, process and a random suffix: unique per running dispatcher."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{secrets.token_hex(3)}"


def _due(ci: Any, now: datetime, max_reminders: int) -> ColumnElement[bool]:
    """The claim rule, as SQL over check-in entity `ci`; evaluated again inside the claiming UPDATE.

    Due: still open (closes_at > now), not held by a live claim, enrolment not withdrawn, contact
    present and reachable, and either an invitation (scheduled, due_at ≤ now, no retry pending)
    or a reminder (sent / in progress, next_action_at ≤ now, fewer than `max_reminders` sent
    unless the person asked to be reminded).
    """
    return and_(
        ci.closes_at > now,
        or_(ci.claimed_by.is_(None), ci.claim_expires_at < now),
        or_(
            and_(
                ci.state == CheckInState.SCHEDULED,
                ci.due_at <= now,
                or_(ci.next_action_at.is_(None), ci.next_action_at <= now),
            ),
            and_(
                ci.state.in_(states.REMINDABLE),
                ci.next_action_at <= now,
                or_(ci.reminders_sent < max_reminders, ci.snoozed_until.is_not(None)),
            ),
        ),
        # OFFSET 0 keeps each EXISTS a per-candidate index probe: flattened into a semi-join,
        # PostgreSQL hash-joined every stored contact for 100 due rows (tick benchmark, 1M rows).
        exists(select(1).where(Enrolment.id == ci.enrolment_id, Enrolment.withdrawn_at.is_(None)).offset(0)),
        exists(select(1).where(Contact.enrolment_id == ci.enrolment_id, Contact.unreachable_at.is_(None)).offset(0)),
    )


async def claim_due(
    session: AsyncSession,
    now: datetime,
    worker_id: str,
    limit: int,
    lease: timedelta,
    *,
    max_reminders: int = 2,
) -> list[Claim]:
    """Claim up to `limit` due check-ins for `worker_id` until `now + lease`, and commit.

    PostgreSQL: SELECT … LIMIT n FOR UPDATE SKIP LOCKED, then UPDATE those rows (re-checking
    <due>) in the same short transaction, so several workers claim side by side without waiting
    or overlapping. SQLite: one conditional UPDATE … WHERE id IN (SELECT … LIMIT n) AND <due>,
    which runs under the database's single write lock, so the re-check cannot race. A claim whose lease
    has run out (the worker died) is due again.
    """
    candidate = aliased(CheckIn)
    chosen = (
        select(candidate.id)
        .where(_due(candidate, now, max_reminders))
        .order_by(candidate.due_at, candidate.id)
        .limit(limit)
    )
    target: Any
    if session.get_bind().dialect.name == "postgresql":
        # Two statements in one transaction: a LIMIT … SKIP LOCKED subquery inside UPDATE … IN
        # may be re-run by the planner and claim more than `limit` rows.
        target = list(await session.scalars(chosen.with_for_update(skip_locked=True)))
        if not target:
            await session.commit()
            return []
    else:
        target = chosen.scalar_subquery()
    result = await session.execute(
        update(CheckIn)
        .where(CheckIn.id.in_(target), _due(CheckIn, now, max_reminders))
        .values(claimed_by=worker_id, claim_expires_at=now + lease)
        .returning(CheckIn.id, CheckIn.state)
        .execution_options(synchronize_session=False)
    )
    claims = [Claim(cid, "invitation" if state == CheckInState.SCHEDULED else "reminder") for cid, state in result]
    await session.commit()
    return claims


async def expire_due(session: AsyncSession, now: datetime) -> int:
    """Close every open check-in whose window has passed (state `expired`); returns how many."""
    unclaimed = or_(CheckIn.claimed_by.is_(None), CheckIn.claim_expires_at < now)
    count = await close_open_check_ins(session, and_(CheckIn.closes_at <= now, unclaimed), CheckInState.EXPIRED)
    await session.commit()
    return count


async def cancel_unreachable(session: AsyncSession, now: datetime) -> int:
    """Cancel open check-ins of people who withdrew or blocked the bot; returns how many."""
    withdrawn = select(Enrolment.id).where(Enrolment.withdrawn_at.is_not(None))
    blocked = select(Contact.enrolment_id).where(Contact.unreachable_at.is_not(None))
    unclaimed = or_(CheckIn.claimed_by.is_(None), CheckIn.claim_expires_at < now)
    total = 0
    for reason, who in (("withdrawn", withdrawn), ("unreachable", blocked)):
        total += await cancel_open_check_ins(session, and_(CheckIn.enrolment_id.in_(who), unclaimed), reason)
    await session.commit()
    return total


async def snooze(
    session: AsyncSession, check_in_id: int, now: datetime, settings: Settings
) -> datetime | None:
    """'Remind me tomorrow': remind 24 hours from now, moved into the send window.

    Returns when the reminder will come, or None if the check-in is no longer open (finished,
    closed, cancelled) or would have closed by then. The snoozed reminder is owed even after the
    two automatic ones.
    """
    row = (
        await session.execute(
            select(CheckIn.closes_at, Course.zone)
            .join(Enrolment, Enrolment.id == CheckIn.enrolment_id)
            .join(Course, Course.id == Enrolment.course_id)
            .where(CheckIn.id == check_in_id, CheckIn.state.in_(states.OPEN))
        )
    ).first()
    if row is None:
        return None
    closes_at, zone = row
    when = next_in_window(now + timedelta(days=1), ZoneInfo(zone or settings.timezone), settings.window)
    if when >= closes_at:
        return None
    result = await session.execute(
        update(CheckIn)
        .where(CheckIn.id == check_in_id, CheckIn.state.in_(states.REMINDABLE))
        .values(next_action_at=when, snoozed_until=when)
        .execution_options(synchronize_session=False)
    )
    await session.commit()
    return when if result.rowcount else None


def reminder_times(sent_at: datetime, zone: ZoneInfo, settings: Settings) -> list[datetime]:
    """The automatic reminders: `reminder_days` after the invitation, each moved into the send window."""
    return [next_in_window(sent_at + timedelta(days=d), zone, settings.window) for d in settings.reminder_days]


def backoff(attempts: int, retry_after: float | None) -> timedelta:
    """How long to wait before trying again: Telegram's retry_after, else 1, 2, 4 … minutes up to an hour."""
    if retry_after is not None:
        return timedelta(seconds=max(1.0, retry_after))
    return min(MAX_BACKOFF, timedelta(minutes=2 ** max(0, attempts - 1)))


@dataclass(frozen=True)
class _Job:
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


@dataclass(frozen=True)
class _Outcome:
    job: _Job
    message_id: int | None = None
    error: DeliveryError | None = None
    not_sent: bool = False  # the messenger was unavailable: let go of the claim, change nothing else


class Dispatcher:
    """Sends what is due through a Messenger; several may run side by side on one database."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        messenger: Messenger,
        clock: Clock,
        settings: Settings,
        worker_id: str | None = None,
        *,
        concurrency: int = 64,
        batch: int = 200,
        lease: timedelta = timedelta(minutes=10),
    ) -> None:
        self.sessions = sessions
        self.messenger = messenger
        self.clock = clock
        self.settings = settings
        self.worker_id = worker_id or default_worker_id()
        self.concurrency = concurrency
        self.batch = batch
        self.lease = lease
        self._quizzes: dict[int, QuizSet | None] = {}  # per stored version (immutable); None: unreadable
        self.stopping = False
        self._unavailable: MessengerUnavailable | None = None

    def stop(self) -> None:
        """Finish what is claimed, claim nothing more (SIGTERM): nothing is left half-recorded."""
        self.stopping = True

    async def run_once(self) -> DispatchReport:
        """One pass: expire, cancel the unreachable, then send everything due until nothing is.

        Raises MessengerUnavailable (after letting go of every claim) when nothing can be sent at all.
        """
        report = DispatchReport()
        async with self.sessions() as session:
            report.expired = await expire_due(session, self.clock())
            report.cancelled = await cancel_unreachable(session, self.clock())
        first = await self._claim_batch()
        if not first:
            return report  # an idle tick costs one query, no tasks
        jobs: asyncio.Queue[_Job | None] = asyncio.Queue(maxsize=self.batch)
        outcomes: asyncio.Queue[_Outcome | None] = asyncio.Queue()
        async with asyncio.TaskGroup() as group:
            recorder = group.create_task(self._record(outcomes, report))
            senders = [group.create_task(self._send(jobs, outcomes)) for _ in range(self.concurrency)]
            batch = first
            while batch:
                for job in batch:
                    await jobs.put(job)
                batch = [] if self.stopping or self._unavailable else await self._claim_batch()
            # A failure above cancels the whole group; here every sender drains, then the recorder.
            for _ in senders:
                await jobs.put(None)
            await asyncio.gather(*senders)
            await outcomes.put(None)
            await recorder
        unavailable, self._unavailable = self._unavailable, None
        if unavailable is not None:
            raise unavailable
        return report

    async def _claim_batch(self) -> list[_Job]:
        """Claim one batch and load what its messages need; empty when nothing is due."""
        async with self.sessions() as session:
            claims = await claim_due(
                session, self.clock(), self.worker_id, self.batch, self.lease,
                max_reminders=len(self.settings.reminder_days),
            )
            if not claims:
                return []
            jobs = await self._load(session, claims)
            # Post opens now (by date, or released by the officer), so pre closes, as when a course ends.
            opening = [j.enrolment_id for j in jobs if j.wave == waves.POST and j.claim.kind == "invitation"]
            if opening:
                await close_pre(session, CheckIn.enrolment_id.in_(opening))
                await session.commit()
                # A pre claimed in this same batch is closed now: it must not go out either.
                closed = set(opening)
                jobs = [j for j in jobs if not (j.wave == waves.PRE and j.enrolment_id in closed)]
            return jobs

    async def _load(self, session: AsyncSession, claims: list[Claim]) -> list[_Job]:
        """Everything the messages need, in one query per batch (plus each quiz set once)."""
        kinds = {c.check_in_id: c.kind for c in claims}
        rows = (
            await session.execute(
                select(
                    CheckIn.id, CheckIn.wave, CheckIn.state, CheckIn.sent_at, CheckIn.closes_at,
                    CheckIn.reminders_sent, CheckIn.snoozed_until, CheckIn.attempts,
                    CheckIn.enrolment_id, Contact.chat_id, Course.title, Course.zone,
                    Course.quiz_set_id,
                )
                .join(Enrolment, Enrolment.id == CheckIn.enrolment_id)
                .join(Course, Course.id == Enrolment.course_id)
                .join(Contact, Contact.enrolment_id == CheckIn.enrolment_id)
                .where(CheckIn.id.in_(kinds))
            )
        ).all()
        await self._read_quizzes(session, {r.quiz_set_id for r in rows})
        jobs = []
        for r in rows:
            zone = r.zone or self.settings.timezone
            kind = kinds[r.id]
            text: OutgoingMessage | None
            try:
                quiz = self._quizzes.get(r.quiz_set_id)
                if quiz is None:
                    raise LookupError(f"quiz set {r.quiz_set_id} could not be read")
                questions, minutes = messages.quiz_size(quiz, r.wave)
                info = messages.CheckInInfo(
                    r.id, r.wave, r.title, zone, r.closes_at, r.state == CheckInState.IN_PROGRESS, questions, minutes
                )
                text = messages.invitation(info) if kind == "invitation" else messages.reminder(info)
            except Exception:
                # One bad row (a broken template, an odd wave) must not stall everyone behind it.
                log.exception("check-in %s: could not build its message", r.id)
                text = None
            jobs.append(_Job(
                Claim(r.id, kind), r.wave, r.chat_id, r.enrolment_id, ZoneInfo(zone), r.sent_at,
                r.reminders_sent, r.snoozed_until is not None, r.attempts, text,
            ))
        return jobs

    async def _read_quizzes(self, session: AsyncSession, ids: set[int]) -> None:
        """Parse each quiz-set version not seen yet, once per dispatcher (stored versions never change)."""
        missing = ids - self._quizzes.keys()
        if not missing:
            return
        found = await session.execute(
            select(QuizSetVersion.id, QuizSetVersion.definition).where(QuizSetVersion.id.in_(missing))
        )
        for quiz_set_id, definition in found:
            try:
                self._quizzes[quiz_set_id] = QuizSet.from_definition(definition)
            except Exception:
                # Its check-ins fail for good (below) rather than stall everyone else's.
                log.exception("quiz set %s: stored definition is not a valid quiz set", quiz_set_id)
                self._quizzes[quiz_set_id] = None

    async def _send(self, jobs: asyncio.Queue[_Job | None], outcomes: asyncio.Queue[_Outcome | None]) -> None:
        """A sender: one message at a time, so `concurrency` senders bound what is in flight."""
        while (job := await jobs.get()) is not None:
            if self._unavailable is not None:
                await outcomes.put(_Outcome(job, not_sent=True))
                continue
            if job.message is None:
                await outcomes.put(_Outcome(job, error=DeliveryError("could not build the message", permanent=True)))
                continue
            try:
                message_id = await self.messenger.send(job.chat_id, job.message)
            except DeliveryError as exc:
                await outcomes.put(_Outcome(job, error=exc))
            except MessengerUnavailable as exc:
                self._unavailable = self._unavailable or exc
                await outcomes.put(_Outcome(job, not_sent=True))
            except Exception as exc:  # noqa: BLE001 - an unknown failure must not lose the check-in
                log.warning("send of check-in %s failed unexpectedly", job.claim.check_in_id, exc_info=True)
                await outcomes.put(_Outcome(job, error=DeliveryError(repr(exc)[:200], permanent=False)))
            else:
                await outcomes.put(_Outcome(job, message_id=message_id))

    async def _record(self, outcomes: asyncio.Queue[_Outcome | None], report: DispatchReport) -> None:
        """Write outcomes back as they arrive, many per transaction, releasing each claim."""
        done = False
        while not done:
            batch = [await outcomes.get()]
            while not outcomes.empty() and len(batch) < 500:
                batch.append(outcomes.get_nowait())
            done = batch[-1] is None
            todo = [o for o in batch if o is not None]
            if todo:
                async with self.sessions() as session:
                    await self._record_delivered([o for o in todo if o.error is None and not o.not_sent],
                                                 session, report)
                    await self._release([o for o in todo if o.not_sent], session)
                    for outcome in todo:
                        if outcome.error is not None:
                            await self._record_failed(session, outcome, report)
                    await session.commit()

    async def _record_delivered(self, delivered: list[_Outcome], session: AsyncSession, report: DispatchReport) -> None:
        """Delivered messages: one executemany per kind (a statement per row would cost more than the send)."""
        now = self.clock()
        table = CheckIn.__table__
        mine = and_(table.c.id == bindparam("b_id"), table.c.claimed_by == bindparam("b_worker"))
        common = {"message_id": bindparam("b_message_id"), "next_action_at": bindparam("b_next"),
                  "snoozed_until": None, "claimed_by": None, "claim_expires_at": None, "attempts": 0,
                  "last_error": None}
        invitations = [o for o in delivered if o.job.claim.kind == "invitation"]
        reminders = [o for o in delivered if o.job.claim.kind == "reminder"]
        if invitations:
            # Someone may have started (or been cancelled) while the message was in flight.
            state = case((table.c.state == CheckInState.SCHEDULED, CheckInState.SENT), else_=table.c.state)
            await session.execute(
                table.update().where(mine).values(state=state, sent_at=now, reminders_sent=0, **common),
                [self._delivered_params(o, now) for o in invitations],
            )
            report.sent += len(invitations)
        if reminders:
            await session.execute(
                table.update().where(mine).values(reminders_sent=bindparam("b_count"), **common),
                [self._delivered_params(o, now) for o in reminders],
            )
            report.reminded += len(reminders)

    async def _release(self, unsent: list[_Outcome], session: AsyncSession) -> None:
        """Let go of claims not sent: due again on the next pass, as if never claimed."""
        if unsent:
            await session.execute(
                update(CheckIn)
                .where(CheckIn.id.in_([o.job.claim.check_in_id for o in unsent]), CheckIn.claimed_by == self.worker_id)
                .values(claimed_by=None, claim_expires_at=None)
                .execution_options(synchronize_session=False)
            )

    def _delivered_params(self, outcome: _Outcome, now: datetime) -> dict[str, Any]:
        after = self._after_success(outcome.job, now)
        return {"b_id": outcome.job.claim.check_in_id, "b_worker": self.worker_id,
                "b_message_id": outcome.message_id, "b_next": after["next_action_at"],
                "b_count": after["reminders_sent"]}

    async def _record_failed(self, session: AsyncSession, outcome: _Outcome, report: DispatchReport) -> None:
        """Record one failed send: unreachable, failed for good, or to be retried later."""
        job, now, error = outcome.job, self.clock(), outcome.error
        if error is None:
            return
        mine = and_(CheckIn.id == job.claim.check_in_id, CheckIn.claimed_by == self.worker_id)
        released = {"claimed_by": None, "claim_expires_at": None}
        if isinstance(error, Unreachable):
            await session.execute(
                update(Contact)
                .where(Contact.enrolment_id == job.enrolment_id, Contact.unreachable_at.is_(None))
                .values(unreachable_at=now)
            )
            await cancel_open_check_ins(session, CheckIn.enrolment_id == job.enrolment_id,
                                        f"unreachable: {error.reason}")
            # Finished meanwhile (answered while the reminder was in flight)? Still let go of it.
            await session.execute(update(CheckIn).where(mine).values(**released))
            report.unreachable += 1
        elif error.permanent:
            await cancel_open_check_ins(session, mine, f"failed: {error.reason}")
            await session.execute(update(CheckIn).where(mine).values(**released))
            report.failed += 1
        else:
            attempts = job.attempts + 1
            retry = next_in_window(now + backoff(attempts, error.retry_after), job.zone, self.settings.window)
            await session.execute(
                update(CheckIn).where(mine).values(
                    attempts=attempts, last_error=error.reason[:200], next_action_at=retry, **released
                )
            )
            report.retried += 1

    def _after_success(self, job: _Job, now: datetime) -> dict[str, Any]:
        """The schedule after a delivered message: state, and when the next reminder is due."""
        if job.claim.kind == "invitation":
            times = reminder_times(now, job.zone, self.settings)
            return {"reminders_sent": 0, "next_action_at": times[0] if times else None}
        count = job.reminders_sent + (0 if job.snoozed else 1)
        times = reminder_times(job.sent_at or now, job.zone, self.settings)
        following = times[count] if count < len(times) else None
        if following is not None:
            # Never two messages back to back: after a snoozed reminder wait at least a day.
            following = max(following, next_in_window(now + timedelta(days=1), job.zone, self.settings.window))
        return {"reminders_sent": count, "next_action_at": following}
