"""The annual report's own part: per-course, per-level and per-quarter tables over a period, and the board's figures."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.ext.asyncio import AsyncSession

from surveys.reporting.codebook import CourseInfo
from surveys.reporting.period import Period, quarter
from surveys.reporting.report.disclosure import Cell, protect
from surveys.reporting.report.org_figures import org_figures
from surveys.reporting.report.stats import PERCENT, mean_ci

Named = Callable[[pd.DataFrame, str], np.ndarray]
Withhold = Callable[..., Callable[[], None]]
GROUPINGS = ("course", "level", "quarter")
ALL_COURSES = "All courses"


def level_label(level: int) -> str:
    """A course level as the tables name it."""
    return f"Level {level}"


def _groups(courses: list[CourseInfo]) -> dict[str, dict[str, list[int]]]:
    """Per grouping, each group's label and the indexes of its courses, in reading order."""
    by: dict[str, dict[str, list[int]]] = {g: {} for g in GROUPINGS}
    for i, c in enumerate(courses):
        by["course"].setdefault(c.code, []).append(i)
    for i, c in sorted(enumerate(courses), key=lambda ic: ic[1].level):
        by["level"].setdefault(level_label(c.level), []).append(i)
    for i, c in sorted(enumerate(courses), key=lambda ic: ic[1].delivered_on):
        by["quarter"].setdefault(quarter(c.delivered_on), []).append(i)
    return by


async def annual_part(
    session: AsyncSession,
    period: Period,
    courses: list[CourseInfo],
    checkins: pd.DataFrame,
    report: dict[str, Any],
    k: int,
    *,
    named: Named,
    withhold: Withhold,
) -> dict[str, Any]:
    """The keys the annual report adds: its period, the grouped tables, and the board's figures.

    `report` is the impact report over the same courses: its totals and breakdowns are protected
    together with the new tables, so no figure about fewer than k people comes out by subtraction
    between any of them. `named` and `withhold` are build's own (how a breakdown group is named, how a
    shown figure is withheld), so both tables agree.
    """
    waves: list[str] = report["waves"]
    groups = _groups(courses)
    code_index = {c.code: i for i, c in enumerate(courses)}
    course_of = checkins["course"].map(code_index).fillna(-1).to_numpy(dtype="int64")
    tables = {
        grouping: [_group_row(grouping, label, members, courses) for label, members in by.items()]
        for grouping, by in groups.items()
    }
    for w, wave in enumerate(waves):
        at = (checkins["wave"] == wave).to_numpy()
        _answered(tables, groups, courses, wave, course_of[at], report["response"][w], k, withhold)
        _knowledge(tables, groups, checkins, at, wave, course_of, report, w, k, named, withhold)
    total = _total_row(courses, report)
    return {
        "title": f"CSE training follow-up: annual impact report, {period.label}",
        "period": {"from": period.start.isoformat(), "to": period.end.isoformat(), "label": period.label},
        "annual": {name: [*rows, total] for name, rows in tables.items()},
        "org_figures": await org_figures(session, period, courses),
    }


def _group_row(grouping: str, label: str, members: list[int], courses: list[CourseInfo]) -> dict[str, Any]:
    mine = [courses[i] for i in members]
    attendance = [c.expected_attendance for c in mine if c.expected_attendance]
    row: dict[str, Any] = {
        "group": label,
        "courses": len(mine),
        "expected_attendance": sum(attendance) if attendance else None,
        "by_wave": [],
    }
    if grouping == "course":
        (c,) = mine
        row.update(
            title=c.title, level=c.level, delivered_on=c.delivered_on.isoformat(), quarter=quarter(c.delivered_on)
        )
    return row


def _answered(
    tables: dict[str, list[dict[str, Any]]],
    groups: dict[str, dict[str, list[int]]],
    courses: list[CourseInfo],
    wave: str,
    course_of: np.ndarray,
    total: dict[str, Any],
    k: int,
    withhold: Withhold,
) -> None:
    """Per group: check-ins answered at the wave, and as % of the expected attendance (which gives the count
    back, so it goes with it); protected with the report's answered total for the wave."""
    with_wave = np.array([wave in c.waves for c in courses], dtype=bool)
    answered = np.bincount(course_of[course_of >= 0].astype(int), minlength=len(courses))
    # The rate is the report's: only courses whose attendance is recorded count towards it.
    counted = np.array([bool(c.expected_attendance) for c in courses], dtype=bool)
    cells = [
        Cell(
            "total", with_wave, int(answered[with_wave].sum()), total["suppressed"], _total_withheld(total), total=True
        )
    ]
    for grouping, rows in tables.items():
        for row, members in zip(rows, groups[grouping].values(), strict=True):
            inside = np.isin(np.arange(len(courses)), members) & with_wave
            if not inside.any():
                continue  # none of the group's courses has this wave: a dash, not a figure
            n = int(answered[inside].sum())
            attendance = sum(courses[i].expected_attendance or 0 for i in np.flatnonzero(inside & counted))
            cell = {
                "wave": wave,
                "answered": n if n >= k else None,
                "rate_attendance": 100.0 * int(answered[inside & counted].sum()) / attendance
                if n >= k and attendance
                else None,
                "suppressed": n < k,
            }
            row["by_wave"].append({"wave": wave, "response": cell, "knowledge": None})
            cells.append(Cell(grouping, inside, n, n < k, withhold(cell, "answered", "rate_attendance")))
    protect(cells, k)
    for rows in tables.values():
        for row in rows:
            for cell in row["by_wave"]:
                if cell["wave"] == wave and cell["response"].get("answered_complementary"):
                    cell["response"]["suppressed"] = True


