"""Invites: deep-link tokens for a course (stored as hashes), and their validity."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from surveys.domain import lifecycle
from surveys.domain.registers import Attendee
from surveys.domain.tokens import hash_token, new_token
from surveys.store.audit import SYSTEM, AuditActor, record
from surveys.store.courses import CourseClosed
from surveys.store.models import Course, Invite, QuizSetVersion


class InviteProblem(LookupError):
    """An invite that cannot be used; `reason` is one of unknown, expired, used, closed."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class IssuedInvite:
    """A freshly made invite and its token; the token exists only here, never in the database."""

    invite: Invite
    token: str


async def issue_invite(
    session: AsyncSession,
    course: Course,
    now: datetime,
    *,
    single_use: bool = False,
    role: str | None = None,
    agency: str | None = None,
    level: int | None = None,
    language: str | None = None,
    expires_at: datetime | None = None,
) -> IssuedInvite:
    """Create an invite for `course`: one shared link, or a single-use one per attendee."""
    token = new_token()
    invite = Invite(
        course_id=course.id,
        course=course,
        token_hash=hash_token(token),
        single_use=single_use,
        role=role,
        agency=agency,
        level=level,
        language=language,
        expires_at=expires_at,
        created_at=now,
    )
    session.add(invite)
    await session.flush()
    return IssuedInvite(invite, token)


async def invite_course(
    session: AsyncSession,
    course: Course,
    now: datetime,
    *,
    attendees: Sequence[Attendee] = (),
    expires_at: datetime | None = None,
    actor: AuditActor = SYSTEM,
) -> tuple[IssuedInvite, list[IssuedInvite]]:
    """A fresh shared link and one single-use link per register row, audited as one action; CourseClosed if closed."""
    if lifecycle.is_closed(course):
        raise CourseClosed(f"{course.code} is closed: its links no longer enrol anyone")
    shared = await issue_invite(session, course, now, expires_at=expires_at)
    personal = [
        await issue_invite(
            session,
            course,
            now,
            single_use=True,
            role=a.role,
            agency=a.agency,
            level=a.level,
            language=a.language,
            expires_at=expires_at,
        )
        for a in attendees
    ]
    await record(
        session,
        actor,
        "course.invite",
        now=now,
        target=course.code,
        detail=f"shared link and {len(personal)} personal link(s)",
    )
    return shared, personal


async def resolve_invite(session: AsyncSession, token: str, now: datetime, *, for_update: bool = False) -> Invite:
    """The usable invite for `token`, with its course and quiz-set version; InviteProblem says why it is not usable.

    The quiz definition is not loaded: callers parse it once per checksum. `for_update` locks the
    invite row (PostgreSQL) so two taps on "Agree" run one after the other and the second sees
    the first one's enrolment; SQLite serialises writers anyway.
    """
    query = (
        select(Invite)
        .where(Invite.token_hash == hash_token(token))
        .options(
            joinedload(Invite.course, innerjoin=True)
            .joinedload(Course.quiz_set, innerjoin=True)
            .defer(QuizSetVersion.definition, raiseload=True)
        )
    )
    invite = await session.scalar(query.with_for_update(of=Invite) if for_update else query)
    if invite is None or invite.revoked_at is not None:
        raise InviteProblem("unknown")
    if invite.expires_at is not None and invite.expires_at <= now:
        raise InviteProblem("expired")  # not a check-in state
    if invite.single_use and invite.used_at is not None:
        raise InviteProblem("used")
    if lifecycle.is_closed(invite.course):
        raise InviteProblem("closed")
    return invite


def deep_link(bot_username: str, token: str) -> str:
    """The t.me link that opens the bot with `/start <token>`."""
    return f"https://t.me/{bot_username.lstrip('@')}?start={token}"


def invite_language(invite: Invite) -> str | None:
    """The language a person joining by this invite is spoken to from the start: the register's for them, else
    the course's; None when neither sets one, and they choose."""
    return invite.language or invite.course.language
