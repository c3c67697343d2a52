"""The annual report: the courses of a period, per-course/level/quarter tables equal to a computation from the
export, nothing about fewer than 5 people even by subtraction, and the board's figures beside the training."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import numpy as np
import pandas as pd
import pytest

from surveys.domain.org_figures import parse_figures
from surveys.domain.quizset import bundled_quiz_set, load_quiz_set
from surveys.reporting.codebook import SelectionError
from surveys.reporting.export import export
from surveys.reporting.period import Period, PeriodError, courses_in
from surveys.reporting.report import build_report, write_report
from surveys.settings import load_settings
from surveys.store.audit import CLI, recent
from surveys.store.courses import create_course
from surveys.store.figures import import_figures
from tests.support.factories import stored_cse_core
from tests.support.synthetic import populate

SETTINGS = load_settings(env={}, env_file=None)
YEAR = Period(date(2026, 1, 1), date(2026, 12, 31))
_QUIZ = load_quiz_set(bundled_quiz_set("cse-core"))
# The comparable core: scored items asked at every wave that asks questions (cse-core's 1m only reminds).
CORE = [i.id for i in _QUIZ.items if i.scored and set(_QUIZ.asking_waves) <= set(i.waves)]
# code: (delivered, level, waves, people); LAST-YEAR is outside the period, SMALL has 3 people.
COURSES = {
    "LAST-YEAR": (date(2025, 12, 10), 2, ("pre", "post", "3m"), 12),
    "BIG-Q1": (date(2026, 2, 3), 2, ("pre", "post", "3m"), 34),
    "MID-Q2": (date(2026, 5, 12), 2, ("pre", "post", "3m"), 9),
    "SMALL-Q2": (date(2026, 5, 20), 3, ("pre", "post", "3m"), 3),
    "LATE-Q4": (date(2026, 11, 5), 1, ("post", "3m"), 14),
}
QUARTER = {"BIG-Q1": "2026 Q1", "MID-Q2": "2026 Q2", "SMALL-Q2": "2026 Q2", "LATE-Q4": "2026 Q4"}
FIGURES = (
    "period_start,period_end,measure,value\n"
    "2025-12-01,2025-12-31,MASH referrals,17\n"  # touches nothing in 2026: left out of the report
    "2026-01-01,2026-03-31,MASH referrals,61\n"
    "2026-04-01,2026-06-30,MASH referrals,70\n"
    "2026-07-01,2026-09-30,MASH referrals,58\n"
    "2026-12-15,2027-01-14,CSE 1 forms,9\n"  # straddles the period's end: shown
    "2026-01-01,2026-06-30,CSE 1 forms,40\n"
)


async def _courses(session, now) -> None:
    await stored_cse_core(session, now)
    for seed, (code, (day, level, waves, people)) in enumerate(COURSES.items(), start=11):
        course = await create_course(
            session,
            code=code,
            title=f"CSE level {level}",
            delivered_on=day,
            level=level,
            quiz_ref="cse-core",
            now=now,
            waves=waves,
            expected_attendance=people + 2,
        )
        await populate(session, course, people, seed=seed, now=now)


@pytest.fixture
async def year(sessions, now, tmp_path):
    """Five courses (four delivered in 2026), the board's figures, the annual report and the long export."""
    async with sessions() as session, session.begin():
        await _courses(session, now)
        await import_figures(session, parse_figures(FIGURES), now=now, actor=CLI, source="figures.csv")
    async with sessions() as session, session.begin():
        report = await build_report(session, None, SETTINGS, now=now, period=YEAR, actor=CLI)
        await export(session, [c for c in COURSES if c != "LAST-YEAR"], "csv", "long", tmp_path / "long.csv")
    return report, pd.read_csv(tmp_path / "long.csv", dtype={"value": str})


