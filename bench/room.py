"""Room benchmark: the whole room joins through the room link at once and answers at a reader's pace.

The course day's peak: N people (default 150) scan the room link together, agree, give their
role and agency, and take the pre check-in, each tap 3–8 s after the question appeared (seeded).
The bot is `followup run` itself in a child process (long polling, its own pacing on); the
emulator, in this process, enforces Telegram's limits (30 requests naming a chat in any second,
~1 a second per chat) and answers 429 when they are exceeded. Timing uses the emulator's
watcher, on this process's perf_counter:
  t0 — the press is in the emulator's getUpdates queue;
  t1 — the next question (or the check-in's summary) reads in the chat, sent or edited in.
Whatever the journey sends per answer is counted, not assumed: the chat requests per answer are
printed with the figures.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bench.common import arguments, postgres_available, temp_database, write_results
from bot.emulator import Chat, ChatMessage, Emulator, SimUser
from surveys.domain import waves
from surveys.domain.quizset import bundled_quiz_set, load_quiz_set
from surveys.store.catalog import import_quiz_set
from surveys.store.courses import create_course
from surveys.store.db import make_engine, make_sessionmaker
from surveys.store.invites import issue_invite

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "7000000002:BENCHxRoomToken_0123456789abcdefghij"
USERNAME = "followup_room_bot"
PEOPLE = 150
FIRST_CHAT = 8_000_000
READING = (3.0, 8.0)  # seconds from a question appearing to the tap
ZONE = "Europe/London"
DONE = "check-in done"  # the summary's words (bot/templates/summary.txt)
QUESTION = re.compile(r"\b\d+/\d+ · ")  # a check-in item: "3/15 · ..." (bot/templates/question.txt)
NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
GOALS = {"p95_s": 1.0, "too_many_requests": 0}


# --- the course -------------------------------------------------------------------------------
async def room_link(url: str) -> tuple[str, int]:
    """A course delivered today on the bundled quiz set and its room link (no role or agency on it);
    the token and how many items the pre check-in asks."""
    path = bundled_quiz_set("cse-core")
    assert path is not None
    quiz = load_quiz_set(path)
    now = datetime.now(UTC)
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            await import_quiz_set(session, quiz, now)
            course = await create_course(
                session,
                code=f"ROOM-{int(time.time())}",
                title="CSE awareness level 2",
                level=2,
                quiz_ref=quiz.slug,
                delivered_on=now.astimezone(ZoneInfo(ZONE)).date(),
                now=now,
                zone=ZONE,
                waves=waves.DEFAULT_WAVES,
            )
            token = (await issue_invite(session, course, now)).token
    finally:
        await engine.dispose()
    return token, len(quiz.items_for(waves.PRE))


# --- the bot ------------------------------------------------------------------------------------
class Bot:
    """`followup run` in a child process, pointed at the emulator and the database."""

    def __init__(self, emu: Emulator, database_url: str, log: Path) -> None:
        self.emu, self.log = emu, log
        self.env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "FOLLOWUP_BOT_TOKEN": TOKEN,
            "FOLLOWUP_BOT_USERNAME": USERNAME,
            "FOLLOWUP_TELEGRAM_API_URL": emu.base_url,
            "FOLLOWUP_DATABASE_URL": database_url,
        }
        self.process: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        before = self.emu.stats.requests_by_method["getUpdates"]
        with self.log.open("ab") as log:
            # cwd: a folder of its own, so no .env of the checkout's is read.
            self.process = subprocess.Popen(
                [sys.executable, "-c", "from bot.cli import main; main()", "run"],
                cwd=self.log.parent,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 90
        while self.emu.stats.requests_by_method["getUpdates"] <= before:  # polling: the bot is ready
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"followup run did not start; see {self.log}")
            await asyncio.sleep(0.05)

    async def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        for _ in range(200):
            if self.process.poll() is not None:
                return
            await asyncio.sleep(0.05)
        self.process.kill()


# --- the people ---------------------------------------------------------------------------------
@dataclass
class Figures:
    """What one room run measured."""

    answers: list[float] = field(default_factory=list)  # check-in taps: seconds to the next question
    tapped: list[float] = field(default_factory=list)  # when each of those taps was made (perf_counter)
    joined: list[float] = field(default_factory=list)  # when each person's first question appeared
    joining: list[float] = field(default_factory=list)  # /start, Agree, role, agency: seconds to the next step
    answer_requests: int = 0  # bot messages sent or edited in while answering
    unfinished: int = 0


class Room:
    """The emulator's watcher: who waits for their next step, and what counts as one."""

    def __init__(self, emu: Emulator) -> None:
        self.emu = emu
        self.waiting: dict[int, tuple[asyncio.Future[tuple[float, ChatMessage]], list[Any]]] = {}
        self.shown: dict[int, int] = {}  # bot messages sent or edited, per chat
        emu.state.watchers.append(self._shown)

    def _shown(self, chat: Chat, msg: ChatMessage) -> None:
        self.shown[chat.id] = self.shown.get(chat.id, 0) + 1
        entry = self.waiting.get(chat.id)
        if entry is None:
            return
        waiter, pressed = entry
        # The next step has buttons of its own (edited into the pressed message or sent anew), or is the summary.
        if (msg.buttons and msg.buttons != pressed) or DONE in msg.content:
            del self.waiting[chat.id]
            if not waiter.done():
                waiter.set_result((time.perf_counter(), msg))

    async def step(
        self, user: SimUser, pressed: ChatMessage | None, data: str | None, token: str
    ) -> tuple[float, ChatMessage]:
        """Tap `data` on `pressed` (or send /start with the room link); seconds to the next step, and it."""
        waiter: asyncio.Future[tuple[float, ChatMessage]] = asyncio.get_running_loop().create_future()
        self.waiting[user.id] = (waiter, list(pressed.buttons) if pressed else [])
        if pressed is None:
            await user.command("start", token)
        else:
            await user.press(pressed, data)
        t0 = time.perf_counter()  # the update is queued: the bot cannot have answered yet
        t1, shown = await asyncio.wait_for(waiter, timeout=120)
        return t1 - t0, shown


