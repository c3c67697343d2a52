"""Claims: which check-ins are due, taking them for one worker with a lease, and closing those past their window."""

from __future__ import annotations

import os
import secrets
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import ColumnElement, and_, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from surveys.domain import states
from surveys.domain.states import CheckInState
from surveys.store.enrolments import cancel_open_check_ins, close_open_check_ins, unfinished_outcome
from surveys.store.models import CheckIn, Contact, Enrolment

Kind = Literal["invitation", "reminder"]


@dataclass(frozen=True)
class Claim:
    """A check-in this worker now holds, and what to send for it."""

    check_in_id: int
    kind: Kind


def default_worker_id() -> str:
    """Host, process and a random suffix: unique per running dispatcher."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{secrets.token_hex(3)}"


def due(ci: Any, now: datetime, max_reminders: int) -> ColumnElement[bool]:
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
    """Claim up to `limit` due check-ins for `worker_id` until `now + lease`; the caller commits.

    PostgreSQL: SELECT … LIMIT n FOR UPDATE SKIP LOCKED, then UPDATE those rows (re-checking
    <due>) in the same short transaction, so several workers claim side by side without waiting
    or overlapping. SQLite: one conditional UPDATE … WHERE id IN (SELECT … LIMIT n) AND <due>,
    which runs under the database's single write lock, so the re-check cannot race. A claim whose lease
    has run out (the worker died) is due again.
    """
    candidate = aliased(CheckIn)
    chosen = (
        select(candidate.id)
        .where(due(candidate, now, max_reminders))
        .order_by(candidate.due_at, candidate.id)
        .limit(limit)
    )
    target: Any
    if session.get_bind().dialect.name == "postgresql":
        # Two statements in one transaction: a LIMIT … SKIP LOCKED subquery inside UPDATE … IN
        # may be re-run by the planner and claim more than `limit` rows.
        target = list(await session.scalars(chosen.with_for_update(skip_locked=True)))
        if not target:
            return []
    else:
        target = chosen.scalar_subquery()
    result = await session.execute(
        update(CheckIn)
        .where(CheckIn.id.in_(target), due(CheckIn, now, max_reminders))
        .values(claimed_by=worker_id, claim_expires_at=now + lease)
        .returning(CheckIn.id, CheckIn.state)
        .execution_options(synchronize_session=False)
    )
    return [Claim(cid, "invitation" if state == CheckInState.SCHEDULED else "reminder") for cid, state in result]


def _unclaimed(now: datetime) -> ColumnElement[bool]:
    return or_(CheckIn.claimed_by.is_(None), CheckIn.claim_expires_at < now)


async def expire_due(session: AsyncSession, now: datetime) -> int:
    """Close every open check-in whose window has passed (expired, or missed if never sent); returns how many."""
    return await close_open_check_ins(session, and_(CheckIn.closes_at <= now, _unclaimed(now)), unfinished_outcome())


async def cancel_unreachable(session: AsyncSession, now: datetime) -> int:
    """Cancel open check-ins of people who withdrew or blocked the bot; returns how many."""
    withdrawn = select(Enrolment.id).where(Enrolment.withdrawn_at.is_not(None))
    blocked = select(Contact.enrolment_id).where(Contact.unreachable_at.is_not(None))
    total = 0
    for reason, who in (("withdrawn", withdrawn), ("unreachable", blocked)):
        total += await cancel_open_check_ins(session, and_(CheckIn.enrolment_id.in_(who), _unclaimed(now)), reason)
    return total


async def any_claimed(session: AsyncSession) -> bool:
    """Whether any check-in is claimed, by any worker, lease live or not."""
    return await session.scalar(select(exists().where(CheckIn.claimed_by.is_not(None)))) or False


async def release_every_claim(session: AsyncSession) -> int:
    """Let go of every claim, live lease or not; returns how many. The caller commits.

    Only for a worker holding the dispatch lock (scheduler.leader): no other worker may send, so
    whatever is claimed was left by a holder that died mid-pass, and is due again now rather
    than when its lease runs out.
    """
    result = await session.execute(
        update(CheckIn)
        .where(CheckIn.claimed_by.is_not(None))
        .values(claimed_by=None, claim_expires_at=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0
