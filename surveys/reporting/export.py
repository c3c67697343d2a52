"""Evaluators' exports: long (one row per answer) or wide (one row per person × wave), with a codebook.

Only the columns listed here ever leave the database: no chat id, username, name or token.
"""

from __future__ import annotations

import csv
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from surveys.clock import system_clock
from surveys.domain import commitments
from surveys.domain.engine import Conversation
from surveys.domain.quiz_text import RenderContext
from surveys.domain.quizset import CommitmentsItem
from surveys.domain.states import CheckInState
from surveys.domain.waves import months
from surveys.domain.waves import order_key as wave_order
from surveys.reporting.codebook import (
    NOT_ASKED,
    NOT_ASKED_LABEL,
    Codebook,
    CourseInfo,
    SelectionError,
    Variable,
    load_codebook,
    select_courses,
    selection_label,
    spss_name,
)
from surveys.reporting.report.data import checkin_frame
from surveys.store.audit import SYSTEM, AuditActor, record
from surveys.store.models import Answer, CheckIn, Course, Enrolment

Format = Literal["csv", "xlsx", "sav"]
Shape = Literal["long", "wide"]
Progress = Callable[[str, int], None]
"""Called with a stage name and the rows written so far."""

LONG_COLUMNS = (
    "pseudonym",
    "course",
    "level",
    "role",
    "agency",
    "wave",
    "language",
    "item_id",
    "quiz_set",
    "construct",
    "value",
    "score",
    "answered_at",
)
ID_COLUMNS = ("pseudonym", "course", "level", "role", "agency", "wave", "quiz_set", "completed")  # not a check-in state
COLUMN_LABELS = {
    "pseudonym": "Random pseudonym of the practitioner",
    "course": "Course code",
    "level": "Audience level (1-6)",
    "role": "Role",
    "agency": "Agency",
    "wave": "Wave (pre, post, 3m, 6m ...)",
    "language": "Language of the check-in (cy Welsh, en English): its enrolment's language at the time of export",
    "item_id": "Item id, or a part of a commitments/review item such as commit.2 or review.1.barrier (see codebook)",
    "quiz_set": "Quiz-set version (slug@version)",
    "construct": "Attitude construct of the item",
    "value": (
        "Answer as stored (option code, true/false, yes/no, number, commitment status or scrubbed text; "
        "empty when skipped)"
    ),
    "score": "Score: 1/0 for knowledge items, 1-5 for Likert with reverse-worded items flipped",
    "answered_at": "When answered (ISO 8601, UTC)",
    "completed": "Check-in completed (1) or left part-way (0)",  # not a check-in state: a column
    "knowledge_pct": "Knowledge: % of the knowledge items answered at this wave that were right",
    "knowledge_core_pct": "Knowledge on the items asked at every wave (comparable across waves), %",
}
# SPSS measure level of each fixed column; items and construct means are set in _measure.
MEASURES = {
    "level": "ordinal",
    "wave": "ordinal",
    "score": "scale",
    "knowledge_pct": "scale",
    "knowledge_core_pct": "scale",
}
ITEM_MEASURES = {"likert": "ordinal", "number": "scale"}
XLSX_MAX_ROWS = 1_048_575
CHUNK = 20_000


class ExportError(ValueError):
    """The export cannot be made as asked; the message says why."""


def _noop(_stage: str, _rows: int) -> None:
    return None


async def export(
    session: AsyncSession,
    courses: list[str] | None,
    fmt: Format,
    shape: Shape,
    out: Path,
    progress: Progress | None = None,
    *,
    actor: AuditActor = SYSTEM,
    now: datetime | None = None,
) -> int:
    """Write the export (and its codebook) for the selected courses, audited; returns the data rows written."""
    if fmt not in ("csv", "xlsx", "sav"):
        raise ExportError(f"unknown format {fmt!r}: use csv, xlsx or sav")
    if shape not in ("long", "wide"):
        raise ExportError(f"unknown shape {shape!r}: use long or wide")
    progress = progress or _noop
    selected = await select_courses(session, courses)
    await record(
        session,
        actor,
        "export",
        now=now or system_clock(),
        detail=f"{fmt} {shape}",
        target=selection_label(selected, courses),
    )
    codebook = await load_codebook(session, selected)
    total = await _count_answers(session, selected)
    if total == 0:
        raise SelectionError(f"no answers yet in {', '.join(c.code for c in selected)}: nothing to export")
    out.parent.mkdir(parents=True, exist_ok=True)
    if shape == "long":
        if fmt == "csv":
            return await _long_csv(session, selected, codebook, out, progress)
        if fmt == "xlsx" and total > XLSX_MAX_ROWS:
            raise ExportError(f"{total:,} answers do not fit an Excel sheet: use --format csv or --shape wide")
        frame = await long_frame(session, selected, codebook, progress)
    else:
        frame = await wide_frame(session, selected, codebook)
        progress("wide", len(frame))
    if fmt == "csv":
        frame.to_csv(out, index=False)
        codebook_frame(codebook, list(frame.columns)).to_csv(codebook_path(out), index=False)
    elif fmt == "xlsx":
        _write_xlsx(frame, codebook_frame(codebook, list(frame.columns)), out)
    else:
        _write_sav(frame, codebook, shape, out)
    progress("written", len(frame))
    return len(frame)


