"""The report's reads: the answers once as numbers (report_data), and checkin_frame for the wide export."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiosqlite
import numpy as np
import pandas as pd
from sqlalchemy import ColumnElement, and_, case, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from surveys.domain import states as check_in_states
from surveys.domain.waves import order_key as wave_order
from surveys.codebook import Codebook, CourseInfo, ItemInfo
from surveys.models import Answer, CheckIn, Course, Enrolment


def in_items(items: list[ItemInfo]) -> ColumnElement[bool]:
    """SQL condition: the answer is to one of these items (of its own quiz-set version)."""
    by_set: dict[int, list[str]] = {}
    for item in items:
        by_set.setdefault(item.quiz_set_id, []).append(item.id)
    if not by_set:
        return false()
    return or_(*(and_(Answer.quiz_set_id == qs, Answer.item_id.in_(ids)) for qs, ids in by_set.items()))


def _course_ids(courses: list[CourseInfo]) -> list[int]:
    return [c.id for c in courses]


async def _frame(session: AsyncSession, stmt: Any) -> pd.DataFrame:
    result = await session.execute(stmt)
    return pd.DataFrame.from_records(result.all(), columns=list(result.keys()))


async def checkin_frame(session: AsyncSession, courses: list[CourseInfo], codebook: Codebook) -> pd.DataFrame:
    """One row per answered check-in: who (role, agency, level), wave, knowledge % and construct means.

    The database does the per-answer work; Python sees one row per check-in, not per answer.
    """
    # A skipped item has no score and counts as not answered (surveys.scoring, the reference).
    scored = and_(in_items([i for i in codebook.items if i.scored]), Answer.score.is_not(None))
    core = and_(in_items(codebook.core_knowledge()), Answer.score.is_not(None))
    sums: list[Any] = [
        func.count().label("n_answers"),
        func.sum(case((scored, Answer.score))).label("k_sum"),
        func.sum(case((scored, 1), else_=0)).label("k_n"),
        func.sum(case((core, Answer.score))).label("core_sum"),
        func.sum(case((core, 1), else_=0)).label("core_n"),
    ]
    for construct in codebook.constructs:
        cond = and_(in_items(codebook.where(kind="likert", construct=construct)), Answer.score.is_not(None))
        sums.append(func.sum(case((cond, Answer.score))).label(f"{construct}__sum"))
        sums.append(func.sum(case((cond, 1), else_=0)).label(f"{construct}__n"))
    agg = (
        select(Answer.check_in_id, *sums)
        .join(CheckIn, CheckIn.id == Answer.check_in_id)
        .join(Enrolment, Enrolment.id == CheckIn.enrolment_id)
        .where(Enrolment.course_id.in_(_course_ids(courses)))
        .group_by(Answer.check_in_id)
        .subquery()
    )
    stmt = (
        select(
            agg,
            CheckIn.enrolment_id,
            Enrolment.pseudonym,
            Course.code.label("course"),
            CheckIn.wave,
            CheckIn.state,
            Enrolment.role,
            Enrolment.agency,
            func.coalesce(Enrolment.level, Course.level).label("level"),
        )
        .join(CheckIn, CheckIn.id == agg.c.check_in_id)
        .join(Enrolment, Enrolment.id == CheckIn.enrolment_id)
        .join(Course, Course.id == Enrolment.course_id)
        .order_by(Course.code, Enrolment.pseudonym, CheckIn.due_at)
    )
    frame = await _frame(session, stmt)
    frame["knowledge_pct"] = _ratio(frame["k_sum"], frame["k_n"]) * 100.0
    frame["knowledge_core_pct"] = _ratio(frame["core_sum"], frame["core_n"]) * 100.0
    for construct in codebook.constructs:
        frame[construct] = _ratio(frame[f"{construct}__sum"], frame[f"{construct}__n"])
    return frame


def _ratio(total: pd.Series, n: pd.Series) -> pd.Series:
    # n == 0 means nothing of that kind was answered: missing, not zero.
    n = n.astype("float64")
    return total.astype("float64").div(n.where(n > 0))


# --- The report's one pass over the answers -------------------------------------------------------
#
# Measured at 1,000,000 answers (bench/README.md, report): SQLite scans a row in ~0.1 µs but handing
# it to Python as a tuple costs ~0.5 µs, and a GROUP BY per check-in with a CASE per category cost
# more than fetching every row. So each column the report needs is aggregated into ONE value inside
# the database — group_concat on SQLite, string_agg on PostgreSQL: a comma-separated string numpy
# parses in C — and every table is then reduced with numpy. On SQLite the
# whole scan runs inside one sqlite3_step, outside the GIL. Each answer travels as one integer
# packing its item, quiz-set slot, yes/no and score; check-ins and their states come from covering
# indexes, so the wide check_in rows are never read.

WAVE_CODE_OTHER = -1
STATES = [str(s) for s in check_in_states.ALL]
# What an answer's value gave, as one code: a stored score s in 0..6 as s + 1 (item_score gives 0, 1
# or 1-5); without a score (yes/no, number and text items), YES, NO or 0; any other score ODD_SCORE,
# which makes the read fetch the scores as they are stored.
SCORE_CODES, YES, NO, ODD_SCORE = 16, 9, 10, 15


@dataclass
class ReportData:
    """Everything build_report reads, as arrays and small frames (no per-answer Python objects)."""

    answers: pd.DataFrame  # check_in_id, item (index into item_ids, -1 unknown), quiz_set_id, yn, has_score, score
    checkins: pd.DataFrame  # id, enrolment_id, wave (index into waves), state
    enrolments: pd.DataFrame  # id, course_id, role, agency, level (as stored)
    free_text: pd.DataFrame  # check_in_id, item, quiz_set_id, value (non-empty answers to text items)
    item_ids: list[str]
    waves: list[str]
    states: list[str]


def _lit(value: str) -> str:
    # Item ids, waves and states come from validated quiz sets and our own code; quoted all the same.
    return "'" + str(value).replace("'", "''") + "'"


def _code(column: str, values: list[str]) -> str:
    """SQL mapping each value to its index (NULL for anything else)."""
    if not values:
        return "NULL"
    return f"CASE {column} " + " ".join(f"WHEN {_lit(v)} THEN {i}" for i, v in enumerate(values)) + " END"


@dataclass(frozen=True)
class _Reader:
    """One database connection's driver, for the report's raw aggregate reads."""

    dialect: str
    driver: Any

    async def fetch(self, sql: str) -> list[Any]:
        """Every row of one statement."""
        return await (self.driver.fetch(sql) if self.dialect == "postgresql" else self.driver.execute_fetchall(sql))


@asynccontextmanager
async def _readers(session: AsyncSession, n: int) -> AsyncIterator[list[_Reader]]:
    """The session's connection and up to n - 1 more to the same database, so reads run side by side.

    On SQLite a read is one sqlite3_step outside the GIL and on PostgreSQL a server process: two
    reads at once use both cores. Each statement sees its own snapshot either way (pysqlite opens no
    transaction for a SELECT; PostgreSQL reads at READ COMMITTED), so nothing is lost by splitting.
    The extra connections do not see the session's own uncommitted writes (the report makes none).
    A database only one connection can see (SQLite in memory) gets the session's connection n times.
    """
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    own = _Reader(connection.dialect.name, raw.driver_connection)
    async with AsyncExitStack() as stack:
        readers = [own]
        path = connection.engine.url.database if own.dialect == "sqlite" else None
        for _ in range(n - 1):
            if own.dialect == "postgresql":
                extra = await stack.enter_async_context(connection.engine.connect())
                readers.append(_Reader(own.dialect, (await extra.get_raw_connection()).driver_connection))
            elif path and path != ":memory:" and not path.startswith("file:"):
                db = await aiosqlite.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
                stack.push_async_callback(db.close)
                readers.append(_Reader(own.dialect, db))
            else:
                readers.append(own)
        yield readers


async def _arrays(reader: _Reader, exprs: dict[str, str], source: str, dtype: str = "int64",
                  group: str | None = None) -> list[tuple[Any, dict[str, np.ndarray]]]:
    """Each expression (never NULL) over the rows of `source` as one numpy array, per `group` value.

    One aggregate per column in the database, so no Python object is made per row. Without
    `group` the list has one entry, keyed None.
    """
    # string_agg measured ~35% faster than array_agg on PostgreSQL (0.08 against 0.14 s for 1M ids).
    aggregate = "string_agg(({})::text, ',')" if reader.dialect == "postgresql" else "group_concat(({}))"
    keys = len(group.split(",")) if group else 0
    sql = (f"SELECT {group + ', ' if group else ''}count(*), " + ", ".join(aggregate.format(e) for e in exprs.values())
           + f" FROM {source}" + (f" GROUP BY {group}" if group else ""))
    out = []
    for row in await reader.fetch(sql):
        key, n, values = tuple(row[:keys]) if group else None, row[keys], row[keys + 1:]
        arrays = {}
        for name, value in zip(exprs, values):
            array = np.array([], dtype=dtype) if value is None else np.fromstring(value, dtype=dtype, sep=",")
            if len(array) != n:  # a NULL slipped through (group_concat skips them): never guess
                raise RuntimeError(f"report read: {name} gave {len(array)} values for {n} rows")
            arrays[name] = array
        out.append((key, arrays))
    return out or ([] if group else [(None, {name: np.array([], dtype=dtype) for name in exprs})])


def _course_filter(courses: list[CourseInfo], all_courses: bool) -> str:
    if all_courses:
        return ""
    ids = ", ".join(str(int(c.id)) for c in courses) or "NULL"
    return f" WHERE e.course_id IN ({ids})"


async def _answers(reader: _Reader, codebook: Codebook, item_ids: list[str], source: str) -> pd.DataFrame:
    """One packed integer per answer of `source`, unpacked with numpy: check-in, item, quiz-set, yes/no, score."""
    # (item index × slots + quiz-set slot) × SCORE_CODES + the value's code.
    # An item or quiz set outside the codebook gets the last index.
    sets = sorted(codebook.quiz_sets)
    slots = len(sets) + 1
    item = f"COALESCE({_code('a.item_id', item_ids)}, {len(item_ids)})"
    quiz_set = "0"
    if len(sets) > 1:
        quiz_set = f"COALESCE({_code('a.quiz_set_id', [str(q) for q in sets]).replace(chr(39), '')}, {len(sets)})"
    # The value is compared only where no score is stored: yes/no items are never scored.
    value = (f"CASE WHEN a.score IS NULL THEN (CASE a.value WHEN 'yes' THEN {YES} WHEN 'no' THEN {NO} ELSE 0 END) "
             f"WHEN a.score IN (0, 1, 2, 3, 4, 5, 6) THEN CAST(a.score AS INTEGER) + 1 ELSE {ODD_SCORE} END")
    exprs = {"check_in_id": "a.check_in_id",
             "packed": f"(({item}) * {slots} + ({quiz_set})) * {SCORE_CODES} + {value}"}
    (_, got), = await _arrays(reader, exprs, source)
    packed = got["packed"]
    code = packed % SCORE_CODES
    score = np.where(code <= 7, np.maximum(code - 1, 0), 0).astype("float64")
    if (code == ODD_SCORE).any():
        # Scores the packing cannot carry: read again with the stored scores in the SAME statement
        # (one snapshot, one row order), as floats (every packed value is far below 2**53).
        (_, exact), = await _arrays(reader, {**exprs, "score": "COALESCE(a.score, 0)"}, source, dtype="float64")
        got = {"check_in_id": exact["check_in_id"].astype("int64"), "packed": exact["packed"].astype("int64")}
        packed, score = got["packed"], exact["score"]
        code = packed % SCORE_CODES
    answers = pd.DataFrame({"check_in_id": got["check_in_id"],
                            "has_score": ((code > 0) & (code <= 7)) | (code == ODD_SCORE),
                            "score": score, "yn": np.select([code == YES, code == NO], [2, 1], 0)})
    rest = packed // SCORE_CODES
    slot = rest % slots
    item_code = rest // slots
    answers["item"] = np.where(item_code < len(item_ids), item_code, -1)
    answers["quiz_set_id"] = np.array(sets + [-1], dtype="int64")[slot]
    return answers


async def _checkins(reader: _Reader, waves: list[str], from_checkins: str) -> pd.DataFrame:
    """Id, enrolment, wave code and state code of every check-in, from two covering indexes."""
    (_, got), = await _arrays(reader, {
        "id": "c.id", "enrolment_id": "c.enrolment_id",
        "wave": f"COALESCE({_code('c.wave', waves)}, {WAVE_CODE_OTHER})"}, from_checkins)
    # The state alone, through ix_check_in_state_* (state + id): matched to the rows above by id.
    (_, by_state), = await _arrays(reader, {
        "id": "c.id", "state": f"COALESCE({_code('c.state', STATES)}, {len(STATES)})"}, from_checkins)
    # Two statements, two snapshots: a check-in deleted in between (a /delete) has no state here
    # and counts as "other", never as its neighbour's.
    ids = np.sort(by_state["id"])
    states = by_state["state"][np.argsort(by_state["id"], kind="stable")]
    where = np.minimum(np.searchsorted(ids, got["id"]), max(len(ids) - 1, 0))
    found = (ids[where] == got["id"]) if len(ids) else np.zeros(len(got["id"]), dtype=bool)
    got["state"] = np.where(found, states[where] if len(ids) else 0, len(STATES))
    return pd.DataFrame(got)


async def _enrolments(reader: _Reader, courses: list[CourseInfo], where: str) -> pd.DataFrame:
    """Id, course, role, agency and level of every enrolment: grouped by who they are, ids aggregated."""
    level_of = {c.id: c.level for c in courses}
    ids, course_ids, roles, agencies, levels = [], [], [], [], []
    for (role, agency, level, course_id), got in await _arrays(
            reader, {"id": "e.id"}, f"enrolment e{where}", group="e.role, e.agency, e.level, e.course_id"):
        n = len(got["id"])
        ids.append(got["id"])
        course_ids.append(np.full(n, course_id, dtype="int64"))
        # Level: the enrolment's own, else its course's (kept as Python ints: a column of ints and
        # NULLs would turn into floats, and "2.0" into a breakdown group).
        roles.append([role] * n), agencies.append([agency] * n)
        levels.append([level if level is not None else level_of.get(course_id)] * n)
    flat = itertools.chain.from_iterable
    return pd.DataFrame({
        "id": np.concatenate(ids) if ids else np.array([], dtype="int64"),
        "course_id": np.concatenate(course_ids) if ids else np.array([], dtype="int64"),
        "role": pd.Series(list(flat(roles)), dtype="object"),
        "agency": pd.Series(list(flat(agencies)), dtype="object"),
        "level": pd.Series(list(flat(levels)), dtype="object"),
    })


async def report_data(
    session: AsyncSession, courses: list[CourseInfo], codebook: Codebook, *, all_courses: bool
) -> ReportData:
    """Read the answers once, the check-ins and enrolments once each, and the free text.

    `all_courses`: the selection is every course, so no join is needed to filter the answers.
    """
    item_ids = codebook.item_ids()
    waves = sorted({w for c in courses for w in c.waves}, key=wave_order)
    where = _course_filter(courses, all_courses)
    checkin_ids = "" if all_courses else (
        f" AND a.check_in_id IN (SELECT c.id FROM check_in c JOIN enrolment e ON e.id = c.enrolment_id{where})")
    from_checkins = "check_in c" if all_courses else f"check_in c JOIN enrolment e ON e.id = c.enrolment_id{where}"
    text_ids = sorted({i.id for i in codebook.where(kind="text")})
    free_text_sql = (
        f"SELECT a.check_in_id, COALESCE({_code('a.item_id', item_ids)}, -1), a.quiz_set_id, a.value FROM answer a "
        f"WHERE a.item_id IN ({', '.join(map(_lit, text_ids))}) AND a.value <> ''{checkin_ids}")

    async def the_rest(reader: _Reader) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        checkins = await _checkins(reader, waves, from_checkins)
        enrolments = await _enrolments(reader, courses, where)
        free_text = pd.DataFrame(columns=["check_in_id", "item", "quiz_set_id", "value"])
        if text_ids:
            free_text = pd.DataFrame.from_records([tuple(r) for r in await reader.fetch(free_text_sql)],
                                                  columns=["check_in_id", "item", "quiz_set_id", "value"])
        return checkins, enrolments, free_text

    async with _readers(session, 3) as (first, second, third):
        # The answers in two halves by id, each on its own connection, beside the other reads.
        low, high = (await first.fetch("SELECT min(id), max(id) FROM answer"))[0]
        middle = ((low or 0) + (high or 0)) // 2
        halves = [f"answer a WHERE a.id <= {middle}{checkin_ids}", f"answer a WHERE a.id > {middle}{checkin_ids}"]
        # A TaskGroup: if one read fails the others are cancelled before their connections close.
        async with asyncio.TaskGroup() as reads:
            one = reads.create_task(_answers(first, codebook, item_ids, halves[0]))
            two = reads.create_task(_answers(second, codebook, item_ids, halves[1]))
            rest = reads.create_task(the_rest(third))
    checkins, enrolments, free_text = rest.result()
    answers = pd.concat([one.result(), two.result()], ignore_index=True)
    return ReportData(answers, checkins, enrolments, free_text, item_ids, waves, list(STATES))
