"""`followup dispatch` as a process: killed with SIGKILL mid-run and restarted, nothing is lost."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from bot.emulator import Emulator
from surveys.models import CheckIn
from tests.schedule_builders import a_course, many_due_check_ins

ROOT = Path(__file__).resolve().parent.parent
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
        sys.executable, "-m", "bot.commands.dispatch", "--once", "--at", at,
        cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    if kill_after is not None:
        while sum(emulator.stats.messages_by_chat.values()) < kill_after and child.returncode is None:
            await asyncio.sleep(0.05)
        child.send_signal(signal.SIGKILL)
    out, err = await child.communicate()
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
    assert states == {"sent": PEOPLE}
    assert min(per_person) == 1  # nobody lost
    # Duplicates are at most the messages in flight (and not yet recorded) at the crash.
    assert sum(per_person) - PEOPLE <= 64 + 200
