"""Validation errors of a quiz set, each pointing at a file, line and column."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class QuizSetError:
    """One problem in a quiz set, formatted as `FILE:LINE:COL: item 'id': message`."""

    file: str
    line: int | None
    col: int | None
    item_id: str | None
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}:{self.col}"
        item = f"item '{self.item_id}': " if self.item_id else ""
        return f"{where}: {item}{self.message}"


class QuizSetInvalid(Exception):
    """A quiz set has one or more problems; `errors` lists all of them, in file order."""

    def __init__(self, errors: list[QuizSetError]) -> None:
        self.errors = errors
        super().__init__("\n".join(str(error) for error in errors))
