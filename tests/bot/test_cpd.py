"""/cpd and own progress in the chat, through the real Application and the Bot API emulator."""

from __future__ import annotations

import io
from pathlib import Path

from pypdf import PdfReader
from sqlalchemy import String, Text, select

from surveys.store.models import Base
from tests.support.botkit import World, tap, world  # noqa: F401  (world is a fixture)
from tests.support.own_answers import a_course, a_person, quiz_set

NAME = "Zelda Quillfeather"
PRE = {"aoc": "b", "myth": "true"}
POST = {
    "aoc": "b",
    "myth": "false",
    "online": "true",
    "commit.1": "Ask about older boyfriends at every review",
    "commit.2": "Use the local referral pathway",
    "commit": "2",
}
THREE = {
    "aoc": "c",
    "myth": "false",
    "review.1": "done",
    "review.2": "notyet",
    "review.2.barrier": "No time in clinic",
    "review": "2",
}


def pdf_text(data: bytes | None) -> str:
    assert data is not None and data.startswith(b"%PDF")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


async def _stored_text_holding(world: World, needle: str) -> list[str]:
    """Every text column of every table, searched for `needle`."""
    found = []
    async with world.sessions() as session:
        for table in Base.metadata.sorted_tables:
            for column in table.columns:
                if isinstance(column.type, (String, Text)):
                    rows = await session.execute(select(column).where(column.contains(needle)))
                    found += [f"{table.name}.{column.name}" for _ in rows.all()]
    return found


async def test_cpd_sends_a_pdf_with_scores_and_commitments_and_keeps_no_name(world: World, tmp_path: Path) -> None:
    quiz = quiz_set(tmp_path)
    alice = world.emu.user(1001, "Alice")
    async with world.sessions() as session, session.begin():
        course = await a_course(session, quiz, world.clock())
        await a_person(session, course, quiz, world.clock(), {"pre": PRE, "post": POST, "3m": THREE}, chat_id=1001)

    await alice.command("cpd")
    ask = await alice.wait_for("Type your name")
    assert [b[0] for b in ask.buttons] == ["Skip"]
    await alice.send(NAME)
    sent = await alice.wait_for(lambda m: m.document is not None)
    assert sent.filename.endswith(".pdf") and NAME not in sent.filename
    text = pdf_text(sent.document_bytes)
    assert NAME in text and "CSE for health staff" in text and "Level 3" in text
    assert "Before the course: 1 of 2" in text and "At the end of the course: 3 of 3" in text
    assert "Three months after the course: 1 of 2" in text
    assert "Ask about older boyfriends at every review" in text and "Use the local referral pathway" in text
    assert "Done" in text and "Not yet" in text and "No time in clinic" in text
    assert "What I learnt" in text and "How it changed my practice" in text and "supervisor" in text

    # The name is in the file only: not in any table, nor in what the bot keeps about the chat.
    assert await _stored_text_holding(world, NAME) == []
    assert await _stored_text_holding(world, "Zelda") == []
    assert world.app is not None and NAME not in repr(world.app.chat_data) + repr(world.app.user_data)

    # The next typed line is an answer again, not a name.
    await alice.send("hello")
    assert "Type your name" not in (await alice.wait_for()).content


async def test_skip_leaves_the_name_off_and_a_long_name_is_asked_again(world: World, tmp_path: Path) -> None:
    quiz = quiz_set(tmp_path)
    bob = world.emu.user(1002, "Bob")
    async with world.sessions() as session, session.begin():
        course = await a_course(session, quiz, world.clock())
        await a_person(session, course, quiz, world.clock(), {"pre": PRE}, chat_id=1002)

    await bob.command("cpd")
    await bob.wait_for("Type your name")
    await bob.send("x" * 200)
    assert "at most 80 characters" in (await bob.wait_for("Skip")).content
    await bob.command("cpd")
    prompt = await bob.wait_for("Type your name")
    await bob.press_button(prompt, "Skip")
    await bob.wait_for_edit(prompt, "No name")
    text = pdf_text((await bob.wait_for(lambda m: m.document is not None)).document_bytes)
    assert "Name:" not in text and "Before the course: 1 of 2" in text and "No commitments recorded" in text


async def test_cpd_without_a_course_says_how_to_join(world: World) -> None:
    carol = world.emu.user(1003, "Carol")
    await carol.command("cpd")
    assert "not taking part" in (await carol.wait_for("record")).content
    await carol.send("Carol Smith")  # not taken as a name: nothing was asked
    assert not [m for m in carol.messages if m.document is not None]


async def _answer_three_months(world: World, tmp_path: Path, others: int) -> str:
    """Someone who knew both before the course answers 3m (the age of consent wrong); `others` more answered 3m."""
    quiz = quiz_set(tmp_path)
    async with world.sessions() as session, session.begin():
        course = await a_course(session, quiz, world.clock())
        before = {"pre": {"aoc": "b", "myth": "false"}}
        await a_person(session, course, quiz, world.clock(), before, chat_id=1004, open_wave="3m")
        for n in range(others):
            await a_person(session, course, quiz, world.clock(), {"3m": {"aoc": "b", "myth": "true" if n else "false"}})
    dan = world.emu.user(1004, "Dan")
    await dan.command("continue")
    q1 = await dan.wait_for("1/2")
    q2 = await tap(dan, q1, "18", "2/2")
    # The last answer turns the question into the summary, their progress and the CPD button: one request.
    closing = await tap(dan, q2, "False", "CPD")
    assert "check-in done" in closing.content
    assert [b[0] for b in closing.buttons] == ["Get my CPD record"]
    await dan.press_button(closing, "Get my CPD record")
    await dan.wait_for("Type your name")
    return closing.content


async def test_own_progress_shows_then_and_now_and_what_slipped(world: World, tmp_path: Path) -> None:
    text = await _answer_three_months(world, tmp_path, others=4)
    assert "first check-in (before the course)" in text
    assert "2 right then (100%) and 1 now (50%)" in text
    assert "age of consent in England and Wales? — The age of consent is 16 (Sexual Offences Act 2003)" in text
    # They and four others answered 3m: five, so the median is shown (50, 100, 50, 50, 50 → 50).
    assert "median of 50% on the same questions (5 people)" in text


async def test_no_median_when_fewer_than_five_answered(world: World, tmp_path: Path) -> None:
    text = await _answer_three_months(world, tmp_path, others=3)
    assert "1 now (50%)" in text and "median" not in text


def test_making_a_record_logs_nothing_of_the_name(caplog) -> None:
    import logging
    from datetime import date

    from bot.cpd import record_pdf

    caplog.set_level(logging.DEBUG)
    assert NAME in pdf_text(record_pdf([], date(2026, 1, 15), NAME))
    assert NAME not in caplog.text and "Glyph names" not in caplog.text
