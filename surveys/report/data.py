"""SQL aggregation for the report: one row per check-in, per (item, wave) or per (course, wave, state)."""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import ColumnElement, and_, case, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from surveys.codebook import Codebook, CourseInfo, ItemInfo
from surveys.models import Answer, CheckIn, Course, Enrolment


def in_items(items: list[ItemInfo]) -> ColumnElement[bool]:
    """SQL condition: the answer is to one of these items (of its own quiz-set version)."""
    by_set: dict[int, list[str]] = {}
    for item in items:
        by_set.setdefault(item.quiz_set_id, []).append(item.id)
    if not by_set:
        return false()
    return or_(*(and_(Answer.quiz_set_id == qs, Answer.item_id.in_(ids)) for qs, ids in by_set.items()))


def _course_ids(courses: list[CourseInfo]) -> list[int]:
    return [c.id for c in courses]


async def _frame(session: AsyncSession, stmt: Any) -> pd.DataFrame:
    result = await session.execute(stmt)
    return pd.DataFrame.from_records(result.all(), columns=list(result.keys()))


async def checkin_frame(session: AsyncSession, courses: list[CourseInfo], codebook: Codebook) -> pd.DataFrame:
    """One row per answered check-in: who (role, agency, level), wave, knowledge % and construct means.

    The database does the per-answer work; Python sees one row per check-in, not per answer.
    """
    scored = in_items([i for i in codebook.items if i.scored])
    core = in_items(codebook.core_knowledge())
    sums: list[Any] = [
        func.count().label("n_answers"),
        func.sum(case((scored, Answer.score))).label("k_sum"),
        func.sum(case((scored, 1), else_=0)).label("k_n"),
        func.sum(case((core, Answer.score))).label("core_sum"),
        func.sum(case((core, 1), else_=0)).label("core_n"),
    ]
    for construct in codebook.constructs:
        cond = and_(in_items(codebook.where(kind="likert", construct=construct)), Answer.score.is_not(None))
        sums.append(func.sum(case((cond, Answer.score))).label(f"{construct}__sum"))
        sums.append(func.sum(case((cond, 1), else_=0)).label(f"{construct}__n"))
    agg = (
        select(Answer.check_in_id, *sums)
        .join(CheckIn, CheckIn.id == Answer.check_in_id)
        .join(Enrolment, Enrolment.id == CheckIn.enrolment_id)
        .where(Enrolment.course_id.in_(_course_ids(courses)))
        .group_by(Answer.check_in_id)
        .subquery()
    )
    stmt = (
        select(
            agg,
            CheckIn.enrolment_id,
            Enrolment.pseudonym,
            Course.code.label("course"),
            CheckIn.wave,
            CheckIn.state,
            Enrolment.role,
            Enrolment.agency,
            func.coalesce(Enrolment.level, Course.level).label("level"),
        )
        .join(CheckIn, CheckIn.id == agg.c.check_in_id)
        .join(Enrolment, Enrolment.id == CheckIn.enrolment_id)
        .join(Course, Course.id == Enrolment.course_id)
        .order_by(Course.code, Enrolment.pseudonym, CheckIn.due_at)
    )
    frame = await _frame(session, stmt)
    frame["knowledge_pct"] = _ratio(frame["k_sum"], frame["k_n"]) * 100.0
    frame["knowledge_core_pct"] = _ratio(frame["core_sum"], frame["core_n"]) * 100.0
    for construct in codebook.constructs:
        frame[construct] = _ratio(frame[f"{construct}__sum"], frame[f"{construct}__n"])
    return frame


def _ratio(total: pd.Series, n: pd.Series) -> pd.Series:
    # n == 0 means nothing of that kind was answered: missing, not zero.
    n = n.astype("float64")
    return total.astype("float64").div(n.where(n > 0))


async def item_wave_frame(session: AsyncSession, courses: list[CourseInfo]) -> pd.DataFrame:
    """One row per (item, wave): answers, sum of scores and 'yes' answers."""
    stmt = (
        select(
            Answer.item_id,
            CheckIn.wave,
            func.count().label("n"),
            func.sum(Answer.score).label("score_sum"),
            func.sum(case((Answer.value == "yes", 1), else_=0)).label("yes"),
            func.sum(case((Answer.value.in_(("yes", "no")), 1), else_=0)).label("yes_no"),
        )
        .join(CheckIn, CheckIn.id == Answer.check_in_id)
        .join(Enrolment, Enrolment.id == CheckIn.enrolment_id)
        .where(Enrolment.course_id.in_(_course_ids(courses)))
        .group_by(Answer.item_id, CheckIn.wave)
    )
    return await _frame(session, stmt)


async def checkin_state_frame(session: AsyncSession, courses: list[CourseInfo]) -> pd.DataFrame:
    """Check-ins counted per (course, wave, state)."""
    stmt = (
        select(Enrolment.course_id, CheckIn.wave, CheckIn.state, func.count().label("n"))
        .join(Enrolment, Enrolment.id == CheckIn.enrolment_id)
        .where(Enrolment.course_id.in_(_course_ids(courses)))
        .group_by(Enrolment.course_id, CheckIn.wave, CheckIn.state)
    )
    return await _frame(session, stmt)


async def enrolled_counts(session: AsyncSession, courses: list[CourseInfo]) -> dict[int, int]:
    """Enrolments per course (withdrawn ones included: their answers stay)."""
    rows = await session.execute(
        select(Enrolment.course_id, func.count())
        .where(Enrolment.course_id.in_(_course_ids(courses)))
        .group_by(Enrolment.course_id)
    )
    return {course_id: n for course_id, n in rows.all()}


async def last_wave_states(session: AsyncSession, courses: list[CourseInfo], wave: str) -> pd.DataFrame:
    """Enrolment id and check-in state at one wave (for the attrition comparison)."""
    stmt = (
        select(CheckIn.enrolment_id, CheckIn.state)
        .join(Enrolment, Enrolment.id == CheckIn.enrolment_id)
        .where(Enrolment.course_id.in_(_course_ids(courses)), CheckIn.wave == wave)
    )
    return await _frame(session, stmt)


async def free_text_frame(session: AsyncSession, courses: list[CourseInfo], codebook: Codebook) -> pd.DataFrame:
    """Free-text answers (already scrubbed when stored) with their item, wave and enrolment."""
    stmt = (
        select(Answer.item_id, CheckIn.wave, CheckIn.enrolment_id, Answer.value)
        .join(CheckIn, CheckIn.id == Answer.check_in_id)
        .join(Enrolment, Enrolment.id == CheckIn.enrolment_id)
        .where(
            Enrolment.course_id.in_(_course_ids(courses)),
            in_items(codebook.where(kind="text")),
            Answer.value != "",  # a skipped optional answer is stored empty
        )
        # Sorted by text, not by person or time, so the list cannot be lined up with anything.
        .order_by(Answer.item_id, CheckIn.wave, Answer.value)
    )
    return await _frame(session, stmt)
