"""Retention: forget who someone is once their check-ins are over, and drop dead invites."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, exists, or_
from sqlalchemy.ext.asyncio import AsyncSession

from surveys.settings import Settings
from surveys.store.audit import SYSTEM, AuditActor, record
from surveys.store.models import CheckIn, Contact, Enrolment, Invite


@dataclass(frozen=True)
class PurgeReport:
    """What a purge deleted."""

    contacts: int
    invites: int

    def __str__(self) -> str:
        return f"Deleted {self.contacts} chat link(s) and {self.invites} invite(s)."


async def purge(session: AsyncSession, now: datetime, settings: Settings, *, actor: AuditActor = SYSTEM) -> PurgeReport:
    """Delete chat links and invites that are no longer needed; the caller commits.

    A contact (the only link from answers to a person) goes when the person withdrew, or
    `retention_days` after the bot was blocked, or `retention_days` after the last of their
    check-ins closed (an enrolment with no check-ins counts from consent). An invite goes when
    it has expired, or when it was single-use and has been used.
    """
    cutoff = now - timedelta(days=settings.retention_days)
    still_open = exists().where(CheckIn.enrolment_id == Contact.enrolment_id, CheckIn.closes_at > cutoff)
    withdrawn = exists().where(Enrolment.id == Contact.enrolment_id, Enrolment.withdrawn_at.is_not(None))
    consented_recently = exists().where(Enrolment.id == Contact.enrolment_id, Enrolment.consented_at > cutoff)
    has_check_ins = exists().where(CheckIn.enrolment_id == Contact.enrolment_id)
    finished = and_(~still_open, or_(has_check_ins, ~consented_recently))
    contacts = await session.execute(
        delete(Contact)
        .where(or_(withdrawn, Contact.unreachable_at <= cutoff, finished))
        .execution_options(synchronize_session=False)
    )
    invites = await session.execute(
        delete(Invite)
        .where(or_(Invite.expires_at <= now, and_(Invite.single_use.is_(True), Invite.used_at.is_not(None))))
        .execution_options(synchronize_session=False)
    )
    report = PurgeReport(contacts.rowcount or 0, invites.rowcount or 0)
    await record(session, actor, "purge", now=now, detail=str(report))
    return report
