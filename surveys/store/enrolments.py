"""Enrolments and the contact link: join by invite, find by chat, withdraw, erase."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, case, delete, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from surveys.domain import states
from surveys.domain.states import CheckInState
from surveys.domain.tokens import new_pseudonym
from surveys.store.models import Answer, CheckIn, Contact, Enrolment, InDepthAnswer, InDepthDraw, Invite, Relay


class AlreadyEnrolled(Exception):
    """This chat is already enrolled on the invite's course."""

    def __init__(self, enrolment: Enrolment) -> None:
        super().__init__(enrolment.pseudonym)
        self.enrolment = enrolment


async def enrol(
    session: AsyncSession,
    invite: Invite,
    chat_id: int,
    now: datetime,
    *,
    role: str | None = None,
    agency: str | None = None,
) -> Enrolment:
    """Enrol the person in `chat_id` on the invite's course under a fresh random pseudonym.

    The register's role/agency/level on a per-attendee invite win over self-reported ones.
    """
    for existing in await active_enrolments(session, chat_id):
        if existing.course_id == invite.course_id:
            raise AlreadyEnrolled(existing)
    enrolment = Enrolment(
        pseudonym=new_pseudonym(),
        course_id=invite.course_id,
        course=invite.course,
        role=invite.role or role,
        agency=invite.agency or agency,
        level=invite.level or invite.course.level,
        consented_at=now,
    )
    session.add(enrolment)
    await session.flush()
    session.add(Contact(enrolment_id=enrolment.id, chat_id=chat_id, created_at=now))
    if invite.single_use:
        # The day only: with the exact time, the invite (whose token the mail-merge file pairs
        # with a name) could be matched to this enrolment's consent time, and so to its answers.
        invite.used_at = now.replace(hour=0, minute=0, second=0, microsecond=0)
    await session.flush()
    return enrolment


async def active_enrolments(session: AsyncSession, chat_id: int) -> list[Enrolment]:
    """The chat's enrolments that have not been withdrawn, oldest first."""
    rows = await session.scalars(
        select(Enrolment)
        .join(Contact, Contact.enrolment_id == Enrolment.id)
        .where(Contact.chat_id == chat_id, Enrolment.withdrawn_at.is_(None))
        .order_by(Enrolment.consented_at, Enrolment.id)
    )
    return list(rows)


async def withdraw(session: AsyncSession, chat_id: int, now: datetime) -> int:
    """Withdraw every enrolment of this chat: cancel what is pending, delete the chat link.

    Answers already given stay, under the pseudonym only. Returns how many were withdrawn.
    """
    enrolments = await active_enrolments(session, chat_id)
    ids = [e.id for e in enrolments]
    if not ids:
        return 0
    await cancel_open_check_ins(session, CheckIn.enrolment_id.in_(ids), "withdrawn")
    await session.execute(update(Enrolment).where(Enrolment.id.in_(ids)).values(withdrawn_at=now))
    await session.execute(delete(Contact).where(Contact.enrolment_id.in_(ids)))
    return len(ids)


def is_open(state: Any = CheckIn.state) -> ColumnElement[bool]:
    """SQL: the check-in is open (scheduled, sent or in progress)."""
    # Literals, not bound parameters: only then do SQLite and PostgreSQL see that a WHERE holding
    # this implies the partial index ix_check_in_open_closes (expiry would scan without it).
    return state.in_([literal(str(s), literal_execute=True) for s in states.OPEN])


def unfinished_outcome() -> ColumnElement[str]:
    """How an open check-in ends when its time is up: `missed` if it was never sent, `expired` otherwise."""
    return case((CheckIn.state == CheckInState.SCHEDULED, str(CheckInState.MISSED)), else_=str(CheckInState.EXPIRED))


async def close_open_check_ins(
    session: AsyncSession, which: ColumnElement[bool], state: Any, reason: str | None = None
) -> int:
    """Close the open check-ins matching `which` as `state`, leaving no next action, snooze or claim behind.

    `reason` (if given) is kept in last_error. A worker still sending for one of them finds its
    claim gone and records nothing. Returns how many were closed; the caller commits.
    Check-ins loaded in `session` are updated too (SQLAlchemy's default synchronisation).
    """
    values: dict[str, Any] = {
        "state": state,
        "next_action_at": None,
        "snoozed_until": None,
        "claimed_by": None,
        "claim_expires_at": None,
    }
    if reason is not None:
        values["last_error"] = reason[:200]
    result = await session.execute(update(CheckIn).where(is_open(), which).values(**values))
    return result.rowcount or 0


async def cancel_open_check_ins(session: AsyncSession, which: ColumnElement[bool], reason: str) -> int:
    """Cancel the open check-ins matching `which` (withdrawn, blocked, undeliverable), saying why."""
    return await close_open_check_ins(session, which, CheckInState.CANCELLED, reason)


async def erase(session: AsyncSession, chat_id: int) -> int:
    """Delete this chat's enrolments with their check-ins, answers and chat link.

    Enrolments already withdrawn have no chat link any more, so nothing can find them:
    that is the point of withdrawing. Returns how many enrolments were erased.
    """
    ids = list(await session.scalars(select(Contact.enrolment_id).where(Contact.chat_id == chat_id)))
    if not ids:
        return 0
    # Explicit deletes: do not rely on ON DELETE CASCADE being honoured by every connection.
    check_ins = select(CheckIn.id).where(CheckIn.enrolment_id.in_(ids))
    await session.execute(delete(Answer).where(Answer.check_in_id.in_(check_ins)))
    # The case study's free text and the record that relays passed; the draw stays, without the person,
    # so the recorded sample can still be re-drawn for audit.
    await session.execute(delete(InDepthAnswer).where(InDepthAnswer.enrolment_id.in_(ids)))
    await session.execute(delete(Relay).where(Relay.enrolment_id.in_(ids)))
    await session.execute(update(InDepthDraw).where(InDepthDraw.enrolment_id.in_(ids)).values(enrolment_id=None))
    await session.execute(delete(CheckIn).where(CheckIn.enrolment_id.in_(ids)))
    await session.execute(delete(Contact).where(Contact.enrolment_id.in_(ids)))
    await session.execute(delete(Enrolment).where(Enrolment.id.in_(ids)))
    return len(ids)


async def awaiting_profile(session: AsyncSession, chat_id: int) -> Enrolment | None:
    """The chat's newest active enrolment still missing a self-reported role or agency, if any.

    Per-attendee invites carry both from the register, so only shared-link joins end up here.
    """
    for enrolment in reversed(await active_enrolments(session, chat_id)):
        if enrolment.role is None or enrolment.agency is None:
            return enrolment
    return None


async def set_profile(
    session: AsyncSession, enrolment: Enrolment, *, role: str | None = None, agency: str | None = None
) -> None:
    """Store a self-reported role and/or agency; a value from the register is never overwritten."""
    if role is not None and enrolment.role is None:
        enrolment.role = role
    if agency is not None and enrolment.agency is None:
        enrolment.agency = agency
    await session.flush()
