"""Report benchmark: build_report + write_report over 1,000,000 answers against a pandas script on the long CSV."""

from __future__ import annotations

import asyncio
import json
import math
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any

from bench.common import (
    arguments,
    asyncpg_dsn,
    median,
    peak_rss_mb,
    postgres_available,
    sqlite_bulk,
    sqlite_path,
    sqlite_time,
    temp_database,
    without_indexes,
    write_results,
)
from surveys.domain.states import CheckInState

FULL = {"answers": 1_000_000, "enrolments": 100_000}
COURSES = 20
WAVES = ("pre", "post", "3m", "6m")
# Who answers each wave: chosen so that 100,000 people give about 1,000,000 answers (cse-core asks
# 15 to 20 items a wave), i.e. the low follow-up response real programmes see.
RESPONSE = {"pre": 0.22, "post": 0.18, "3m": 0.09, "6m": 0.07}
NOW = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)  # every wave of every course is over
GOALS = {"ratio": 1.0, "max_rss_mb": 1024}
ROOT = Path(__file__).resolve().parent.parent


async def _courses(url: str, attendance: int) -> list[tuple[int, int, date]]:
    """The courses (through the real store): (id, quiz_set_id, delivered_on)."""
    from surveys.store.db import make_engine, make_sessionmaker
    from tests.support.factories import a_course

    engine = make_engine(url)
    out = []
    async with make_sessionmaker(engine)() as session:
        for i in range(COURSES):
            course = await a_course(
                session,
                NOW - timedelta(days=300),
                code=f"CSE-{i:02d}",
                waves=WAVES,
                delivered_on=date(2025, 11, 3) + timedelta(days=3 * i),
                attendance=attendance,
            )
            out.append((course.id, course.quiz_set_id, course.delivered_on))
        definition = course.quiz_set.definition
        await session.commit()
    await engine.dispose()
    return out, definition


def _cohort(courses: list, definition: dict, enrolments: int, answers_goal: int, seed: int) -> dict[str, list]:
    """Enrolments, check-ins and answers as plain tuples with ids, seeded (tests.support.synthetic's answer model)."""
    from surveys.domain.quizset import QuizSet
    from surveys.domain.scoring import item_score
    from tests.support.synthetic import ROLES, _value, wave_offset

    rng = random.Random(seed)
    quiz = QuizSet.from_definition(definition)
    per_wave = {w: quiz.items_for(w) for w in WAVES}
    expected = sum(RESPONSE[w] * len(per_wave[w]) for w in WAVES) * enrolments
    # Response rates nudged so the answer count lands near the goal (5% stop half way: 2.5% fewer).
    scale = answers_goal / expected / 0.975
    roles = sorted(ROLES)
    enrolment_rows, checkin_rows, answer_rows = [], [], []
    check_in_id = answer_id = 0
    for e in range(1, enrolments + 1):
        course_id, quiz_set_id, delivered = courses[(e - 1) % len(courses)]
        role = rng.choice(roles)
        enrolment_rows.append(
            (e, f"{rng.getrandbits(48):012x}", course_id, role, ROLES[role], None, NOW - timedelta(days=300))
        )
        ability = min(0.97, max(0.35, rng.gauss(0.82, 0.1)))
        start = datetime.combine(delivered, dtime(15, 0), tzinfo=UTC)
        for wave in WAVES:
            check_in_id += 1
            due = start + wave_offset(wave)
            items = per_wave[wave] if rng.random() < RESPONSE[wave] * scale + (ability - 0.82) * 0.2 else ()
            if items and rng.random() < 0.05:
                items = items[: len(items) // 2]  # stopped half way
            state = (
                CheckInState.EXPIRED
                if not items
                else CheckInState.COMPLETED
                if len(items) == len(per_wave[wave])
                else CheckInState.IN_PROGRESS
            )
            checkin_rows.append(
                (
                    check_in_id,
                    e,
                    wave,
                    str(state),
                    due,
                    due + timedelta(days=21),
                    due + timedelta(hours=1) if state == CheckInState.COMPLETED else None,
                    0,
                    0,
                )
            )
            for position, item in enumerate(items):
                value = _value(item, wave, ability, rng)
                answer_id += 1
                answer_rows.append(
                    (
                        answer_id,
                        check_in_id,
                        item.id,
                        quiz_set_id,
                        value,
                        item_score(item, value) if value != "" else None,
                        due + timedelta(hours=1, seconds=20 * position),
                    )
                )
    return {"enrolment": enrolment_rows, "check_in": checkin_rows, "answer": answer_rows}


COLUMNS = {
    "enrolment": ("id", "pseudonym", "course_id", "role", "agency", "level", "consented_at"),
    "check_in": (
        "id",
        "enrolment_id",
        "wave",
        "state",
        "due_at",
        "closes_at",
        "completed_at",
        "reminders_sent",
        "attempts",
    ),
    "answer": ("id", "check_in_id", "item_id", "quiz_set_id", "value", "score", "answered_at"),
}


def _load_sqlite(url: str, rows: dict[str, list]) -> None:
    db = sqlite_bulk(sqlite_path(url))
    with db:
        for table, columns in COLUMNS.items():
            db.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                ([sqlite_time(v) if isinstance(v, datetime) else v for v in row] for row in rows[table]),
            )
    db.execute("ANALYZE")
    db.close()


