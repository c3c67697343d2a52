"""The report's level-3 section: commitments made and carried out, barriers by theme, all under suppression."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from pypdf import PdfReader

from surveys.domain.quizset import load_quiz_set
from surveys.reporting.report import build_report, write_report
from surveys.reporting.report.level3 import OTHER_THEME, theme_of
from surveys.settings import load_settings
from tests.support.own_answers import a_course, a_person, quiz_set

SETTINGS = load_settings(env={}, env_file=None)
KNOWS = {"aoc": "b", "myth": "false"}


def _made(*texts: str) -> dict[str, str]:
    return {**KNOWS, **{f"commit.{n}": t for n, t in enumerate(texts, start=1)}, "commit": str(len(texts))}


def _review(*statuses: str, barrier: str = "") -> dict[str, str]:
    out = {**KNOWS, "review": str(len(statuses))}
    for n, status in enumerate(statuses, start=1):
        out[f"review.{n}"] = status
        if status in ("partly", "notyet"):
            out[f"review.{n}.barrier"] = barrier
    return out


async def _team(sessions, now, tmp_path, people: list[tuple[str, dict, dict]]) -> dict:
    quiz = quiz_set(tmp_path)
    async with sessions() as session, session.begin():
        course = await a_course(session, quiz, now)
        for role, post, three in people:
            await a_person(session, course, quiz, now, {"pre": KNOWS, "post": post, "3m": three}, role=role)
    async with sessions() as session:
        return await build_report(session, None, SETTINGS, now=now)


def test_barriers_are_grouped_by_keywords() -> None:
    assert theme_of("No time, my caseload is huge") == "Time and workload"
    assert theme_of("My manager didn't agree") == "Management and support"
    assert theme_of("It hasn't come up with my families") == "No opportunity yet"
    assert theme_of("Weather") == OTHER_THEME


async def test_commitments_made_and_carried_out_per_wave(sessions, now: datetime, tmp_path: Path) -> None:
    people = [
        ("nurse", _made("Ask about boyfriends", "Use the pathway"), _review("done", "notyet", barrier="No time"))
        for _ in range(6)
    ] + [("health visitor", _made("Share the guide"), _review("done")) for _ in range(5)]
    report = await _team(sessions, now, tmp_path, people)
    level3 = report["level3"]
    assert level3["made"] == {"people": 11, "commitments": 17, "per_person": 17 / 11, "suppressed": False}
    (three,) = level3["by_wave"]
    assert three["wave"] == "3m" and three["people"] == 11 and three["reviewed"] == 17
    statuses = {s["status"]: s for s in three["statuses"]}
    assert statuses["done"]["commitments"] == 11 and statuses["notyet"]["commitments"] == 6
    assert statuses["partly"]["commitments"] is None  # nobody: no figure
    assert three["carried_out_pct"] == 100.0 * 11 / 17
    roles = {g["group"]: g for g in three["breakdowns"]["role"]}
    assert roles["nurse"]["carried_out_pct"] == 50.0 and roles["health visitor"]["carried_out_pct"] == 100.0
    (theme,) = level3["barriers"]["themes"]
    assert theme["theme"] == "Time and workload" and theme["people"] == 6
    assert theme["answers"] == [{"text": "No time", "count": 6}]

    paths = write_report(report, tmp_path / "out")
    assert "Behaviour (level 3): commitments to change" in paths["html"].read_text()
    text = "\n".join(p.extract_text() for p in PdfReader(paths["pdf"]).pages)
    assert "commitments to change" in text and "Time and workload" in text


async def test_small_groups_are_withheld_and_cannot_be_worked_out(sessions, now: datetime, tmp_path: Path) -> None:
    # Eight people; two (social workers) said "not yet" because of their manager: a group of two.
    people = [("nurse", _made("Ask"), _review("done")) for _ in range(6)] + [
        ("social worker", _made("Refer"), _review("notyet", barrier="My manager said no")) for _ in range(2)
    ]
    report = await _team(sessions, now, tmp_path, people)
    (three,) = report["level3"]["by_wave"]
    assert three["people"] == 8
    statuses = {s["status"]: s for s in three["statuses"]}
    # "Not yet" is about two people: withheld; and "done" with it, or 8 − done would give it away.
    assert statuses["notyet"]["commitments"] is None
    assert statuses["done"]["commitments"] is None and statuses["done"].get("commitments_complementary")
    assert three["carried_out_pct"] is None  # done + partly over all would give "not yet" back
    roles = {g["group"]: g for g in three["breakdowns"]["role"]}
    assert roles["social worker"]["suppressed"] and roles["nurse"]["people"] is None  # total − nurses = 2
    made_roles = {g["group"]: g for g in report["level3"]["made_breakdowns"]["role"]}
    assert made_roles["social worker"]["people"] is None and made_roles["nurse"]["people"] is None
    # Two people gave a barrier: the list is withheld.
    assert report["level3"]["barriers"] == {"people": None, "suppressed": True, "themes": []}
    html = write_report(report, tmp_path / "out")["html"].read_text()
    assert "My manager said no" not in html and "withheld" in html


async def test_no_section_without_commitments_in_the_quiz_set(sessions, now: datetime, tmp_path: Path) -> None:
    from tests.support.botkit import MINI  # a quiz set without commitments items

    quiz = load_quiz_set(MINI)
    async with sessions() as session, session.begin():
        course = await a_course(session, quiz, now)
        await a_person(session, course, quiz, now, {"post": {"aoc": "b"}})
    async with sessions() as session:
        report = await build_report(session, None, SETTINGS, now=now)
    assert report["level3"] is None
    assert "level 3" not in write_report(report, tmp_path)["html"].read_text()
