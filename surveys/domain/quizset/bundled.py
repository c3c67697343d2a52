"""Find the quiz sets shipped with the package (surveys/quizsets/*.yaml)."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def bundled_quiz_sets() -> list[Path]:
    """The bundled quiz-set files, sorted by name."""
    folder = Path(str(files("surveys").joinpath("quizsets")))
    return sorted(folder.glob("*.yaml"))


def bundled_quiz_set(slug: str) -> Path | None:
    """The bundled file for a slug, or None if no such set ships with the package."""
    return next((path for path in bundled_quiz_sets() if path.stem == slug), None)
