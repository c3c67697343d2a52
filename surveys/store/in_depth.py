"""The in-depth follow-up's storage: the draw, agreement, case-study answers, relayed-message records, the share."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from surveys.domain import in_depth as rules
from surveys.domain.scrub import scrub_free_text
from surveys.domain.states import CheckInState
from surveys.store.models import CheckIn, Contact, Course, Enrolment, InDepthAnswer, InDepthDraw, Relay

RELAY_OPEN = timedelta(days=14)
"""How long after an officer's message the person can answer it with /reply."""
TO_PERSON, TO_OFFICER = "to_person", "to_officer"


class ShareError(ValueError):
    """A share that is not a whole percentage from 0 to 100."""


async def draw(session: AsyncSession, check_in_id: int, now: datetime) -> InDepthDraw | None:
    """Draw this completed check-in's person if it is their course's in-depth wave: the new row, else None.

    Once per person: a second call (a repeated completion) draws nothing. The course row is locked on
    PostgreSQL so two completers of one agency never take the same turn (SQLite has one writer anyway).
    """
    row = (
        await session.execute(
            select(CheckIn.wave, CheckIn.state, Enrolment.id, Enrolment.agency, Course.id, Course.waves)
            .join(Enrolment, Enrolment.id == CheckIn.enrolment_id)
            .join(Course, Course.id == Enrolment.course_id)
            .where(CheckIn.id == check_in_id)
        )
    ).one_or_none()
    # Every completion of every wave comes here: only the in-depth wave's take the course's lock.
    if row is None or row.state != CheckInState.COMPLETED or row.wave != rules.in_depth_wave(row.waves):
        return None
    _, _, enrolment_id, agency, course_id, _ = row
    course = await session.scalar(select(Course).where(Course.id == course_id).with_for_update())
    assert course is not None
    if course.in_depth_share <= 0:
        return None
    if await session.scalar(select(InDepthDraw.id).where(InDepthDraw.enrolment_id == enrolment_id)):
        return None
    if course.in_depth_seed is None:
        course.in_depth_seed = secrets.token_hex(8)
    stratum = rules.stratum(agency)
    last = await session.scalar(
        select(func.max(InDepthDraw.sequence)).where(InDepthDraw.course_id == course_id, InDepthDraw.stratum == stratum)
    )
    sequence = (last or 0) + 1
    selected = rules.is_selected(course.in_depth_seed, stratum, sequence, course.in_depth_share)
    drawn = InDepthDraw(
        course_id=course_id,
        enrolment_id=enrolment_id,
        stratum=stratum,
        sequence=sequence,
        share=course.in_depth_share,
        selected=selected,
        drawn_at=now,
        status=rules.INVITED if selected else None,
    )
    session.add(drawn)
    await session.flush()
    return drawn


async def _chat_draw(session: AsyncSession, chat_id: int, *where: object) -> InDepthDraw | None:
    return await session.scalar(
        select(InDepthDraw)
        .join(Contact, Contact.enrolment_id == InDepthDraw.enrolment_id)
        .join(Enrolment, Enrolment.id == InDepthDraw.enrolment_id)
        .where(Contact.chat_id == chat_id, Enrolment.withdrawn_at.is_(None), *where)
        .order_by(InDepthDraw.drawn_at.desc(), InDepthDraw.id.desc())
        .limit(1)
    )


async def respond(session: AsyncSession, draw_id: int, chat_id: int, agree: bool, now: datetime) -> InDepthDraw | None:
    """Agree or decline: only the invited person's own chat, once; None for anything else (stale or forged)."""
    found = await _chat_draw(session, chat_id, InDepthDraw.id == draw_id, InDepthDraw.status == rules.INVITED)
    if found is None:
        return None
    found.status = rules.AGREED if agree else rules.DECLINED
    found.responded_at = now
    await session.flush()
    return found


async def case_study(session: AsyncSession, chat_id: int) -> tuple[InDepthDraw, dict[str, str]] | None:
    """This chat's case study under way (agreed, not finished) and its answers so far."""
    found = await _chat_draw(session, chat_id, InDepthDraw.status == rules.AGREED)
    if found is None:
        return None
    rows = await session.execute(
        select(InDepthAnswer.question, InDepthAnswer.value).where(InDepthAnswer.enrolment_id == found.enrolment_id)
    )
    return found, {question: value for question, value in rows.all()}


def next_question(answers: dict[str, str]) -> str | None:
    """The first case-study question not answered yet, or None when all are."""
    return next((q for q in rules.QUESTIONS if q not in answers), None)


