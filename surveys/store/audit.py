"""The audit log of admin actions and refused attempts, with pseudonymised actors."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from surveys.domain.tokens import pseudonymise_actor
from surveys.settings import Settings
from surveys.store.models import AuditEvent


@dataclass(frozen=True)
class AuditActor:
    """Who asked for an action, as the log records them: a role and a name that is never a Telegram id."""

    role: str
    name: str


CLI = AuditActor("cli", "cli")
"""Someone at the command line (whoever can reach the database and settings)."""

SYSTEM = AuditActor("system", "system")
"""The product itself: the daily purge, the demo, tests and benchmarks."""


def audit_key(settings: Settings) -> str:
    """The HMAC key for actor pseudonyms: FOLLOWUP_SECRET_KEY, else one derived from the bot token."""
    if settings.secret_key:
        return settings.secret_key.get_secret_value()
    if settings.bot_token:
        return hashlib.sha256(b"followup-audit:" + settings.bot_token.get_secret_value().encode()).hexdigest()
    return "followup-local"


def chat_actor(role: str | None, user_id: int, settings: Settings) -> AuditActor:
    """Someone in the chat: their role ("none" for outsiders) and a keyed hash of their Telegram id."""
    return AuditActor(role or "none", pseudonymise_actor(user_id, audit_key(settings)))


async def record(
    session: AsyncSession,
    actor: AuditActor,
    action: str,
    *,
    now: datetime,
    target: str | None = None,
    outcome: str = "ok",
    detail: str | None = None,
) -> AuditEvent:
    """Add one audit event in the caller's transaction."""
    event = AuditEvent(
        at=now,
        role=actor.role,
        actor=actor.name,
        action=action,
        target=(target or "")[:200] or None,
        outcome=outcome,
        detail=detail,
    )
    session.add(event)
    await session.flush()
    return event


async def recent(session: AsyncSession, limit: int = 100, action: str | None = None) -> list[AuditEvent]:
    """The newest events first."""
    query = select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit)
    if action:
        query = query.where(AuditEvent.action == action)
    return list(await session.scalars(query))


def format_event(event: AuditEvent) -> str:
    """One tab-separated line for the CLI."""
    return "\t".join(
        [f"{event.at:%Y-%m-%d %H:%M:%S}Z", event.role, event.actor, event.action, event.target or "-", event.outcome]
    )
