"""The in-depth draw (seeded, per agency, the share held) and the report's case-study lists (never under k)."""

from __future__ import annotations

from surveys.domain.in_depth import block, in_depth_wave, is_selected
from surveys.reporting.report.in_depth import _themes


def test_the_share_holds_exactly_in_every_agency_at_each_full_block() -> None:
    for stratum in ("education", "police", "not stated"):
        picks = [is_selected("seed-1", stratum, n, 25) for n in range(1, 41)]
        assert sum(picks) == 10
        assert all(sum(picks[i : i + 4]) == 1 for i in range(0, 40, 4))  # one in each block of four
    assert sum(is_selected("seed-1", "health", n, 30) for n in range(1, 21)) == 6
    assert block(25) == (4, 1) and block(30) == (10, 3)


def test_the_draw_is_random_but_the_same_seed_draws_it_again() -> None:
    first = [is_selected("a1b2c3", "police", n, 25) for n in range(1, 101)]
    assert first == [is_selected("a1b2c3", "police", n, 25) for n in range(1, 101)]
    assert first != [is_selected("ffffff", "police", n, 25) for n in range(1, 101)]
    assert not any(is_selected("x", "police", n, 0) for n in range(1, 9))
    assert all(is_selected("x", "police", n, 100) for n in range(1, 9))


def test_the_in_depth_wave_is_the_first_three_months_or_more_after_the_course() -> None:
    assert in_depth_wave(["pre", "post", "3m", "6m"]) == "3m"
    assert in_depth_wave(["post", "1m", "4m", "12m"]) == "4m"
    assert in_depth_wave(["pre", "post", "1m"]) is None


def _study(theme: str, n: int) -> dict[str, str]:
    return {"situation": f"situation {theme} {n}", "different": "", "theme": theme}


def test_case_studies_are_listed_by_theme_only_behind_five_people_or_more() -> None:
    studies = [_study("referral", i) for i in range(5)] + [_study("signs", i) for i in range(5)]
    studies += [_study("family", 0), _study("family", 1)]
    groups = _themes(studies, 5)
    # Two families are too few for a list: pooled, with the smallest theme, so no list is under five.
    assert [(g["theme"], g["n"]) for g in groups] == [("Spotting the signs", 5), ("Other themes together", 7)]
    assert groups[1]["case_studies"][0]["What they did differently"] == "(skipped)"
    assert _themes(studies[:4], 5) == [{"theme": "Case studies", "n": None, "case_studies": None}]
    assert _themes([], 5) == []


async def test_completers_drawn_at_once_take_distinct_turns_and_the_share_holds(sessions, now) -> None:
    import asyncio

    from sqlalchemy import select

    from surveys.domain.states import CheckInState
    from surveys.store.in_depth import draw
    from surveys.store.models import InDepthDraw
    from tests.support.schedule_builders import a_check_in, a_course, an_enrolment

    async with sessions() as session, session.begin():
        course = await a_course(session, now)
        check_ins = []
        for i in range(8):
            enrolment = await an_enrolment(session, course, 90_000 + i, now)
            enrolment.agency = "police"
            done = await a_check_in(session, enrolment, due_at=now, state=CheckInState.COMPLETED)
            await a_check_in(session, enrolment, due_at=now, wave="post", state=CheckInState.COMPLETED)
            check_ins.append(done.id)

    async def one(check_in_id: int) -> None:
        async with sessions() as session, session.begin():
            await draw(session, check_in_id, now)

    await asyncio.gather(*(one(c) for c in check_ins))
    await one(check_ins[0])  # a repeated completion draws nothing more
    async with sessions() as session:
        draws = list(await session.scalars(select(InDepthDraw)))
    assert sorted(d.sequence for d in draws) == list(range(1, 9))
    assert sum(d.selected for d in draws) == 2 and {d.stratum for d in draws} == {"police"}