async def answer(session: AsyncSession, found: InDepthDraw, question: str, value: str, now: datetime) -> bool:
    """Store one case-study answer, scrubbed; completes the case study after the last. False if already answered."""
    assert found.enrolment_id is not None
    exists = await session.scalar(
        select(InDepthAnswer.id).where(
            InDepthAnswer.enrolment_id == found.enrolment_id, InDepthAnswer.question == question
        )
    )
    if exists:
        return False
    session.add(
        InDepthAnswer(enrolment_id=found.enrolment_id, question=question, value=scrub_free_text(value), answered_at=now)
    )
    if question == rules.QUESTIONS[-1]:
        found.status = rules.TOLD
        found.completed_at = now
    await session.flush()
    return True


@dataclass(frozen=True)
class Participant:
    """Someone who agreed to the in-depth follow-up, as the relay needs them: pseudonym, enrolment, chat."""

    pseudonym: str
    enrolment_id: int
    course_code: str
    chat_id: int | None  # None once the chat link is gone (purged or withdrawn)


async def participant(session: AsyncSession, pseudonym: str) -> Participant | None:
    """The agreed participant with this pseudonym, or None (unknown, or not in the in-depth follow-up)."""
    row = (
        await session.execute(
            select(Enrolment.pseudonym, Enrolment.id, Course.code, Contact.chat_id)
            .join(InDepthDraw, InDepthDraw.enrolment_id == Enrolment.id)
            .join(Course, Course.id == Enrolment.course_id)
            .outerjoin(Contact, Contact.enrolment_id == Enrolment.id)
            .where(Enrolment.pseudonym == pseudonym.upper(), InDepthDraw.status.in_(rules.TOOK_PART))
        )
    ).one_or_none()
    return Participant(*row) if row else None


async def participants(session: AsyncSession) -> list[Participant]:
    """Everyone an officer can write to now: agreed, still linked to a chat."""
    rows = await session.execute(
        select(Enrolment.pseudonym, Enrolment.id, Course.code, Contact.chat_id)
        .join(InDepthDraw, InDepthDraw.enrolment_id == Enrolment.id)
        .join(Course, Course.id == Enrolment.course_id)
        .join(Contact, Contact.enrolment_id == Enrolment.id)
        .where(InDepthDraw.status.in_(rules.TOOK_PART), Enrolment.withdrawn_at.is_(None))
        .order_by(Course.code, Enrolment.pseudonym)
    )
    return [Participant(*row) for row in rows.all()]


async def record_relay(session: AsyncSession, enrolment_id: int, officer: str, direction: str, now: datetime) -> None:
    """Note that a message passed (never its text): an officer's opens the person's /reply for RELAY_OPEN."""
    session.add(Relay(enrolment_id=enrolment_id, officer=officer, direction=direction, at=now))
    await session.flush()


async def pending_relay(session: AsyncSession, chat_id: int, now: datetime) -> tuple[str, str] | None:
    """(pseudonym, officer) of the newest officer's message to this chat still open to a /reply, else None."""
    row = (
        await session.execute(
            select(Enrolment.pseudonym, Relay.officer)
            .join(Enrolment, Enrolment.id == Relay.enrolment_id)
            .join(Contact, Contact.enrolment_id == Enrolment.id)
            .where(Contact.chat_id == chat_id, Relay.direction == TO_PERSON, Relay.at > now - RELAY_OPEN)
            .order_by(Relay.at.desc(), Relay.id.desc())
            .limit(1)
        )
    ).one_or_none()
    return (row[0], row[1]) if row else None


def parse_share(text: str) -> int:
    """'25' or '25%' → 25; ShareError for anything but a whole percentage from 0 to 100."""
    try:
        share = int(text.strip().removesuffix("%"))
    except ValueError:
        raise ShareError(f"{text!r} is not a percentage: give a whole number from 0 to 100, e.g. 25") from None
    if not 0 <= share <= 100:
        raise ShareError(f"{share}% is not a share: give a whole number from 0 to 100, e.g. 25")
    return share


@dataclass(frozen=True)
class Redrawn:
    """One stored draw beside the draw recomputed from the course's seed: they must agree."""

    stratum: str
    sequence: int
    stored: bool
    recomputed: bool


async def redraw(session: AsyncSession, course: Course) -> list[Redrawn]:
    """Recompute every stored draw of a course from its recorded seed, stratum and turn, for an audit."""
    rows = await session.scalars(
        select(InDepthDraw)
        .where(InDepthDraw.course_id == course.id)
        .order_by(InDepthDraw.stratum, InDepthDraw.sequence)
    )
    seed = course.in_depth_seed or ""
    return [
        Redrawn(d.stratum, d.sequence, d.selected, rules.is_selected(seed, d.stratum, d.sequence, d.share))
        for d in rows
    ]
