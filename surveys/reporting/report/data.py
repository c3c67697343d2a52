"""The report's reads: the answers once as numbers (report_data), and checkin_frame for the wide export."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import ColumnElement, Integer, Select, Text, and_, case, cast, false, func, literal, null, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.pool import QueuePool

from surveys.domain import states as check_in_states
from surveys.domain.waves import order_key as wave_order
from surveys.reporting.codebook import Codebook, CourseInfo, ItemInfo
from surveys.store.models import Answer, CheckIn, Course, Enrolment


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
    # A skipped item has no score and counts as not answered (surveys.domain.scoring, the reference).
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
# the database — SQLAlchemy's aggregate_strings: group_concat on SQLite, string_agg on PostgreSQL — a
# comma-separated string numpy parses in C, and every table is then reduced with numpy. On SQLite
# the whole scan runs inside one sqlite3_step, outside the GIL. Each answer travels as one integer
# packing its item, quiz-set slot, yes/no and score; check-ins and their states come from covering
# indexes, so the wide check_in rows are never read. Statements are SQLAlchemy Core with bound
# parameters, run on the engine's own connections.

WAVE_CODE_OTHER = -1
STATES = [str(s) for s in check_in_states.ALL]
# What an answer's value gave, as one code: a stored score s in 0..6 as s + 1 (item_score gives 0, 1
# or 1-5); without a score (yes/no, number and text items), YES, NO or 0; any other score ODD_SCORE,
# which makes the read fetch the scores as they are stored.
SCORE_CODES, YES, NO, ODD_SCORE = 16, 9, 10, 15
PACKED_SCORES = range(7)
# The reads that may run side by side: two halves of the answers and the rest.
READERS = 3


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


def _code(column: ColumnElement[Any], values: list[Any], other: int | None = None) -> ColumnElement[Any]:
    """SQL mapping each value of `column` to its index in `values` (`other` for anything else)."""
    if not values:
        return literal(other) if other is not None else null()
    return case({v: i for i, v in enumerate(values)}, value=column, else_=other)


def _joined(expression: ColumnElement[Any]) -> ColumnElement[str]:
    """Every row's value of `expression` as one comma-separated string."""
    # string_agg measured ~35% faster than array_agg on PostgreSQL (0.08 against 0.14 s for 1M ids).
    return func.aggregate_strings(cast(expression, Text), ",")


async def _arrays(
    connection: AsyncConnection,
    exprs: dict[str, ColumnElement[Any]],
    rows: Select[Any],
    dtype: str = "int64",
    group: tuple[ColumnElement[Any], ...] = (),
) -> list[tuple[Any, dict[str, np.ndarray]]]:
    """Each expression (never NULL) over `rows` (a select of no columns yet) as one numpy array, per `group`.

    One aggregate per column in the database, so no Python object is made per row. Without
    `group` the list has one entry, keyed None.
    """
    stmt = rows.add_columns(*group, func.count(), *(_joined(e) for e in exprs.values())).group_by(*group)
    keys = len(group)
    out = []
    for row in (await connection.execute(stmt)).all():
        key, n, values = tuple(row[:keys]) if group else None, row[keys], row[keys + 1 :]
        arrays = {}
        for name, value in zip(exprs, values, strict=False):
            array = np.array([], dtype=dtype) if value is None else np.fromstring(value, dtype=dtype, sep=",")
            if len(array) != n:  # a NULL slipped through (the aggregate skips them): never guess
                raise RuntimeError(f"report read: {name} gave {len(array)} values for {n} rows")
            arrays[name] = array
        out.append((key, arrays))
    return out or ([] if group else [(None, {name: np.array([], dtype=dtype) for name in exprs})])


def _packed(codebook: Codebook, item_ids: list[str]) -> tuple[ColumnElement[int], list[int]]:
    """One integer per answer: (item index × slots + quiz-set slot) × SCORE_CODES + the value's code.

    An item or quiz set outside the codebook gets the last index. Also the quiz sets, in slot order.
    """
    sets = sorted(codebook.quiz_sets)
    slots = len(sets) + 1
    item = _code(Answer.item_id, item_ids, other=len(item_ids))
    quiz_set = _code(Answer.quiz_set_id, sets, other=len(sets)) if len(sets) > 1 else literal(0)
    # The value is compared only where no score is stored: yes/no items are never scored.
    value = case(
        (Answer.score.is_(None), case({"yes": YES, "no": NO}, value=Answer.value, else_=0)),
        (Answer.score.in_(list(PACKED_SCORES)), cast(Answer.score, Integer) + 1),
        else_=ODD_SCORE,
    )
    return (item * slots + quiz_set) * SCORE_CODES + value, sets


