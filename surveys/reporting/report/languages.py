"""The report's by-language breakdown (issue 14): people enrolled in each language, none about fewer than k.

An enrolment's language is the one it has now (a switch with /language moves the whole enrolment), so each
check-in counts under its enrolment's language at the time of the report; the long export says the same.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from surveys import language
from surveys.reporting.codebook import CourseInfo
from surveys.reporting.report.disclosure import Cell, protect
from surveys.store.models import Enrolment

NAMES = {language.WELSH: "Welsh (Cymraeg)", language.ENGLISH: "English"}


async def by_language(
    session: AsyncSession,
    courses: list[CourseInfo],
    shown_courses: list[dict[str, Any]],
    response: list[dict[str, Any]],
    k: int,
) -> list[dict[str, Any]]:
    """People enrolled per language, protected together with the enrolled figures the report already shows.

    The courses table and the response table publish enrolled counts per course and per wave; a language's
    count next to them could give a withheld one back by subtraction, so all of them go through
    disclosure.protect, the language cells withheld first (the others count as totals there).
    """
    rows = await session.execute(
        select(Enrolment.course_id, Enrolment.language, func.count())
        .where(Enrolment.course_id.in_([c.id for c in courses]))
        .group_by(Enrolment.course_id, Enrolment.language)
    )
    counts = {(course_id, code): int(n) for course_id, code, n in rows}
    codes = [code for code in language.LANGUAGES if any(c == code for _, c in counts)]
    # Atoms: one course's people in one language.
    atoms = [(c.id, code) for c in courses for code in language.LANGUAGES]
    n = [counts.get(atom, 0) for atom in atoms]
    out = []
    cells = []
    for code in codes:
        people = sum(v for (_, c), v in counts.items() if c == code)
        row = {"language": code, "name": NAMES[code], "enrolled": people if people >= k else None}
        row["suppressed"] = people < k
        out.append(row)
        cells.append(Cell("languages", np.array([a[1] == code for a in atoms]), people, people < k, _withheld(row)))
    for course, shown in zip(courses, shown_courses, strict=False):
        inside = np.array([a[0] == course.id for a in atoms])
        people = sum(v for v, a in zip(n, atoms, strict=False) if a[0] == course.id)
        cells.append(Cell("courses", inside, people, bool(shown["enrolled_suppressed"]), _course(shown), total=True))
    for wave in response:
        with_wave = {c.id for c in courses if wave["wave"] in c.waves}
        inside = np.array([a[0] in with_wave for a in atoms])
        people = sum(v for v, a in zip(n, atoms, strict=False) if a[0] in with_wave)
        cells.append(Cell("waves", inside, people, wave["enrolled"] is None, _wave(wave), total=True))
    protect(cells, k)
    return out


def _withheld(row: dict[str, Any]) -> Callable[[], None]:
    def withhold() -> None:
        row.update(enrolled=None, suppressed=True, complementary=True)

    return withhold


def _course(row: dict[str, Any]) -> Callable[[], None]:
    def withhold() -> None:
        row.update(enrolled=None, enrolled_suppressed=True, enrolled_complementary=True)

    return withhold


def _wave(row: dict[str, Any]) -> Callable[[], None]:
    def withhold() -> None:
        row.update(enrolled=None, rate_enrolled=None, enrolled_complementary=True)

    return withhold


def section(report: dict[str, Any]) -> dict[str, Any]:
    """The report section: one row per language people chose, in English (reports stay English)."""
    marker, withheld = report["suppressed_marker"], report["withheld_marker"]
    rows = [
        [row["name"], withheld if row.get("complementary") else marker if row["suppressed"] else str(row["enrolled"])]
        for row in report.get("languages", [])
    ]
    return {
        "id": "languages",
        "title": "Language",
        "tables": [{"headers": ["Language of the check-ins", "Enrolled"], "rows": rows}],
        "notes": [
            "Each person's check-ins are counted under the language of their enrolment when the report was made: "
            "someone who switched with /language counts under the language they switched to."
        ],
    }
