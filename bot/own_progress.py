"""The end of a check-in: knowledge against their first check-in, the course's median beside it, the CPD button."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import callbacks
from bot.callbacks import Kind
from bot.replies import Button, Reply, Text
from bot.texts import render_text
from surveys import language
from surveys.domain import progress, waves
from surveys.domain.quiz_text import RenderContext
from surveys.domain.quizset import QuizSet
from surveys.settings import Settings
from surveys.store.models import Course
from surveys.store.own_progress import answers_by_wave, check_in_owner, cohort_answers
from surveys.texts import wave_label


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
        # The items' words in the person's language (a bilingual set; the same ids and values in each).
        spoken = quiz.in_language(language.current())
        comparison = progress.compare(spoken, by_wave, wave, cohort, settings.suppress_below, context)
    text = render_text(
        "own_progress.txt",
        c=comparison,
        first_label=wave_label(comparison.first_wave) if comparison else "",
    )
    return Text(text, cpd_button())


def after(reply: Reply, message: Text | None) -> Reply:
    """The reply with the closing message joined to the summary it ends with (the pressed message's edit, or the
    last message sent), so the end of a check-in still costs one chat request; sent after it otherwise."""
    if message is None:
        return reply
    if isinstance(reply.edit, Text) and not reply.edit.rows:
        return replace(reply, edit=_joined(reply.edit, message))
    if reply.messages and isinstance(reply.messages[-1], Text) and not reply.messages[-1].rows:
        return replace(reply, messages=(*reply.messages[:-1], _joined(reply.messages[-1], message)))
    return replace(reply, messages=(*reply.messages, message))


def _joined(summary: Text, closing: Text) -> Text:
    return Text(f"{summary.text}\n\n{closing.text}", closing.rows)