async def _answers(
    connection: AsyncConnection, codebook: Codebook, item_ids: list[str], rows: Select[Any]
) -> pd.DataFrame:
    """One packed integer per answer of `rows`, unpacked with numpy: check-in, item, quiz-set, yes/no, score."""
    packed_sql, sets = _packed(codebook, item_ids)
    slots = len(sets) + 1
    exprs = {"check_in_id": Answer.check_in_id, "packed": packed_sql}
    ((_, got),) = await _arrays(connection, exprs, rows)
    packed = got["packed"]
    code = packed % SCORE_CODES
    score = np.where(code <= 7, np.maximum(code - 1, 0), 0).astype("float64")
    if (code == ODD_SCORE).any():
        # Scores the packing cannot carry: read again with the stored scores in the SAME statement
        # (one snapshot, one row order), as floats (every packed value is far below 2**53).
        ((_, exact),) = await _arrays(
            connection, {**exprs, "score": func.coalesce(Answer.score, 0)}, rows, dtype="float64"
        )
        got = {"check_in_id": exact["check_in_id"].astype("int64"), "packed": exact["packed"].astype("int64")}
        packed, score = got["packed"], exact["score"]
        code = packed % SCORE_CODES
    answers = pd.DataFrame(
        {
            "check_in_id": got["check_in_id"],
            "has_score": ((code > 0) & (code <= 7)) | (code == ODD_SCORE),
            "score": score,
            "yn": np.select([code == YES, code == NO], [2, 1], 0),
        }
    )
    rest = packed // SCORE_CODES
    slot = rest % slots
    item_code = rest // slots
    answers["item"] = np.where(item_code < len(item_ids), item_code, -1)
    answers["quiz_set_id"] = np.array([*sets, -1], dtype="int64")[slot]
    return answers


async def _checkins(connection: AsyncConnection, waves: list[str], rows: Select[Any]) -> pd.DataFrame:
    """Id, enrolment, wave code and state code of every check-in, from two covering indexes."""
    ((_, got),) = await _arrays(
        connection,
        {
            "id": CheckIn.id,
            "enrolment_id": CheckIn.enrolment_id,
            "wave": _code(CheckIn.wave, waves, other=WAVE_CODE_OTHER),
        },
        rows,
    )
    # The state alone, through ix_check_in_state_* (state + id): matched to the rows above by id.
    ((_, by_state),) = await _arrays(
        connection, {"id": CheckIn.id, "state": _code(CheckIn.state, STATES, other=len(STATES))}, rows
    )
    # Two statements, two snapshots: a check-in deleted in between (a /delete) has no state here
    # and counts as "other", never as its neighbour's.
    ids = np.sort(by_state["id"])
    states = by_state["state"][np.argsort(by_state["id"], kind="stable")]
    where = np.minimum(np.searchsorted(ids, got["id"]), max(len(ids) - 1, 0))
    found = (ids[where] == got["id"]) if len(ids) else np.zeros(len(got["id"]), dtype=bool)
    got["state"] = np.where(found, states[where] if len(ids) else 0, len(STATES))
    return pd.DataFrame(got)


async def _enrolments(connection: AsyncConnection, courses: list[CourseInfo], rows: Select[Any]) -> pd.DataFrame:
    """Id, course, role, agency and level of every enrolment: grouped by who they are, ids aggregated."""
    level_of = {c.id: c.level for c in courses}
    ids, course_ids, roles, agencies, levels = [], [], [], [], []
    group = (Enrolment.role, Enrolment.agency, Enrolment.level, Enrolment.course_id)
    for (role, agency, level, course_id), got in await _arrays(connection, {"id": Enrolment.id}, rows, group=group):
        n = len(got["id"])
        ids.append(got["id"])
        course_ids.append(np.full(n, course_id, dtype="int64"))
        # Level: the enrolment's own, else its course's (kept as Python ints: a column of ints and
        # NULLs would turn into floats, and "2.0" into a breakdown group).
        roles.append([role] * n), agencies.append([agency] * n)
        levels.append([level if level is not None else level_of.get(course_id)] * n)
    flat = itertools.chain.from_iterable
    return pd.DataFrame(
        {
            "id": np.concatenate(ids) if ids else np.array([], dtype="int64"),
            "course_id": np.concatenate(course_ids) if ids else np.array([], dtype="int64"),
            "role": pd.Series(list(flat(roles)), dtype="object"),
            "agency": pd.Series(list(flat(agencies)), dtype="object"),
            "level": pd.Series(list(flat(levels)), dtype="object"),
        }
    )


