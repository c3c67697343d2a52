"""The offline demo: a course's whole follow-up cycle against the local Bot API emulator."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from bot.app import build_application, polling
from bot.demo import commitments, welsh
from bot.demo.annual import board_year
from bot.demo.cpd import example_record
from bot.demo.in_depth import OFFICER, show_in_depth
from bot.demo.personas import WAVES, Persona, make_personas
from bot.demo.practitioner import Practitioner, is_question
from bot.emulator import ChatMessage, Emulator, SimUser
from bot.messenger import TelegramMessenger
from bot.ratelimit import ChatRateLimiter
from bot.request import AiohttpRequest
from scheduler.dispatch import Dispatcher, DispatchReport
from scheduler.retention import purge
from scheduler.timetable import release_post_wave
from surveys.clock import FrozenClock
from surveys.domain import states, waves
from surveys.domain.quizset import QuizSet, bundled_quiz_set, load_quiz_set
from surveys.reporting.export import export
from surveys.reporting.report import build_report, write_report
from surveys.settings import Settings, load_settings
from surveys.store.catalog import import_quiz_set
from surveys.store.courses import create_course
from surveys.store.db import make_engine, make_sessionmaker
from surveys.store.invites import issue_invite
from surveys.store.models import CheckIn, Contact

TOKEN = "7000000001:demo-token-not-secret"
USERNAME = "followup_demo_bot"
COURSE = "DEMO-CSE-2"
TITLE = "CSE awareness, level 2"
# A Thursday morning in London; the demo moves the clock through six months from here.
START = datetime(2026, 3, 12, 9, 0, tzinfo=UTC)
Echo = Callable[[str], None]
STAGES = len(WAVES) + 3  # the course, joining, each wave, closing
START_BUTTONS = welsh.start_buttons()


@dataclass
class DemoResult:
    """What the demo did and where it put the results."""

    out: Path
    attendees: int
    joined: int = 0
    completed: dict[str, int] = field(default_factory=dict)
    dispatch: DispatchReport = field(default_factory=DispatchReport)
    contacts_left: int = 0
    seconds: float = 0.0
    files: list[Path] = field(default_factory=list)


def _settings(emu: Emulator, url: str) -> Settings:
    return load_settings(
        {
            "FOLLOWUP_BOT_TOKEN": TOKEN,
            "FOLLOWUP_TELEGRAM_API_URL": emu.base_url,
            "FOLLOWUP_DATABASE_URL": url,
            "FOLLOWUP_BOT_USERNAME": USERNAME,
            "FOLLOWUP_EVALUATION_CONTACT": "the Northshire Safeguarding Children Partnership",
            "FOLLOWUP_ADMIN_IDS": str(OFFICER),
        }
    )


class Demo:
    """Runs the stages in order, against one emulator, one app, one dispatcher and one clock."""

    def __init__(self, out: Path, attendees: int, seed: int, echo: Echo) -> None:
        self.out, self.echo = out, echo
        self.rng = random.Random(seed)
        self.personas = make_personas(attendees, seed)
        self.clock = FrozenClock(START)
        self.result = DemoResult(out, attendees)

    async def run(self, url: str) -> DemoResult:
        """All stages; the database at `url` is already migrated and empty."""
        began = time.perf_counter()
        # Telegram's limits are lifted here (and the bot's limiter widened) so that six months
        # of 60 people fit in under a minute; the tests and benchmarks run with the limits on.
        async with Emulator(
            token=TOKEN, username=USERNAME, limits=False, clock=lambda: self.clock().timestamp()
        ) as emu:
            self.emu = emu
            self.settings = _settings(emu, url)
            engine = make_engine(url)
            self.sessions = make_sessionmaker(engine)
            try:
                await self._prepare()
                app = build_application(
                    self.settings,
                    engine=engine,
                    clock=self.clock,
                    rate_limiter=ChatRateLimiter(overall_rate=2000, chat_burst=100, chat_period=1.0),
                    request=AiohttpRequest(connection_pool_size=32),
                    get_updates_request=AiohttpRequest(),
                )
                async with polling(app, poll_timeout=1):
                    messenger = TelegramMessenger(app.bot)  # paced by the app's widened limiter
                    self.dispatcher = Dispatcher(self.sessions, messenger, self.clock, self.settings, "demo")
                    await self._join()
                    for wave in WAVES:
                        await self._wave(wave)
                    self.echo(await commitments.outcome_line(self))
                    self.cpd = await example_record(self.people, self.out)
                    await self._close_and_purge()
                await self._write()
                self.result.files += await board_year(
                    self.sessions, self.settings, self.clock, self.quiz, self.out, self.echo
                )
            finally:
                await engine.dispose()
        self.result.seconds = time.perf_counter() - began
        return self.result

    async def _prepare(self) -> None:
        path = bundled_quiz_set("cse-core")
        assert path is not None
        self.quiz: QuizSet = load_quiz_set(path)
        async with self.sessions() as session, session.begin():
            await import_quiz_set(session, self.quiz, self.clock())
            self.course = await create_course(
                session,
                code=COURSE,
                title=TITLE,
                delivered_on=date(2026, 3, 12),
                level=2,
                quiz_ref="cse-core",
                now=self.clock(),
                waves=WAVES,
                expected_attendance=round(len(self.personas) * 1.1),
            )
            # One single-use link per attendee, as from a register (role and agency known).
            self.tokens = {}
            for p in self.personas:
                issued = await issue_invite(
                    session, self.course, self.clock(), single_use=True, role=p.role, agency=p.agency, level=2
                )
                self.tokens[p.user_id] = issued.token
        self.echo(f"[1/{STAGES}] Course {COURSE} created on quiz set cse-core; {len(self.personas)} invite links made.")

    async def _join(self) -> None:
        self.people = {
            p.user_id: Practitioner(
                p, self.emu.user(p.user_id, p.first_name), self.quiz, TITLE, random.Random(self.rng.random())
            )
            for p in self.personas
        }

        async def join(p: Persona) -> bool:
            await welsh.join(self.people[p.user_id].user, self.tokens[p.user_id], p.language)
            return True

        joined = await asyncio.gather(*(join(p) for p in self.personas))
        self.result.joined = sum(joined)
        cymraeg = sum(p.language == "cy" for p in self.personas)
        self.echo(
            f"[2/{STAGES}] {self.result.joined} practitioners joined by deep link and consented "
            f"({cymraeg} chose Cymraeg: their check-ins, invitations and reminders run in Welsh)."
        )

    async def dispatch_due(self) -> DispatchReport:
        report = await self.dispatcher.run_once()
        self.result.dispatch = self.result.dispatch + report
        return report

    def _takes_part(self, p: Persona, wave: str) -> bool:
        if p.uses_stop and wave != waves.POST:
            return False
        return WAVES.index(wave) <= WAVES.index(p.last_wave)

    async def _pre(self) -> None:
        """In the room, before the training: consent starts the pre check-in at once, and everyone answers it."""

        async def one(p: Persona) -> bool:
            person = self.people[p.user_id]
            # Consent was edited into the welcome and the first question (one request a tap).
            first = next(m for m in reversed(person.user.messages) if is_question(m))
            finished = await person.take(first, waves.PRE)
            person.user.mark_read()
            return finished

        done = sum(await asyncio.gather(*(one(p) for p in self.personas)))
        self.result.completed[waves.PRE] = done
        self.echo(f"[3/{STAGES}]  pre: answered in the room right after joining, {done} completed check-ins.")

    async def _wave(self, wave: str) -> None:
        if wave == waves.PRE:
            await self._pre()
            return
        if self.quiz.message_only(wave):
            await commitments.nudge_wave(self, wave, f"[{3 + WAVES.index(wave)}/{STAGES}]")
            return
        if wave == waves.POST:
            self.clock.set(START.replace(hour=16))
            async with self.sessions() as session, session.begin():
                await release_post_wave(session, self.course, self.clock(), self.settings)
        else:
            async with self.sessions() as session:
                due = await session.scalar(select(func.min(CheckIn.due_at)).where(CheckIn.wave == wave))
            self.clock.set(due)
        sent = await self.dispatch_due()
        first_round = [p for p in self.personas if self._takes_part(p, wave) and not p.needs_reminder]
        done = await self._answer(first_round, wave, "Start now")
        # Days later, when the first reminder falls due (in the send window): the late ones answer.
        async with self.sessions() as session:
            reminder_at = await session.scalar(
                select(func.min(CheckIn.next_action_at)).where(
                    CheckIn.wave == wave, CheckIn.state.in_(states.REMINDABLE)
                )
            )
        if reminder_at is not None:
            self.clock.set(max(reminder_at, self.clock()))
        reminded = await self.dispatch_due()
        late = [p for p in self.personas if self._takes_part(p, wave) and (p.needs_reminder or p.stops_midway)]
        done += await self._answer(late, wave, None)
        self.result.completed[wave] = done
        self.echo(
            f"[{3 + WAVES.index(wave)}/{STAGES}] {wave:>4}: {sent.sent} invited, {reminded.reminded} reminded, "
            f"{done} completed check-ins."
        )
        if wave == waves.POST:
            await self._after_post()
        if wave == "3m":
            await show_in_depth(self)

    async def _answer(self, people: list[Persona], wave: str, button: str | None) -> int:
        async def one(p: Persona) -> bool:
            person = self.people[p.user_id]
            user = person.user
            if p.blocks_bot and wave != waves.POST:
                return False
            await user.wait_for(lambda m: bool(_start_button(user, m)), timeout=15)
            # The newest invitation or reminder: that is the one a person taps.
            invitation = next(m for m in reversed(user.messages) if _start_button(user, m))
            await user.press_button(invitation, _start_button(user, invitation))
            first = await user.wait_for(is_question, timeout=15)
            stop_after = 4 if (p.stops_midway and button is not None) else None
            finished = await person.take(first, wave, stop_after=stop_after)
            user.mark_read()  # what is left unread (an earlier reminder) belongs to this wave
            return finished

        results = await asyncio.gather(*(one(p) for p in people))
        return sum(results)

    async def _after_post(self) -> None:
        for p in self.personas:
            user = self.people[p.user_id].user
            if p.blocks_bot:
                user.block()
            elif p.uses_stop:
                await user.command("stop")
                confirm = await user.wait_for(
                    lambda m, user=user: any(t.startswith("Stop") for t, _ in user.buttons(m)), timeout=15
                )
                label = next(t for t, _ in user.buttons(confirm) if t.startswith("Stop"))
                await user.press_button(confirm, label)

    async def _close_and_purge(self) -> None:
        async with self.sessions() as session:
            last_close = await session.scalar(select(func.max(CheckIn.closes_at)))
        self.clock.set(last_close + timedelta(minutes=1))
        await self.dispatch_due()  # closes what is left unanswered
        self.clock.advance(timedelta(days=self.settings.retention_days + 1))
        async with self.sessions() as session, session.begin():
            purged = await purge(session, self.clock(), self.settings)
        async with self.sessions() as session:
            self.result.contacts_left = await session.scalar(select(func.count()).select_from(Contact)) or 0
        self.echo(
            f"[{STAGES}/{STAGES}] Six months on: unanswered check-ins closed; retention purge ran ({purged}); "
            f"{self.result.contacts_left} chat links remain."
        )

    async def _write(self) -> None:
        out = self.out
        async with self.sessions() as session:
            report = await build_report(session, [COURSE], self.settings, now=self.clock())
            files = write_report(report, out / "report")
            for fmt, shape in (("csv", "long"), ("xlsx", "wide"), ("sav", "wide")):
                target = out / f"answers-{shape}.{fmt}"
                await export(session, [COURSE], fmt, shape, target)
                self.result.files.append(target)
        self.result.files[:0] = [files["html"], files["pdf"], files["json"], *([self.cpd] if self.cpd else [])]
        self.report = report


def _start_button(user: SimUser, message: ChatMessage) -> str | None:
    return next((t for t, _ in user.buttons(message) if t in START_BUTTONS), None)


def run_demo(out: Path, attendees: int = 60, seed: int = 7, echo: Echo = print) -> DemoResult:
    """Run the whole demo into `out` (a fresh SQLite database there) and return what happened."""
    from surveys.store.migrate import upgrade

    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob("demo.db*"):
        stale.unlink()
    url = f"sqlite:///{(out / 'demo.db').resolve()}"
    upgrade(url)
    demo = Demo(out, attendees, seed, echo)
    return asyncio.run(demo.run(url))
