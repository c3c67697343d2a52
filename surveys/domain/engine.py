"""The conversation engine: a pure state machine over a quiz set, one wave and the answers so far."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from surveys.domain.quiz_text import RenderContext, render
from surveys.domain.quizset import (
    LikertItem,
    NumberItem,
    QuizSet,
    SingleChoiceItem,
    TextItem,
    TrueFalseItem,
    YesNoItem,
)
from surveys.domain.quizset.models import Item
from surveys.domain.scoring import construct_means, item_score, knowledge_percent
from surveys.texts import in_every_language, label, render_text

SKIP = "skip"
# A skipped optional text item is stored as the empty string, so resuming knows it was asked.
SKIPPED_VALUE = ""
_AFFIRMATIVE = {"true", "t", "yes", "y"}
_NEGATIVE = {"false", "f", "no", "n"}
_WRAPPING = "()[]{}.,;:!?'\"“”‘’ \t\r\n"
_NUMBER = re.compile(r"([+-]?[0-9]{1,12})(?:\s*[^\W\d_][^\d]*)?")
_NUMERIC_LABEL = re.compile(r"[+-]?[0-9]+(?:[.,][0-9]+)?\s*%?")
_CODED_LABEL = re.compile(r"\(?\s*([a-z0-9]{1,8})\s*[).:]\s*(.+)")
_FIRST_SENTENCE = re.compile(r"(?<=[.!?])\s")


@dataclass(frozen=True)
class Choice:
    """A button: the value stored and typed, and its label."""

    value: str
    label: str


@dataclass(frozen=True)
class Prompt:
    """The question to ask now, ready for a chat or a terminal."""

    item_id: str
    kind: str
    text: str
    choices: tuple[Choice, ...]
    position: int
    total: int
    hint: str = ""

    @property
    def progress(self) -> str:
        """Where the practitioner is, e.g. "3 of 12"."""
        return f"{self.position} of {self.total}"


@dataclass(frozen=True)
class Recorded:
    """An accepted answer as the store persists it."""

    item_id: str
    value: str
    score: float | None


@dataclass(frozen=True)
class Outcome:
    """What happened to one message: an answer recorded (maybe with feedback) or a re-prompt."""

    recorded: Recorded | None
    feedback: str | None = None
    reprompt: str | None = None
    correct: bool | None = None


@dataclass(frozen=True)
class Missed:
    """A knowledge item answered wrongly, with the right answer to show."""

    item_id: str
    text: str
    answer_label: str
    correct_label: str
    explanation: str | None

    @property
    def explained(self) -> bool:
        """Whether the explanation already names the right answer (see gives_answer)."""
        return gives_answer(self.explanation, self.correct_label)


def gives_answer(explanation: str | None, answer_label: str) -> bool:
    """Whether an explanation's first sentence already names the right answer ("False. A child under 13 …").

    The answer is the label, or its lead before a colon ("Yes" of "Yes: she is a child being
    exploited"), as a whole word; then feedback does not say "the answer is …" a second time.
    """
    if not explanation:
        return False
    lead = answer_label.split(":", 1)[0].strip()
    first = _FIRST_SENTENCE.split(explanation.strip(), maxsplit=1)[0]
    return bool(lead) and re.search(rf"(?<!\w){re.escape(lead)}(?!\w)", first, re.IGNORECASE) is not None


@dataclass(frozen=True)
class Summary:
    """The end-of-check-in summary: knowledge score, missed items and construct means."""

    answered: int
    total: int
    correct: int
    scored: int
    knowledge_percent: float | None
    missed: tuple[Missed, ...]
    construct_means: Mapping[str, float] = field(default_factory=dict)


def _token(raw: str) -> str:
    return raw.strip(_WRAPPING).casefold()


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text.strip(_WRAPPING).casefold())


def choices_of(item: Item) -> tuple[Choice, ...]:
    """The buttons an item offers (a Skip button for optional text items)."""
    if isinstance(item, SingleChoiceItem):
        return tuple(Choice(o.value, o.label) for o in item.options)
    if isinstance(item, TrueFalseItem):
        return (Choice("true", label("answer.true")), Choice("false", label("answer.false")))
    if isinstance(item, LikertItem):
        return tuple(Choice(str(n), label) for n, label in enumerate(item.labels, start=1))
    if isinstance(item, YesNoItem):
        return (Choice("yes", label("answer.yes")), Choice("no", label("answer.no")))
    if isinstance(item, TextItem) and not item.required:
        return (Choice(SKIP, label("answer.skip")),)
    return ()


def hint_for(item: Item) -> str:
    """One line saying how to answer, e.g. "Type a whole number from 0 to 100" (hint.txt)."""
    if isinstance(item, SingleChoiceItem):
        return render_text("hint.txt", kind=item.kind, values=[o.value for o in item.options])
    if isinstance(item, LikertItem):
        return render_text("hint.txt", kind=item.kind, first=item.labels[0], last=item.labels[4])
    if isinstance(item, NumberItem):
        return render_text("hint.txt", kind=item.kind, min=item.min, max=item.max, unit=item.unit)
    if isinstance(item, TextItem):
        return render_text("hint.txt", kind=item.kind, max_length=item.max_length, optional=not item.required)
    assert isinstance(item, (TrueFalseItem, YesNoItem))
    return render_text("hint.txt", kind=item.kind)


def _reprompt(kind: str, **context: object) -> str:
    return render_text("reprompt.txt", kind=kind, **context)


def _match_single_choice(item: SingleChoiceItem, raw: str) -> str | None:
    token = _token(raw)
    by_value = {o.value: o.value for o in item.options}
    if token in by_value:
        return token
    by_label = {_squash(o.label): o.value for o in item.options}
    if _squash(raw) in by_label:
        return by_label[_squash(raw)]
    coded = _CODED_LABEL.fullmatch(raw.strip().casefold())
    if coded and coded.group(1) in by_value and by_label.get(_squash(coded.group(2))) == coded.group(1):
        return coded.group(1)
    # Numbers mean positions only when no label is itself a number ("13", "16", "18").
    if token.isascii() and token.isdigit() and not any(_NUMERIC_LABEL.fullmatch(o.label.strip()) for o in item.options):
        position = int(token[:3])
        if 1 <= position <= len(item.options):
            return item.options[position - 1].value
    return None


def _match_likert(item: LikertItem, raw: str) -> str | None:
    token = _token(raw)
    if token in ("1", "2", "3", "4", "5"):
        return token
    by_label = {_squash(label): str(n) for n, label in enumerate(item.labels, start=1)}
    return by_label.get(_squash(raw))


class Conversation:
    """One practitioner's check-in at one wave: ask the next item, accept an answer, summarise."""

    def __init__(
        self, quiz: QuizSet, wave: str, context: RenderContext, answers: Mapping[str, str] | None = None
    ) -> None:
        if wave not in quiz.waves:
            raise ValueError(f"wave {wave!r} is not one of the set's waves ({', '.join(quiz.waves)})")
        self.quiz = quiz
        self.wave = wave
        self.context = context
        self.items: tuple[Item, ...] = quiz.items_for(wave)
        known = {item.id for item in self.items}
        # Answers to items not asked at this wave (another wave, a retired id) are not ours.
        self._answers = {item_id: value for item_id, value in (answers or {}).items() if item_id in known}

    @property
    def answers(self) -> dict[str, str]:
        """The answers so far, item id → stored value."""
        return dict(self._answers)

    @property
    def done(self) -> bool:
        """Whether every item of the wave has an answer."""
        return self._current() is None

    def _current(self) -> tuple[int, Item] | None:
        return next(((n, item) for n, item in enumerate(self.items) if item.id not in self._answers), None)

    def next_prompt(self) -> Prompt | None:
        """The prompt for the first unanswered item, or None when the check-in is finished."""
        current = self._current()
        if current is None:
            return None
        n, item = current
        text = render(item.text, self.context)
        return Prompt(item.id, item.kind, text, choices_of(item), n + 1, len(self.items), hint_for(item))

    def accept(self, raw: str, item_id: str | None = None) -> Outcome:
        """Take a typed answer or a button value for the current item; record it or say what is expected."""
        current = self._current()
        if current is None:
            return Outcome(None, reprompt=_reprompt("finished"))
        _, item = current
        if item_id is not None and item_id != item.id:
            return Outcome(None, reprompt=_reprompt("other_button", hint=hint_for(item)))
        value, problem = self._interpret(item, raw)
        if value is None:
            return Outcome(None, reprompt=problem)
        recorded = Recorded(item.id, value, item_score(item, value) if value != SKIPPED_VALUE else None)
        self._answers[item.id] = value
        if not item.scored:
            return Outcome(recorded)
        correct = value == item.correct_value
        return Outcome(recorded, self._feedback(item, correct), None, correct)

    def _interpret(self, item: Item, raw: str) -> tuple[str | None, str]:
        """The stored value for a raw answer, or None and a re-prompt listing what is accepted."""
        # The re-prompt is rendered only when the answer is refused: most answers are fine.
        token = _token(raw)
        if isinstance(item, SingleChoiceItem):
            value = _match_single_choice(item, raw)
            return value, "" if value is not None else _reprompt(item.kind, options=item.options)
        if isinstance(item, (TrueFalseItem, YesNoItem)):
            yes, no = ("true", "false") if isinstance(item, TrueFalseItem) else ("yes", "no")
            # Either language's button word counts when typed (surveys.texts.in_every_language, issue 14).
            said_yes = token in _AFFIRMATIVE or token in in_every_language(f"answer.{yes}")
            said_no = token in _NEGATIVE or token in in_every_language(f"answer.{no}")
            value = yes if said_yes else no if said_no else None
            return value, "" if value is not None else _reprompt(item.kind)
        if isinstance(item, LikertItem):
            value = _match_likert(item, raw)
            return value, "" if value is not None else _reprompt(item.kind, labels=item.labels)
        if isinstance(item, NumberItem):
            return self._interpret_number(item, raw)
        assert isinstance(item, TextItem)
        return self._interpret_text(item, raw)

    def _interpret_number(self, item: NumberItem, raw: str) -> tuple[str | None, str]:
        match = _NUMBER.fullmatch(raw.strip().casefold())
        if not match:
            return None, _reprompt(item.kind, outside=None, min=item.min, max=item.max)
        number = int(match.group(1))
        if not item.min <= number <= item.max:
            return None, _reprompt(item.kind, outside=number, min=item.min, max=item.max)
        return str(number), ""

    def _interpret_text(self, item: TextItem, raw: str) -> tuple[str | None, str]:
        text = raw.strip()
        if _token(text) == SKIP:
            if not item.required:
                return SKIPPED_VALUE, ""
            return None, _reprompt("text_required")
        if not text:
            return None, _reprompt("text_empty", max_length=item.max_length)
        if len(text) > item.max_length:
            return None, _reprompt("text_too_long", length=len(text), max_length=item.max_length)
        return text, ""

    def _feedback(self, item: Item, correct: bool) -> str | None:
        if not self.quiz.feedback:
            return None
        explanation = self._explanation(item)
        answer = self._label(item, item.correct_value or "")
        return render_text(
            "feedback.txt",
            correct=correct,
            explanation=explanation or "",
            answer=answer,
            explained=gives_answer(explanation, answer),
        )

    def _explanation(self, item: Item) -> str | None:
        explanation = getattr(item, "explanation", None)
        return render(explanation, self.context) if explanation else None

    def _label(self, item: Item, value: str) -> str:
        labels = {choice.value: choice.label for choice in choices_of(item)}
        return labels.get(value, value)

    def summary(self) -> Summary:
        """Knowledge score (correct of the scored items answered, as %), missed items, construct means."""
        scored = [item for item in self.items if item.scored and item.id in self._answers]
        missed = tuple(
            Missed(
                item.id,
                render(item.text, self.context),
                self._label(item, self._answers[item.id]),
                self._label(item, item.correct_value or ""),
                self._explanation(item),
            )
            for item in scored
            if self._answers[item.id] != item.correct_value
        )
        return Summary(
            answered=len(self._answers),
            total=len(self.items),
            correct=len(scored) - len(missed),
            scored=len(scored),
            knowledge_percent=knowledge_percent(self.quiz, self._answers),
            missed=missed,
            construct_means=construct_means(self.quiz, self._answers),
        )