def codebook_path(out: Path) -> Path:
    """Where a CSV export's codebook goes: beside it, `<name>_codebook.csv`."""
    return out.with_name(f"{out.stem}_codebook.csv")


def _long_query(courses: list[CourseInfo]) -> Any:
    return (
        select(
            Enrolment.pseudonym,
            Course.code,
            func.coalesce(Enrolment.level, Course.level),
            Enrolment.role,
            Enrolment.agency,
            CheckIn.wave,
            Enrolment.language,
            Answer.item_id,
            Answer.quiz_set_id,
            Answer.value,
            Answer.score,
            Answer.answered_at,
        )
        .join(CheckIn, CheckIn.id == Answer.check_in_id)
        .join(Enrolment, Enrolment.id == CheckIn.enrolment_id)
        .join(Course, Course.id == Enrolment.course_id)
        .where(Enrolment.course_id.in_([c.id for c in courses]))
        .order_by(Course.code, Enrolment.pseudonym, CheckIn.due_at, Answer.id)
    )


async def _count_answers(session: AsyncSession, courses: list[CourseInfo]) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(Answer)
            .join(CheckIn, CheckIn.id == Answer.check_in_id)
            .join(Enrolment, Enrolment.id == CheckIn.enrolment_id)
            .where(Enrolment.course_id.in_([c.id for c in courses]))
        )
        or 0
    )


async def long_rows(
    session: AsyncSession, courses: list[CourseInfo], codebook: Codebook
) -> AsyncIterator[list[tuple[Any, ...]]]:
    """The long export in chunks of rows (a server-side stream; never all answers at once)."""
    constructs = {(i.quiz_set_id, i.id): i.construct or "" for i in codebook.items}
    refs = codebook.quiz_sets
    result = await session.stream(_long_query(courses).execution_options(yield_per=CHUNK))
    async for chunk in result.partitions(CHUNK):
        yield [
            (
                p,
                code,
                level,
                role or "",
                agency or "",
                wave,
                spoken,
                item_id,
                refs.get(qs, str(qs)),
                constructs.get((qs, item_id), ""),
                value,
                "" if score is None else _number(score),
                at.isoformat(timespec="seconds"),
            )
            for p, code, level, role, agency, wave, spoken, item_id, qs, value, score, at in chunk
        ]


def _number(score: float) -> int | float:
    # 1.0 → 1 so the CSV reads as the codebook describes it.
    return int(score) if float(score).is_integer() else score


async def _long_csv(
    session: AsyncSession, courses: list[CourseInfo], codebook: Codebook, out: Path, progress: Progress
) -> int:
    written = 0
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(LONG_COLUMNS)
        async for rows in long_rows(session, courses, codebook):
            writer.writerows(rows)
            written += len(rows)
            progress("answers", written)
    codebook_frame(codebook, list(LONG_COLUMNS)).to_csv(codebook_path(out), index=False)
    return written


async def long_frame(
    session: AsyncSession, courses: list[CourseInfo], codebook: Codebook, progress: Progress = _noop
) -> pd.DataFrame:
    """The long export as a DataFrame (xlsx and sav need it whole)."""
    parts = []
    async for rows in long_rows(session, courses, codebook):
        parts.append(pd.DataFrame.from_records(rows, columns=list(LONG_COLUMNS)))
        progress("answers", sum(len(p) for p in parts))
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(LONG_COLUMNS))
    frame["score"] = pd.to_numeric(frame["score"].replace("", None), errors="coerce")
    return frame


