"""The language stored with a chat's enrolments: read for every update, switched by /language (issue 14)."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from surveys.store.models import Contact, Enrolment


async def chat_language(session: AsyncSession, chat_id: int) -> str | None:
    """The language of the chat's latest active enrolment; None for a chat not enrolled (nothing is kept)."""
    return await session.scalar(
        select(Enrolment.language)
        .join(Contact, Contact.enrolment_id == Enrolment.id)
        .where(Contact.chat_id == chat_id, Enrolment.withdrawn_at.is_(None))
        .order_by(Enrolment.consented_at.desc(), Enrolment.id.desc())
        .limit(1)
    )


async def switch_language(session: AsyncSession, chat_id: int, language: str) -> int:
    """Speak `language` on every active enrolment of the chat from now on; how many there are."""
    enrolled = select(Contact.enrolment_id).where(Contact.chat_id == chat_id)
    result = await session.execute(
        update(Enrolment)
        .where(Enrolment.id.in_(enrolled), Enrolment.withdrawn_at.is_(None))
        .values(language=language)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0
