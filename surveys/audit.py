"""The audit log of admin actions and refused attempts, with pseudonymised actors."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from surveys.models import AuditEvent
from surveys.tokens import pseudonymise_actor


async def record(
    session: AsyncSession,
    *,
    now: datetime,
    role: str,
    action: str,
    actor_id: int | None,
    key: str,
    target: str | None = None,
    outcome: str = "ok",
    detail: str | None = None,
) -> AuditEvent:
    """Add one audit event; the actor's Telegram id is stored only as a keyed hash."""
    actor = pseudonymise_actor(actor_id, key) if actor_id is not None else "cli"
    event = AuditEvent(
        at=now, role=role, actor=actor, action=action, target=(target or "")[:200] or None,
        outcome=outcome, detail=detail,
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


def audit_key(secret_key: str | None, bot_token: str | None) -> str:
    """The HMAC key for actor pseudonyms: FOLLOWUP_SECRET_KEY, else one derived from the token."""
    import hashlib

    if secret_key:
        return secret_key
    if bot_token:
        return hashlib.sha256(b"followup-audit:" + bot_token.encode()).hexdigest()
    return "followup-local"
