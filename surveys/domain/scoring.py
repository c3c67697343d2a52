"""Score stored answers: knowledge percentage and attitude-construct means (pure)."""

from __future__ import annotations

from collections.abc import Mapping

from surveys.domain.quizset import LikertItem, QuizSet
from surveys.domain.quizset.models import Item

LIKERT_VALUES = ("1", "2", "3", "4", "5")
SKIPPED = ""
"""How a skipped item is stored (no score): it counts as not answered, in every score."""


def item_score(item: Item, value: str) -> float | None:
    """Score of one stored value: 1/0 for knowledge items, 1–5 for Likert (6 − x when reversed), else None."""
    if item.scored:
        return 1.0 if value == item.correct_value else 0.0
    if isinstance(item, LikertItem) and value in LIKERT_VALUES:
        point = int(value)
        return float(6 - point if item.reverse else point)
    return None


def knowledge_percent(quiz: QuizSet, answers: Mapping[str, str]) -> float | None:
    """Percentage of answered (not skipped) knowledge items answered correctly; None when none was answered."""
    scores = [
        item_score(item, answers[item.id])
        for item in quiz.items
        if item.scored and answers.get(item.id, SKIPPED) != SKIPPED
    ]
    if not scores:
        return None
    return 100.0 * sum(s for s in scores if s is not None) / len(scores)


def construct_means(quiz: QuizSet, answers: Mapping[str, str]) -> dict[str, float]:
    """Mean Likert score per construct over the answered items, reverse-coded items flipped first."""
    by_construct: dict[str, list[float]] = {}
    for item in quiz.items:
        if isinstance(item, LikertItem) and item.id in answers:
            score = item_score(item, answers[item.id])
            if score is not None:
                by_construct.setdefault(item.construct_name, []).append(score)
    return {name: sum(scores) / len(scores) for name, scores in by_construct.items()}