async def _load_postgres(url: str, rows: dict[str, list]) -> None:
    import asyncpg

    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:

        async def copy() -> None:
            for table, columns in COLUMNS.items():
                await conn.copy_records_to_table(table, columns=columns, records=rows[table])

        await without_indexes(conn, list(COLUMNS), copy)
        for table in COLUMNS:
            await conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()


async def _export(url: str, out: Path) -> int:
    from surveys.reporting.export import export
    from surveys.store.db import make_engine, make_sessionmaker

    engine = make_engine(url)
    async with make_sessionmaker(engine)() as session:
        n = await export(session, None, "csv", "long", out)
    await engine.dispose()
    return n


async def _ours(url: str, out_dir: Path) -> dict[str, float]:
    from surveys.reporting.report import build_report, write_report
    from surveys.settings import load_settings
    from surveys.store.db import make_engine, make_sessionmaker

    settings = load_settings(env={}, env_file=None)
    engine = make_engine(url)
    start = time.perf_counter()
    async with make_sessionmaker(engine)() as session:
        report = await build_report(session, None, settings)
    built = time.perf_counter()
    write_report(report, out_dir)
    end = time.perf_counter()
    await engine.dispose()
    return {"seconds": end - start, "build_s": built - start, "write_s": end - built}


def worker(argv: list[str]) -> int:
    """Subprocess side of ours: `--worker URL OUT_DIR` prints a JSON line with times and peak RSS."""
    url, out_dir = argv[0], Path(argv[1])
    result = asyncio.run(_ours(url, out_dir))
    result["max_rss_mb"] = peak_rss_mb()
    print(json.dumps(result))
    return 0


