"""Shared benchmark helpers: timing and medians, temporary databases, the machine, JSON results."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import secrets
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from surveys.store.migrate import upgrade

RESULTS = Path(__file__).resolve().parent / "results"
POSTGRES_SERVER = os.environ.get("FOLLOWUP_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
BACKENDS = ("sqlite", "postgresql")


def arguments(argv: list[str] | None, description: str, quick_runs: int = 3) -> argparse.Namespace:
    """The options every benchmark takes: --quick, --runs, --backends."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="fewer runs (and smaller data where stated)")
    parser.add_argument(
        "--runs", type=int, default=None, help="timed runs per figure (default 3; --quick: fewer where stated)"
    )
    parser.add_argument("--backends", default=",".join(BACKENDS), help="comma-separated: sqlite,postgresql")
    args = parser.parse_args(argv)
    # Medians of 3 keep `make bench` under ten minutes; --runs 5 for steadier figures.
    args.runs = args.runs or (quick_runs if args.quick else 3)
    args.backends = [b for b in args.backends.split(",") if b]
    return args


def median(values: list[float]) -> float:
    """The median (the figure every benchmark reports: robust to one slow run)."""
    return float(statistics.median(values))


async def atimed(fn: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    """Seconds one awaited call took, and its result."""
    start = time.perf_counter()
    result = await fn()
    return time.perf_counter() - start, result


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Seconds one call took, and its result."""
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def ms(seconds: float) -> str:
    """Seconds shown as milliseconds."""
    return f"{seconds * 1000:.1f} ms"


async def _admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(POSTGRES_SERVER, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def postgres_available() -> str | None:
    """None when the PostgreSQL server answers, else why not."""
    try:
        asyncio.run(_admin("SELECT 1"))
    except Exception as exc:
        return repr(exc)
    return None


@contextmanager
def temp_database(backend: str, label: str) -> Iterator[str]:
    """A migrated, empty database (SQLite file or PostgreSQL database), removed afterwards.

    Call outside a running event loop: Alembic's env runs its own.
    """
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix=f"followup-bench-{label}-") as tmp:
            url = f"sqlite:///{tmp}/bench.db"
            upgrade(url)
            yield url
        return
    name = f"followup_bench_{label}_{os.getpid()}_{secrets.token_hex(2)}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    try:
        url = f"{POSTGRES_SERVER.rsplit('/', 1)[0]}/{name}"
        upgrade(url)
        yield url
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def sqlite_path(url: str) -> str:
    """The file behind a sqlite:/// URL."""
    return url.split("///", 1)[1]


def sqlite_time(value: datetime) -> str:
    """A UTC time as SQLAlchemy stores it in SQLite (naive, microseconds), so comparisons stay lexical."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def asyncpg_dsn(url: str) -> str:
    """A plain postgresql:// URL for asyncpg.connect."""
    return url.replace("postgresql+asyncpg://", "postgresql://")


def sqlite_bulk(path: str) -> sqlite3.Connection:
    """A stdlib connection tuned for one bulk load: a big page cache (index inserts stop thrashing), no fsync."""
    db = sqlite3.connect(path)
    db.execute("PRAGMA cache_size=-1000000")
    db.execute("PRAGMA synchronous=OFF")
    return db


async def without_indexes(conn: Any, tables: list[str], load: Callable[[], Awaitable[Any]]) -> None:
    """Run `load` (COPYs) on PostgreSQL with the tables' plain indexes dropped, then build them again.

    Building an index once after COPY is several times faster than maintaining it row by row;
    indexes behind constraints (primary keys, unique) stay.
    """
    rows = await conn.fetch(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = ANY($1::text[]) "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
        tables,
    )
    for row in rows:
        await conn.execute(f'DROP INDEX "{row["indexname"]}"')
    await load()
    await conn.execute("SET maintenance_work_mem = '512MB'")
    for row in rows:
        await conn.execute(row["indexdef"])


def _read_cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _postgres_version() -> str | None:
    async def query() -> str:
        import asyncpg

        conn = await asyncpg.connect(POSTGRES_SERVER, timeout=5)
        try:
            return str(await conn.fetchval("SHOW server_version"))
        finally:
            await conn.close()

    try:
        return asyncio.run(query())
    except Exception:
        return None


def machine() -> dict[str, Any]:
    """What the figures came from: cores, CPU, memory, Python and database versions."""
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        memory_gb = round(pages / 2**30, 1)
    except (ValueError, OSError):
        memory_gb = None
    return {
        "nproc": os.cpu_count(),
        "cpu": _read_cpu_model(),
        "memory_gb": memory_gb,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": _postgres_version(),
        "platform": platform.platform(),
    }


def peak_rss_mb() -> float:
    """This process's peak resident memory in MB.

    VmHWM, not getrusage: a child's ru_maxrss keeps the high-water mark of the parent it was forked
    from (exec does not reset it), which would blame the benchmark's own memory on the child.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_results(name: str, data: dict[str, Any]) -> Path:
    """bench/results/<name>.json, with the machine and when it ran."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    payload = {
        "benchmark": name,
        "ran_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        **data,
    }
    path.write_text(json.dumps(payload, indent=2, default=str), encoding="utf-8")
    return path