def choose(message: ChatMessage, rng: random.Random) -> str | None:
    """Agree to take part; otherwise any of the buttons, as a reader would."""
    buttons = message.buttons
    agree = [data for label, data in buttons if label == "Agree"]
    return agree[0] if agree else rng.choice(buttons)[1]


async def person(room: Room, user: SimUser, token: str, items: int, rng: random.Random, figures: Figures) -> None:
    """Join through the room link, then answer `items` questions of the pre check-in at a reader's pace."""
    seconds, message = await room.step(user, None, None, token)
    figures.joining.append(seconds)
    answered = 0
    while answered < items and message.buttons:
        await asyncio.sleep(rng.uniform(*READING))
        asking = QUESTION.search(message.content) is not None
        before = room.shown.get(user.id, 0)
        seconds, message = await room.step(user, message, choose(message, rng), token)
        if not asking and QUESTION.search(message.content):
            figures.joined.append(time.perf_counter())  # the first question is in
        if asking:
            figures.answers.append(seconds)
            figures.tapped.append(time.perf_counter() - seconds)
            figures.answer_requests += room.shown.get(user.id, 0) - before
            answered += 1
        else:
            figures.joining.append(seconds)
    if answered < items and DONE not in message.content:
        figures.unfinished += 1


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def one_room(backend: str, url: str, people: int, items: int, seed: int, tmp: Path) -> dict[str, Any]:
    """One room on one database: a fresh emulator (limits on) and a fresh `followup run`."""
    token, pre_items = await room_link(url)
    items = min(items, pre_items)
    figures = Figures()
    async with Emulator(token=TOKEN, username=USERNAME) as emu:
        room = Room(emu)
        bot = Bot(emu, url, tmp / f"bot-{backend}.log")
        await bot.start()
        try:
            emu.flood.reset()
            emu.stats.reset()
            rng = random.Random(seed)
            users = [emu.user(FIRST_CHAT + n, f"Person{n}") for n in range(people)]
            began = time.perf_counter()
            await asyncio.gather(*(person(room, u, token, items, random.Random(rng.random()), figures) for u in users))
            elapsed = time.perf_counter() - began
        finally:
            await bot.stop()
        chat_figures = emu.chat_request_figures()
        too_many = emu.stats.too_many_requests
    answers = figures.answers
    # Once the last person has their first question, the room only answers: the steady state.
    all_in = max(figures.joined, default=began)
    settled = [s for s, t in zip(answers, figures.tapped, strict=True) if t > all_in]
    timeline = []
    for start in range(0, int(elapsed) + 1, 10):
        window = [s for s, t in zip(answers, figures.tapped, strict=True) if start <= t - began < start + 10]
        if window:
            timeline.append({"from_s": start, "answers": len(window), "p95_s": percentile(window, 0.95)})
    return {
        "people": people,
        "items": items,
        "seconds": elapsed,
        "answers": len(answers),
        "p50_s": percentile(answers, 0.50),
        "p95_s": percentile(answers, 0.95),
        "max_s": max(answers, default=float("nan")),
        "all_joined_s": all_in - began,
        "settled_answers": len(settled),
        "settled_p95_s": percentile(settled, 0.95),
        "timeline": timeline,
        "joining_p50_s": percentile(figures.joining, 0.50),
        "joining_p95_s": percentile(figures.joining, 0.95),
        "joining_max_s": max(figures.joining, default=float("nan")),
        "requests_per_answer": figures.answer_requests / max(len(answers), 1),
        "busiest_second": chat_figures["busiest_second"],
        "mean_second": chat_figures["mean_second"],
        "chat_requests": chat_figures["chat_requests"],
        "too_many_requests": too_many,
        "unfinished": figures.unfinished,
    }