def _total_withheld(total: dict[str, Any]) -> Callable[[], None]:
    """Withhold the report's answered total for a wave (and every figure of its row that gives it back)."""

    def withhold() -> None:
        for key in ("responded", "completed", "rate_attendance", "rate_enrolled"):  # not a check-in state: figures
            total[key] = None
        total.update(suppressed=True, complementary=True)

    return withhold


def _knowledge(
    tables: dict[str, list[dict[str, Any]]],
    groups: dict[str, dict[str, list[int]]],
    checkins: pd.DataFrame,
    at: np.ndarray,
    wave: str,
    course_of: np.ndarray,
    report: dict[str, Any],
    w: int,
    k: int,
    named: Named,
    withhold: Withhold,
) -> None:
    """Per group: the knowledge score at the wave, protected with the report's total and its role, agency and
    level breakdowns: every one of these cells is a union of the people sharing course, role, agency and level."""
    score = checkins["knowledge_core_pct"].to_numpy(dtype="float64")
    rows = at & ~np.isnan(score)
    breakdowns = report["breakdowns"]
    names = {name: named(checkins, name)[rows] for name in breakdowns}
    # Atoms: the people sharing course, role, agency and level (factorised: one pass over the rows).
    who = pd.MultiIndex.from_arrays([course_of[rows], *(names[name] for name in breakdowns)])
    atom_of, uniques = who.factorize()
    atoms = list(uniques)
    sizes = np.bincount(atom_of, minlength=len(atoms))
    atom_course = np.array([a[0] for a in atoms], dtype=int)
    total = report["knowledge"]["by_wave"][w]
    cells = [
        Cell(
            "total", np.ones(len(atoms), dtype=bool), int(rows.sum()), total["suppressed"], withhold(total), total=True
        )
    ]
    for b, (name, shown) in enumerate(breakdowns.items(), start=1):
        for group in shown:
            figures = group["by_wave"][w]
            inside = np.array([a[b] == group["group"] for a in atoms], dtype=bool)
            n = int(sizes[inside].sum())
            cells.append(Cell(f"report-{name}", inside, n, figures["suppressed"], withhold(figures)))
    values = score[rows]
    for grouping, table in tables.items():
        for row, members in zip(table, groups[grouping].values(), strict=True):
            cell = next((c for c in row["by_wave"] if c["wave"] == wave), None)
            if cell is None:
                continue
            inside = np.isin(atom_course, members)
            mine = inside[atom_of] if len(atoms) else np.zeros(0, dtype=bool)
            figures = {"wave": wave, **mean_ci(values[mine], k, PERCENT)}
            cell["knowledge"] = figures
            cells.append(Cell(grouping, inside, int(mine.sum()), figures["suppressed"], withhold(figures)))
    protect(cells, k)


def _total_row(courses: list[CourseInfo], report: dict[str, Any]) -> dict[str, Any]:
    """The report's own totals per wave (as protected above), as the last row of each table."""
    attendance = [c.expected_attendance for c in courses if c.expected_attendance]
    by_wave = []
    for response, knowledge in zip(report["response"], report["knowledge"]["by_wave"], strict=True):
        by_wave.append(
            {
                "wave": response["wave"],
                "response": {
                    "wave": response["wave"],
                    "answered": response["responded"],
                    "rate_attendance": response["rate_attendance"],
                    "suppressed": response["suppressed"],
                    "answered_complementary": response.get("complementary", False),
                },
                "knowledge": knowledge,
            }
        )
    return {
        "group": ALL_COURSES,
        "courses": len(courses),
        "expected_attendance": sum(attendance) if attendance else None,
        "by_wave": by_wave,
        "total": True,
    }
