"""`followup dispatch` as a process: killed mid-run nothing is lost; idle it calls nobody; failing it says one line."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from bot.emulator import Emulator
from surveys.domain.states import CheckInState
from surveys.store.models import CheckIn
from tests.support.schedule_builders import a_course, many_due_check_ins

ROOT = Path(__file__).resolve().parents[2]
PEOPLE = 240
FIRST_CHAT = 5000


async def run_dispatch(database_url: str, emulator: Emulator, at: str, *, kill_after: int | None = None) -> int | None:
    """Run `python -m bot.commands.dispatch --once --at AT`; SIGKILL it once `kill_after` messages arrived."""
    env = {
        **os.environ,
        "FOLLOWUP_DATABASE_URL": database_url,
        "FOLLOWUP_BOT_TOKEN": emulator.token,
        "FOLLOWUP_TELEGRAM_API_URL": emulator.base_url,
    }
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.commands.dispatch",
        "--once",
        "--at",
        at,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    if kill_after is not None:
        while sum(emulator.stats.messages_by_chat.values()) < kill_after and child.returncode is None:
            await asyncio.sleep(0.05)
        child.send_signal(signal.SIGKILL)
    _out, err = await child.communicate()
    assert kill_after is not None or child.returncode == 0, err.decode()[-2000:]
    return child.returncode


async def test_a_dispatcher_killed_mid_run_and_restarted_loses_nothing(database_url, sessions, now):
    async with sessions() as session:
        await many_due_check_ins(session, await a_course(session, now), PEOPLE, now - timedelta(hours=1), FIRST_CHAT)
        await session.commit()
    async with Emulator() as emulator:
        users = [emulator.user(FIRST_CHAT + i) for i in range(PEOPLE)]
        for user in users:
            user.chat.started = True

        killed = await run_dispatch(database_url, emulator, "2026-01-15T10:00:00Z", kill_after=60)
        delivered_before = sum(len(u.messages) for u in users)
        # After the lease (10 minutes) the dead worker's unconfirmed claims are due again.
        await run_dispatch(database_url, emulator, "2026-01-15T10:11:00Z")

        per_person = [len(u.messages) for u in users]
    async with sessions() as session:
        states = dict((await session.execute(select(CheckIn.state, func.count()).group_by(CheckIn.state))).all())

    assert killed == -signal.SIGKILL
    assert 60 <= delivered_before < PEOPLE  # it really died mid-run
    assert states == {CheckInState.SENT: PEOPLE}
    assert min(per_person) == 1  # nobody lost
    # Duplicates are at most the messages in flight (and not yet recorded) at the crash.
    assert sum(per_person) - PEOPLE <= 64 + 200


FOLLOWUP = Path(sys.executable).parent / "followup"
REJECTED = "7999999999:AAHwrong_secret-Token-value_0123456789"


async def followup_dispatch(
    database_url: str, token: str, api_url: str, at: str = "2026-01-15T10:00:00Z"
) -> tuple[int, str]:
    """Run `followup dispatch --once --at AT` as an operator would; (exit code, everything it printed)."""
    env = {
        **os.environ,
        "FOLLOWUP_DATABASE_URL": database_url,
        "FOLLOWUP_BOT_TOKEN": token,
        "FOLLOWUP_TELEGRAM_API_URL": api_url,
    }
    child = await asyncio.create_subprocess_exec(
        FOLLOWUP,
        "dispatch",
        "--once",
        "--at",
        at,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(child.communicate(), 60)
    assert child.returncode is not None
    return child.returncode, out.decode()


def assert_one_clean_line(output: str, token: str) -> str:
    """One line, no traceback, and no part of the token's secret."""
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    assert "Traceback" not in output
    secret = token.split(":", 1)[1]
    assert token.split(":", 1)[0] not in output
    assert not any(secret[i : i + 6] in output for i in range(len(secret) - 5)), output
    return lines[0]


async def a_due_check_in(sessions, now) -> None:
    async with sessions() as session:
        await many_due_check_ins(session, await a_course(session, now), 1, now - timedelta(hours=1), FIRST_CHAT)
        await session.commit()


async def claims(sessions) -> list[tuple]:
    async with sessions() as session:
        return list((await session.execute(select(CheckIn.state, CheckIn.claimed_by))).all())


async def test_with_nothing_due_dispatch_calls_telegram_not_at_all_and_says_so(database_url, sessions, now):
    async with Emulator() as emulator:
        code, output = await followup_dispatch(database_url, emulator.token, emulator.base_url)
        calls = dict(emulator.stats.requests_by_method)

    assert code == 0
    assert assert_one_clean_line(output, emulator.token) == "Nothing due at 2026-01-15 10:00 UTC."
    assert calls == {}


async def test_a_rejected_token_stops_dispatch_with_one_line_and_the_check_in_stays_due(database_url, sessions, now):
    await a_due_check_in(sessions, now)
    async with Emulator() as emulator:
        code, output = await followup_dispatch(database_url, REJECTED, emulator.base_url)
        delivered = sum(emulator.stats.messages_by_chat.values())

    assert code != 0 and delivered == 0
    assert "FOLLOWUP_BOT_TOKEN" in assert_one_clean_line(output, REJECTED)
    assert await claims(sessions) == [(CheckInState.SCHEDULED, None)]  # a fixed token sends it at once


async def test_an_unreachable_telegram_stops_dispatch_with_one_line_and_the_check_in_stays_due(
    database_url, sessions, now, unused_tcp_port
):
    await a_due_check_in(sessions, now)
    code, output = await followup_dispatch(database_url, REJECTED, f"http://127.0.0.1:{unused_tcp_port}/bot")

    assert code != 0
    assert "FOLLOWUP_TELEGRAM_API_URL" in assert_one_clean_line(output, REJECTED)
    assert await claims(sessions) == [(CheckInState.SCHEDULED, None)]
