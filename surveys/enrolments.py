"""Enrolments and the contact link: join by invite, find by chat, withdraw, erase."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from surveys.models import Answer, CheckIn, Contact, Enrolment, Invite
from surveys.tokens import new_pseudonym

OPEN_STATES = ("scheduled", "sent", "in_progress")


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
    await session.execute(
        update(CheckIn)
        .where(CheckIn.enrolment_id.in_(ids), CheckIn.state.in_(OPEN_STATES))
        .values(state="cancelled", last_error="withdrawn", claimed_by=None, next_action_at=None)
    )
    await session.execute(
        update(Enrolment).where(Enrolment.id.in_(ids)).values(withdrawn_at=now)
    )
    await session.execute(delete(Contact).where(Contact.enrolment_id.in_(ids)))
    return len(ids)


async def erase(session: AsyncSession, chat_id: int) -> int:
    """Delete this chat's enrolments with their check-ins, answers and chat link.

    Enrolments already withdrawn have no chat link any more, so nothing can find them:
    that is the point of withdrawing. Returns how many enrolments were erased.
    """
    ids = list(
        await session.scalars(select(Contact.enrolment_id).where(Contact.chat_id == chat_id))
    )
    if not ids:
        return 0
    # Explicit deletes: do not rely on ON DELETE CASCADE being honoured by every connection.
    check_ins = select(CheckIn.id).where(CheckIn.enrolment_id.in_(ids))
    await session.execute(delete(Answer).where(Answer.check_in_id.in_(check_ins)))
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
