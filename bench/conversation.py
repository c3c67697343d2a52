"""Conversation benchmark: practitioners answering a 12-item check-in, against the framework's floor.

One process hosts the emulator (limits lifted) and the simulated practitioners; the bot under
test runs in a child process, so each has a core of its own on a two-core machine. Timing
uses the emulator's in-process hooks, all on this process's perf_counter:
  t0 — the press is in the emulator's getUpdates queue (`SimUser.press` returned);
  t1 — the bot's next message (the next item, or the summary) is stored in the chat, i.e.
       the emulator has parsed the sendMessage, before it answers it.
       Both bots edit the pressed question into the next (one chat request an answer), so t1 is
       that edit.
So latency covers the long poll's wake-up, answerCallbackQuery, the database transaction and
the edit or send that shows the next question — all a practitioner waits for. Requests per
answer are counted too: Telegram's ~30 a second are spent on requests that name a chat.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import deque
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, select, text, update

from bench.common import arguments, median, postgres_available, temp_database, write_results
from bot.emulator import ChatMessage, Emulator, SimUser
from bot.keyboards import markup as keyboard_markup
from bot.keyboards import text_and_rows
from bot.replies import Question
from surveys.domain import waves
from surveys.domain.engine import Conversation, Prompt, choices_of
from surveys.domain.quiz_text import RenderContext
from surveys.domain.quizset import QuizSet, bundled_quiz_set, load_quiz_set
from surveys.domain.states import CheckInState
from surveys.store.catalog import import_quiz_set
from surveys.store.courses import create_course
from surveys.store.db import make_engine, make_sessionmaker
from surveys.store.models import Answer, CheckIn, Contact, Enrolment, QuizSetVersion

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "7000000001:BENCHxConversationToken_0123456789ab"
USERNAME = "followup_bench_bot"
WAVE = "3m"
ITEMS = 12
PRACTITIONERS = 1000
FIRST_CHAT = 7_000_000
STEADY_RATE = 20.0
GOALS = {"ratio": 3.0, "p99_ms": 100.0}
# Bot API methods that do not name a chat: Telegram's ~30 a second are not spent on these.
NOT_CHAT = frozenset({"getUpdates", "answerCallbackQuery", "getMe", "setMyCommands", "deleteWebhook", "getWebhookInfo"})
COURSE_TITLE = "CSE awareness level 2"
DONE = "check-in done"  # in the summary, the last answer's reply


# --- the quiz ------------------------------------------------------------------------------
def bench_quiz() -> QuizSet:
    """The first 12 items cse-core asks at 3 months: 9 Likert attitudes, 3 age-of-consent quiz items."""
    path = bundled_quiz_set("cse-core")
    assert path is not None
    definition = load_quiz_set(path).to_definition()
    definition["items"] = [i for i in definition["items"] if WAVE in i["waves"]][:ITEMS]
    # Only the waves those items are asked at (cse-core's 1m reminder is not among them).
    kept = [w for w in definition["waves"] if any(w in i["waves"] for i in definition["items"])]
    title = "Benchmark check-in"
    # A bilingual set (cse-core is) takes its title in every language it declares.
    languages = definition.get("languages")
    definition.update(slug="bench-12", title={lang: title for lang in languages} if languages else title, waves=kept)
    return QuizSet.from_definition(definition)


def prompts(quiz: QuizSet) -> list[Prompt]:
    """The prompt at each position, as the bot renders it for this course."""
    context = RenderContext(COURSE_TITLE, WAVE, waves.months(WAVE))
    items = quiz.items_for(WAVE)
    out = []
    for k in range(len(items)):
        answers = {item.id: choices_of(item)[0].value for item in items[:k]}
        prompt = Conversation(quiz, WAVE, context, answers).next_prompt()
        assert prompt is not None
        out.append(prompt)
    return out


# --- the database (ours only) --------------------------------------------------------------
def start_item(index: int) -> int:
    """Practitioners start spread over the check-in (some at item 1, some at item 12), so every
    window mixes all items, completions (summary + next-due query) included."""
    return index % ITEMS


async def prepare(url: str, quiz: QuizSet, now: datetime) -> list[int]:
    """1,000 enrolled practitioners, each with an in-progress 3-month check-in (bulk inserts); their ids."""
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            await import_quiz_set(session, quiz, now)
            course = await create_course(
                session,
                code="BENCH-1",
                title=COURSE_TITLE,
                level=2,
                quiz_ref=quiz.slug,
                delivered_on=(now - timedelta(days=92)).date(),
                now=now,
                waves=("post", "3m", "6m"),
            )
            enrolments = (
                await session.scalars(
                    insert(Enrolment).returning(Enrolment.id),
                    [
                        {"pseudonym": f"bench{i:06d}", "course_id": course.id, "consented_at": now - timedelta(days=92)}
                        for i in range(PRACTITIONERS)
                    ],
                )
            ).all()
            await session.execute(
                insert(Contact),
                [{"enrolment_id": e, "chat_id": FIRST_CHAT + i, "created_at": now} for i, e in enumerate(enrolments)],
            )
            ids = (
                await session.scalars(
                    insert(CheckIn).returning(CheckIn.id),
                    [
                        {
                            "enrolment_id": e,
                            "wave": WAVE,
                            "state": CheckInState.IN_PROGRESS,
                            "due_at": now - timedelta(hours=1),
                            "closes_at": now + timedelta(days=21),
                            "sent_at": now - timedelta(hours=1),
                            "started_at": now - timedelta(minutes=5),
                            "reminders_sent": 0,
                            "attempts": 0,
                        }
                        for e in enrolments
                    ],
                )
            ).all()
            # RETURNING order follows the VALUES order on both backends for a single INSERT.
            return list(ids)
    finally:
        await engine.dispose()


async def reset(url: str, quiz: QuizSet, check_ins: list[int], now: datetime) -> None:
    """Every check-in back to in progress at its start item (earlier items answered)."""
    items = quiz.items_for(WAVE)
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            quiz_set_id = await session.scalar(select(QuizSetVersion.id).where(QuizSetVersion.slug == quiz.slug))
            await session.execute(delete(Answer))
            await session.execute(update(CheckIn).values(state=CheckInState.IN_PROGRESS, completed_at=None))
            rows = [
                {
                    "check_in_id": cid,
                    "item_id": item.id,
                    "quiz_set_id": quiz_set_id,
                    "value": choices_of(item)[0].value,
                    "score": None,
                    "answered_at": now,
                }
                for n, cid in enumerate(check_ins)
                for item in items[: start_item(n)]
            ]
            if rows:
                await session.execute(insert(Answer), rows)
        if engine.dialect.name == "postgresql":
            # A bulk-loaded database has no planner statistics (this server runs without
            # autovacuum); a deployment's autovacuum keeps them. Without them the next-due
            # query scans every enrolment and dominates the tail.
            async with engine.connect() as conn:
                await conn.execute(text("ANALYZE"))
    finally:
        await engine.dispose()


# --- the emulator side ----------------------------------------------------------------------
class Hub:
    """Hooks on one emulator: who waits for a reply in which chat, which updates the bot has taken."""

    def __init__(self, emu: Emulator) -> None:
        self.emu = emu
        self.waiting: dict[int, asyncio.Future[tuple[float, ChatMessage]]] = {}
        self.pressed: dict[int, ChatMessage] = {}  # chat → the message its waiter's press was on
        self.delivered = 0  # highest update_id handed to the bot by getUpdates
        state, bot_user = emu.state, emu.state.bot_user
        add_message = state.add_message

        def hooked(chat: Any, sender: dict[str, Any], **fields: Any) -> ChatMessage:
            msg = add_message(chat, sender, **fields)
            if sender is bot_user:
                waiter = self.waiting.pop(chat.id, None)
                if waiter is not None and not waiter.done():
                    waiter.set_result((time.perf_counter(), msg))
            return msg

        state.add_message = hooked  # type: ignore[method-assign]
        get_updates = emu.api.handler("getUpdates")
        assert get_updates is not None

        async def tracked(params: Any) -> Any:
            result = await get_updates(params)
            if result:
                self.delivered = max(self.delivered, result[-1]["update_id"])
            return result

        emu.api._handlers["getupdates"] = tracked
        edit = emu.api.handler("editMessageText")
        assert edit is not None

        async def edited(params: Any) -> Any:
            result = await edit(params)
            chat_id = result["chat"]["id"]
            msg = self.pressed.get(chat_id)
            # The next question in place (buttons), or the summary; an answer merely shown is not it.
            if msg is not None and msg.message_id == result["message_id"] and (msg.buttons or DONE in msg.content):
                waiter = self.waiting.pop(chat_id, None)
                if waiter is not None and not waiter.done():
                    waiter.set_result((time.perf_counter(), msg))
            return result

        emu.api._handlers["editmessagetext"] = edited

    def seed(self, user: SimUser, text: str, markup: dict[str, Any]) -> ChatMessage:
        """Put a question from the bot in the chat, as if it had been sent (no waiter fires)."""
        user.chat.started = True
        return self.emu.state.add_message(user.chat, self.emu.state.bot_user, text=text, reply_markup=markup)

    async def answer(self, user: SimUser, message: ChatMessage, data: str) -> tuple[float, ChatMessage]:
        """Press `data` on `message` and wait for the bot's next message: (latency in s, that message)."""
        waiter = asyncio.get_running_loop().create_future()
        self.waiting[user.id] = waiter
        self.pressed[user.id] = message
        await user.press(message, data)
        t0 = time.perf_counter()  # press() queued the update synchronously: the bot cannot have it yet
        t1, reply = await waiter
        return t1 - t0, reply

    def forget(self) -> None:
        """After the bot is killed: no queued updates, nobody waiting."""
        self.emu.state.updates.clear()
        for waiter in self.waiting.values():
            waiter.cancel()
        self.waiting.clear()
        self.pressed.clear()

    def requests(self) -> dict[str, int]:
        """Requests so far: those that name a chat, and answerCallbackQuery (which does not)."""
        counts = self.emu.stats.requests_by_method
        chat = sum(n for method, n in counts.items() if method not in NOT_CHAT)
        return {"chat": chat, "answerCallbackQuery": counts["answerCallbackQuery"]}


