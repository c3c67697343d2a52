"""Reads for a practitioner's own progress and CPD record: their answers by wave, and their course's at one wave."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from surveys.store.models import Answer, CheckIn, Contact, Course, Enrolment


@dataclass(frozen=True)
class OwnAnswers:
    """One enrolment of a chat: its course (with the quiz-set version) and its answers, wave → item → value."""

    enrolment_id: int
    course: Course
    by_wave: dict[str, dict[str, str]]


async def answers_by_wave(session: AsyncSession, enrolment_id: int) -> dict[str, dict[str, str]]:
    """Every answer of one enrolment, wave → item id → stored value."""
    rows = await session.execute(
        select(CheckIn.wave, Answer.item_id, Answer.value)
        .join(CheckIn, CheckIn.id == Answer.check_in_id)
        .where(CheckIn.enrolment_id == enrolment_id)
    )
    out: dict[str, dict[str, str]] = {}
    for wave, item_id, value in rows.all():
        out.setdefault(wave, {})[item_id] = value
    return out


async def check_in_owner(session: AsyncSession, check_in_id: int) -> tuple[int, int, str] | None:
    """(enrolment id, course id, wave) of a check-in."""
    row = (
        await session.execute(
            select(CheckIn.enrolment_id, Enrolment.course_id, CheckIn.wave)
            .join(Enrolment, Enrolment.id == CheckIn.enrolment_id)
            .where(CheckIn.id == check_in_id)
        )
    ).first()
    return (row[0], row[1], row[2]) if row else None


async def cohort_answers(
    session: AsyncSession, course_id: int, wave: str, item_ids: Iterable[str]
) -> list[dict[str, str]]:
    """Per person on the course who answered one of these items at `wave`: their answers to them."""
    ids = sorted(set(item_ids))
    if not ids:
        return []
    rows = await session.execute(
        select(CheckIn.enrolment_id, Answer.item_id, Answer.value)
        .join(CheckIn, CheckIn.id == Answer.check_in_id)
        .join(Enrolment, Enrolment.id == CheckIn.enrolment_id)
        .where(Enrolment.course_id == course_id, CheckIn.wave == wave, Answer.item_id.in_(ids))
    )
    people: dict[int, dict[str, str]] = {}
    for enrolment_id, item_id, value in rows.all():
        people.setdefault(enrolment_id, {})[item_id] = value
    return list(people.values())


async def chat_answers(session: AsyncSession, chat_id: int) -> list[OwnAnswers]:
    """Each course this chat takes part in (not withdrawn), oldest first, with its answers."""
    enrolments = await session.scalars(
        select(Enrolment)
        .join(Contact, Contact.enrolment_id == Enrolment.id)
        .where(Contact.chat_id == chat_id, Enrolment.withdrawn_at.is_(None))
        .options(joinedload(Enrolment.course).joinedload(Course.quiz_set))
        .order_by(Enrolment.consented_at, Enrolment.id)
    )
    return [OwnAnswers(e.id, e.course, await answers_by_wave(session, e.id)) for e in enrolments.unique()]
