"""The end of a check-in: knowledge against their first check-in, the course's median beside it, the CPD button."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import callbacks
from bot.callbacks import Kind
from bot.replies import Button, Reply, Text
from bot.texts import render_text
from surveys.domain import progress, waves
from surveys.domain.quiz_text import RenderContext
from surveys.domain.quizset import QuizSet
from surveys.settings import Settings
from surveys.store.models import Course
from surveys.store.own_progress import answers_by_wave, check_in_owner, cohort_answers


def cpd_button() -> tuple[tuple[Button, ...], ...]:
    """The row under the end of a check-in that asks for the CPD record."""
    return ((Button(render_text("cpd.txt", kind="button"), callbacks.encode(Kind.CPD, "ask")),),)


async def closing(session: AsyncSession, check_in_id: int, quiz: QuizSet, settings: Settings) -> Text | None:
    """The message after a completed check-in's summary: own progress (from the second on) and the CPD offer."""
    owner = await check_in_owner(session, check_in_id)
    if owner is None:
        return None
    enrolment_id, course_id, wave = owner
    title = await session.scalar(select(Course.title).where(Course.id == course_id))
    by_wave = await answers_by_wave(session, enrolment_id)
    comparison = None
    if progress.first_wave(quiz, by_wave, wave) is not None:
        scored = [item.id for item in quiz.items_for(wave) if item.scored]
        cohort = await cohort_answers(session, course_id, wave, scored)
        context = RenderContext(title or "", wave, waves.months(wave))
        comparison = progress.compare(quiz, by_wave, wave, cohort, settings.suppress_below, context)
    text = render_text(
        "own_progress.txt",
        c=comparison,
        first_label=waves.label(comparison.first_wave) if comparison else "",
    )
    return Text(text, cpd_button())


def after(reply: Reply, message: Text | None) -> Reply:
    """The reply with the closing message sent after whatever it shows."""
    return reply if message is None else replace(reply, messages=(*reply.messages, message))