async def test_a_period_selects_the_courses_delivered_in_it(sessions, now):
    async with sessions() as session, session.begin():
        await _courses(session, now)
    async with sessions() as session:
        assert [c.code for c in await courses_in(session, YEAR, None)] == ["BIG-Q1", "MID-Q2", "SMALL-Q2", "LATE-Q4"]
        spring = Period(date(2026, 2, 3), date(2026, 5, 12))  # both ends included
        assert [c.code for c in await courses_in(session, spring, None)] == ["BIG-Q1", "MID-Q2"]
        assert [c.code for c in await courses_in(session, YEAR, ["late-q4"])] == ["LATE-Q4"]
        with pytest.raises(SelectionError, match="not delivered from 2026-01-01 to 2026-12-31: LAST-YEAR"):
            await courses_in(session, YEAR, ["BIG-Q1", "LAST-YEAR"])
        with pytest.raises(SelectionError, match="no course was delivered from 2030-01-01 to 2030-12-31"):
            await courses_in(session, Period(date(2030, 1, 1), date(2030, 12, 31)), None)
        with pytest.raises(SelectionError, match="no course with code NOPE"):
            await courses_in(session, YEAR, ["NOPE"])
    with pytest.raises(PeriodError, match="starts \\(2026-12-31\\) after it ends \\(2026-01-01\\)"):
        Period.parse("2026-12-31", "2026-01-01")
    with pytest.raises(PeriodError, match="--to '2026-02-30' is not a date"):
        Period.parse("2026-01-01", "2026-02-30")


def _expected(long: pd.DataFrame) -> tuple[pd.Series, pd.DataFrame]:
    """From the export alone: people answering per (course, wave), and each person's knowledge % per wave."""
    answered = long.groupby(["course", "wave"])["pseudonym"].nunique()
    core = long[long["item_id"].isin(CORE) & long["score"].notna()]
    knowledge = (core.groupby(["course", "pseudonym", "wave"])["score"].mean() * 100).reset_index()
    return answered, knowledge


def _cells(report: dict, grouping: str) -> dict[tuple[str, str], dict]:
    return {
        (row["group"], cell["wave"]): cell
        for row in report["annual"][grouping]
        if not row.get("total")
        for cell in row["by_wave"]
    }


def _members(grouping: str) -> dict[str, list[str]]:
    inside = [c for c in COURSES if c != "LAST-YEAR"]
    if grouping == "course":
        return {c: [c] for c in inside}
    if grouping == "level":
        return {f"Level {lv}": [c for c in inside if COURSES[c][1] == lv] for lv in (1, 2, 3)}
    return {q: [c for c in inside if QUARTER[c] == q] for q in dict.fromkeys(QUARTER.values())}


async def test_the_tables_equal_an_independent_computation_from_the_export(year):
    report, long = year
    for grouping in ("course", "level", "quarter"):
        _check_table(report, long, grouping)


def _check_table(report: dict, long: pd.DataFrame, grouping: str) -> None:
    answered, knowledge = _expected(long)
    cells = _cells(report, grouping)
    shown = 0
    for group, codes in _members(grouping).items():
        for wave in ("pre", "post", "3m"):
            with_wave = [c for c in codes if wave in COURSES[c][2]]
            if not with_wave:
                assert (group, wave) not in cells  # shown as a dash: no course of the group has the wave
                continue
            cell = cells[(group, wave)]
            n = int(sum(answered.get((c, wave), 0) for c in with_wave))
            response = cell["response"]
            if n < 5:
                assert response["suppressed"] and response["answered"] is None and response["rate_attendance"] is None
            elif response.get("answered_complementary"):
                assert response["answered"] is None and response["rate_attendance"] is None
            else:
                shown += 1
                attendance = sum(COURSES[c][3] + 2 for c in with_wave)
                assert response["answered"] == n
                assert response["rate_attendance"] == pytest.approx(100 * n / attendance)
            scores = knowledge[knowledge["course"].isin(with_wave) & (knowledge["wave"] == wave)]["score"]
            figures = cell["knowledge"]
            if len(scores) < 5 or figures.get("complementary"):
                assert figures["suppressed"] and figures["mean"] is None and figures["n"] is None
            else:
                assert figures["n"] == len(scores) and figures["mean"] == pytest.approx(scores.mean())
    assert shown > 0
    total = next(r for r in report["annual"][grouping] if r.get("total"))
    assert total["group"] == "All courses" and total["courses"] == 4
    for cell in total["by_wave"]:
        n = int(answered.xs(cell["wave"], level="wave").sum())
        assert cell["response"]["answered"] in (n, None)


def _derivable(secret: np.ndarray, shown: list[np.ndarray]) -> bool:
    if not shown:
        return False
    basis = np.array(shown, dtype=float)
    return np.linalg.matrix_rank(np.vstack([basis, secret])) == np.linalg.matrix_rank(basis)


