"""`followup run` in both modes: webhook in-process, and long polling as a real subprocess."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import build_application
from bot.emulator import Emulator
from bot.ratelimit import ChatRateLimiter
from bot.webhook import webhook
from surveys.store.db import make_engine
from surveys.store.migrate import upgrade
from tests.support.botkit import TOKEN, USERNAME, World, tap


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@asynccontextmanager
async def _webhook_world(engine: AsyncEngine, database_url: str, secret: str | None = None):
    """Emulator, a course, and the app in webhook mode; yields (emulator, world, invite token, hook URL)."""
    async with Emulator(token=TOKEN, username=USERNAME, per_chat_rate=100, per_chat_burst=100) as emu:
        world = World(emu, engine, database_url)
        token = await world.course()
        app = build_application(
            world.settings,
            engine=engine,
            clock=world.clock,
            rate_limiter=ChatRateLimiter(chat_burst=100, chat_period=1.0),
        )
        port = _free_port()
        url = f"http://127.0.0.1:{port}/telegram/hook"
        async with webhook(app, webhook_url=url, port=port, secret=secret):
            yield emu, world, token, url


async def test_webhook_mode_receives_updates_with_the_secret_header(engine: AsyncEngine, database_url: str) -> None:
    async with _webhook_world(engine, database_url, secret="s3cret-Value_1") as (emu, world, token, url):
        assert emu.webhook is not None and emu.webhook.secret_token == "s3cret-Value_1"
        alice = emu.user(1001, "Alice")
        q1 = await world.join(alice, token)
        await tap(alice, q1, "16", "2/4")
        async with aiohttp.ClientSession() as http, http.post(url, json={"update_id": 1}) as response:
            assert response.status == 403
    assert emu.webhook is None  # deleted on the way out
    assert [a.item_id for a in await world.answers()] == ["aoc"]


@pytest.fixture
def sqlite_file(tmp_path: Path) -> str:
    """A migrated SQLite file the subprocess and the test share (migrations run outside the loop)."""
    url = f"sqlite:///{tmp_path / 'run.db'}"
    upgrade(url)
    return url


async def test_followup_run_carries_a_practitioner_to_a_completed_check_in(sqlite_file: str, tmp_path: Path) -> None:
    url = sqlite_file
    engine = make_engine(url)
    try:
        async with Emulator(token=TOKEN, username=USERNAME) as emu:
            world = World(emu, engine, url)
            token = await world.course()
            env = {
                **os.environ,
                "FOLLOWUP_BOT_TOKEN": TOKEN,
                "FOLLOWUP_TELEGRAM_API_URL": emu.base_url,
                "FOLLOWUP_DATABASE_URL": url,
                "FOLLOWUP_LOG_LEVEL": "DEBUG",
            }
            process = await asyncio.create_subprocess_exec(
                str(Path(sys.executable).parent / "followup"),
                "run",
                env=env,
                cwd=tmp_path,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            try:
                alice = emu.user(1001, "Alice")
                await alice.command("start", token)
                consent = await alice.wait_for("Do you agree", timeout=20)
                await alice.press_button(consent, "Agree")
                q = await alice.wait_for_edit(consent, "1/4", timeout=10)
                for label, expect in (("16", "2/4"), ("False", "3/4"), ("Disagree", "4/4"), ("Agree", "check-in done")):
                    await alice.press_button(q, label)
                    q = await alice.wait_for_edit(q, expect, timeout=10)
            finally:
                process.send_signal(signal.SIGTERM)
                out, err = await asyncio.wait_for(process.communicate(), 20)
        assert process.returncode == 0, err.decode()
        assert b"Stopped." in out
        assert TOKEN.split(":")[1].encode() not in err and b"getUpdates" in err
    finally:
        await engine.dispose()


async def test_webhook_mode_without_a_secret_still_refuses_forged_posts(engine: AsyncEngine, database_url: str) -> None:
    async with _webhook_world(engine, database_url) as (emu, world, token, url):
        generated = emu.webhook.secret_token
        assert generated and len(generated) >= 32
        alice = emu.user(1002, "Alice")
        await world.join(alice, token)  # real pushes carry the generated secret and work
        forged = {
            "update_id": 99,
            "message": {
                "message_id": 1,
                "date": 0,
                "text": "/export CSE-1",
                "chat": {"id": 6, "type": "private"},
                "from": {"id": 6, "is_bot": False, "first_name": "Eve"},
            },
        }
        async with aiohttp.ClientSession() as http, http.post(url, json=forged) as response:
            assert response.status == 403
