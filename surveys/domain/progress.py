"""A practitioner's own progress (pure): knowledge then and now, what slipped, their commitments and how they stand."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from surveys.domain import commitments, waves
from surveys.domain.engine import choices_of, gives_answer
from surveys.domain.quiz_text import RenderContext, render
from surveys.domain.quizset import QuizSet
from surveys.domain.quizset.models import Item
from surveys.domain.scoring import SKIPPED, item_score, knowledge_percent

ByWave = Mapping[str, Mapping[str, str]]
"""One person's answers: wave → item id → stored value (as surveys.store.own_progress reads them)."""


@dataclass(frozen=True)
class Slipped:
    """A knowledge item answered right at the first wave and wrong now, with the right answer again."""

    item_id: str
    text: str
    correct_label: str
    explanation: str | None

    @property
    def explained(self) -> bool:
        """Whether the explanation already names the right answer (then it is not said twice)."""
        return gives_answer(self.explanation, self.correct_label)


@dataclass(frozen=True)
class Comparison:
    """Their knowledge now against their first wave, on the questions answered both times."""

    first_wave: str
    wave: str
    questions: int
    then_correct: int
    now_correct: int
    then_percent: float
    now_percent: float
    slipped: tuple[Slipped, ...]
    cohort_median: float | None  # None when fewer than k people of the course answered this wave
    cohort_n: int | None  # people behind the median; None when it is withheld


def _answered_scored(quiz: QuizSet, answers: Mapping[str, str]) -> dict[str, Item]:
    return {
        item.id: item
        for item in quiz.items
        if item.scored and answers.get(item.id, SKIPPED) != SKIPPED and item_score(item, answers[item.id]) is not None
    }


def _label(item: Item, value: str) -> str:
    return next((c.label for c in choices_of(item) if c.value == value), value)


def first_wave(quiz: QuizSet, by_wave: ByWave, wave: str) -> str | None:
    """The earliest wave before `wave` with a knowledge question answered: what "then" means."""
    earlier = [w for w in by_wave if waves.is_wave(w) and waves.order_key(w) < waves.order_key(wave)]
    return next((w for w in sorted(earlier, key=waves.order_key) if _answered_scored(quiz, by_wave[w])), None)


def compare(
    quiz: QuizSet,
    by_wave: ByWave,
    wave: str,
    cohort: Iterable[Mapping[str, str]],
    k: int,
    context: RenderContext,
) -> Comparison | None:
    """Knowledge at `wave` against the first wave, on the questions answered both times; None at the first.

    `cohort`: the answers at `wave` of everyone on the course (them included); its median, over the
    same questions, is given only when at least k of them answered one of those questions.
    """
    then_wave = first_wave(quiz, by_wave, wave)
    if then_wave is None:
        return None
    then, now = by_wave[then_wave], by_wave.get(wave, {})
    common = _answered_scored(quiz, then).keys() & _answered_scored(quiz, now).keys()
    if not common:
        return None
    items = [item for item in quiz.items if item.id in common]  # file order

    def on_common(answers: Mapping[str, str]) -> dict[str, str]:
        return {i: v for i, v in answers.items() if i in common}

    slipped = tuple(
        Slipped(
            item.id,
            render(item.text, context),
            _label(item, item.correct_value or ""),
            render(explanation, context) if (explanation := getattr(item, "explanation", None)) else None,
        )
        for item in items
        if then[item.id] == item.correct_value and now[item.id] != item.correct_value
    )
    scores = [s for answers in cohort if (s := knowledge_percent(quiz, on_common(answers))) is not None]
    shown = len(scores) >= k
    then_percent = knowledge_percent(quiz, on_common(then))
    now_percent = knowledge_percent(quiz, on_common(now))
    assert then_percent is not None and now_percent is not None  # both answered every common item
    return Comparison(
        first_wave=then_wave,
        wave=wave,
        questions=len(items),
        then_correct=sum(then[i.id] == i.correct_value for i in items),
        now_correct=sum(now[i.id] == i.correct_value for i in items),
        then_percent=then_percent,
        now_percent=now_percent,
        slipped=slipped,
        cohort_median=statistics.median(scores) if shown else None,
        cohort_n=len(scores) if shown else None,
    )


# --- the CPD record ---------------------------------------------------------------------------


@dataclass(frozen=True)
class WaveScore:
    """Knowledge at one wave: correct of the questions answered, as a percentage."""

    wave: str
    correct: int
    answered: int
    percent: float


@dataclass(frozen=True)
class Covered:
    """One knowledge question and, per wave it was answered, whether they got it right."""

    text: str
    right: Mapping[str, bool]


@dataclass(frozen=True)
class Review:
    """A commitment's status at one wave and, where asked, what got in the way."""

    wave: str
    status: str
    barrier: str | None


@dataclass(frozen=True)
class Standing:
    """One commitment: its words, the wave it was made, its reviews in time order."""

    text: str
    made_at: str
    reviews: tuple[Review, ...]

    @property
    def status(self) -> str | None:
        """Where it stands now: the latest review's status, None before any review."""
        return self.reviews[-1].status if self.reviews else None


def _in_order(by_wave: ByWave) -> list[str]:
    return sorted((w for w in by_wave if waves.is_wave(w)), key=waves.order_key)


def knowledge_over_time(
    quiz: QuizSet, by_wave: ByWave, context: RenderContext
) -> tuple[list[WaveScore], list[Covered]]:
    """Per wave their knowledge score, and per question answered what they got right when."""
    scores: list[WaveScore] = []
    right: dict[str, dict[str, bool]] = {}
    for wave in _in_order(by_wave):
        answered = _answered_scored(quiz, by_wave[wave])
        percent = knowledge_percent(quiz, by_wave[wave])
        if percent is None:
            continue
        correct = sum(by_wave[wave][i] == item.correct_value for i, item in answered.items())
        scores.append(WaveScore(wave, correct, len(answered), percent))
        for item_id, item in answered.items():
            right.setdefault(item_id, {})[wave] = by_wave[wave][item_id] == item.correct_value
    covered = [Covered(render(item.text, context), right[item.id]) for item in quiz.items if item.id in right]
    return scores, covered


def standings(quiz: QuizSet, by_wave: ByWave) -> list[Standing]:
    """Each commitment they made (per surveys.domain.commitments) with its reviews, in the order made."""
    out: list[Standing] = []
    ordered = _in_order(by_wave)
    for made in (item for item in quiz.items if item.kind == "commitments"):
        reviews = [item.id for item in quiz.items if item.kind == "commitment_review" and item.of == made.id]
        for wave in ordered:
            # Numbered 1, 2 … as stored (the contract: commit.1, commit.2 …), as their reviews are.
            for n, text in enumerate(commitments.commitments_from(by_wave[wave], made.id), start=1):
                found = []
                for later in ordered:
                    answers = by_wave[later]
                    for review in reviews:
                        status = answers.get(commitments.entry_id(review, n))
                        if status in commitments.STATUSES:
                            barrier = answers.get(commitments.barrier_id(review, n)) or None
                            found.append(Review(later, status, barrier))
                out.append(Standing(text, wave, tuple(found)))
    return out
