"""Course registers (CSV): checked in full before anything is made from them."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from surveys import language
from surveys.domain.levels import LevelError, parse_level
from surveys.domain.names import match

REQUIRED_COLUMNS = ("role", "agency")
OPTIONAL_COLUMNS = ("level", "language")
MAX_ROWS = 5000


@dataclass(frozen=True)
class RegisterProblem:
    """One problem in a register, with its row number as a spreadsheet shows it."""

    row: int | None
    message: str

    def __str__(self) -> str:
        return f"row {self.row}: {self.message}" if self.row else self.message


class RegisterInvalid(ValueError):
    """The register has problems; `problems` lists all of them."""

    def __init__(self, filename: str, problems: list[RegisterProblem]) -> None:
        self.filename = filename
        self.problems = problems
        super().__init__("\n".join(f"{filename}: {p}" for p in problems))


@dataclass(frozen=True)
class Attendee:
    """One register row: what is stored (role, agency, level) and what is only echoed back."""

    row: int
    role: str
    agency: str
    level: int | None
    language: str | None = None  # en or cy: this person's check-ins start in it, with no choice to make
    # Identifying columns (name, e-mail …) go to the mail-merge output only, never the database.
    echo: dict[str, str] = field(default_factory=dict)


def _decode(data: bytes, filename: str) -> str:
    try:
        # utf-8-sig: Excel's "CSV UTF-8" starts with a byte-order mark.
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RegisterInvalid(
            filename,
            [RegisterProblem(None, f"the file is not UTF-8 text (byte {exc.start}); save it as 'CSV UTF-8'")],
        ) from None


def parse_register(
    data: bytes,
    filename: str,
    *,
    roles: tuple[str, ...],
    agencies: tuple[str, ...],
) -> list[Attendee]:
    """Parse a register; RegisterInvalid lists every problem (with row numbers) at once."""
    text = _decode(data, filename)
    if not text.strip():
        raise RegisterInvalid(filename, [RegisterProblem(None, "the file is empty")])
    try:
        dialect = csv.Sniffer().sniff(text.splitlines()[0], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    header = [(h or "").strip().lower() for h in reader.fieldnames or []]
    reader.fieldnames = header
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise RegisterInvalid(
            filename,
            [
                RegisterProblem(
                    1,
                    f"missing column(s) {', '.join(missing)}; "
                    f"the header has {', '.join(h for h in header if h) or 'nothing'}",
                )
            ],
        )
    problems: list[RegisterProblem] = []
    attendees: list[Attendee] = []
    seen: dict[object, int] = {}
    # The same person twice is what officers mean by a duplicate: by e-mail, else by name.
    identity = next((c for c in ("email", "e-mail", "name") if c in header), None)
    for number, row in enumerate(reader, start=2):  # row 1 is the header
        if None in row:
            problems.append(RegisterProblem(number, "more cells than the header has columns"))
            continue
        cells = {k: (v or "").strip() for k, v in row.items() if k}
        if not any(cells.values()):
            continue  # blank lines at the end of a spreadsheet export
        role = match(cells.get("role", ""), roles)
        agency = match(cells.get("agency", ""), agencies)
        if role is None:
            problems.append(
                RegisterProblem(number, f"unknown role {cells.get('role', '')!r}; use one of: {', '.join(roles)}")
            )
        if agency is None:
            problems.append(
                RegisterProblem(
                    number, f"unknown agency {cells.get('agency', '')!r}; use one of: {', '.join(agencies)}"
                )
            )
        level: int | None = None
        if cells.get("level"):
            try:
                level = parse_level(cells["level"])
            except LevelError as exc:
                problems.append(RegisterProblem(number, str(exc)))
        chosen: str | None = None
        if cells.get("language"):
            try:
                chosen = language.parse(cells["language"])
            except language.LanguageError as exc:
                problems.append(RegisterProblem(number, f"language: {exc}"))
        key = cells[identity].lower() if identity and cells.get(identity) else tuple(sorted(cells.items()))
        if key in seen:
            problems.append(RegisterProblem(number, f"duplicate of row {seen[key]}"))
        seen.setdefault(key, number)
        echo = {k: v for k, v in cells.items() if k not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS}
        if role and agency:
            attendees.append(Attendee(number, role, agency, level, chosen, echo))
    if not attendees and not problems:
        problems.append(RegisterProblem(None, "the register has a header but no attendees"))
    if len(attendees) > MAX_ROWS:
        problems.append(RegisterProblem(None, f"more than {MAX_ROWS} attendees; split the register"))
    if problems:
        raise RegisterInvalid(filename, problems)
    return attendees


def read_register(path: Path, *, roles: tuple[str, ...], agencies: tuple[str, ...]) -> list[Attendee]:
    """Read and parse a register file."""
    return parse_register(path.read_bytes(), str(path), roles=roles, agencies=agencies)
