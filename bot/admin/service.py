"""What every admin tool shares: the store, settings and clock, the audit log, and the refusal for outsiders."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.admin.roles import EVALUATOR, Actor
from bot.admin.wording import admin_line
from bot.replies import Reply, Text
from surveys.clock import Clock
from surveys.settings import Settings
from surveys.store.audit import record


@dataclass(frozen=True)
class Admin:
    """The officer's and evaluator's tools' view of the application: each request is one transaction."""

    sessions: async_sessionmaker[AsyncSession]
    settings: Settings
    clock: Clock

    async def audit(
        self, session: AsyncSession, actor: Actor, action: str, target: str | None = None, outcome: str = "ok"
    ) -> None:
        """Record one event in the caller's transaction."""
        await record(session, actor.audited(self.settings), action, now=self.clock(), target=target, outcome=outcome)

    async def audited(self, actor: Actor, action: str, target: str | None = None, outcome: str = "ok") -> None:
        """Record one event in its own transaction (for outcomes decided outside the store)."""
        async with self.sessions() as session, session.begin():
            await self.audit(session, actor, action, target, outcome)

    async def refuse(self, actor: Actor, action: str, roles: frozenset[str]) -> Reply:
        """Someone without the role tried an admin command: audited as denied, and a refusal naming who may."""
        await self.audited(actor, action, outcome="denied")
        text = admin_line("refused", evaluators=EVALUATOR in roles)
        return Reply((Text(text),), notice=text)