async def _free_text(
    connection: AsyncConnection, codebook: Codebook, item_ids: list[str], selected: list[ColumnElement[bool]]
) -> pd.DataFrame:
    """The non-empty answers to text items: check-in, item index, quiz set, value."""
    columns = ["check_in_id", "item", "quiz_set_id", "value"]
    text_ids = sorted({i.id for i in codebook.where(kind="text")})
    if not text_ids:
        return pd.DataFrame(columns=columns)
    stmt = select(
        Answer.check_in_id, _code(Answer.item_id, item_ids, other=-1), Answer.quiz_set_id, Answer.value
    ).where(Answer.item_id.in_(text_ids), Answer.value != "", *selected)
    return pd.DataFrame.from_records([tuple(r) for r in (await connection.execute(stmt)).all()], columns=columns)


@asynccontextmanager
async def _connections(session: AsyncSession, n: int) -> AsyncIterator[list[AsyncConnection]]:
    """The session's connection and up to n - 1 more from the same engine's pool, so reads run side by side.

    Only connections the pool has idle are taken, so the report never waits on (or starves) the
    pool: on SQLite the engine keeps one connection per process (surveys.store.db), and the reads then
    run one after another on it. On PostgreSQL each read is a server process: two at once use both
    cores. Each statement sees its own snapshot either way (PostgreSQL reads at READ COMMITTED;
    the report reads nothing it wrote), so nothing is lost by splitting.
    """
    own = await session.connection()
    pool = own.engine.pool
    spare = pool.size() - pool.checkedout() if isinstance(pool, QueuePool) else 0
    async with AsyncExitStack() as stack:
        extra = [await stack.enter_async_context(own.engine.connect()) for _ in range(max(0, min(n - 1, spare)))]
        yield [own, *extra]


async def _side_by_side(
    connections: list[AsyncConnection], reads: list[Callable[[AsyncConnection], Awaitable[Any]]]
) -> list[Any]:
    """Run each read on a connection of its own where there is one, in turn on a shared one where not."""
    results: list[Any] = [None] * len(reads)

    async def in_turn(connection: AsyncConnection, mine: list[int]) -> None:
        for i in mine:
            results[i] = await reads[i](connection)

    # A TaskGroup: if one read fails the others are cancelled before their connections close.
    async with asyncio.TaskGroup() as group:
        for k, connection in enumerate(connections):
            group.create_task(in_turn(connection, list(range(k, len(reads), len(connections)))))
    return results


async def report_data(
    session: AsyncSession, courses: list[CourseInfo], codebook: Codebook, *, all_courses: bool
) -> ReportData:
    """Read the answers once, the check-ins and enrolments once each, and the free text.

    `all_courses`: the selection is every course, so no join is needed to filter the answers.
    """
    item_ids = codebook.item_ids()
    waves = sorted({w for c in courses for w in c.waves}, key=wave_order)
    in_courses = [] if all_courses else [Enrolment.course_id.in_(_course_ids(courses))]
    selected = (
        []
        if all_courses
        else [
            Answer.check_in_id.in_(
                select(CheckIn.id).join(Enrolment, Enrolment.id == CheckIn.enrolment_id).where(*in_courses)
            )
        ]
    )
    checkin_rows = select().select_from(CheckIn)
    if not all_courses:
        checkin_rows = checkin_rows.join(Enrolment, Enrolment.id == CheckIn.enrolment_id).where(*in_courses)

    async def the_rest(connection: AsyncConnection) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        return (
            await _checkins(connection, waves, checkin_rows),
            await _enrolments(connection, courses, select().select_from(Enrolment).where(*in_courses)),
            await _free_text(connection, codebook, item_ids, selected),
        )

    async with _connections(session, READERS) as connections:
        # The answers in two halves by id, each on its own connection where the pool has one.
        low, high = (await connections[0].execute(select(func.min(Answer.id), func.max(Answer.id)))).one()
        middle = ((low or 0) + (high or 0)) // 2
        halves = [
            select().select_from(Answer).where(Answer.id <= middle, *selected),
            select().select_from(Answer).where(Answer.id > middle, *selected),
        ]
        first, second, rest = await _side_by_side(
            connections,
            [
                lambda c: _answers(c, codebook, item_ids, halves[0]),
                lambda c: _answers(c, codebook, item_ids, halves[1]),
                the_rest,
            ],
        )
    checkins, enrolments, free_text = rest
    answers = pd.concat([first, second], ignore_index=True)
    return ReportData(answers, checkins, enrolments, free_text, item_ids, waves, list(STATES))
