"""The dispatch loop: claim due check-ins in batches, send them concurrently, record what happened."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from scheduler import messages, nudges
from scheduler.claims import (
    Claim,
    any_claimed,
    cancel_unreachable,
    claim_due,
    default_worker_id,
    expire_due,
    release_every_claim,
)
from scheduler.leader import DispatchLock
from scheduler.messenger import DeliveryError, Messenger, MessengerUnavailable, OutgoingMessage
from scheduler.recording import Job, Outcome, record_delivered, record_failed, release
from scheduler.timetable import close_pre
from surveys.clock import Clock
from surveys.domain import waves
from surveys.domain.quizset import QuizSet
from surveys.domain.states import CheckInState
from surveys.language import speaking
from surveys.settings import Settings
from surveys.store.models import CheckIn, Contact, Course, Enrolment, QuizSetVersion

log = logging.getLogger(__name__)


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


class Dispatcher:
    """Sends what is due through a Messenger; several may run side by side on one database.

    Without a `lock` every dispatcher sends, its claims keeping the others off the same rows.
    With a DispatchLock (scheduler.leader) one pass runs at a time across processes, so
    Telegram's per-bot rate holds across them; a worker whose tick finds the lock held stands by.
    """

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
        until: Callable[[], bool] = lambda: False,
        lock: DispatchLock | None = None,
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
        self._stopped = False
        self._until = until  # the host saying it is shutting down (a PTB Application no longer running)
        self._unavailable: MessengerUnavailable | None = None
        self.lock = lock
        self.stood_by = False  # the last pass found another worker holding the lock
        self._lost = False  # the lock went during this pass: send nothing more
        self._send_after = 0.0  # monotonic time before which this pass sends nothing (DispatchLock.quiet)

    def stop(self) -> None:
        """Finish what is claimed, claim nothing more (SIGTERM): nothing is left half-recorded."""
        self._stopped = True

    @property
    def stopping(self) -> bool:
        """True once stop() was called, the host is shutting down or the lock was lost: no more claims."""
        return self._stopped or self._until() or self._lost

    async def run_once(self) -> DispatchReport:
        """One pass: expire, cancel the unreachable, then send everything due until nothing is.

        Raises MessengerUnavailable (after letting go of every claim) when nothing can be sent at all.
        With a lock, the pass runs only if the lock is free, holding it throughout; otherwise another
        worker is sending, and this one stands by: nothing done, nothing reported, `stood_by` set.
        """
        if self.lock is None:
            return await self._pass()
        if not await self.lock.acquire():
            self.stood_by = True
            log.debug("another worker holds the dispatch lock: standing by")
            return DispatchReport()
        self.stood_by = False
        try:
            if self.lock.shared:
                self._send_after = time.monotonic() + self.lock.quiet
                await self._take_over()
            return await self._pass()
        finally:
            await self.lock.release()

    async def _pass(self) -> DispatchReport:
        """The pass proper: expire and cancel, then claim, send and record batch after batch."""
        report = DispatchReport()
        self._lost = False
        async with self.sessions() as session, session.begin():
            report.expired = await expire_due(session, self.clock())
            report.cancelled = await cancel_unreachable(session, self.clock())
        first = [] if self.stopping else await self._claim_batch()
        if not first:
            return report  # an idle tick costs one query, no tasks
        if (quiet := self._send_after - time.monotonic()) > 0:
            await asyncio.sleep(quiet)
        jobs: asyncio.Queue[Job | None] = asyncio.Queue(maxsize=self.batch)
        outcomes: asyncio.Queue[Outcome | None] = asyncio.Queue()
        async with asyncio.TaskGroup() as group:
            recorder = group.create_task(self._record(outcomes, report))
            done = asyncio.Event()
            watchdog = group.create_task(self._watch(done))
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
            done.set()
            await watchdog
        unavailable, self._unavailable = self._unavailable, None
        if unavailable is not None:
            raise unavailable
        return report

    async def _take_over(self) -> None:
        """Let go of the claims a stopped holder left, so they are due now rather than when their lease ends.

        Only the lock's holder claims, and a finished pass leaves no claim, so what is claimed when
        the lock is taken was left by a holder that died mid-pass (or failed to record). One whose
        session the server ended while it still ran stops within one lock check: wait that out first.
        """
        async with self.sessions() as session:
            if not await any_claimed(session):
                return
        await asyncio.sleep(self.lock.settle if self.lock is not None else 0)
        async with self.sessions() as session, session.begin():
            freed = await release_every_claim(session)
        log.info("took over dispatching: %d check-in(s) claimed by a stopped worker are due again", freed)

    async def _watch(self, done: asyncio.Event) -> None:
        """While a pass sends, check the lock every so often; lost, the pass stops sending at once."""
        if self.lock is None or not self.lock.shared:
            return
        while not done.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.lock.check_every):
                    await done.wait()
            if not done.is_set() and not await self.lock.confirm():
                self._lost = True
                return

    async def _claim_batch(self) -> list[Job]:
        """Claim one batch and load what its messages need; empty when nothing is due."""
        async with self.sessions() as session:
            claims = await claim_due(
                session,
                self.clock(),
                self.worker_id,
                self.batch,
                self.lease,
                max_reminders=len(self.settings.reminder_days),
            )
            # Committed before anything is sent: other workers must see the claim (or a row
            # locked by SKIP LOCKED would be free again), and if this process dies mid-send the
            # lease, not an open transaction, is what keeps the check-in from going out twice.
            await session.commit()
            if not claims:
                return []
            jobs, silent = await self._load(session, claims)
            if silent:
                # A message-only wave for someone with nothing to be reminded of: done, nothing sent.
                await nudges.complete(session, silent, self.clock())
                await session.commit()
            # Post opens now (by date, or released by the officer), so pre closes, as when a course ends.
            opening = [j.enrolment_id for j in jobs if j.wave == waves.POST and j.claim.kind == "invitation"]
            if opening:
                await close_pre(session, CheckIn.enrolment_id.in_(opening))
                await session.commit()
                # A pre claimed in this same batch is closed now: it must not go out either.
                closed = set(opening)
                jobs = [j for j in jobs if not (j.wave == waves.PRE and j.enrolment_id in closed)]
            return jobs

    async def _load(self, session: AsyncSession, claims: list[Claim]) -> tuple[list[Job], list[int]]:
        """Everything the messages need, in one query per batch (plus each quiz set once, and commitments once).

        Also the message-only check-ins with nothing to send (scheduler.nudges), to complete unsent.
        """
        kinds = {c.check_in_id: c.kind for c in claims}
        rows = (
            await session.execute(
                select(
                    CheckIn.id,
                    CheckIn.wave,
                    CheckIn.state,
                    CheckIn.sent_at,
                    CheckIn.closes_at,
                    CheckIn.reminders_sent,
                    CheckIn.snoozed_until,
                    CheckIn.attempts,
                    CheckIn.enrolment_id,
                    Contact.chat_id,
                    Course.title,
                    Course.zone,
                    Course.quiz_set_id,
                    Enrolment.language,
                )
                .join(Enrolment, Enrolment.id == CheckIn.enrolment_id)
                .join(Course, Course.id == Enrolment.course_id)
                .join(Contact, Contact.enrolment_id == CheckIn.enrolment_id)
                .where(CheckIn.id.in_(kinds))
            )
        ).all()
        await self._read_quizzes(session, {r.quiz_set_id for r in rows})
        message_only = {
            r.id for r in rows if (quiz := self._quizzes.get(r.quiz_set_id)) is not None and quiz.message_only(r.wave)
        }
        wanted = {r.enrolment_id: (self._quizzes[r.quiz_set_id], r.wave) for r in rows if r.id in message_only}
        own = await nudges.own_commitments(session, wanted) if wanted else {}
        jobs, silent = [], []
        for r in rows:
            zone = r.zone or self.settings.timezone
            kind = kinds[r.id]
            text: OutgoingMessage | None
            try:
                quiz = self._quizzes.get(r.quiz_set_id)
                if quiz is None:
                    raise LookupError(f"quiz set {r.quiz_set_id} could not be read")
                if r.id in message_only:
                    with speaking(r.language):  # the enrolment's language, as every message (issue 14)
                        text = nudges.nudge(quiz, r.wave, r.title, own.get(r.enrolment_id, {}))
                    if text is None:
                        silent.append(r.id)
                        continue
                else:
                    questions, minutes = messages.quiz_size(quiz, r.wave)
                    info = messages.CheckInInfo(
                        r.id,
                        r.wave,
                        r.title,
                        zone,
                        r.closes_at,
                        r.state == CheckInState.IN_PROGRESS,
                        questions,
                        minutes,
                        r.language,
                    )
                    text = messages.invitation(info) if kind == "invitation" else messages.reminder(info)
            except Exception:
                # One bad row (a broken template, an odd wave) must not stall everyone behind it.
                log.exception("check-in %s: could not build its message", r.id)
                text = None
            jobs.append(
                Job(
                    Claim(r.id, kind),
                    r.wave,
                    r.chat_id,
                    r.enrolment_id,
                    ZoneInfo(zone),
                    r.sent_at,
                    r.reminders_sent,
                    r.snoozed_until is not None,
                    r.attempts,
                    text,
                    message_only=r.id in message_only,
                )
            )
        return jobs, silent

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

    async def _send(self, jobs: asyncio.Queue[Job | None], outcomes: asyncio.Queue[Outcome | None]) -> None:
        """A sender: one message at a time, so `concurrency` senders bound what is in flight."""
        while (job := await jobs.get()) is not None:
            if self._unavailable is not None or self._lost:
                await outcomes.put(Outcome(job, not_sent=True))
                continue
            if job.message is None:
                await outcomes.put(Outcome(job, error=DeliveryError("could not build the message", permanent=True)))
                continue
            try:
                message_id = await self.messenger.send(job.chat_id, job.message)
            except DeliveryError as exc:
                await outcomes.put(Outcome(job, error=exc))
            except MessengerUnavailable as exc:
                self._unavailable = self._unavailable or exc
                await outcomes.put(Outcome(job, not_sent=True))
            except Exception as exc:
                log.warning("send of check-in %s failed unexpectedly", job.claim.check_in_id, exc_info=True)
                await outcomes.put(Outcome(job, error=DeliveryError(repr(exc)[:200], permanent=False)))
            else:
                await outcomes.put(Outcome(job, message_id=message_id))

    async def _record(self, outcomes: asyncio.Queue[Outcome | None], report: DispatchReport) -> None:
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
                    await self._write(session, todo, report)
                    await session.commit()

    async def _write(self, session: AsyncSession, outcomes: list[Outcome], report: DispatchReport) -> None:
        """One recorder batch: delivered rows together, claims not sent let go, failures one by one."""
        now = self.clock()
        delivered = [o for o in outcomes if o.error is None and not o.not_sent]
        sent, reminded = await record_delivered(session, delivered, self.worker_id, now, self.settings)
        report.sent += sent
        report.reminded += reminded
        # A message-only wave asks nothing: delivered is done (no reminders follow).
        await nudges.complete(session, [o.job.claim.check_in_id for o in delivered if o.job.message_only], now)
        await release(session, [o for o in outcomes if o.not_sent], self.worker_id)
        for outcome in outcomes:
            if outcome.error is not None:
                failure = await record_failed(session, outcome.job, outcome.error, self.worker_id, now, self.settings)
                setattr(report, failure, getattr(report, failure) + 1)
