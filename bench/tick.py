"""Tick benchmark: one dispatcher pass over 1,000,000 stored check-ins against 1,000, 100 due in each."""

from __future__ import annotations

import asyncio
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event, text

from bench.common import (
    arguments,
    asyncpg_dsn,
    atimed,
    median,
    ms,
    postgres_available,
    sqlite_bulk,
    sqlite_path,
    sqlite_time,
    temp_database,
    without_indexes,
    write_results,
)
from scheduler.dispatch import Dispatcher
from surveys.clock import FrozenClock
from surveys.domain.states import CheckInState as State
from surveys.settings import load_settings
from surveys.store.db import make_engine, make_sessionmaker
from tests.support.recording_messenger import RecordingMessenger
from tests.support.schedule_builders import a_course

NOW = datetime(2026, 1, 15, 10, 0, tzinfo=UTC)
SIZES = (1_000, 1_000_000)
DUE = 100
WAVES = ("post", "3m", "6m", "12m")  # four check-ins per enrolment
GONE_EVERY = 1_000  # one enrolment in a thousand withdrawn, another blocked the bot
GOAL = 1.5
# `--without-0003`: drop migration 0003's indexes after loading, for the README's before/after.
INDEXES_0003 = ("ix_check_in_open_closes", "ix_enrolment_withdrawn", "ix_contact_unreachable")
SETTINGS = load_settings(env={}, env_file=None)

CHECK_IN_COLUMNS = (
    "id",
    "enrolment_id",
    "wave",
    "state",
    "due_at",
    "closes_at",
    "sent_at",
    "reminders_sent",
    "next_action_at",
    "attempts",
)


