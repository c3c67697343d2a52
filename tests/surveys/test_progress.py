"""Own progress: knowledge against the first wave on the same questions, what slipped, the cohort median (k)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from surveys.domain import progress
from surveys.domain.quiz_text import RenderContext
from tests.support.own_answers import a_course, a_person, quiz_set

CONTEXT = RenderContext("CSE for health staff", "3m", 3)
PRE = {"aoc": "b", "myth": "false"}  # both right
POST = {"aoc": "b", "myth": "false", "online": "true", "commit.1": "Ask about older boyfriends", "commit": "1"}
LATER = {"aoc": "c", "myth": "false"}  # the age of consent slipped


def test_the_first_check_in_has_nothing_to_compare(tmp_path: Path) -> None:
    quiz = quiz_set(tmp_path)
    assert progress.compare(quiz, {"pre": PRE}, "pre", [], 5, CONTEXT) is None


def test_then_and_now_on_the_questions_answered_both_times(tmp_path: Path) -> None:
    quiz = quiz_set(tmp_path)
    c = progress.compare(quiz, {"pre": PRE, "post": POST, "3m": LATER}, "3m", [LATER] * 4, 5, CONTEXT)
    assert c is not None and c.first_wave == "pre" and c.questions == 2
    assert (c.then_correct, c.now_correct, c.then_percent, c.now_percent) == (2, 1, 100.0, 50.0)
    assert [s.item_id for s in c.slipped] == ["aoc"]
    assert c.slipped[0].correct_label == "16" and "Sexual Offences Act" in (c.slipped[0].explanation or "")
    # Four people answered: no median.
    assert c.cohort_median is None and c.cohort_n is None


def test_the_cohort_median_needs_k_people(tmp_path: Path) -> None:
    quiz = quiz_set(tmp_path)
    cohort = [LATER, PRE, PRE, {"aoc": "a", "myth": "true"}, {"aoc": "b", "myth": "true"}]
    c = progress.compare(quiz, {"pre": PRE, "3m": LATER}, "3m", cohort, 5, CONTEXT)
    assert c is not None and c.cohort_median == 50.0 and c.cohort_n == 5
    # A skipped answer is no answer: someone who skipped everything is not in the cohort.
    c = progress.compare(quiz, {"pre": PRE, "3m": LATER}, "3m", [*cohort[:4], {"aoc": ""}], 5, CONTEXT)
    assert c is not None and c.cohort_median is None


def test_over_time_and_commitments_as_the_contract_stores_them(tmp_path: Path) -> None:
    quiz = quiz_set(tmp_path)
    post = {**POST, "commit.2": "Use the referral pathway", "commit": "2"}
    three = {**LATER, "review.1": "done", "review.2": "notyet", "review.2.barrier": "No time", "review": "2"}
    six = {"review.1": "done", "review.2": "partly", "review.2.barrier": "", "review": "2"}
    by_wave = {"pre": PRE, "post": post, "3m": three, "6m": six}
    scores, covered = progress.knowledge_over_time(quiz, by_wave, CONTEXT)
    assert [(s.wave, s.correct, s.answered) for s in scores] == [("pre", 2, 2), ("post", 3, 3), ("3m", 1, 2)]
    assert covered[0].right == {"pre": True, "post": True, "3m": False}
    assert covered[2].right == {"post": True}
    made = progress.standings(quiz, by_wave)
    assert [(s.text, s.made_at, s.status) for s in made] == [
        ("Ask about older boyfriends", "post", "done"),
        ("Use the referral pathway", "post", "partly"),
    ]
    assert [(r.wave, r.status, r.barrier) for r in made[1].reviews] == [
        ("3m", "notyet", "No time"),
        ("6m", "partly", None),
    ]


async def test_the_store_reads_one_person_and_the_course_at_a_wave(
    sessions: async_sessionmaker[AsyncSession], now: datetime, tmp_path: Path
) -> None:
    from surveys.store.own_progress import answers_by_wave, chat_answers, cohort_answers

    quiz = quiz_set(tmp_path)
    async with sessions() as session, session.begin():
        course = await a_course(session, quiz, now)
        me = await a_person(session, course, quiz, now, {"pre": PRE, "3m": LATER}, chat_id=77)
        for _ in range(3):
            await a_person(session, course, quiz, now, {"3m": PRE})
        other = await a_course(session, quiz, now, code="CPD-2")
        await a_person(session, other, quiz, now, {"3m": PRE})
    async with sessions() as session:
        assert await answers_by_wave(session, me.id) == {"pre": PRE, "3m": LATER}
        cohort = await cohort_answers(session, course.id, "3m", ["aoc", "myth"])
        assert sorted(c["aoc"] for c in cohort) == ["b", "b", "b", "c"]  # the other course is not in it
        (mine,) = await chat_answers(session, 77)
        assert mine.course.code == "CPD-1" and mine.by_wave["3m"] == LATER
        assert await chat_answers(session, 78) == []