async def wide_frame(session: AsyncSession, courses: list[CourseInfo], codebook: Codebook) -> pd.DataFrame:
    """One row per pseudonym × wave answered: a column per item, then knowledge % and construct means."""
    checkins = await checkin_frame(session, courses, codebook)
    result = await session.execute(
        select(Answer.check_in_id, Answer.item_id, Answer.value)
        .join(CheckIn, CheckIn.id == Answer.check_in_id)
        .join(Enrolment, Enrolment.id == CheckIn.enrolment_id)
        .where(Enrolment.course_id.in_([c.id for c in courses]))
    )
    answers = pd.DataFrame.from_records(result.all(), columns=["check_in_id", "item_id", "value"])
    values = answers.pivot(index="check_in_id", columns="item_id", values="value")
    items = [i for i in codebook.variable_ids() if i in values.columns or _may_be_unasked(codebook, i)]
    values = values.reindex(columns=items).astype(object)
    if codebook.branched:
        _mark_not_asked(values, answers, checkins, codebook, {c.code: c.quiz_set_id for c in courses})
    refs = {c.code: codebook.quiz_sets[c.quiz_set_id] for c in courses}
    ids = checkins.assign(
        role=checkins["role"].fillna(""),
        agency=checkins["agency"].fillna(""),
        quiz_set=checkins["course"].map(refs),
        completed=(checkins["state"] == CheckInState.COMPLETED).astype(int),
    )
    wide = ids.set_index("check_in_id")[list(ID_COLUMNS)].join(values[items])
    scores = ["knowledge_pct", "knowledge_core_pct", *codebook.constructs]
    wide = wide.join(checkins.set_index("check_in_id")[scores])
    wide["_order"] = wide["wave"].map(wave_order)
    return wide.sort_values(["course", "pseudonym", "_order"]).drop(columns="_order").reset_index(drop=True)


def _may_be_unasked(codebook: Codebook, variable_id: str) -> bool:
    return codebook.branched and any(i.branched for i in codebook.items if i.id == variable_id)


def _mark_not_asked(
    values: pd.DataFrame, answers: pd.DataFrame, checkins: pd.DataFrame, codebook: Codebook, quiz_of: dict[str, int]
) -> None:
    """Write NOT_ASKED where a branch left an item out, working it out with the engine (surveys.domain.engine).

    A person's commitments come from their other check-ins (what a review shows back). Only items the
    answers already decide are marked: a check-in left part-way keeps the rest empty (not reached).
    """
    by_check_in = {cid: dict(zip(g["item_id"], g["value"], strict=True)) for cid, g in answers.groupby("check_in_id")}
    own_rows: dict[int, dict[str, str]] = {}
    for cid, enrolment in zip(checkins["check_in_id"], checkins["enrolment_id"], strict=True):
        own_rows.setdefault(int(enrolment), {}).update(by_check_in.get(cid, {}))
    columns = zip(checkins["check_in_id"], checkins["enrolment_id"], checkins["wave"], checkins["course"], strict=True)
    for cid, enrolment, wave, course in columns:
        quiz = codebook.quizzes.get(quiz_of.get(course, -1))
        if quiz is None or cid not in values.index or wave not in quiz.waves:
            continue
        rows = own_rows.get(int(enrolment), {})
        own = {
            item.id: commitments.commitments_from(rows, item.id)
            for item in quiz.items
            if isinstance(item, CommitmentsItem)
        }
        conversation = Conversation(quiz, wave, RenderContext("", wave, months(wave)), by_check_in.get(cid, {}), own)
        for item_id, shown in conversation.visibility().items():
            if shown is False and item_id in values.columns:
                values.at[cid, item_id] = NOT_ASKED


def _labels(values: dict[str, str]) -> str:
    return "; ".join(f"{k}={v}" for k, v in values.items())


def codebook_frame(codebook: Codebook, columns: list[str]) -> pd.DataFrame:
    """One row per column of the export and per item: texts, options, coding and reverse flags."""
    rows = []
    for column in columns:
        if column in COLUMN_LABELS or column in codebook.constructs:
            label = COLUMN_LABELS.get(column) or f"Mean of the {column} items (1-5, reverse-worded items flipped)"
            rows.append({"variable": column, "spss_name": spss_name(column), "label": label})
    for variable in _every_variable(codebook):
        item = variable.item
        own = variable.id == item.id
        coding = (
            f"1 if {item.correct} else 0"
            if item.scored
            else (
                "1-5; score = 6 - value (reverse-worded)"
                if item.reverse
                else ("1-5" if item.kind == "likert" else "not scored")
            )
        )
        labels = dict(variable.value_labels)
        if item.branched and own:
            labels[NOT_ASKED] = NOT_ASKED_LABEL
        rows.append(
            {
                "variable": variable.id,
                "spss_name": spss_name(variable.id),
                "label": variable.label,
                "quiz_set": item.quiz_set,
                "kind": variable.kind,
                "waves": ",".join(item.waves),
                "tags": ",".join(item.tags),
                "construct": item.construct or "",
                "reverse": item.reverse,
                "scored": item.scored and own,
                "correct": (item.correct or "") if own else "",
                "values": _labels(labels),
                "coding": coding if own else "not scored",
            }
        )
    return pd.DataFrame(rows)


