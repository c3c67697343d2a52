"""domain/scoring.py is the reference; the report's SQL (checkin_frame) and numpy (tabulate) score as it does."""

from __future__ import annotations

import asyncio
import math
from datetime import date

from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from surveys.domain.quizset import LikertItem, bundled_quiz_set, load_quiz_set
from surveys.domain.scoring import construct_means, item_score, knowledge_percent
from surveys.domain.states import CheckInState
from surveys.reporting.codebook import load_codebook, select_courses
from surveys.reporting.report import data
from surveys.reporting.report.build import tabulate
from surveys.store.db import make_engine, make_sessionmaker
from surveys.store.models import Answer, CheckIn
from tests.conftest import NOW
from tests.support.factories import a_course, an_enrolment

QUIZ = load_quiz_set(bundled_quiz_set("cse-core"))
assert any(isinstance(i, LikertItem) and i.reverse for i in QUIZ.items)  # reverse-coded items are in the mix


def _values(item) -> st.SearchStrategy[str]:
    """Any value the bot may store for an item, "" for a skip; a few odd ones too."""
    kind = item.kind
    if kind == "single_choice":
        valid = [o.value for o in item.options]
    elif kind == "true_false":
        valid = ["true", "false"]
    elif kind == "likert":
        valid = ["1", "2", "3", "4", "5"]
    elif kind == "yes_no":
        valid = ["yes", "no"]
    elif kind == "number":
        valid = [str(item.min), str(item.max)]
    else:
        valid = ["I ask sooner now."]
    return st.sampled_from([*valid, ""])


# One check-in's answers: any subset of the items (the rest skipped or not reached), each with a value.
ANSWER_SET = st.lists(st.sampled_from(QUIZ.items), min_size=1, unique_by=lambda i: i.id).flatmap(
    lambda items: st.tuples(*(st.tuples(st.just(i.id), _values(i)) for i in items)).map(dict)
)


def _same(a: float | None, b: float | None) -> bool:
    missing = lambda v: v is None or (isinstance(v, float) and math.isnan(v))  # noqa: E731
    return (missing(a) and missing(b)) or (not missing(a) and not missing(b) and math.isclose(a, b, abs_tol=1e-9))


async def _store_and_score(url: str, answer_sets: list[dict[str, str]], code: str):
    engine = make_engine(url)
    try:
        sessions = make_sessionmaker(engine)
        async with sessions() as session, session.begin():
            course = await a_course(session, NOW, code=code, delivered_on=date(2025, 6, 2))
            ids = []
            for n, answers in enumerate(answer_sets):
                enrolment = await an_enrolment(session, course, 6_660_000_000 + n, NOW)
                check_in = CheckIn(
                    enrolment_id=enrolment.id, wave="post", state=CheckInState.IN_PROGRESS, due_at=NOW, closes_at=NOW
                )
                session.add(check_in)
                await session.flush()
                ids.append(check_in.id)
                # Stored as the bot stores them: the value, and item_score's score (none for a skip).
                session.add_all(
                    Answer(
                        check_in_id=check_in.id,
                        item_id=i,
                        quiz_set_id=course.quiz_set_id,
                        value=v,
                        score=item_score(QUIZ.item(i), v) if v != "" else None,
                        answered_at=NOW,
                    )
                    for i, v in answers.items()
                )
        async with sessions() as session:
            courses = await select_courses(session, [code])
            codebook = await load_codebook(session, courses)
            sql = (await data.checkin_frame(session, courses, codebook)).set_index("check_in_id")
            read = await data.report_data(session, courses, codebook, all_courses=False)
            fast = tabulate(read, courses, codebook).checkins.set_index("check_in_id")
        return ids, codebook, sql, fast
    finally:
        await engine.dispose()


RUN = iter(range(10**6))


# No shrinking: each example is a database round trip, and shrinking one took minutes.
@settings(max_examples=40, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate])
@given(st.lists(ANSWER_SET, min_size=1, max_size=6))
def test_the_sql_and_numpy_paths_score_every_answer_set_as_the_reference(database_url, answer_sets):
    ids, codebook, sql, fast = asyncio.run(_store_and_score(database_url, answer_sets, f"SC-{next(RUN)}"))
    core = set(codebook.core_knowledge_ids())
    for check_in_id, answers in zip(ids, answer_sets, strict=False):
        expected = {
            "knowledge_pct": knowledge_percent(QUIZ, answers),
            "knowledge_core_pct": knowledge_percent(QUIZ, {i: v for i, v in answers.items() if i in core}),
            **{c: construct_means(QUIZ, answers).get(c) for c in codebook.constructs},
        }
        for path in (sql, fast):
            got = path.loc[check_in_id]
            for column, value in expected.items():
                assert _same(got[column], value), (column, got[column], value, answers)