def cpu_seconds(pid: int) -> float:
    """User + system CPU a process has used (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Target:
    """A bot under test in a child process, and how its practitioners' questions look."""

    def __init__(self, name: str, command: list[str], log: Path) -> None:
        self.name, self.command, self.log = name, command, log
        self.process: subprocess.Popen[bytes] | None = None

    async def start(self, emu: Emulator) -> None:
        before = emu.stats.requests_by_method["getUpdates"]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                self.command,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
            )
        deadline = time.monotonic() + 60
        while emu.stats.requests_by_method["getUpdates"] <= before:  # polling: the bot is ready
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not start; see {self.log}")
            await asyncio.sleep(0.05)

    async def restart(self, emu: Emulator, hub: Hub) -> None:
        """Kill and start again: PTB fetches every queued update at once, so after a saturation
        run ~1,000 answers are still in the bot; draining them would take longer than a start."""
        assert self.process is not None
        self.process.kill()
        self.process.wait()
        # Let the emulator read what the dead process had already sent (a last getUpdates
        # would otherwise pass for the new process being ready).
        await asyncio.sleep(0.3)
        hub.forget()
        await self.start(emu)

    async def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            for _ in range(200):
                if self.process.poll() is not None:
                    break
                await asyncio.sleep(0.05)
            else:
                self.process.kill()
        self.process = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid


# --- the two loads ------------------------------------------------------------------------
async def saturate(
    hub: Hub, starts: list[tuple[SimUser, ChatMessage]], warmup: float, window: float, target: Target, seed: int
) -> dict[str, Any]:
    """Everyone answers item after item as fast as replies come; answers/s within the window."""
    rng = random.Random(seed)
    done: list[float] = []
    stopping = False

    async def practitioner(user: SimUser, message: ChatMessage) -> None:
        while not stopping and message.buttons:
            try:
                _, message = await hub.answer(user, message, rng.choice(message.buttons)[1] or "")
            except asyncio.CancelledError:
                return
            done.append(time.perf_counter())

    began = time.perf_counter()
    tasks = [asyncio.create_task(practitioner(u, m)) for u, m in starts]
    for _ in range(600):  # the warm-up starts with the first reply (a fresh process imports lazily)
        if done:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(warmup)
    t0, cpu0, own0, requests0 = time.perf_counter(), cpu_seconds(target.pid), time.process_time(), hub.requests()
    await asyncio.sleep(window)
    t1, cpu1, own1, requests1 = time.perf_counter(), cpu_seconds(target.pid), time.process_time(), hub.requests()
    stopping = True
    await target.restart(hub.emu, hub)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    answers = sum(1 for t in done if t0 <= t < t1)
    return {
        "answers": answers,
        "seconds": t1 - t0,
        "per_second": answers / (t1 - t0),
        "bot_cpu_ms_per_answer": 1000 * (cpu1 - cpu0) / max(answers, 1),
        "bot_cpu_share": (cpu1 - cpu0) / (t1 - t0),
        "driver_cpu_share": (own1 - own0) / (t1 - t0),
        "warmup_answers": sum(1 for t in done if t < t0),
        "chat_requests_per_answer": (requests1["chat"] - requests0["chat"]) / max(answers, 1),
        "callback_answers_per_answer": (requests1["answerCallbackQuery"] - requests0["answerCallbackQuery"])
        / max(answers, 1),
        "ran_s": time.perf_counter() - began,
    }