def _child(args: list[str], root: Path = ROOT) -> dict[str, Any]:
    # A fresh process per run: as when an evaluator runs the command; its own peak RSS is ours alone.
    done = subprocess.run([sys.executable, *args], cwd=root, capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"{' '.join(args[:3])} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _agree(ours_json: Path, pandas_json: Path) -> dict[str, Any]:
    """Do both sides give the same figures? Knowledge, paired change, constructs, items, practice (n, means)."""
    ours, ref = json.loads(ours_json.read_text()), json.loads(pandas_json.read_text())
    diffs = []
    for cell in ours["knowledge"]["by_wave"]:
        r = ref["knowledge"][cell["wave"]]
        diffs.append(
            ("knowledge", cell["wave"], cell["n"] == r["n"], math.isclose(cell["mean"], r["mean"], rel_tol=1e-9))
        )
    for row in ours["paired_change"]:
        r = ref["paired"][f"{row['from']}->{row['to']}"]
        diffs.append(
            ("paired", row["to"], row["n"] == r["n"], math.isclose(row["p"], r["p"], rel_tol=1e-6, abs_tol=1e-300))
        )
    for c in ours["constructs"]:
        for cell in c["by_wave"]:
            r = ref["constructs"][f"{c['construct']}@{cell['wave']}"]
            diffs.append(
                ("construct", c["construct"], cell["n"] == r["n"], math.isclose(cell["mean"], r["mean"], rel_tol=1e-9))
            )
    for item in ours["items"]:
        for cell in item["by_wave"]:
            r = ref["retention"][f"{item['item_id']}@{cell['wave']}"]
            diffs.append(
                (
                    "item",
                    item["item_id"],
                    cell["n"] == r["n"],
                    math.isclose(cell["pct_correct"], r["pct_correct"], rel_tol=1e-9),
                )
            )
    for item in ours["practice"]:
        for cell in item["by_wave"]:
            r = ref["practice"][f"{item['item_id']}@{cell['wave']}"]
            diffs.append(
                (
                    "practice",
                    item["item_id"],
                    cell["n"] == r["n"],
                    math.isclose(cell["pct_yes"], r["pct"], rel_tol=1e-9),
                )
            )
    bad = [d for d in diffs if not (d[2] and d[3])]
    return {"figures_compared": len(diffs), "disagree": [list(d[:2]) for d in bad]}


def run_backend(
    backend: str, rows: dict[str, list], courses_args: tuple, runs: int, tmp: Path, baseline: Path | None = None
) -> dict[str, Any]:
    """Load, export the long CSV (once: every backend holds the same rows), then alternate ours and pandas.

    `baseline`: another checkout (e.g. the previous commit's) whose report is run too, alternating
    with ours on the same rows, so a before/after pair shares one load and one busy hour.
    """
    with temp_database(backend, "report") as url:
        asyncio.run(_courses(url, *courses_args))
        start = time.perf_counter()
        if backend == "sqlite":
            _load_sqlite(url, rows)
        else:
            asyncio.run(_load_postgres(url, rows))
        load_s = time.perf_counter() - start
        # The pandas side reads the first backend's export; each backend's report is checked
        # against it below, so the backends are also checked against each other.
        csv_path = tmp / "long.csv"
        start = time.perf_counter()
        exported = len(rows["answer"]) if csv_path.exists() else asyncio.run(_export(url, csv_path))
        export_s = time.perf_counter() - start
        ours, ref, before = [], [], []
        for run in range(runs):
            out_dir = tmp / f"{backend}-out-{run}"
            if baseline:
                before.append(_child(["-m", "bench.report", "--worker", url, str(tmp / "baseline")], baseline))
            ours.append(_child(["-m", "bench.report", "--worker", url, str(out_dir)]))
            ref.append(_child(["-m", "bench.pandas_reference", str(csv_path), str(tmp / f"{backend}-pandas-{run}")]))
        agreement = _agree(tmp / f"{backend}-out-0" / "report.json", tmp / f"{backend}-pandas-0" / "tables.json")
    ours_s, ref_s = median([o["seconds"] for o in ours]), median([r["seconds"] for r in ref])
    result = {
        "answers": exported,
        "load_s": round(load_s, 2),
        "export_csv_s": round(export_s, 2),
        "ours_s": ours_s,
        "ours_build_s": median([o["build_s"] for o in ours]),
        "ours_write_s": median([o["write_s"] for o in ours]),
        "pandas_s": ref_s,
        "ratio": ours_s / ref_s,
        # Each run's ours and pandas ran back to back: on a shared machine their ratio moves less than the times.
        "paired_ratio": median([o["seconds"] / r["seconds"] for o, r in zip(ours, ref, strict=True)]),
        "pandas_tables_s": median([r["tables_s"] for r in ref]),
        # The tables alone: our build against the script up to its tables (before charts and files).
        "build_ratio": median([o["build_s"] for o in ours]) / median([r["tables_s"] for r in ref]),
        "ours_max_rss_mb": max(o["max_rss_mb"] for o in ours),
        "pandas_max_rss_mb": max(r["max_rss_mb"] for r in ref),
        "runs": {"ours": ours, "pandas": ref, "baseline": before},
        "agreement": agreement,
    }
    if before:
        result["baseline"] = {
            "path": str(baseline),
            "seconds": median([b["seconds"] for b in before]),
            "build_s": median([b["build_s"] for b in before]),
        }
    print(
        f"  {backend:10s} {exported:,} answers: ours {ours_s:.2f} s (build {result['ours_build_s']:.2f} + write "
        f"{result['ours_write_s']:.2f}), pandas {ref_s:.2f} s (tables {result['pandas_tables_s']:.2f} + charts and "
        f"files {ref_s - result['pandas_tables_s']:.2f}), ratio {result['ratio']:.2f} (median of each run's ratio "
        f"{result['paired_ratio']:.2f}; tables alone "
        f"{result['build_ratio']:.2f}); peak RSS ours "
        f"{result['ours_max_rss_mb']:.0f} MB, pandas {result['pandas_max_rss_mb']:.0f} MB; "
        f"{agreement['figures_compared'] - len(agreement['disagree'])}/{agreement['figures_compared']} figures agree "
        f"(load {load_s:.1f} s, CSV export {export_s:.1f} s, not timed)",
        flush=True,
    )
    if before:
        builds = {
            side: " ".join(f"{r['build_s']:.2f}" for r in runs) for side, runs in (("was", before), ("now", ours))
        }
        print(
            f"  {backend:10s} baseline {baseline}: {result['baseline']['seconds']:.2f} s (build "
            f"{result['baseline']['build_s']:.2f}); builds (s) baseline {builds['was']}, ours {builds['now']}",
            flush=True,
        )
    return result


def main(argv: list[str] | None = None) -> int:
    """Run the report benchmark; the ratio ours/pandas (worst backend) is the last line."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--worker"]:
        return worker(argv[1:])
    baseline = None
    if "--baseline" in argv:  # --baseline DIR: a checkout whose report runs alternately with ours
        at = argv.index("--baseline")
        baseline = Path(argv[at + 1]).resolve()
        del argv[at : at + 2]
    args = arguments(argv, __doc__ or "", quick_runs=1)
    size = FULL  # --quick: the same 1,000,000 answers, one run each
    backends = list(args.backends)
    if "postgresql" in backends and (why := postgres_available()):
        print(f"  PostgreSQL skipped: {why}")
        backends.remove("postgresql")
    print(
        f"report: {size['enrolments']:,} enrolments, ~{size['answers']:,} answers, {COURSES} courses; "
        f"ours = build_report + write_report (JSON, HTML, PDF), pandas = the tables, charts (PNG) and PDF "
        f"from the long CSV; "
        f"median of {args.runs}",
        flush=True,
    )
    attendance = size["enrolments"] // COURSES + size["enrolments"] // (COURSES * 10)
    results: dict[str, Any] = {}
    generated = None
    with tempfile.TemporaryDirectory(prefix="followup-bench-report-") as tmp:
        for backend in backends:
            if generated is None:
                # The same rows for both backends; courses get the same ids in each fresh database.
                with temp_database(backend, "report-probe") as url:
                    courses, definition = asyncio.run(_courses(url, attendance))
                start = time.perf_counter()
                generated = _cohort(courses, definition, size["enrolments"], size["answers"], seed=7)
                print(
                    f"  generated {len(generated['answer']):,} answers in {time.perf_counter() - start:.1f} s",
                    flush=True,
                )
            results[backend] = run_backend(backend, generated, (attendance,), args.runs, Path(tmp), baseline)
    worst = max(results[b]["ratio"] for b in backends)
    worst_build = max(results[b]["build_ratio"] for b in backends)
    rss = max(results[b]["ours_max_rss_mb"] for b in backends)
    write_results(
        "report",
        {
            "goals": GOALS,
            "size": size,
            "runs": args.runs,
            "quick": args.quick,
            "backends": results,
            "ratio": worst,
            "build_ratio": worst_build,
            "ours_max_rss_mb": rss,
        },
    )
    print(
        f"report ratio (ours/pandas): {worst:.2f} with charts, HTML and PDF, {worst_build:.2f} for the tables alone "
        f"(goal ≤ {GOALS['ratio']}; peak RSS {rss:.0f} MB, goal ≤ "
        f"{GOALS['max_rss_mb']} MB; worst of {', '.join(backends)})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
