"""Organisational figures: every bad row named by number with nothing stored; re-import replaces (audited)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from surveys.domain.org_figures import FiguresError, parse_figures
from surveys.store.audit import CLI
from surveys.store.figures import import_figures, stored_figures
from surveys.store.models import AuditEvent, OrgFigure

HEADER = "period_start,period_end,measure,value\n"
GOOD = HEADER + (
    "2026-01-01,2026-01-31,MASH referrals,21\n"
    "2026-02-01,2026-02-28,MASH referrals,25\n"
    '2026-01-01,2026-03-31,CSE 1 forms,"1,204"\n'
)


async def _import(sessions, now, text: str, source: str = "figures.csv"):
    async with sessions() as session, session.begin():
        return await import_figures(session, parse_figures(text), now=now, actor=CLI, source=source)


async def _count(sessions) -> int:
    async with sessions() as session:
        return await session.scalar(select(func.count()).select_from(OrgFigure))


def test_a_good_file_reads_as_rows_numbered_as_a_spreadsheet_numbers_them():
    rows = parse_figures("\ufeff" + GOOD + "\n\n")  # Excel's byte-order mark, blank lines at the end
    assert [(r.row, r.measure, r.period_start, r.period_end, r.value) for r in rows] == [
        (2, "MASH referrals", date(2026, 1, 1), date(2026, 1, 31), 21.0),
        (3, "MASH referrals", date(2026, 2, 1), date(2026, 2, 28), 25.0),
        (4, "CSE 1 forms", date(2026, 1, 1), date(2026, 3, 31), 1204.0),
    ]
    # The UK's day-first dates, as a spreadsheet saves them, are the same dates.
    assert parse_figures(HEADER + "01/04/2026,30/04/2026,CSE 2 forms,3\n")[0].period_end == date(2026, 4, 30)


@pytest.mark.parametrize(
    ("text", "problems"),
    [
        (
            "period_start,measure,value\n2026-01-01,MASH referrals,3\n",
            ["row 1: missing column period_end (needs period_start, period_end, measure, value)"],
        ),
        (
            HEADER + "2026-01-01,2026-01-31,MASH referrals,3\n2026-03-31,2026-03-01,MASH referrals,4\n",
            ["row 3: period_end 2026-03-01 is before period_start 2026-03-31"],
        ),
        (
            HEADER + "2026-01-01,2026-01-31,MASH referrals,3\n2026-02-01,2026-02-28,MASH referrals,lots\n",
            ["row 3: value 'lots' is not a number"],
        ),
        (
            HEADER + "2026-01-01,2026-01-31,MASH referrals,3\nJanuary,2026-02-28,CSE 1 forms,4\n",
            ["row 3: period_start 'January' is not a date (use YYYY-MM-DD (or DD/MM/YYYY))"],
        ),
        (
            HEADER + "2026-01-01,2026-01-31,MASH referrals,3\n2026-02-01,2026-02-28,CSE 1 forms,4\n"
            "2026-01-15,2026-02-14,mash  Referrals,5\n",
            ["row 4: 'mash Referrals' 2026-01-15 to 2026-02-14 overlaps row 2 (2026-01-01 to 2026-01-31)"],
        ),
        (
            HEADER + "2026-13-01,2026-01-31,MASH referrals,3\n2026-02-01,2026-01-01,CSE 1 forms,x\n,,,\n"
            "2026-03-01,2026-03-31,,-2\n",
            [
                "row 2: period_start '2026-13-01' is not a date (use YYYY-MM-DD (or DD/MM/YYYY))",
                "row 3: period_end 2026-01-01 is before period_start 2026-02-01",
                "row 3: value 'x' is not a number",
                "row 5: the measure is blank",
                "row 5: value -2 is negative (a count cannot be)",
            ],
        ),
    ],
    ids=["missing-column", "end-before-start", "non-numeric", "bad-date", "overlap-in-file", "several"],
)
async def test_every_problem_is_named_by_row_and_nothing_is_stored(sessions, now, text, problems):
    with pytest.raises(FiguresError) as caught:
        await _import(sessions, now, text)
    assert caught.value.problems == problems
    assert await _count(sessions) == 0


async def test_a_period_overlapping_a_stored_one_it_does_not_replace_stores_nothing(sessions, now):
    await _import(sessions, now, GOOD)
    clash = HEADER + "2026-03-01,2026-03-31,MASH referrals,30\n2026-01-15,2026-02-14,MASH referrals,9\n"
    with pytest.raises(FiguresError) as caught:
        await _import(sessions, now, clash, "clash.csv")
    assert caught.value.problems == [
        "row 3: 'MASH referrals' 2026-01-15 to 2026-02-14 overlaps the stored 2026-01-01 to 2026-01-31 "
        "(re-import that exact period to replace it)",
        "row 3: 'MASH referrals' 2026-01-15 to 2026-02-14 overlaps the stored 2026-02-01 to 2026-02-28 "
        "(re-import that exact period to replace it)",
    ]
    # Row 2 was fine, but one bad row stops the whole file.
    assert await _count(sessions) == 3


async def test_re_importing_a_period_replaces_its_figure_and_the_replacement_is_audited(sessions, now):
    first = await _import(sessions, now, GOOD)
    again = await _import(
        sessions,
        now,
        HEADER + "2026-01-01,2026-01-31,mash referrals,23\n2026-03-01,2026-03-31,MASH referrals,27\n",
        "corrected.csv",
    )
    assert (first.added, first.replaced) == (3, 0)
    assert (again.added, again.replaced) == (1, 1)
    async with sessions() as session:
        stored = [(f.measure_key, f.period_start.month, f.value) for f in await stored_figures(session)]
        events = list(await session.scalars(select(AuditEvent).order_by(AuditEvent.id)))
    assert stored == [
        ("cse 1 forms", 1, 1204.0),
        ("mash referrals", 1, 23.0),
        ("mash referrals", 2, 25.0),
        ("mash referrals", 3, 27.0),
    ]
    assert [(e.action, e.target, e.detail) for e in events] == [
        ("figures.import", "figures.csv", "3 added, 0 replaced"),
        ("figures.replace", "mash referrals 2026-01-01 to 2026-01-31", "21 → 23 (from corrected.csv)"),
        ("figures.import", "corrected.csv", "1 added, 1 replaced"),
    ]
    assert {e.role for e in events} == {"cli"}


async def test_stored_figures_can_be_limited_to_the_periods_touching_a_range(sessions, now):
    await _import(sessions, now, GOOD)
    async with sessions() as session:
        february = await stored_figures(session, date(2026, 2, 10), date(2026, 2, 20))
    assert [(f.measure, f.period_start.month) for f in february] == [("CSE 1 forms", 1), ("MASH referrals", 2)]