def _every_variable(codebook: Codebook) -> list[Variable]:
    """Each variable of each stored version (a codebook row per version, as items always had)."""
    out: list[Variable] = []
    for item in codebook.items:
        if item.kind == "commitment_reminder":
            continue
        out += [Variable(p.id, item, p.kind, p.label, p.value_labels) for p in item.parts]
        closing = Codebook((item,), codebook.quiz_sets, codebook.feedback).variables()
        out += [v for v in closing if v.id == item.id]
    return out


def _write_xlsx(frame: pd.DataFrame, codebook: pd.DataFrame, out: Path) -> None:
    from openpyxl import Workbook

    # write_only streams rows to disk instead of building every cell object first.
    book = Workbook(write_only=True)
    for title, table in (("data", frame), ("codebook", codebook)):
        sheet = book.create_sheet(title)
        sheet.append([str(c) for c in table.columns])
        for row in table.itertuples(index=False, name=None):
            sheet.append([None if _missing(v) else v for v in row])
    book.save(out)


def _missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _write_sav(frame: pd.DataFrame, codebook: Codebook, shape: Shape, out: Path) -> None:
    import pyreadstat

    names = {c: spss_name(str(c)) for c in frame.columns}
    labels: dict[str, str] = {}
    value_labels: dict[str, dict[Any, str]] = {}
    missing: dict[str, list[Any]] = {}
    variables = {v.id: v for v in codebook.variables()} if shape == "wide" else {}
    data = frame.copy()
    for column in frame.columns:
        name = names[column]
        if column in COLUMN_LABELS:
            labels[name] = COLUMN_LABELS[column]
        elif column in codebook.constructs:
            labels[name] = f"Mean of the {column} items (1-5, reverse-worded items flipped)"
        elif shape == "wide" and column in variables:
            variable = variables[str(column)]
            item = variable.item
            labels[name] = f"{variable.id}: {variable.label}"[:255]
            if variable.kind in ("likert", "number"):
                # Numeric in SPSS so means and value labels work as analysts expect; NOT_ASKED stays a code.
                data[column] = pd.to_numeric(data[column], errors="coerce")
                numeric = {float(k): v for k, v in variable.value_labels.items()} if variable.kind == "likert" else {}
                if item.branched:
                    numeric[float(NOT_ASKED)] = NOT_ASKED_LABEL
                    missing[name] = [float(NOT_ASKED)]
                if numeric:
                    value_labels[name] = numeric
            elif variable.value_labels or item.branched:
                value_labels[name] = dict(variable.value_labels)
                if item.branched and variable.id == item.id:
                    value_labels[name][NOT_ASKED] = NOT_ASKED_LABEL
    if shape == "wide":
        value_labels[names["completed"]] = {1.0: "completed", 0.0: "left part-way"}  # not a check-in state: labels
    for column in data.columns:
        if data[column].dtype == object or str(data[column].dtype).startswith("str"):
            data[column] = data[column].astype(object).where(data[column].notna(), "").astype(str)
    data = data.rename(columns=names)
    measures = {names[c]: _measure(str(c), codebook, shape) for c in frame.columns}
    pyreadstat.write_sav(
        data,
        str(out),
        column_labels=labels,
        variable_value_labels=value_labels,
        variable_measure=measures,
        missing_ranges=missing or None,
    )


def _measure(column: str, codebook: Codebook, shape: Shape) -> str:
    """SPSS measure level: scale for scores and means, ordinal for levels, waves and Likert items, else nominal."""
    if column in MEASURES:
        return MEASURES[column]
    if column in codebook.constructs:
        return "scale"
    if shape == "wide" and column in codebook.variable_ids():
        return ITEM_MEASURES.get(next(v.kind for v in codebook.variables() if v.id == column), "nominal")
    return "nominal"
