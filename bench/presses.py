"""Answer presses without Telegram: Journey.press_answer over the conversation benchmark's data, 1 and 8 at a time.

A developer's probe of the database path alone (not part of `python -m bench`): the conversation
benchmark's 1,000 practitioners, each pressing the first choice of its next item, in rounds,
until ~3,400 presses are timed. Prints the process's CPU and the wall time per press (median of
--runs); CPU counts every thread, so work moved to a worker thread is not hidden.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

from bench.common import arguments, median, postgres_available, temp_database
from bench.conversation import FIRST_CHAT, ITEMS, bench_quiz, prepare, reset, start_item
from bot.journey import Journey
from surveys.settings import load_settings
from surveys.store.db import make_engine, make_sessionmaker
from surveys.store.transactions import Transactions

ROUNDS = 4  # presses per practitioner (some finish their check-in first)


async def presses(url: str, concurrency: int) -> tuple[float, float]:
    """(CPU ms, wall ms) per press with `concurrency` presses in flight, on a freshly reset check-in set."""
    quiz, now = bench_quiz(), datetime.now(UTC)
    ids = await prepare(url, quiz, now)
    await reset(url, quiz, ids, now)
    settings = load_settings({"FOLLOWUP_DATABASE_URL": url, "FOLLOWUP_BOT_TOKEN": "1:bench"}, env_file=None)
    engine = make_engine(url)
    transactions = Transactions(engine)
    journey = Journey(make_sessionmaker(engine), transactions, settings, lambda: now)
    position = {n: start_item(n) for n in range(len(ids))}
    gate = asyncio.Semaphore(concurrency)

    async def press(n: int) -> None:
        async with gate:
            reply = await journey.press_answer(FIRST_CHAT + n, ids[n], position[n], 0)
            assert reply.edit is not None, reply  # recorded, not a stale-button notice
            position[n] += 1

    try:
        for n in range(20):  # warm-up: statement caches, the quiz set parsed once
            await press(n)
        count, cpu, wall = 0, time.process_time(), time.perf_counter()
        for _ in range(ROUNDS):
            due = [n for n in range(20, len(ids)) if position[n] < ITEMS]
            await asyncio.gather(*(press(n) for n in due))
            count += len(due)
        return 1000 * (time.process_time() - cpu) / count, 1000 * (time.perf_counter() - wall) / count
    finally:
        await transactions.close()
        await engine.dispose()


def main(argv: list[str] | None = None) -> int:
    """Print CPU and wall ms per press for each backend, 1 and 8 at a time."""
    args = arguments(argv, __doc__ or "")
    backends = [b for b in args.backends if b != "postgresql" or postgres_available() is None]
    for backend in backends:
        for concurrency in (1, 8):
            runs = []
            for _ in range(args.runs):
                with temp_database(backend, "press") as url:
                    runs.append(asyncio.run(presses(url, concurrency)))
            print(
                f"{backend}, {concurrency} at a time: CPU {median([r[0] for r in runs]):.2f} ms/press, "
                f"wall {median([r[1] for r in runs]):.2f} ms/press (runs: "
                + " ".join(f"{c:.2f}/{w:.2f}" for c, w in runs)
                + ")",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
