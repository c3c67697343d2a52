"""Quiz-set versions in the database: import (new version only when changed), list, fetch."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from surveys.store.audit import SYSTEM, AuditActor, record
from surveys.store.models import QuizSetVersion

if TYPE_CHECKING:
    from surveys.domain.quizset.models import QuizSet


class UnknownQuizSet(LookupError):
    """No stored quiz set matches a `slug` or `slug@version` reference."""


@dataclass(frozen=True)
class ImportResult:
    """What an import did: the stored version and whether it is new."""

    version: QuizSetVersion
    created: bool

    def describe(self) -> str:
        """One line for the CLI and the chat."""
        ref = self.version.ref
        if self.created:
            return f"Imported {ref} ({self.version.title})."
        return f"{ref} is already stored and unchanged: nothing imported."


async def import_quiz_set(
    session: AsyncSession, quiz: QuizSet, now: datetime, *, actor: AuditActor = SYSTEM
) -> ImportResult:
    """Store `quiz` as a new version of its slug, unless an identical version exists; audited either way.

    Stored versions are never modified: answers point at the exact text that was asked.
    """
    result = await _import(session, quiz, now)
    await record(
        session,
        actor,
        "quizset.import",
        now=now,
        target=result.version.ref,
        outcome="ok" if result.created else "unchanged",
    )
    return result


async def _import(session: AsyncSession, quiz: QuizSet, now: datetime) -> ImportResult:
    """The import itself: the existing identical version, or a new one numbered after the latest."""
    checksum = quiz.checksum
    existing = await session.scalar(
        select(QuizSetVersion).where(QuizSetVersion.slug == quiz.slug, QuizSetVersion.checksum == checksum)
    )
    if existing is not None:
        return ImportResult(existing, created=False)
    latest = await session.scalar(select(func.max(QuizSetVersion.version)).where(QuizSetVersion.slug == quiz.slug))
    version = QuizSetVersion(
        slug=quiz.slug,
        version=(latest or 0) + 1,
        title=quiz.title,
        definition=quiz.to_definition(),
        checksum=checksum,
        created_at=now,
    )
    session.add(version)
    await session.flush()
    return ImportResult(version, created=True)


async def find_quiz_set(session: AsyncSession, ref: str) -> QuizSetVersion:
    """Resolve `slug` (the latest version) or `slug@N`; UnknownQuizSet if there is none."""
    slug, _, number = ref.partition("@")
    query = select(QuizSetVersion).where(QuizSetVersion.slug == slug)
    if number:
        if not number.isdigit():
            raise UnknownQuizSet(f"{ref!r}: the version after @ must be a number, e.g. {slug}@2")
        query = query.where(QuizSetVersion.version == int(number))
    found = await session.scalar(query.order_by(QuizSetVersion.version.desc()).limit(1))
    if found is None:
        raise UnknownQuizSet(f"no quiz set {ref!r} is stored; import it with `followup quiz import FILE`")
    return found


def parsed(version: QuizSetVersion) -> QuizSet:
    """The stored version as a validated QuizSet (read its waves and items from this, not the raw dict)."""
    from surveys.domain.quizset.models import QuizSet

    return QuizSet.from_definition(version.definition)


async def list_quiz_sets(session: AsyncSession) -> list[QuizSetVersion]:
    """Every stored version, by slug then version."""
    rows = await session.scalars(select(QuizSetVersion).order_by(QuizSetVersion.slug, QuizSetVersion.version))
    return list(rows)
