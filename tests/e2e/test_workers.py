"""Several workers on one PostgreSQL: real `followup` processes share the sending, one at a time, and hand it over."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.commands.dispatch import STANDING_BY
from bot.commands.run import cli as run_cli
from bot.emulator import Emulator
from scheduler.leader import LOCK_KEY
from surveys.store.models import CheckIn
from tests.support.botkit import TOKEN, USERNAME
from tests.support.schedule_builders import a_course, many_due_check_ins

FOLLOWUP = Path(sys.executable).parent / "followup"
PEOPLE = 2000
FIRST_CHAT = 700_000
TICK = 1.0  # both workers' dispatch interval
TICK_STARTED = 'Running job "followup-dispatch '  # APScheduler's line as each dispatch tick starts
TOOK_OVER = "took over dispatching"
# The lock as pg_locks shows a bigint advisory key: high and low 32 bits.
LOCK_ROW = (
    "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
    f"AND classid = {LOCK_KEY >> 32} AND objid = {LOCK_KEY & 0xFFFFFFFF} AND objsubid = 1"
)


def test_a_dispatch_only_worker_takes_no_webhook() -> None:
    result = CliRunner().invoke(run_cli, ["--dispatch-only", "--webhook-url", "https://bot.example.org/hook"])
    assert result.exit_code == 2 and "--dispatch-only receives no updates" in result.output


def is_invitation(message) -> bool:
    return any(label == "Start now" for label, _ in message.buttons)


def postgres_only(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("several workers share PostgreSQL; SQLite is one process by nature")


@dataclass
class Worker:
    """A `followup` process and every line it wrote to stderr, read as it goes (a full pipe would block it)."""

    process: asyncio.subprocess.Process
    lines: list[str] = field(default_factory=list)
    reader: asyncio.Task[None] | None = None

    async def _read(self) -> None:
        assert self.process.stderr is not None
        while line := await self.process.stderr.readline():
            self.lines.append(line.decode(errors="replace").rstrip())

    async def wait_for_line(self, part: str, timeout: float = 60) -> None:
        async with asyncio.timeout(timeout):
            while not any(part in line for line in self.lines):
                if self.process.returncode is not None:
                    raise AssertionError("worker exited:\n" + "\n".join(self.lines[-30:]))
                await asyncio.sleep(0.05)


@asynccontextmanager
async def worker(emu: Emulator, database_url: str, cwd: Path, *args: str) -> AsyncIterator[Worker]:
    """`followup run ARGS` against the emulator; SIGTERM on the way out unless it was killed."""
    env = {
        **os.environ,
        "FOLLOWUP_BOT_TOKEN": TOKEN,
        "FOLLOWUP_TELEGRAM_API_URL": emu.base_url,
        "FOLLOWUP_DATABASE_URL": database_url,
        "FOLLOWUP_DISPATCH_INTERVAL_SECONDS": str(TICK),
    }
    process = await asyncio.create_subprocess_exec(
        FOLLOWUP, "run", *args, env=env, cwd=cwd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    w = Worker(process)
    w.reader = asyncio.create_task(w._read())
    try:
        yield w
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(process.wait(), 30)
        if process.returncode is None:
            process.kill()
            await process.wait()
        await w.reader


def tick_started_at(line: str) -> float:
    """The wall-clock time of a log line (its asctime, local time, milliseconds)."""
    return datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").timestamp()


async def count(sessions: async_sessionmaker[AsyncSession], *where) -> int:
    async with sessions() as session:
        return await session.scalar(select(func.count()).select_from(CheckIn).where(*where)) or 0


async def until(condition, timeout: float, what: str) -> None:
    """Wait (polling) until `condition()` is true; fail saying `what` after `timeout` seconds (a hang guard)."""
    try:
        async with asyncio.timeout(timeout):
            while not await condition():
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"gave up waiting for {what}") from None


async def test_two_workers_send_2000_invitations_once_each_at_30_a_second_and_hand_over_when_the_sender_is_killed(
    database_url: str, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    """A (`--dispatch-only`) sends; B (polling) stands by and answers; A is SIGKILLed; B takes over.

    At the kill the emulator holds A's sends in flight (a slow Telegram), so that every message
    Telegram took is recorded and none is in doubt: a message accepted but not yet recorded when
    its sender dies would go out again, as Telegram has no idempotency key (see the README).
    """
    postgres_only(database_url)
    now = datetime.now(UTC)
    async with sessions() as session:
        await many_due_check_ins(session, await a_course(session, now), PEOPLE, now - timedelta(hours=1), FIRST_CHAT)
        await session.commit()
    chats = range(FIRST_CHAT, FIRST_CHAT + PEOPLE)
    async with Emulator(token=TOKEN, username=USERNAME) as emu:
        for chat in chats:
            emu.user(chat).chat.started = True
        practitioner = emu.user(FIRST_CHAT)

        def delivered() -> int:
            return sum(1 for chat in chats if emu.stats.messages_by_chat.get(chat))

        async with worker(emu, database_url, tmp_path, "--dispatch-only") as a:
            invitation = await practitioner.wait_for(is_invitation, timeout=60)  # sent by A
            async with worker(emu, database_url, tmp_path) as b:
                await b.wait_for_line("followup bot running (long polling)")

                async def b_standing_by() -> bool:
                    # B ticks meanwhile (finding the lock held) and A has sent a good part.
                    return sum(TICK_STARTED in line for line in b.lines) >= 2 and delivered() >= PEOPLE // 4

                await until(b_standing_by, 120, "B to tick while A sends")
                # A slow Telegram: A's next sends hang, unanswered. Once all it had delivered is
                # recorded, nothing is in doubt, and A is killed mid-pass with claims in hand.
                emu.inject("sendMessage", delay=3600)

                async def all_recorded() -> bool:
                    return await count(sessions, CheckIn.sent_at.is_not(None)) == delivered()

                await until(all_recorded, 30, "A to record what it delivered")
                claimed_by_a = await count(sessions, CheckIn.claimed_by.is_not(None))
                a.process.send_signal(signal.SIGKILL)
                await a.process.wait()
                killed_at = datetime.now().timestamp()

                async def lock_free() -> bool:
                    async with engine.connect() as conn:
                        return (await conn.execute(text(LOCK_ROW))).first() is None

                await until(lock_free, 30, "PostgreSQL to end the killed worker's session")
                freed_at = datetime.now().timestamp()
                emu.clear_faults()

                async def all_out() -> bool:
                    return delivered() == PEOPLE

                await until(all_out, 240, "B to send the rest")
                await b.wait_for_line(TOOK_OVER)
                # Replies come from the process that gets the update (B polls), whoever sent the invitation.
                await practitioner.press_button(invitation, "Start now")
                await practitioner.wait_for(lambda m: m is not invitation, timeout=30)
        assert a.process.returncode == -signal.SIGKILL
        assert b.process.returncode == 0, "\n".join(b.lines[-30:])

    # Each of the 2,000 invited exactly once, the killed worker's claims included.
    invitations = [sum(1 for m in emu.user(chat).messages if is_invitation(m)) for chat in chats]
    assert claimed_by_a > 0 and invitations == [1] * PEOPLE
    assert await count(sessions, CheckIn.sent_at.is_not(None)) == PEOPLE
    assert await count(sessions, CheckIn.claimed_by.is_not(None)) == 0
    # Never more than 30 in any second, before, across and after the hand-over, as the emulator
    # counts them (every request naming a chat, at arrival): none refused, the busiest second at most 30.
    assert emu.stats.too_many_requests == 0
    assert emu.chat_request_figures()["busiest_second"] <= 30
    # Handed over within one tick: B's tick that took over started no later than its first tick
    # after PostgreSQL let go of A's lock (an earlier one may have tried just before).
    ticks, took_over = [], None
    for line in b.lines:
        if TICK_STARTED in line:
            ticks.append(tick_started_at(line))
        elif TOOK_OVER in line:
            took_over = len(ticks)
            break
    assert took_over is not None
    # B ticked while A held the lock, standing by: none of those ticks took over.
    assert took_over >= sum(1 for t in ticks if t < killed_at) >= 2
    assert took_over <= sum(1 for t in ticks if t < freed_at) + 1, (ticks, freed_at)


async def test_followup_dispatch_stands_by_while_another_worker_holds_the_dispatch_lock(
    database_url: str, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    postgres_only(database_url)
    now = datetime.now(UTC)
    async with sessions() as session:
        await many_due_check_ins(session, await a_course(session, now), 3, now - timedelta(hours=1), FIRST_CHAT)
        await session.commit()
    async with Emulator(token=TOKEN, username=USERNAME) as emu:
        for chat in range(FIRST_CHAT, FIRST_CHAT + 3):
            emu.user(chat).chat.started = True
        env = {
            **os.environ,
            "FOLLOWUP_BOT_TOKEN": TOKEN,
            "FOLLOWUP_TELEGRAM_API_URL": emu.base_url,
            "FOLLOWUP_DATABASE_URL": database_url,
        }

        async def dispatch_once() -> str:
            child = await asyncio.create_subprocess_exec(
                FOLLOWUP, "dispatch", "--once", env=env, cwd=tmp_path, stdout=asyncio.subprocess.PIPE
            )
            out, _ = await asyncio.wait_for(child.communicate(), 60)
            assert child.returncode == 0
            return out.decode().strip()

        async with engine.connect() as holder:  # another worker, mid-pass
            await holder.execute(text("SELECT pg_advisory_lock(:key)"), {"key": LOCK_KEY})
            standing_by = await dispatch_once()
            sent_meanwhile = sum(emu.stats.messages_by_chat.values())
            await holder.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})
        after = await dispatch_once()

    assert (standing_by, sent_meanwhile) == (STANDING_BY, 0)
    assert after.startswith("Sent 3 invitation(s)")
