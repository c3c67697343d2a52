"""The board's organisational figures as a CSV file: reading it and every check a row must pass."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from surveys.domain.dates import DATE_HELP, parse_day

COLUMNS = ("period_start", "period_end", "measure", "value")
MEASURE_MAX = 120


class FiguresError(ValueError):
    """A figures file that cannot be stored: every problem, each naming its row."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


@dataclass(frozen=True)
class FigureRow:
    """One row of a figures file: a measure's value over a period (both days included)."""

    row: int  # as a spreadsheet numbers it: the header is row 1
    measure: str
    period_start: date
    period_end: date
    value: float

    @property
    def key(self) -> str:
        """The measure as compared (measure_key)."""
        return measure_key(self.measure)


def measure_key(measure: str) -> str:
    """A measure as compared: case and spacing folded, so one measure typed two ways stays one."""
    return " ".join(measure.split()).casefold()


def overlaps(a_start: date, a_end: date, b_start: date, b_end: date) -> bool:
    """Whether two periods (days included) share a day."""
    return a_start <= b_end and b_start <= a_end


def period_text(start: date, end: date) -> str:
    """A period as problems and listings name it."""
    return f"{start.isoformat()} to {end.isoformat()}"


def parse_figures(text: str) -> list[FigureRow]:
    """The rows of a figures CSV (header: period_start, period_end, measure, value; other columns ignored).

    FiguresError lists every problem with its row number: a missing column, a date that does not parse,
    an end before its start, a value that is not a non-negative number, a blank measure, and two rows
    of one measure whose periods overlap.
    """
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))  # Excel writes a byte-order mark
    header = next(reader, None)
    if header is None or not any(cell.strip() for cell in header):
        raise FiguresError([f"row 1: the file is empty; the first row must name the columns {', '.join(COLUMNS)}"])
    names = [cell.strip().casefold() for cell in header]
    missing = [c for c in COLUMNS if c not in names]
    if missing:
        plural = "s" if len(missing) > 1 else ""
        raise FiguresError([f"row 1: missing column{plural} {', '.join(missing)} (needs {', '.join(COLUMNS)})"])
    at = {c: names.index(c) for c in COLUMNS}
    rows: list[FigureRow] = []
    problems: list[str] = []
    for number, cells in enumerate(reader, start=2):
        if not any(cell.strip() for cell in cells):
            continue  # blank lines at the end of a spreadsheet export
        row, found = _row(number, cells, at)
        problems += found
        if row is not None:
            rows.append(row)
    problems += overlap_problems(rows)
    if not rows and not problems:
        problems.append("row 2: no figures under the header")
    if problems:
        raise FiguresError(sorted(problems, key=_row_number))
    return rows


def _row(number: int, cells: list[str], at: dict[str, int]) -> tuple[FigureRow | None, list[str]]:
    def cell(name: str) -> str:
        return cells[at[name]].strip() if at[name] < len(cells) else ""

    problems = []
    start, end = parse_day(cell("period_start")), parse_day(cell("period_end"))
    for name, day in (("period_start", start), ("period_end", end)):
        if day is None:
            problems.append(f"row {number}: {name} {cell(name)!r} is not a date (use {DATE_HELP})")
    if start and end and end < start:
        problems.append(f"row {number}: period_end {end.isoformat()} is before period_start {start.isoformat()}")
    measure = " ".join(cell("measure").split())
    if not measure:
        problems.append(f"row {number}: the measure is blank")
    elif len(measure) > MEASURE_MAX:
        problems.append(f"row {number}: the measure is longer than {MEASURE_MAX} characters")
    value = _number(cell("value"))
    if value is None:
        problems.append(f"row {number}: value {cell('value')!r} is not a number")
    elif value < 0:
        problems.append(f"row {number}: value {cell('value')} is negative (a count cannot be)")
    if problems:
        return None, problems
    assert start and end and value is not None
    return FigureRow(number, measure, start, end, value), []


def _number(text: str) -> float | None:
    # Thousands separators as spreadsheets show them ("1,204") are accepted; nothing else that is not a number.
    try:
        value = float(text.replace(",", ""))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def overlap_problems(rows: Iterable[FigureRow]) -> list[str]:
    """Two rows of one measure whose periods share a day: which one a report should show is unclear."""
    problems = []
    by_measure: dict[str, list[FigureRow]] = {}
    for row in rows:
        by_measure.setdefault(row.key, []).append(row)
    for same in by_measure.values():
        same.sort(key=lambda r: (r.period_start, r.period_end, r.row))
        for i, a in enumerate(same):
            for b in same[i + 1 :]:
                if b.period_start > a.period_end:
                    break
                first, second = sorted((a, b), key=lambda r: r.row)
                problems.append(
                    f"row {second.row}: {second.measure!r} {period_text(second.period_start, second.period_end)} "
                    f"overlaps row {first.row} ({period_text(first.period_start, first.period_end)})"
                )
    return problems


def _row_number(problem: str) -> int:
    return int(problem.split(":", 1)[0].removeprefix("row "))
