"""Retention: chat links go after the last wave plus the retention period; dead invites go."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import select, text, update

from scheduler.retention import purge
from surveys.settings import load_settings
from surveys.store.models import Answer, Base, CheckIn, Contact, Invite
from tests.support.schedule_builders import a_check_in, a_course, a_quiz_set, an_enrolment

SETTINGS = load_settings(env={}, env_file=None)  # retention_days = 30
CHAT = 777_000_123


async def person_with_waves(session, now, chat_id, *closes_in_days):
    """An enrolment with one check-in per given close offset (days from now, may be negative)."""
    course = await a_course(session, now, code=f"C-{secrets.token_hex(4)}")
    enrolment = await an_enrolment(session, course, chat_id, now - timedelta(days=200))
    for i, days in enumerate(closes_in_days):
        await a_check_in(
            session, enrolment, wave=f"{i + 1}m", due_at=now + timedelta(days=days - 21), state="completed"
        )
    return enrolment


async def contacts(sessions) -> set[int]:
    async with sessions() as session:
        return set((await session.scalars(select(Contact.chat_id))).all())


async def test_a_chat_link_is_kept_until_thirty_days_after_the_last_wave_closed(sessions, now):
    async with sessions() as session:
        await person_with_waves(session, now, 1, -100, -29)  # last closed 29 days ago: keep
        await person_with_waves(session, now, 2, -100, -31)  # 31 days ago: forget
        await person_with_waves(session, now, 3, -100, 60)  # a wave still to come: keep
        await session.commit()
        report = await purge(session, now, SETTINGS)
        await session.commit()
    assert report.contacts == 1
    assert await contacts(sessions) == {1, 3}


async def test_a_withdrawn_persons_chat_link_goes_at_once(sessions, now):
    async with sessions() as session:
        enrolment = await person_with_waves(session, now, 4, 60)
        enrolment.withdrawn_at = now
        await session.commit()
        assert (await purge(session, now, SETTINGS)).contacts == 1
        await session.commit()
    assert await contacts(sessions) == set()


async def test_a_person_who_blocked_the_bot_is_forgotten_after_the_retention_period(sessions, now):
    async with sessions() as session:
        await person_with_waves(session, now, 5, 60)
        await person_with_waves(session, now, 6, 60)
        await session.execute(
            update(Contact).where(Contact.chat_id == 5).values(unreachable_at=now - timedelta(days=31))
        )
        await session.execute(
            update(Contact).where(Contact.chat_id == 6).values(unreachable_at=now - timedelta(days=1))
        )
        await session.commit()
        await purge(session, now, SETTINGS)
        await session.commit()
    assert await contacts(sessions) == {6}


async def test_expired_invites_and_used_single_use_invites_are_deleted(sessions, now):
    async with sessions() as session:
        course = await a_course(session, now)
        rows = {
            "expired": dict(expires_at=now - timedelta(seconds=1)),
            "used-once": dict(single_use=True, used_at=now - timedelta(days=1)),
            "shared-used": dict(single_use=False, used_at=now - timedelta(days=1)),
            "live": dict(expires_at=now + timedelta(days=1)),
        }
        for name, values in rows.items():
            session.add(Invite(course_id=course.id, token_hash=name.ljust(64, "0"), created_at=now, **values))
        await session.commit()
        report = await purge(session, now, SETTINGS)
        await session.commit()
        left = set((await session.scalars(select(Invite.token_hash))).all())
    assert report.invites == 2
    assert {h.rstrip("0") for h in left} == {"shared-used", "live"}


async def test_after_a_purge_no_table_links_an_answer_to_the_person(sessions, engine, now):
    async with sessions() as session:
        enrolment = await person_with_waves(session, now, CHAT, -40)
        quiz = await a_quiz_set(session, now)
        check_in = await session.scalar(select(CheckIn).where(CheckIn.enrolment_id == enrolment.id))
        session.add(Answer(check_in_id=check_in.id, item_id="q1", quiz_set_id=quiz.id, value="yes", answered_at=now))
        await session.commit()
        await purge(session, now, SETTINGS)
        await session.commit()

    # Scan every column of every table for the chat id, in any form.
    async with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            for row in (await conn.execute(select(table))).all():
                assert all(str(CHAT) not in str(value) for value in row), table.name
        assert (await conn.execute(text("SELECT count(*) FROM answer"))).scalar() == 1
        assert (await conn.execute(text("SELECT count(*) FROM enrolment"))).scalar() == 1


async def test_purging_twice_deletes_nothing_more(sessions, now):
    async with sessions() as session:
        await person_with_waves(session, now, 8, -40)
        await session.commit()
        first = await purge(session, now, SETTINGS)
        await session.commit()
        second = await purge(session, now, SETTINGS)
        await session.commit()
    assert (first.contacts, second.contacts) == (1, 0)
    assert str(second) == "Deleted 0 chat link(s) and 0 invite(s)."
