"""The store: quiz-set versions, courses, invites, enrolments and answers on both databases."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, inspect, select
from sqlalchemy.exc import InvalidRequestError

from surveys.domain.lifecycle import has_ended as course_has_ended
from surveys.domain.quizset import bundled_quiz_set, load_quiz_set
from surveys.domain.tokens import hash_token
from surveys.store.answering import pressed_check_in
from surveys.store.catalog import UnknownQuizSet, find_quiz_set, import_quiz_set, list_quiz_sets
from surveys.store.checkins import open_check_in, record_answer, stored_answers
from surveys.store.courses import CourseClosed, CourseError, close_course, create_course, find_course
from surveys.store.enrolments import AlreadyEnrolled, active_enrolments, enrol, erase, withdraw
from surveys.store.invites import InviteProblem, deep_link, invite_course, issue_invite, resolve_invite
from surveys.store.models import Answer, CheckIn, Contact, Enrolment, Invite, QuizSetVersion
from tests.support.factories import a_course, an_enrolment, stored_cse_core


async def test_importing_an_unchanged_quiz_set_is_a_no_op_that_says_so(sessions, now):
    quiz = load_quiz_set(bundled_quiz_set("cse-core"))
    async with sessions() as session, session.begin():
        first = await import_quiz_set(session, quiz, now)
        again = await import_quiz_set(session, quiz, now)
    assert first.created and not again.created
    assert again.version.id == first.version.id
    assert "unchanged" in again.describe()


async def test_a_changed_quiz_set_becomes_a_new_version_and_the_old_one_stays(sessions, now):
    text = bundled_quiz_set("cse-core").read_text()
    changed = text.replace("CSE core follow-up", "Revised CSE core follow-up", 1)
    async with sessions() as session, session.begin():
        v1 = (await import_quiz_set(session, load_quiz_set(text, "a.yaml"), now)).version
        v2 = (await import_quiz_set(session, load_quiz_set(changed, "b.yaml"), now)).version
        assert (v1.version, v2.version) == (1, 2)
        assert (await find_quiz_set(session, "cse-core")).id == v2.id
        assert (await find_quiz_set(session, "cse-core@1")).definition == v1.definition
        assert [v.ref for v in await list_quiz_sets(session)] == ["cse-core@1", "cse-core@2"]
        with pytest.raises(UnknownQuizSet):
            await find_quiz_set(session, "cse-core@9")


async def test_a_course_refuses_waves_its_quiz_set_does_not_know(sessions, now):
    async with sessions() as session, session.begin():
        await stored_cse_core(session, now)
        with pytest.raises(CourseError, match="12m"):
            await create_course(
                session,
                code="C-1",
                title="t",
                delivered_on=now.date(),
                level=2,
                quiz_ref="cse-core",
                now=now,
                waves=("post", "12m"),
            )


async def test_a_course_counts_as_ended_after_its_day_or_when_the_officer_ends_it(sessions, now):
    async with sessions() as session, session.begin():
        course = await a_course(session, now)
        assert not course_has_ended(course, now)
        assert course_has_ended(course, now + timedelta(days=1))
        course.ended_at = now
        assert course_has_ended(course, now)


async def test_only_the_hash_of_an_invite_token_is_stored(sessions, now):
    async with sessions() as session, session.begin():
        course = await a_course(session, now)
        issued = await issue_invite(session, course, now)
        assert issued.invite.token_hash == hash_token(issued.token)
        assert 16 <= len(issued.token) <= 64
        stored = [c.key for c in inspect(type(issued.invite)).columns]
        assert not any(name == "token" for name in stored)
        assert (await resolve_invite(session, issued.token, now)).id == issued.invite.id
    assert deep_link("@followup_bot", "abc") == "https://t.me/followup_bot?start=abc"


async def test_unknown_expired_and_used_invites_are_refused_with_a_reason(sessions, now):
    async with sessions() as session, session.begin():
        course = await a_course(session, now)
        expiring = await issue_invite(session, course, now, expires_at=now + timedelta(days=1))
        single = await issue_invite(session, course, now, single_use=True, role="police")
        with pytest.raises(InviteProblem) as unknown:
            await resolve_invite(session, "not-a-real-token-at-all", now)
        with pytest.raises(InviteProblem) as expired:
            await resolve_invite(session, expiring.token, now + timedelta(days=2))
        enrolment = await enrol(session, single.invite, 111, now, role="teacher")
        with pytest.raises(InviteProblem) as used:
            await resolve_invite(session, single.token, now)
    assert (unknown.value.reason, expired.value.reason, used.value.reason) == ("unknown", "expired", "used")
    assert enrolment.role == "police"  # the register's role wins over a self-reported one


async def test_enrolment_uses_a_random_pseudonym_and_one_contact_row(sessions, now):
    async with sessions() as session, session.begin():
        course = await a_course(session, now)
        e1 = await an_enrolment(session, course, 5550001, now)
        with pytest.raises(AlreadyEnrolled):
            await an_enrolment(session, course, 5550001, now)
        e2 = await an_enrolment(session, course, 5550002, now)
        assert e1.pseudonym != e2.pseudonym
        assert "5550001" not in e1.pseudonym
        assert await session.scalar(select(func.count()).select_from(Contact)) == 2


async def _checkin(session, enrolment, now, wave="post"):
    check_in = CheckIn(
        enrolment_id=enrolment.id,
        enrolment=enrolment,
        wave=wave,
        state="sent",
        due_at=now,
        closes_at=now + timedelta(days=21),
    )
    session.add(check_in)
    await session.flush()
    return check_in


async def test_a_check_in_is_only_reachable_from_its_own_chat(sessions, now):
    async with sessions() as session, session.begin():
        course = await a_course(session, now)
        mine = await an_enrolment(session, course, 1001, now)
        await an_enrolment(session, course, 1002, now)
        check_in = await _checkin(session, mine, now)
        conn = await session.connection()
        assert (await conn.run_sync(pressed_check_in, check_in.id, 1001)) is not None
        assert (await conn.run_sync(pressed_check_in, check_in.id, 1002)) is None
        assert (await open_check_in(session, 1001, now)).check_in.id == check_in.id
        assert await open_check_in(session, 1002, now) is None


async def test_an_answer_is_stored_once_and_the_last_one_completes_the_check_in(sessions, now):
    async with sessions() as session, session.begin():
        course = await a_course(session, now)
        enrolment = await an_enrolment(session, course, 1001, now)
        check_in = await _checkin(session, enrolment, now)
        assert await record_answer(session, check_in, item_id="q1", value="b", score=1.0, now=now, completes=False)
        assert not await record_answer(session, check_in, item_id="q1", value="c", score=0.0, now=now, completes=False)
        assert check_in.state == "in_progress"
        assert await record_answer(session, check_in, item_id="q2", value="4", score=4.0, now=now, completes=True)
        assert check_in.state == "completed"
        assert await stored_answers(session, check_in.id) == {"q1": "b", "q2": "4"}


async def test_stop_cancels_what_is_pending_and_deletes_the_chat_link_but_keeps_answers(sessions, now):
    async with sessions() as session, session.begin():
        course = await a_course(session, now)
        enrolment = await an_enrolment(session, course, 1001, now)
        check_in = await _checkin(session, enrolment, now)
        await record_answer(session, check_in, item_id="q1", value="b", score=1.0, now=now, completes=False)
        assert await withdraw(session, 1001, now) == 1
        assert await active_enrolments(session, 1001) == []
        await session.refresh(check_in)
        assert check_in.state == "cancelled"
        assert await session.scalar(select(func.count()).select_from(Contact)) == 0
        assert await session.scalar(select(func.count()).select_from(Answer)) == 1


async def test_delete_erases_the_persons_answers_and_leaves_others(sessions, now):
    async with sessions() as session, session.begin():
        course = await a_course(session, now)
        mine = await an_enrolment(session, course, 1001, now)
        theirs = await an_enrolment(session, course, 1002, now)
        for enrolment in (mine, theirs):
            check_in = await _checkin(session, enrolment, now)
            await record_answer(session, check_in, item_id="q1", value="b", score=1.0, now=now, completes=False)
        assert await erase(session, 1001) == 1
        assert await session.scalar(select(func.count()).select_from(Answer)) == 1
        assert await session.scalar(select(func.count()).select_from(Enrolment)) == 1
        assert await erase(session, 1001) == 0


async def test_stored_times_come_back_timezone_aware_in_utc(sessions, now):
    async with sessions() as session, session.begin():
        version = await stored_cse_core(session, now)
    async with sessions() as session:
        again = await session.get(QuizSetVersion, version.id)
        assert again.created_at == now and again.created_at.utcoffset() == timedelta(0)


async def test_two_simultaneous_agree_taps_enrol_the_chat_once(sessions, now):
    import asyncio

    async with sessions() as session, session.begin():
        course = await a_course(session, now)
        token = (await issue_invite(session, course, now)).token

    async def agree() -> str:
        async with sessions() as session, session.begin():
            invite = await resolve_invite(session, token, now, for_update=True)
            await asyncio.sleep(0.05)  # widen the race window: both taps are inside their transaction
            try:
                await enrol(session, invite, 4242, now)
            except AlreadyEnrolled:
                return "already"
            return "enrolled"

    outcomes = await asyncio.gather(agree(), agree())
    assert sorted(outcomes) == ["already", "enrolled"]
    async with sessions() as session:
        assert len(await active_enrolments(session, 4242)) == 1


async def test_a_used_single_use_invite_keeps_only_the_day_it_was_used(sessions, now):
    async with sessions() as session, session.begin():
        course = await a_course(session, now)
        issued = await issue_invite(session, course, now, single_use=True, role="teacher", agency="education")
        enrolment = await enrol(session, issued.invite, 77, now)
        assert issued.invite.used_at.date() == now.date()
        assert issued.invite.used_at != enrolment.consented_at


async def test_each_read_brings_the_related_rows_its_callers_use_and_no_others(sessions, now):
    async with sessions() as session, session.begin():
        course = await a_course(session, now)
        issued = await issue_invite(session, course, now)
        check_in = await _checkin(session, await an_enrolment(session, course, 1001, now), now)
        ids = course.quiz_set_id, check_in.id
    # Fresh sessions, as each Telegram update gets: nothing is in memory from the writes above.
    async with sessions() as session, session.begin():
        invite = await resolve_invite(session, issued.token, now)
        assert (invite.course.title, invite.course.quiz_set.ref) == ("CSE awareness level 2", "cse-core@1")
        assert (await find_course(session, "cse-1")).quiz_set.ref == "cse-core@1"
        stored = await session.get(CheckIn, ids[1])
        with pytest.raises(InvalidRequestError):  # relationships load only when a query asks for them
            _ = stored.enrolment
        assert await record_answer(session, stored, item_id="q1", value="b", score=1.0, now=now, completes=False)
        assert await session.scalar(select(Answer.quiz_set_id)) == ids[0]


async def test_a_closed_course_refuses_closing_again_and_new_links_with_one_error_type(sessions, now):
    async with sessions() as session, session.begin():
        course = await a_course(session, now)
        await close_course(session, course, now)
        with pytest.raises(CourseClosed, match="already closed"):
            await close_course(session, course, now)
        with pytest.raises(CourseError, match="no longer enrol"):  # a CourseClosed: every course refusal is one
            await invite_course(session, course, now)
        assert await session.scalar(select(func.count()).select_from(Invite)) == 0
