"""The report's in-depth follow-up: invited, agreed and completed (protected), and the case studies by theme."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from surveys.domain import in_depth as rules
from surveys.reporting.codebook import CourseInfo
from surveys.reporting.report.disclosure import Cell, protect
from surveys.store.models import Course, InDepthAnswer, InDepthDraw

WITHHELD = "withheld"  # as build.WITHHELD: a figure about enough people, withheld so a smaller one stays unknown
POOLED = "Other themes together"


async def in_depth_part(session: AsyncSession, courses: list[CourseInfo], k: int) -> dict[str, Any]:
    """The section's figures for these courses: counts with (complementary) suppression, case studies by theme.

    People who erased their data are not counted (their draw is kept for audit without them). A theme's
    case studies are listed only when at least k people are behind the list; smaller themes are pooled
    into one list when together they reach k, else withheld.
    """
    ids = [c.id for c in courses]
    draws = list(
        await session.scalars(
            select(InDepthDraw).where(
                InDepthDraw.course_id.in_(ids), InDepthDraw.selected, InDepthDraw.enrolment_id.is_not(None)
            )
        )
    )
    invited = len(draws)
    agreed = sum(d.status in rules.TOOK_PART for d in draws)
    completed = sum(d.status == rules.TOLD for d in draws)
    counts = {"invited": invited, "agreed": agreed, "told": completed}
    figures: dict[str, Any] = {key: {"n": n if n >= k else None, "withheld": False} for key, n in counts.items()}
    _protect(figures, counts, k)
    done = [d.enrolment_id for d in draws if d.status == rules.TOLD]
    rows = await session.execute(
        select(InDepthAnswer.enrolment_id, InDepthAnswer.question, InDepthAnswer.value).where(
            InDepthAnswer.enrolment_id.in_(done)
        )
    )
    studies: dict[int, dict[str, str]] = {}
    for enrolment_id, question, value in rows.all():
        studies.setdefault(enrolment_id, {})[question] = value
    shares = sorted(set(await session.scalars(select(Course.in_depth_share).where(Course.id.in_(ids)))))
    # Listed case studies can be counted: only when the completed count itself may be published.
    listed = figures["told"]["n"] is not None
    return {
        "shares": shares,
        "counts": figures,
        "themes": _themes(list(studies.values()), k) if listed else _themes([], k, withheld=completed),
    }


def _withhold(figures: dict[str, Any], key: str) -> Callable[[], None]:
    def withhold() -> None:
        figures[key].update(n=None, withheld=True)

    return withhold


def _protect(figures: dict[str, Any], counts: dict[str, int], k: int) -> None:
    """Invited ⊇ agreed ⊇ completed: their differences (who said no, who has not finished) stay ≥ k or unknown.

    Completed is marked a total (withheld last): the case-study lists publish it anyway, by their length,
    so a difference is hidden by withholding agreed or invited instead.
    """
    invited, agreed, completed = counts["invited"], counts["agreed"], counts["told"]
    # Atoms: completed, agreed but not (yet) completed, invited but not agreed.
    atoms = {
        "invited": np.array([True, True, True]),
        "agreed": np.array([True, True, False]),
        "told": np.array([True, False, False]),
    }
    hidden = {key: figures[key]["n"] is None for key in figures}
    cells = [
        Cell("invited", atoms["invited"], invited, hidden["invited"], _withhold(figures, "invited"), True),
        Cell("invited", atoms["agreed"], agreed, figures["agreed"]["n"] is None, _withhold(figures, "agreed")),
        Cell("invited", np.array([False, False, True]), invited - agreed, True, lambda: None),
        Cell("agreed", atoms["agreed"], agreed, figures["agreed"]["n"] is None, _withhold(figures, "agreed")),
        Cell(
            "agreed",
            atoms["told"],
            completed,
            figures["told"]["n"] is None,
            _withhold(figures, "told"),
            True,
        ),
        Cell("agreed", np.array([False, True, False]), agreed - completed, True, lambda: None),
    ]
    protect(cells, k)


def _themes(studies: list[dict[str, str]], k: int, *, withheld: int = 0) -> list[dict[str, Any]]:
    """Case studies grouped by the theme their author chose, every list behind at least k people.

    Themes chosen by fewer than k are pooled; a pool still under k takes in the smallest shown theme
    (so no list, and no difference between lists and the completed count, is about fewer than k).
    With fewer than k case studies in all (or `withheld` ones), one withheld line and no count.
    """
    if withheld or len(studies) < k:
        return [{"theme": "Case studies", "n": None, "case_studies": None}] if (withheld or studies) else []
    by_theme: dict[str, list[dict[str, str]]] = {}
    for study in studies:
        theme = study.get(rules.THEME) or "other"
        by_theme.setdefault(theme if theme in rules.THEMES else "other", []).append(study)
    shown = {t: group for t, group in by_theme.items() if len(group) >= k}
    pool = [s for t, group in by_theme.items() if t not in shown for s in group]
    if pool and len(pool) < k:
        smallest = min(shown, key=lambda t: (len(shown[t]), t))
        pool += shown.pop(smallest)
    out = [_group(rules.THEMES[t], shown[t]) for t in rules.THEMES if t in shown]
    if pool:
        out.append(_group(POOLED if shown else "All themes together", pool))
    return out


def _group(theme: str, studies: list[dict[str, str]]) -> dict[str, Any]:
    # Ordered by their text, never by person or time, so a list cannot be lined up with anyone.
    ordered = sorted(studies, key=lambda s: tuple(s.get(q, "") for q in rules.TYPED_QUESTIONS))
    return {
        "theme": theme,
        "n": len(studies),
        "case_studies": [
            {rules.QUESTION_LABELS[q]: s.get(q) or "(skipped)" for q in rules.TYPED_QUESTIONS} for s in ordered
        ],
    }


def in_depth_section(report: dict[str, Any]) -> dict[str, Any] | None:
    """The report section (tables.sections' shape): the counts table, then one list per theme."""
    part = report.get("in_depth")
    if part is None:
        return None
    m = report["suppressed_marker"]

    def cell(figure: dict[str, Any]) -> str:
        return WITHHELD if figure["withheld"] else (m if figure["n"] is None else str(figure["n"]))

    counts = part["counts"]
    lists = [
        {
            "title": f"{t['theme']} ({t['n']} case studies)" if t["n"] is not None else t["theme"],
            "items": [" · ".join(f"{q}: {a}" for q, a in s.items()) for s in t["case_studies"]]
            if t["case_studies"] is not None
            else [f"Withheld: case studies from {m} people."],
        }
        for t in part["themes"]
    ]
    shares = ", ".join(f"{s}%" for s in part["shares"]) or "—"
    return {
        "id": "in-depth",
        "title": "In-depth follow-up",
        "tables": [
            {
                "headers": ["Invited", "Agreed (with their line manager)", "Completed a case study"],
                "rows": [[cell(counts["invited"]), cell(counts["agreed"]), cell(counts["told"])]],
            }
        ],
        "lists": lists,
        "notes": [
            f"At the end of the first check-in three months or more after the course, a random share ({shares}) "
            "of those who completed it was invited, drawn within each agency from a recorded seed (permuted "
            "blocks: the share holds within each agency and the draw can be repeated for audit). Those who "
            "agreed described one situation with their line manager; they chose the theme their case study is "
            "grouped under. Answers are scrubbed of contact details; names are not removed automatically.",
        ],
    }
