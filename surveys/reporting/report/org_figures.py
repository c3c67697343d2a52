"""The board's organisational figures in the annual report: each measure as a series beside the training dates."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from surveys.reporting.codebook import CourseInfo
from surveys.reporting.period import Period
from surveys.store.figures import stored_figures

NOT_CAUSAL = (
    "These are the board's own counts, shown beside the dates the training was delivered. They sit "
    "beside the training: they do not show that the training caused them to rise or fall. Referrals, "
    "forms and intelligence change with many things at once (caseloads, procedures, recording practice, "
    "local events, what comes to light), and no comparison group is measured here."
)
NOT_PEOPLE = (
    "These figures are board-level totals of referrals, forms and submissions, not answers from people "
    "on the courses, so the rule withholding figures about fewer than {k} people does not apply to them: "
    "they are shown as the board recorded them."
)


async def org_figures(session: AsyncSession, period: Period, courses: list[CourseInfo]) -> dict[str, Any]:
    """Every stored measure's figures for periods overlapping the report's, and the training dates to mark.

    Deliberately not suppressed: a row is a count of referrals, forms or submissions across the board's
    area (not of the people who answered), entered by the board, and nobody on a course is behind it.
    """
    measures: dict[str, dict[str, Any]] = {}
    for figure in await stored_figures(session, period.start, period.end):
        measure = measures.setdefault(figure.measure_key, {"measure": figure.measure, "points": []})
        measure["points"].append(
            {
                "period_start": figure.period_start.isoformat(),
                "period_end": figure.period_end.isoformat(),
                "value": figure.value,
            }
        )
    return {
        "measures": list(measures.values()),
        "training_dates": [
            {"code": c.code, "level": c.level, "delivered_on": c.delivered_on.isoformat()} for c in courses
        ],
        "note": NOT_CAUSAL,
        "suppression": NOT_PEOPLE,
    }
