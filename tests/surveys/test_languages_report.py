"""Reports stay English but say who answered in which language (issue 14): the long export's column, the report's
breakdown, and no language group of fewer than 5 people, not even by subtraction from the other tables."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import select, update

from surveys.reporting.export import export
from surveys.reporting.report import build_report
from surveys.reporting.report.tables import sections
from surveys.settings import load_settings
from surveys.store.models import Enrolment
from tests.support.factories import a_course
from tests.support.synthetic import populate

SETTINGS = load_settings(env={}, env_file=None)


async def _course_with(sessions, now, welsh: int, english: int) -> None:
    """One course whose first `welsh` practitioners chose Cymraeg, every one with answers."""
    async with sessions() as session, session.begin():
        course = await a_course(session, now, waves=("post",))
        await populate(session, course, welsh + english, seed=1, now=now)
    async with sessions() as session, session.begin():
        ids = list(await session.scalars(select(Enrolment.id).order_by(Enrolment.id).limit(welsh)))
        await session.execute(update(Enrolment).where(Enrolment.id.in_(ids)).values(language="cy"))


async def test_the_breakdown_counts_people_per_language(sessions, now) -> None:
    await _course_with(sessions, now, welsh=6, english=9)
    async with sessions() as session:
        report = await build_report(session, None, SETTINGS)
    assert [(r["language"], r["enrolled"]) for r in report["languages"]] == [("cy", 6), ("en", 9)]
    [section] = [s for s in sections(report) if s["id"] == "languages"]
    assert section["tables"][0]["rows"] == [["Welsh (Cymraeg)", "6"], ["English", "9"]]


async def test_fewer_than_five_in_a_language_is_withheld_and_so_is_its_complement(sessions, now) -> None:
    await _course_with(sessions, now, welsh=3, english=9)
    async with sessions() as session:
        report = await build_report(session, None, SETTINGS)
    welsh, english = report["languages"]
    assert welsh["enrolled"] is None and welsh["suppressed"]
    # The course's 12 enrolled are shown, so English (9) would give Welsh back as 12 - 9: withheld too.
    assert report["courses"][0]["enrolled"] == 12
    assert english["enrolled"] is None and english.get("complementary")


async def test_the_long_export_records_each_check_ins_language(sessions, now, tmp_path) -> None:
    await _course_with(sessions, now, welsh=1, english=5)
    async with sessions() as session:
        await export(session, None, "csv", "long", tmp_path / "long.csv")
    frame = pd.read_csv(tmp_path / "long.csv", dtype=str)
    assert list(frame.columns[:7]) == ["pseudonym", "course", "level", "role", "agency", "wave", "language"]
    by_person = frame.groupby("pseudonym")["language"].agg(set)
    assert sorted(map(sorted, by_person)) == [["cy"]] + [["en"]] * 5
    codebook = pd.read_csv(tmp_path / "long_codebook.csv")
    assert "enrolment's language" in codebook.set_index("variable").loc["language", "label"]
