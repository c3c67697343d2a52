"""CLI commands that talk to Telegram: a rejected token is one clear line that never shows the token."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import date
from pathlib import Path

from click.testing import CliRunner

from bot.cli import main
from bot.emulator import Emulator
from surveys.store.migrate import upgrade
from tests.support.botkit import TOKEN, USERNAME
from tests.support.factories import a_course

WRONG = "7999999999:AAWrong_token-value_XYZ0123456789abc"
REJECTED = "Error: the bot token was rejected (401); check FOLLOWUP_BOT_TOKEN"


def _env(emu: Emulator, database_url: str) -> dict[str, str]:
    return {
        "FOLLOWUP_TELEGRAM_API_URL": emu.base_url,
        "FOLLOWUP_BOT_TOKEN": WRONG,
        "FOLLOWUP_DATABASE_URL": database_url,
        "FOLLOWUP_BOT_USERNAME": "",
    }


def _holds_part_of_the_token(output: str) -> bool:
    bot_id, secret = WRONG.split(":")
    return bot_id in output or any(secret[i : i + 6] in output for i in range(len(secret) - 5))


async def test_course_invite_with_a_rejected_token_says_so_without_the_token(sessions, database_url, now) -> None:
    async with sessions() as session, session.begin():
        await a_course(session, now, code="CSE-1", delivered_on=date(2026, 3, 12))
    async with Emulator(token=TOKEN, username=USERNAME) as emu:
        result = await asyncio.to_thread(
            CliRunner().invoke, main, ["course", "invite", "CSE-1"], env=_env(emu, database_url)
        )
    assert result.exit_code == 1
    assert result.output.strip() == REJECTED
    assert not _holds_part_of_the_token(result.output)


async def test_run_with_a_rejected_token_stops_with_one_line_and_no_traceback(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'followup.db'}"
    await asyncio.to_thread(upgrade, url)
    async with Emulator(token=TOKEN, username=USERNAME) as emu:
        env = {**os.environ, **_env(emu, url)}
        process = await asyncio.create_subprocess_exec(
            str(Path(sys.executable).parent / "followup"),
            "run",
            env=env,
            cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    output = (out + err).decode()
    assert process.returncode == 1
    assert output.strip() == REJECTED
    assert not _holds_part_of_the_token(output)