def main(argv: list[str] | None = None) -> int:
    """Run one room per database, print its figures (the ratio last) and write bench/results/room.json."""
    args = arguments(argv, __doc__ or "", quick_runs=1)
    argv = argv or []
    # A room takes minutes of reading time, so one room per database unless --runs says more.
    runs = args.runs if "--runs" in argv else 1
    # --quick: the same 150 people, the same join and pace, but the first 5 questions only.
    items = 5 if args.quick else 99
    backends = [b for b in args.backends if b != "postgresql" or postgres_available() is None]
    results: dict[str, list[dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory(prefix="followup-bench-room-") as tmp_name:
        tmp = Path(tmp_name)
        for backend in backends:
            results[backend] = []
            for run in range(runs):
                with temp_database(backend, "room") as url:
                    r = asyncio.run(one_room(backend, url, PEOPLE, items, 1000 + run, tmp))
                results[backend].append(r)
                print(
                    f"  {backend}: {r['people']} people, {r['answers']} answers ({r['items']} each) "
                    f"in {r['seconds']:.0f} s; "
                    f"tap → next question p50 {r['p50_s']:.2f} s, p95 {r['p95_s']:.2f} s, max {r['max_s']:.2f} s; "
                    f"joining steps p50 {r['joining_p50_s']:.2f} s, p95 {r['joining_p95_s']:.2f} s, "
                    f"max {r['joining_max_s']:.2f} s; once all {r['people']} had their first question "
                    f"({r['all_joined_s']:.0f} s in), p95 {r['settled_p95_s']:.2f} s "
                    f"over {r['settled_answers']} answers",
                    flush=True,
                )
                print(
                    f"  {backend}: {r['requests_per_answer']:.2f} chat requests per answer; busiest second "
                    f"{r['busiest_second']} chat requests, average {r['mean_second']:.1f}; "
                    f"{r['too_many_requests']} 429s; {r['unfinished']} unfinished",
                    flush=True,
                )
        tracebacks = {p.name: p.read_text(errors="replace").count("Traceback") for p in tmp.glob("*.log")}
    path = write_results(
        "room",
        {"quick": args.quick, "runs": runs, "goals": GOALS, "tracebacks_in_bot_logs": tracebacks, "results": results},
    )
    print(f"results: {path}")
    if not results:
        return 1
    worst = {b: max(r["p95_s"] for r in rows) for b, rows in results.items()}
    too_many = sum(r["too_many_requests"] for rows in results.values() for r in rows)
    print(
        f"room ratio (p95 tap → next question / {GOALS['p95_s']:.0f} s, {PEOPLE} people): "
        + ", ".join(f"{NAMES.get(b, b)} {p95 / GOALS['p95_s']:.2f}" for b, p95 in worst.items())
        + f"; {too_many} 429s (goal ≤ 1.00, zero 429s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