async def test_no_count_of_fewer_than_5_can_be_worked_out_by_subtraction(year):
    """SMALL-Q2 has 3 people: the total minus the other courses, or 2026 Q2 minus MID-Q2, would give them away."""
    report, long = year
    answered, _ = _expected(long)
    inside = [c for c in COURSES if c != "LAST-YEAR"]
    withheld_by_complement = 0
    for w, wave in enumerate(report["waves"]):
        courses = [c for c in inside if wave in COURSES[c][2]]
        vectors, small = [], []
        response = report["response"][w]
        if response["responded"] is not None:
            vectors.append(np.ones(len(courses)))
        for grouping in ("course", "level", "quarter"):
            for group, codes in _members(grouping).items():
                mine = np.array([c in codes for c in courses], dtype=float)
                cell = _cells(report, grouping).get((group, wave))
                if cell is None or not mine.any():
                    continue
                n = int(sum(answered.get((c, wave), 0) for c, m in zip(courses, mine, strict=True) if m))
                if cell["response"]["answered"] is not None:
                    vectors.append(mine)
                elif 0 < n < 5:
                    small.append((group, mine))
                withheld_by_complement += bool(cell["response"].get("answered_complementary"))
        assert small, f"{wave}: the small course should be withheld"
        for group, secret in small:
            assert not _derivable(secret, vectors), f"{group} at {wave} can be worked out from the figures shown"
    # Suppression alone would have left MID-Q2 and 2026 Q2 both shown: something was withheld to protect it.
    assert withheld_by_complement > 0


async def test_the_report_is_about_the_period_and_says_so_in_the_audit_log(year, sessions):
    report, _ = year
    assert report["period"] == {"from": "2026-01-01", "to": "2026-12-31", "label": "2026-01-01 to 2026-12-31"}
    assert [c["code"] for c in report["courses"]] == ["BIG-Q1", "MID-Q2", "SMALL-Q2", "LATE-Q4"]
    assert "annual" in report["title"] and "2026-01-01 to 2026-12-31" in report["title"]
    by_course = {r["group"]: r for r in report["annual"]["course"]}
    assert (by_course["LATE-Q4"]["level"], by_course["LATE-Q4"]["quarter"]) == (1, "2026 Q4")
    async with sessions() as session:
        (event,) = await recent(session, action="report.annual")
    assert event.target == "2026-01-01 to 2026-12-31: all courses" and event.role == "cli"


async def test_the_boards_figures_are_series_beside_the_training_and_not_claimed_as_its_effect(year, tmp_path):
    report, _ = year
    figures = report["org_figures"]
    # Independently: the CSV's rows whose period touches 2026, per measure, in date order.
    rows = list(csv.DictReader(io.StringIO(FIGURES)))
    expected: dict[str, list[tuple[str, str, float]]] = {}
    for row in sorted(rows, key=lambda r: r["period_start"]):
        if row["period_end"] >= "2026-01-01" and row["period_start"] <= "2026-12-31":
            expected.setdefault(row["measure"], []).append(
                (row["period_start"], row["period_end"], float(row["value"]))
            )
    got = {
        m["measure"]: [(p["period_start"], p["period_end"], p["value"]) for p in m["points"]]
        for m in figures["measures"]
    }
    assert got == expected
    assert [t["delivered_on"] for t in figures["training_dates"]] == [
        "2026-02-03",
        "2026-05-12",
        "2026-05-20",
        "2026-11-05",
    ]
    assert "do not show that the training caused" in figures["note"]

    paths = write_report(report, tmp_path / "annual")
    html = paths["html"].read_text(encoding="utf-8")
    assert 'data-chart="org_figures"' in html and "do not show that the training caused" in html
    # One bar per figure in the chart, named by measure and period start.
    for measure, points in expected.items():
        for start, _, _ in points:
            assert f'id="figure-{measure}-{start}"' in html
    for section in ("annual-courses", "annual-levels", "annual-quarters", "org-figures", "knowledge", "response"):
        assert f'id="{section}"' in html
    assert paths["pdf"].read_bytes().startswith(b"%PDF")
    assert json.loads(paths["json"].read_text())["org_figures"] == figures


async def test_without_stored_figures_the_section_says_how_to_add_them(sessions, now, tmp_path):
    async with sessions() as session, session.begin():
        await _courses(session, now)
    async with sessions() as session, session.begin():
        report = await build_report(session, ["BIG-Q1"], SETTINGS, now=now, period=YEAR)
    assert report["org_figures"]["measures"] == []
    html = write_report(report, tmp_path / "r")["html"].read_text(encoding="utf-8")
    assert "followup figures import FILE.csv" in html and 'data-chart="org_figures"' not in html
