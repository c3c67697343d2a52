"""Test data for own progress, CPD records and the report's level-3 section: answers written as the store holds them."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from surveys.domain.quizset import QuizSet, load_quiz_set
from surveys.domain.scoring import item_score
from surveys.domain.states import CheckInState
from surveys.store.catalog import import_quiz_set
from surveys.store.courses import create_course
from surveys.store.models import Answer, CheckIn, Contact, Course, Enrolment

QUIZ = """\
slug: cpd-test
title: CPD test set
description: A small set with commitments, for the tests.
estimate_minutes: 3
feedback: true
waves: [pre, post, 3m, 6m]
items:
  - id: aoc
    kind: single_choice
    text: What is the age of consent in England and Wales?
    tags: [knowledge, law]
    waves: [pre, post, 3m, 6m]
    options:
      - {value: a, label: "13"}
      - {value: b, label: "16"}
      - {value: c, label: "18"}
    correct: b
    explanation: The age of consent is 16 (Sexual Offences Act 2003).
  - id: myth
    kind: true_false
    text: A 15-year-old who agrees to sex with an adult has made a free choice.
    tags: [knowledge, consent]
    waves: [pre, post, 3m, 6m]
    correct: false
    explanation: A child cannot consent to their own exploitation.
  - id: online
    kind: true_false
    text: Exploitation can happen online without any physical contact.
    tags: [knowledge, online]
    waves: [post]
    correct: true
  - id: commit
    kind: commitments
    text: What will you do differently?
    tags: [commitments]
    waves: [post]
    max: 3
  - id: review
    kind: commitment_review
    of: commit
    text: Have you done it?
    tags: [commitments]
    waves: [3m, 6m]
"""


def quiz_set(tmp_path: Path) -> QuizSet:
    """The test set, loaded through the real loader."""
    path = tmp_path / "cpd-test.yaml"
    path.write_text(QUIZ, encoding="utf-8")
    return load_quiz_set(path)


async def a_course(session: AsyncSession, quiz: QuizSet, now: datetime, code: str = "CPD-1") -> Course:
    """A level-3 course on `quiz`, delivered today, with the set's waves."""
    await import_quiz_set(session, quiz, now)
    return await create_course(
        session,
        code=code,
        title="CSE for health staff",
        delivered_on=now.date(),
        level=3,
        quiz_ref=quiz.slug,
        now=now,
        waves=quiz.waves,
        expected_attendance=30,
    )


async def a_person(
    session: AsyncSession,
    course: Course,
    quiz: QuizSet,
    now: datetime,
    answers: dict[str, dict[str, str]],
    *,
    chat_id: int | None = None,
    role: str | None = "nurse",
    agency: str | None = "health",
    open_wave: str | None = None,
) -> Enrolment:
    """An enrolment with completed check-ins holding `answers` (wave → item id → value), as the store writes them.

    `open_wave`: one more check-in, due now and not yet answered. `chat_id`: linked to that chat.
    """
    enrolment = Enrolment(
        pseudonym=secrets.token_hex(6), course_id=course.id, role=role, agency=agency, consented_at=now
    )
    session.add(enrolment)
    await session.flush()
    if chat_id is not None:
        session.add(Contact(enrolment_id=enrolment.id, chat_id=chat_id, created_at=now))
    ids = {item.id: item for item in quiz.items}
    for wave, values in answers.items():
        check_in = CheckIn(
            enrolment_id=enrolment.id,
            wave=wave,
            state=CheckInState.COMPLETED,
            due_at=now - timedelta(days=1),
            closes_at=now + timedelta(days=10),
            completed_at=now,
        )
        session.add(check_in)
        await session.flush()
        for item_id, value in values.items():
            item = ids.get(item_id)
            score = item_score(item, value) if item is not None and value else None
            session.add(
                Answer(
                    check_in_id=check_in.id,
                    item_id=item_id,
                    quiz_set_id=course.quiz_set_id,
                    value=value,
                    score=score,
                    answered_at=now,
                )
            )
    if open_wave is not None:
        session.add(
            CheckIn(
                enrolment_id=enrolment.id,
                wave=open_wave,
                state=CheckInState.SENT,
                due_at=now - timedelta(hours=1),
                closes_at=now + timedelta(days=10),
                sent_at=now - timedelta(hours=1),
            )
        )
    await session.flush()
    return enrolment