async def steady(
    hub: Hub, starts: list[tuple[SimUser, ChatMessage]], rate: float, duration: float, pid: int, seed: int
) -> dict[str, Any]:
    """Open loop: presses arrive at `rate` a second (Poisson), whatever the replies do; latencies."""
    rng = random.Random(seed)
    idle = deque(starts)
    latencies: list[float] = []
    tasks: set[asyncio.Task[None]] = set()

    async def one(user: SimUser, message: ChatMessage) -> None:
        latency, reply = await hub.answer(user, message, rng.choice(message.buttons)[1] or "")
        latencies.append(latency)
        if reply.buttons:
            idle.append((user, reply))

    began = time.perf_counter()
    cpu0 = cpu_seconds(pid)
    at = began
    while True:
        at += rng.expovariate(rate)
        if at >= began + duration:
            break
        await asyncio.sleep(max(0.0, at - time.perf_counter()))
        user, message = idle.popleft()
        task = asyncio.create_task(one(user, message))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    if tasks:
        await asyncio.wait(tasks, timeout=30)
    elapsed = time.perf_counter() - began
    cpu = cpu_seconds(pid) - cpu0
    ordered = sorted(latencies)

    def pct(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")

    return {
        "answers": len(latencies),
        "offered_per_second": len(latencies) / duration,
        "p50_ms": 1000 * pct(0.50),
        "p90_ms": 1000 * pct(0.90),
        "p99_ms": 1000 * pct(0.99),
        "max_ms": 1000 * (ordered[-1] if ordered else 0),
        "bot_cpu_share": cpu / elapsed,
        "unanswered": len(tasks),
    }


# --- the runs --------------------------------------------------------------------------------
class Ours:
    """followup itself: database rows per practitioner, its real questions and callback data."""

    def __init__(self, backend: str, url: str, quiz: QuizSet, tmp: Path) -> None:
        self.backend, self.url, self.quiz = backend, url, quiz
        self.name = f"followup ({backend})"
        self.prompts = prompts(quiz)
        self.now = datetime.now(UTC)
        self.check_ins: list[int] = []
        command = [sys.executable, "-c", "import sys; from bench.conversation import serve; serve(sys.argv[1:])"]
        self.target = Target(self.name, command, tmp / f"ours-{backend}.log")

    async def setup(self, emu: Emulator) -> None:
        self.check_ins = await prepare(self.url, self.quiz, self.now)
        self.target.command += [emu.base_url, self.url]
        await self.target.start(emu)

    async def round(self, hub: Hub, run: int) -> list[tuple[SimUser, ChatMessage]]:
        await reset(self.url, self.quiz, self.check_ins, self.now)
        starts = []
        for n, check_in in enumerate(self.check_ins):
            user = hub.emu.user(FIRST_CHAT + n)
            text, rows = text_and_rows(Question(check_in, self.prompts[start_item(n)]))
            markup = keyboard_markup(rows)
            starts.append((user, hub.seed(user, text, markup.to_dict() if markup else {})))
        return starts


class Floor:
    """The bare PTB bot: no database; questions carry `run:item:choice`."""

    def __init__(self, quiz: QuizSet, tmp: Path) -> None:
        self.name = "bare PTB (floor)"
        self.prompts = prompts(quiz)
        quiz_file = tmp / "quiz.json"
        quiz_file.write_text(
            json.dumps({"items": [{"text": p.text, "labels": [c.label for c in p.choices]} for p in self.prompts]}),
            encoding="utf-8",
        )
        self.quiz_file = quiz_file
        self.target = Target(self.name, [], tmp / "floor.log")

    async def setup(self, emu: Emulator) -> None:
        self.target.command = [sys.executable, "-m", "bench.bare_bot", emu.base_url, TOKEN, str(self.quiz_file)]
        await self.target.start(emu)

    async def round(self, hub: Hub, run: int) -> list[tuple[SimUser, ChatMessage]]:
        starts = []
        for n in range(PRACTITIONERS):
            user = hub.emu.user(FIRST_CHAT + n)
            k = start_item(n)
            prompt = self.prompts[k]
            rows = [[{"text": c.label, "callback_data": f"r{run}:{k}:{i}"}] for i, c in enumerate(prompt.choices)]
            starts.append((user, hub.seed(user, f"{k + 1}/{ITEMS} · {prompt.text}", {"inline_keyboard": rows})))
        return starts


async def settle(hub: Hub) -> None:
    """Wait until the bot has nothing queued (a reset must not race its last answers)."""
    for _ in range(100):
        if not hub.waiting and not hub.emu.state.updates:
            break
        await asyncio.sleep(0.05)
    hub.waiting.clear()
    await asyncio.sleep(0.2)


async def bench(
    subjects: list[Any], runs: int, warmup: float, window: float, steady_runs: int, steady_seconds: float
) -> dict[str, Any]:
    """Every subject against one emulator, one after the other (never two bots at once)."""
    results: dict[str, Any] = {}
    async with Emulator(token=TOKEN, username=USERNAME, limits=False) as emu:
        hub = Hub(emu)
        run = 0
        for subject in subjects:
            await subject.setup(emu)
            try:
                rows: dict[str, list[dict[str, Any]]] = {"saturation": [], "steady": []}
                for _ in range(runs):
                    run += 1
                    starts = await subject.round(hub, run)
                    rows["saturation"].append(await saturate(hub, starts, warmup, window, subject.target, run))
                    await settle(hub)
                    r = rows["saturation"][-1]
                    print(
                        f"  {subject.name}: {r['per_second']:.0f} answers/s (bot CPU {r['bot_cpu_share']:.0%}, "
                        f"{r['bot_cpu_ms_per_answer']:.2f} ms/answer; driver CPU {r['driver_cpu_share']:.0%}; "
                        f"{r['chat_requests_per_answer']:.2f} chat requests + "
                        f"{r['callback_answers_per_answer']:.2f} answerCallbackQuery per answer)",
                        flush=True,
                    )
                if isinstance(subject, Ours):
                    for _ in range(steady_runs):
                        run += 1
                        starts = await subject.round(hub, run)
                        rows["steady"].append(
                            await steady(hub, starts, STEADY_RATE, steady_seconds, subject.target.pid, run)
                        )
                        await settle(hub)
                        r = rows["steady"][-1]
                        print(
                            f"  {subject.name} at {STEADY_RATE:.0f}/s: p50 {r['p50_ms']:.1f} ms, "
                            f"p99 {r['p99_ms']:.1f} ms ({r['answers']} answers)",
                            flush=True,
                        )
            finally:
                await subject.target.stop()
            results[subject.name] = rows
    return results


def serve(argv: list[str]) -> None:
    """Child process: followup as `followup run` builds it, with its own rate limiter lifted like the emulator's."""
    from bot.app import build_application, polling
    from bot.logging import setup_logging
    from bot.ratelimit import ChatRateLimiter
    from surveys.settings import load_settings

    base_url, database_url = argv
    settings = load_settings(
        {
            "FOLLOWUP_BOT_TOKEN": TOKEN,
            "FOLLOWUP_TELEGRAM_API_URL": base_url,
            "FOLLOWUP_DATABASE_URL": database_url,
            "FOLLOWUP_BOT_USERNAME": USERNAME,
        },
        env_file=None,
    )
    setup_logging(settings)
    lifted = ChatRateLimiter(overall_rate=1e9, chat_burst=1e9, chat_period=1.0)
    application = build_application(settings, rate_limiter=lifted)

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        async with polling(application):
            await stop.wait()

    asyncio.run(run())


def main(argv: list[str] | None = None) -> int:
    """Run, print medians (the ratio last) and write bench/results/conversation.json."""
    args = arguments(argv, __doc__ or "", quick_runs=2)  # --quick: under a minute for all three bots
    runs = args.runs
    warmup, window = (1.0, 2.0) if args.quick else (2.0, 5.0)
    steady_runs, steady_seconds = (1, 6.0) if args.quick else (runs, 20.0)
    backends = [b for b in args.backends if b != "postgresql" or postgres_available() is None]
    quiz = bench_quiz()
    urls: dict[str, str] = {}
    contexts = [temp_database(b, "conv") for b in backends]
    with tempfile.TemporaryDirectory(prefix="followup-bench-conv-") as tmp_name:
        tmp = Path(tmp_name)
        try:
            for backend, context in zip(backends, contexts, strict=False):
                urls[backend] = context.__enter__()
            floor = Floor(quiz, tmp)
            subjects: list[Any] = [floor, *(Ours(b, u, quiz, tmp) for b, u in urls.items())]
            results = asyncio.run(bench(subjects, runs, warmup, window, steady_runs, steady_seconds))
        finally:
            for context in reversed(contexts[: len(urls)]):
                context.__exit__(None, None, None)
        errors = {p.name: p.read_text(errors="replace").count("Traceback") for p in tmp.glob("*.log")}

    floor_rate = median([r["per_second"] for r in results[floor.name]["saturation"]])
    floor_requests = median([r["chat_requests_per_answer"] for r in results[floor.name]["saturation"]])
    print(
        f"{floor.name}: median {floor_rate:.0f} answers/s at saturation ({PRACTITIONERS} practitioners), "
        f"{floor_requests:.2f} chat requests per answer"
    )
    summary: dict[str, Any] = {
        "floor_per_second": floor_rate,
        "floor_requests_per_answer": floor_requests,
        "backends": {},
    }
    for backend in urls:
        rows = results[f"followup ({backend})"]
        rate = median([r["per_second"] for r in rows["saturation"]])
        p50 = median([r["p50_ms"] for r in rows["steady"]])
        p99 = median([r["p99_ms"] for r in rows["steady"]])
        requests = median([r["chat_requests_per_answer"] for r in rows["saturation"]])
        summary["backends"][backend] = {
            "per_second": rate,
            "ratio": rate / floor_rate,
            "p50_ms": p50,
            "p99_ms": p99,
            "requests_per_answer": requests,
        }
        print(
            f"followup ({backend}): median {rate:.0f} answers/s = {rate / floor_rate:.1f}× the floor; "
            f"at {STEADY_RATE:.0f}/s p50 {p50:.1f} ms, p99 {p99:.1f} ms (goal ≤ {GOALS['p99_ms']:.0f}); "
            f"{requests:.2f} chat requests per answer (Telegram's ~30/s serve {30 / max(requests, 0.01):.0f} answers/s)"
        )
    path = write_results(
        "conversation",
        {
            "quick": args.quick,
            "runs": runs,
            "goals": GOALS,
            "practitioners": PRACTITIONERS,
            "items": ITEMS,
            "warmup_s": warmup,
            "window_s": window,
            "steady": {"rate": STEADY_RATE, "seconds": steady_seconds, "runs": steady_runs},
            "summary": summary,
            "tracebacks_in_bot_logs": errors,
            "results": results,
        },
    )
    print(f"results: {path}")
    first = next(iter(summary["backends"]), None)
    ratio = summary["backends"][first]["ratio"] if first else 0.0
    print(
        f"conversation ratio (ours/floor answers/s, {'SQLite' if first == 'sqlite' else first}): "
        f"{ratio:.1f} (goal ≥ {GOALS['ratio']:.0f})"
    )
    # Like the other benchmarks: a missed goal is a figure to read, not a crash; exit 1 only when
    # nothing could be measured (and tracebacks in the bot's log are in the JSON).
    return 0 if first else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
