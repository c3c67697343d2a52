"""Harness for end-to-end bot tests: the Bot API emulator plus the real Application, over HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from telegram.ext import Application

from bot.app import build_application, polling
from bot.emulator import ChatMessage, Emulator, SimUser
from bot.ratelimit import ChatRateLimiter
from surveys.clock import FrozenClock
from surveys.domain.quizset import bundled_quiz_set, load_quiz_set
from surveys.settings import Settings, load_settings
from surveys.store.catalog import import_quiz_set
from surveys.store.courses import create_course
from surveys.store.db import make_sessionmaker
from surveys.store.invites import issue_invite
from surveys.store.models import Answer, CheckIn, Contact, Enrolment
from tests.conftest import NOW

TOKEN = "7212345678:AAFx_secret-Token-value_0123456789abcd"
USERNAME = "followup_test_bot"
CONTACT = "the Northshire Safeguarding Board evaluation team"
MINI = Path(__file__).resolve().parents[1] / "support" / "data" / "valid.yaml"


class World:
    """One emulator, one running Application at a time, a frozen clock and the store."""

    def __init__(
        self, emulator: Emulator, engine: AsyncEngine, database_url: str, *, realistic_limits: bool = False
    ) -> None:
        self.emu = emulator
        self.engine = engine
        self.sessions = make_sessionmaker(engine)
        self.clock = FrozenClock(NOW)
        self.realistic_limits = realistic_limits
        self.settings: Settings = load_settings(
            {
                "FOLLOWUP_BOT_TOKEN": TOKEN,
                "FOLLOWUP_TELEGRAM_API_URL": emulator.base_url,
                "FOLLOWUP_DATABASE_URL": database_url,
                "FOLLOWUP_BOT_USERNAME": USERNAME,
                "FOLLOWUP_EVALUATION_CONTACT": CONTACT,
            }
        )
        self.app: Application | None = None
        self._running: AsyncExitStack | None = None

    async def start_app(self) -> Application:
        """Build a fresh Application (as a restarted process would) and start long polling."""
        assert self._running is None, "an Application is already running"
        limiter = ChatRateLimiter() if self.realistic_limits else ChatRateLimiter(chat_burst=100, chat_period=1.0)
        app = build_application(self.settings, engine=self.engine, clock=self.clock, rate_limiter=limiter)
        stack = AsyncExitStack()
        await stack.enter_async_context(polling(app, poll_timeout=1))
        self.app, self._running = app, stack
        return app

    async def stop_app(self) -> None:
        """Stop the running Application cleanly."""
        if self._running is not None:
            await self._running.aclose()
        self.app, self._running = None, None

    async def course(
        self,
        code: str = "CSE-1",
        *,
        delivered_on: date | None = None,
        waves: tuple[str, ...] = ("post", "3m", "6m"),
        full: bool = False,
        profile: tuple[str, str] | None = ("teacher", "education"),
    ) -> str:
        """Store a quiz set and a course on it (delivered yesterday by default); return an invite token.

        The invite carries a role and agency as a register's would, so joining goes straight to the
        check-in; `profile=None` makes the shared room link, whose joiners are asked both first.
        """
        path = bundled_quiz_set("cse-core") if full else MINI
        assert path is not None
        quiz = load_quiz_set(path)
        async with self.sessions() as session, session.begin():
            await import_quiz_set(session, quiz, self.clock())
            course = await create_course(
                session,
                code=code,
                title="CSE awareness level 2",
                level=2,
                quiz_ref=quiz.slug,
                delivered_on=delivered_on or date(2026, 1, 14),
                now=self.clock(),
                waves=waves,
            )
            role, agency = profile or (None, None)
            return (await issue_invite(session, course, self.clock(), role=role, agency=agency)).token

    async def join(self, user: SimUser, token: str) -> ChatMessage:
        """Tap the invite, agree, and return the first question (the consent request, edited into it)."""
        await user.command("start", token)
        consent = await user.wait_for("Do you agree")
        await user.press_button(consent, "Agree")
        first = await user.wait_for_edit(consent, "1/")
        assert "Thank you for taking part" in first.content
        return first

    async def answers(self) -> list[Answer]:
        async with self.sessions() as session:
            return list(await session.scalars(select(Answer).order_by(Answer.id)))

    async def check_ins(self) -> list[CheckIn]:
        async with self.sessions() as session:
            return list(await session.scalars(select(CheckIn).order_by(CheckIn.id)))

    async def enrolments(self) -> list[Enrolment]:
        async with self.sessions() as session:
            return list(await session.scalars(select(Enrolment).order_by(Enrolment.id)))

    async def contacts(self) -> list[Contact]:
        async with self.sessions() as session:
            return list(await session.scalars(select(Contact).order_by(Contact.id)))


async def tap(user: SimUser, message: ChatMessage, label: str, expect: str) -> ChatMessage:
    """Press the button labelled `label`; return the pressed message once edited to contain `expect` (how an
    answer is shown: one request), or else the next new bot message containing it (a menu's next step)."""
    edited = asyncio.ensure_future(user.wait_for_edit(message, expect))
    await user.press_button(message, label)
    new = asyncio.ensure_future(user.wait_for(expect))
    done, pending = await asyncio.wait((edited, new), return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    return done.pop().result()


async def say(user: SimUser, text: str, expect: str) -> ChatMessage:
    """Type `text` and return the next bot message containing `expect`."""
    await user.send(text)
    return await user.wait_for(expect)


@pytest.fixture
async def world(engine: AsyncEngine, database_url: str) -> AsyncIterator[World]:
    """Emulator (lenient flood limits) + a running app on the test database; both stopped at the end."""
    async with Emulator(token=TOKEN, username=USERNAME, per_chat_rate=100, per_chat_burst=100) as emu:
        w = World(emu, engine, database_url)
        await w.start_app()
        try:
            yield w
        finally:
            await w.stop_app()