def _rows(size: int, seed: int) -> tuple[list[tuple], list[tuple], list[tuple], list[int]]:
    """Enrolments, contacts and check-ins (plain tuples, times aware) and the ids of the due ones.

    Half the due check-ins are invitations, half reminders; everything else is scheduled for later.
    """
    rng = random.Random(seed)
    people = size // len(WAVES)
    enrolments, contacts = [], []
    for e in range(1, people + 1):
        enrolments.append((e, f"p{e:014d}", NOW - timedelta(days=30), NOW if e % GONE_EVERY == 0 else None))
        contacts.append((e, e, 9_000_000_000 + e, NOW if e % GONE_EVERY == 1 else None, NOW - timedelta(days=30)))
    gone = {e for e in range(1, people + 1) if e % GONE_EVERY in (0, 1)}
    candidates = [i for i in range(1, size + 1) if (i - 1) // len(WAVES) + 1 not in gone]
    due = sorted(rng.sample(candidates, DUE))
    check_ins = []
    for i in range(1, size + 1):
        later = NOW + timedelta(days=1 + rng.random() * 360)
        check_ins.append(
            (
                i,
                (i - 1) // len(WAVES) + 1,
                WAVES[(i - 1) % len(WAVES)],
                State.SCHEDULED,
                later,
                later + timedelta(days=21),
                None,
                0,
                None,
                0,
            )
        )
    for n, i in enumerate(due):
        check_ins[i - 1] = _due_row(check_ins[i - 1], reminder=n % 2 == 1)
    return enrolments, contacts, check_ins, due


def _due_row(row: tuple, *, reminder: bool) -> tuple:
    i, enrolment, wave = row[:3]
    if reminder:
        sent = NOW - timedelta(days=3)
        return (i, enrolment, wave, State.SENT, sent, sent + timedelta(days=21), sent, 0, NOW - timedelta(hours=1), 0)
    due = NOW - timedelta(hours=1)
    return (i, enrolment, wave, State.SCHEDULED, due, due + timedelta(days=21), None, 0, None, 0)


async def _course(url: str) -> int:
    engine = make_engine(url)
    async with make_sessionmaker(engine)() as session:
        course = await a_course(session, NOW)
        await session.commit()
        course_id = course.id
    await engine.dispose()
    return course_id


def _load_sqlite(url: str, course_id: int, enrolments: list, contacts: list, check_ins: list) -> None:
    # The stdlib driver with executemany in one transaction: rows, not ORM objects.
    t = sqlite_time
    db = sqlite_bulk(sqlite_path(url))
    with db:
        db.executemany(
            "INSERT INTO enrolment (id, pseudonym, course_id, consented_at, withdrawn_at) VALUES (?, ?, ?, ?, ?)",
            [(e, p, course_id, t(c), w and t(w)) for e, p, c, w in enrolments],
        )
        db.executemany(
            "INSERT INTO contact (id, enrolment_id, chat_id, unreachable_at, created_at) VALUES (?, ?, ?, ?, ?)",
            [(i, e, chat, u and t(u), t(c)) for i, e, chat, u, c in contacts],
        )
        db.executemany(
            f"INSERT INTO check_in ({', '.join(CHECK_IN_COLUMNS)}) VALUES ({', '.join('?' * len(CHECK_IN_COLUMNS))})",
            [
                (i, e, w, s, t(d), t(c), sent and t(sent), r, nxt and t(nxt), a)
                for i, e, w, s, d, c, sent, r, nxt, a in check_ins
            ],
        )
    db.execute("ANALYZE")
    db.close()


async def _load_postgres(url: str, course_id: int, enrolments: list, contacts: list, check_ins: list) -> None:
    import asyncpg

    # COPY: the fastest way rows get into PostgreSQL.
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:

        async def copy() -> None:
            await conn.copy_records_to_table(
                "enrolment",
                columns=("id", "pseudonym", "course_id", "consented_at", "withdrawn_at"),
                records=[(e, p, course_id, c, w) for e, p, c, w in enrolments],
            )
            await conn.copy_records_to_table(
                "contact", columns=("id", "enrolment_id", "chat_id", "unreachable_at", "created_at"), records=contacts
            )
            await conn.copy_records_to_table("check_in", columns=CHECK_IN_COLUMNS, records=check_ins)

        await without_indexes(conn, ["enrolment", "contact", "check_in"], copy)
        for table in ("enrolment", "contact", "check_in"):
            await conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()


async def _reset(engine: Any, check_ins: list, due: list[int]) -> None:
    """Put the due check-ins back as they were before the pass sent them."""
    backend = engine.dialect.name
    async with engine.begin() as conn:
        for i in due:
            _, _, _, state, _d, _c, sent, _r, nxt, _a = check_ins[i - 1]
            await conn.execute(
                text(
                    "UPDATE check_in SET state = :state, sent_at = :sent_at, next_action_at = :nxt, "
                    "reminders_sent = 0, snoozed_until = NULL, claimed_by = NULL, claim_expires_at = NULL, "
                    "attempts = 0, "
                    "message_id = NULL, last_error = NULL WHERE id = :id"
                ),
                {
                    "state": state,
                    "id": i,
                    "sent_at": (sent and sqlite_time(sent)) if backend == "sqlite" else sent,
                    "nxt": (nxt and sqlite_time(nxt)) if backend == "sqlite" else nxt,
                },
            )


class _Statements:
    """Every statement a pass runs, with its time (cursor level), for the per-statement breakdown."""

    def __init__(self, engine: Any) -> None:
        self.rows: list[tuple[str, Any, float]] = []
        self._start: float = 0.0
        event.listen(engine.sync_engine, "before_cursor_execute", self._before)
        event.listen(engine.sync_engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self._start = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self.rows.append((statement, parameters, time.perf_counter() - self._start))

    def summary(self) -> list[dict[str, Any]]:
        """Statements grouped by their first words, slowest first."""
        groups: dict[str, list[float]] = {}
        for statement, _, seconds in self.rows:
            key = " ".join(statement.split())[:90]
            groups.setdefault(key, []).append(seconds)
        return sorted(
            ({"statement": k, "count": len(v), "total_ms": round(sum(v) * 1000, 2)} for k, v in groups.items()),
            key=lambda g: -g["total_ms"],
        )

    def claims(self) -> list[tuple[str, Any]]:
        """The claim statements (the SELECT … FOR UPDATE on PostgreSQL, the claiming UPDATE on SQLite)."""
        return [
            (s, p)
            for s, p, _ in self.rows
            if "FOR UPDATE" in s or (s.lstrip().upper().startswith("UPDATE CHECK_IN SET CLAIMED_BY"))
        ]


async def _explain(engine: Any, statements: list[tuple[str, Any]]) -> list[str]:
    """Query plans of the claim statements, run inside a transaction that is rolled back."""
    plans = []
    async with engine.connect() as conn:
        raw = await conn.get_raw_connection()
        driver = raw.driver_connection
        if engine.dialect.name == "postgresql":
            # ANALYZE runs the statement: inside an explicit transaction, rolled back, nothing claimed.
            transaction = driver.transaction()
            await transaction.start()
            for statement, parameters in statements:
                rows = await driver.fetch("EXPLAIN (ANALYZE, BUFFERS) " + statement, *parameters)
                plans.append("\n".join(r[0] for r in rows))
            await transaction.rollback()
        else:
            for statement, parameters in statements:
                cursor = await driver.execute("EXPLAIN QUERY PLAN " + statement, parameters)
                plans.append("\n".join(str(r[-1]) for r in await cursor.fetchall()))
    return plans


async def _measure(url: str, check_ins: list, due: list[int], runs: int) -> dict[str, Any]:
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    try:
        times = []
        for run in range(runs + 1):  # the first pass warms caches and cancels the withdrawn: not counted
            await _reset(engine, check_ins, due)
            dispatcher = Dispatcher(sessions, RecordingMessenger(), FrozenClock(NOW), SETTINGS, "bench")
            seconds, report = await atimed(dispatcher.run_once)
            if report.sent + report.reminded != DUE:
                raise RuntimeError(f"pass sent {report}; expected {DUE} messages")
            if run:
                times.append(seconds)
        # One more pass, watched statement by statement (not timed: the listeners cost a little).
        await _reset(engine, check_ins, due)
        watch = _Statements(engine)
        await Dispatcher(sessions, RecordingMessenger(), FrozenClock(NOW), SETTINGS, "bench").run_once()
        event.remove(engine.sync_engine, "before_cursor_execute", watch._before)
        event.remove(engine.sync_engine, "after_cursor_execute", watch._after)
        await _reset(engine, check_ins, due)
        plans = await _explain(engine, watch.claims())
        return {"pass_s": median(times), "runs_s": times, "statements": watch.summary()[:8], "claim_plans": plans}
    finally:
        await engine.dispose()


async def _drop_0003(url: str) -> None:
    engine = make_engine(url)
    async with engine.begin() as conn:
        for name in INDEXES_0003:
            await conn.execute(text(f"DROP INDEX {name}"))
    await engine.dispose()


def run(backends: list[str], runs: int, without_0003: bool = False) -> dict[str, Any]:
    """Both sizes on each backend: load, pass times, the slowest statements and the claim's plan."""
    out: dict[str, Any] = {b: {} for b in backends}
    for size in SIZES:
        enrolments, contacts, check_ins, due = _rows(size, seed=size)  # made once, loaded into each backend
        for backend in backends:
            with temp_database(backend, "tick") as url:
                course_id = asyncio.run(_course(url))
                start = time.perf_counter()
                if backend == "sqlite":
                    _load_sqlite(url, course_id, enrolments, contacts, check_ins)
                else:
                    asyncio.run(_load_postgres(url, course_id, enrolments, contacts, check_ins))
                load_s = time.perf_counter() - start
                if without_0003:
                    asyncio.run(_drop_0003(url))
                result = asyncio.run(_measure(url, check_ins, due, runs))
            result["load_s"] = round(load_s, 2)
            out[backend][str(size)] = result
            slowest = result["statements"][0]
            print(
                f"  {backend:10s} {size:>9,} stored, {DUE} due: pass {ms(result['pass_s'])} "
                f"(load {load_s:.1f} s; slowest statement {slowest['total_ms']} ms: "
                f"{slowest['statement'][:50]}…)",
                flush=True,
            )
    for backend in backends:
        small, large = (out[backend][str(s)]["pass_s"] for s in SIZES)
        out[backend]["ratio"] = large / small
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the tick benchmark and print its figures, the ratio last."""
    argv = list(sys.argv[1:] if argv is None else argv)
    without_0003 = "--without-0003" in argv
    args = arguments([a for a in argv if a != "--without-0003"], __doc__ or "")
    backends = list(args.backends)
    if "postgresql" in backends and (why := postgres_available()):
        print(f"  PostgreSQL skipped: {why}")
        backends.remove("postgresql")
    print(f"tick: one dispatcher pass, {DUE} due, {SIZES[0]:,} vs {SIZES[1]:,} stored; median of {args.runs}")
    if without_0003:
        print("  without migration 0003's indexes (the 'before' figure)")
    results = run(backends, args.runs, without_0003)
    for b in backends:
        print(f"  {b:10s} ratio (1M/1k): {results[b]['ratio']:.2f}")
    worst = max(results[b]["ratio"] for b in backends)
    write_results(
        "tick-without-0003" if without_0003 else "tick",
        {
            "without_0003": without_0003,
            "goal": f"ratio <= {GOAL}",
            "due": DUE,
            "sizes": SIZES,
            "runs": args.runs,
            "quick": args.quick,
            "backends": results,
            "ratio": worst,
        },
    )
    print(f"tick ratio (1M/1k): {worst:.2f} (goal ≤ {GOAL}; worst of {', '.join(backends)})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
