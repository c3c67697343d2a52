"""The conversation engine: a pure state machine over a quiz set, one wave and the answers so far."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from surveys.domain import commitments
from surveys.domain.quiz_text import RenderContext, render
from surveys.domain.quizset import (
    CommitmentReminderItem,
    CommitmentReviewItem,
    CommitmentsItem,
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
from surveys.domain.scrub import scrub_free_text
from surveys.texts import in_every_language, label, render_text

SKIP = "skip"
# The buttons of a commitments step: stop (none or no more) and the reminder to type the next one.
ENOUGH = "enough"
MORE = "more"
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
    # Which step of the check-in this is (the n-th asked, 0-based): a button names it, so a press on
    # an older message is recognised. Differs from position - 1 once items are hidden or split.
    index: int = -1

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
    # Rows stored with `recorded`, after it: the closing row of a commitments or review item.
    also: tuple[Recorded, ...] = ()
    # The button value given when the row stores something else ("That's all" stores a count).
    given: str | None = None

    @property
    def records(self) -> tuple[Recorded, ...]:
        """Every row to store for this answer, in order (the last one may complete the check-in)."""
        return () if self.recorded is None else (self.recorded, *self.also)


@dataclass(frozen=True)
class Step:
    """One thing to ask: a plain item, or one part of a commitments or review item."""

    item: Item
    answer_id: str  # the answer row it stores (surveys.domain.commitments names the parts)
    part: str  # "item", "commitment", "status" or "barrier"
    n: int  # the commitment's number for a part, else 0
    position: int  # the question's number, as in "3 of 12"
    index: int  # see Prompt.index


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


_INDEX_SPAN = {"commitment_review": 2}  # a status and its barrier per commitment
_PART_KINDS = frozenset({"commitments", "commitment_review", "commitment_reminder"})


def _owner(answer_id: str) -> str:
    """The item an answer row belongs to: itself, or the commitments/review item of a part."""
    part = commitments.split(answer_id)
    return part.item_id if part is not None else answer_id


def _status_labels() -> list[str]:
    return [label(f"commitment.{status}") for status in commitments.STATUSES]


def _match_status(raw: str) -> str | None:
    """A status from its value, its label ignoring case and spaces, or its position (1–4)."""
    token = _token(raw)
    if token in commitments.STATUSES:
        return token
    # Either language's words count when typed (surveys.texts.in_every_language, issue 14).
    by_label = {
        _squash(said): status for status in commitments.STATUSES for said in in_every_language(f"commitment.{status}")
    }
    if _squash(raw) in by_label:
        return by_label[_squash(raw)]
    if token.isascii() and token.isdigit() and 1 <= int(token[:2]) <= len(commitments.STATUSES):
        return commitments.STATUSES[int(token[:2]) - 1]
    return None


def _free_text(raw: str, *, optional: bool) -> tuple[str | None, str]:
    """A commitment or barrier as stored (scrubbed), or None and the re-prompt; "" when an optional one is skipped."""
    text = raw.strip()
    limit = commitments.MAX_LENGTH
    if optional and _token(text) == SKIP:
        return SKIPPED_VALUE, ""
    # A commitment is words: an emoji, a full stop or nothing at all is asked for again.
    if not any(ch.isalnum() for ch in text):
        return None, _reprompt("commitment_empty" if not optional else "text_empty", max_length=limit)
    if len(text) > limit:
        return None, _reprompt("text_too_long", length=len(text), max_length=limit)
    return scrub_free_text(text), ""


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
    if isinstance(item, CommitmentsItem):
        return render_text("hint.txt", kind=item.kind, max_length=commitments.MAX_LENGTH, most=item.max)
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


def _int(value: str | None) -> int | None:
    return int(value) if value is not None and value.isdigit() else None


class Conversation:
    """One practitioner's check-in at one wave: ask the next item, accept an answer, summarise.

    `own` holds the person's commitments from earlier check-ins, by commitments item id: what a
    review item shows back. An item whose `show_if` fails, or a review of no commitments, is not asked.
    `language` ("en", "cy") is the one the set's texts are asked in (QuizSet.in_language: the set's
    primary language when None or not one of the set's); a label typed in another language of the
    set is understood when it names one option.
    """

    def __init__(
        self,
        quiz: QuizSet,
        wave: str,
        context: RenderContext,
        answers: Mapping[str, str] | None = None,
        own: Mapping[str, tuple[str, ...]] | None = None,
        language: str | None = None,
    ) -> None:
        if wave not in quiz.waves:
            raise ValueError(f"wave {wave!r} is not one of the set's waves ({', '.join(quiz.waves)})")
        self.quiz = quiz
        self.wave = wave
        self.context = context
        self.language = quiz.language_for(language)
        self.items: tuple[Item, ...] = quiz.in_language(language).items_for(wave)
        self.own: dict[str, tuple[str, ...]] = dict(own or {})
        known = {item.id for item in self.items}
        # Answers to items not asked at this wave (another wave, a retired id) are not ours.
        self._answers = {item_id: value for item_id, value in (answers or {}).items() if _owner(item_id) in known}
        self._by_id = {item.id: item for item in self.items}
        self._planned: tuple[Step | None, int] | None = None  # _plan() until the answers change

    @property
    def view(self) -> QuizSet:
        """The set in the language asked (QuizSet.in_language): its title, description and intro to show."""
        return self.quiz.in_language(self.language)

    @property
    def answers(self) -> dict[str, str]:
        """The answers so far, answer row id → stored value."""
        return dict(self._answers)

    @property
    def done(self) -> bool:
        """Whether every item of the wave that is asked has an answer."""
        return self._plan()[0] is None

    def shown(self, item: Item) -> bool | None:
        """Whether an item is asked given the answers so far; None while that depends on an item not answered yet."""
        return self.visibility()[item.id]

    def visibility(self) -> dict[str, bool | None]:
        """shown() for every item of the wave, in one pass (exports ask it of every check-in)."""
        pending: set[str] = set()
        found: dict[str, bool | None] = {}
        for item in self.items:
            shown = found[item.id] = self._shown(item, pending)
            if shown is None or (shown and self._current_part(item, 0, 0) is not None):
                pending.add(item.id)
        return found

    def _shown(self, item: Item, pending: set[str]) -> bool | None:
        if isinstance(item, CommitmentReminderItem):
            return False  # a message sent as the wave's invitation, never a question
        if isinstance(item, CommitmentReviewItem) and not self.own.get(item.of):
            return False
        condition = item.show_if
        if condition is None:
            return True
        if condition.item in pending:
            return None
        target = self._by_id.get(condition.item)
        if isinstance(target, CommitmentReviewItem):
            reviewed = range(1, len(self.own.get(target.of, ())) + 1)
            return any(self._answers.get(commitments.entry_id(target.id, n)) in condition.values for n in reviewed)
        return self._answers.get(condition.item) in condition.values

    def _size(self, item: Item) -> int:
        """Questions an asked item counts for in the progress: one per commitment reviewed, else one."""
        return len(self.own.get(item.of, ())) if isinstance(item, CommitmentReviewItem) else 1

    def _plan(self) -> tuple[Step | None, int]:
        """The step to ask now (None when finished) and how many questions the check-in will have.

        An item whose condition waits on an item not answered yet is counted as asked, so the total
        only ever shrinks as answers come in. Worked out once per answer (a press asks it twice).
        """
        if self._planned is None:
            self._planned = self._walk()
        return self._planned

    def _walk(self) -> tuple[Step | None, int]:
        current: Step | None = None
        position = index = 0
        pending: set[str] = set()
        answers = self._answers
        for item in self.items:
            if item.show_if is None and item.kind not in _PART_KINDS:
                # A plain item (most of them, on every press): asked, one question, one step.
                if current is None:
                    if item.id not in answers:
                        current = Step(item, item.id, "item", 0, position + 1, index)
                        pending.add(item.id)
                    index += 1
                else:
                    pending.add(item.id)
                position += 1
                continue
            shown = self._shown(item, pending)
            if shown is False:
                continue
            size = self._size(item)
            if current is None:
                current = self._current_part(item, position, index)
                if current is not None:
                    pending.add(item.id)
                index += _INDEX_SPAN.get(item.kind, 1) * (size if isinstance(item, CommitmentReviewItem) else 1)
                if isinstance(item, CommitmentsItem):
                    index += item.max - 1
            else:
                pending.add(item.id)
            position += size
        return current, position

    def _current_part(self, item: Item, position: int, index: int) -> Step | None:
        """The unanswered part of an item (None when the item is answered)."""
        answers = self._answers
        if item.id in answers:
            return None
        if isinstance(item, CommitmentsItem):
            made = len(commitments.commitments_from(answers, item.id))
            if made >= item.max:
                return None  # full even without its closing row: never stall on it
            return Step(
                item, commitments.entry_id(item.id, made + 1), "commitment", made + 1, position + 1, index + made
            )
        if isinstance(item, CommitmentReviewItem):
            for n in range(1, len(self.own[item.of]) + 1):
                status_id = commitments.entry_id(item.id, n)
                step = index + 2 * (n - 1)
                if status_id not in answers:
                    return Step(item, status_id, "status", n, position + n, step)
                barrier = commitments.barrier_id(item.id, n)
                if answers[status_id] in commitments.BARRIER_ASKED and barrier not in answers:
                    return Step(item, barrier, "barrier", n, position + n, step + 1)
            return None  # every part answered: the item is done even without its closing row
        return Step(item, item.id, "item", 0, position + 1, index)

    def next_prompt(self) -> Prompt | None:
        """The prompt for the first unanswered step, or None when the check-in is finished."""
        step, total = self._plan()
        if step is None:
            return None
        item = step.item
        if step.part == "item":
            text = render(item.text, self.context)
            return Prompt(item.id, item.kind, text, choices_of(item), step.position, total, hint_for(item), step.index)
        text, choices, kind, hint = self._part_prompt(step)
        return Prompt(step.answer_id, kind, text, choices, step.position, total, hint, step.index)

    def _part_prompt(self, step: Step) -> tuple[str, tuple[Choice, ...], str, str]:
        """Text, buttons, kind and hint of one part of a commitments or review item."""
        item = step.item
        limit = commitments.MAX_LENGTH
        if isinstance(item, CommitmentsItem):
            made = commitments.commitments_from(self._answers, item.id)
            if step.n == 1:
                text, choices = render(item.text, self.context), (Choice(ENOUGH, label("commitment.none")),)
            else:
                text = render_text("commitments.txt", kind="more", made=made, most=item.max)
                choices = (Choice(MORE, label("commitment.more")), Choice(ENOUGH, label("commitment.enough")))
            hint = render_text("hint.txt", kind=item.kind, max_length=limit, most=item.max)
            return text, choices, item.kind, hint
        assert isinstance(item, CommitmentReviewItem)
        own = self.own[item.of]
        if step.part == "status":
            text = render_text(
                "commitments.txt",
                kind="review",
                commitment=own[step.n - 1],
                question=render(item.text, self.context),
                n=step.n,
                count=len(own),
            )
            choices = tuple(Choice(status, label(f"commitment.{status}")) for status in commitments.STATUSES)
            return text, choices, item.kind, render_text("hint.txt", kind=item.kind)
        text = render_text("commitments.txt", kind="barrier", commitment=own[step.n - 1], question=item.barrier)
        hint = render_text("hint.txt", kind="text", max_length=limit, optional=True)
        return text, (Choice(SKIP, label("answer.skip")),), "text", hint

    def accept(self, raw: str, item_id: str | None = None) -> Outcome:
        """Take a typed answer or a button value for the current step; record it or say what is expected."""
        step, _ = self._plan()
        if step is None:
            return Outcome(None, reprompt=_reprompt("finished"))
        item = step.item
        if item_id is not None and item_id != step.answer_id:
            hint = hint_for(item) if step.part == "item" else self._part_prompt(step)[3]
            return Outcome(None, reprompt=_reprompt("other_button", hint=hint))
        if step.part != "item":
            return self._accept_part(step, raw)
        value, problem = self._interpret(item, raw)
        if value is None:
            return Outcome(None, reprompt=problem)
        recorded = Recorded(item.id, value, item_score(item, value) if value != SKIPPED_VALUE else None)
        self._answers[item.id] = value
        self._planned = None
        if not item.scored:
            return Outcome(recorded)
        correct = value == item.correct_value
        return Outcome(recorded, self._feedback(item, correct), None, correct)

    def _accept_part(self, step: Step, raw: str) -> Outcome:
        """A commitment typed (or no more), a status, or what got in the way."""
        item = step.item
        if step.part == "commitment":
            assert isinstance(item, CommitmentsItem)
            squashed = _squash(raw)
            if _token(raw) == MORE:
                return Outcome(None, reprompt=_reprompt("commitment_more"))
            stops = {ENOUGH, SKIP, _squash(label("commitment.none")), _squash(label("commitment.enough"))}
            if squashed in stops:
                return self._store((), Recorded(item.id, str(step.n - 1), None), given=ENOUGH)
            value, problem = _free_text(raw, optional=False)
            if value is None:
                return Outcome(None, reprompt=problem)
            last = step.n >= item.max
            closing = (Recorded(item.id, str(step.n), None),) if last else ()
            return self._store(closing, Recorded(step.answer_id, value, None))
        assert isinstance(item, CommitmentReviewItem)
        count = len(self.own[item.of])
        closing = (Recorded(item.id, str(count), None),) if step.n == count else ()
        if step.part == "status":
            status = _match_status(raw)
            if status is None:
                return Outcome(None, reprompt=_reprompt("commitment_review", labels=_status_labels()))
            asks = status in commitments.BARRIER_ASKED
            return self._store(() if asks else closing, Recorded(step.answer_id, status, None))
        value, problem = _free_text(raw, optional=True)
        if value is None:
            return Outcome(None, reprompt=problem)
        return self._store(closing, Recorded(step.answer_id, value, None))

    def _store(self, also: tuple[Recorded, ...], recorded: Recorded, given: str | None = None) -> Outcome:
        for row in (recorded, *also):
            self._answers[row.item_id] = row.value
        self._planned = None
        return Outcome(recorded, also=also, given=given)

    def _interpret(self, item: Item, raw: str) -> tuple[str | None, str]:
        """The stored value for a raw answer, or None and a re-prompt listing what is accepted."""
        # The re-prompt is rendered only when the answer is refused: most answers are fine.
        token = _token(raw)
        if isinstance(item, SingleChoiceItem):
            value = _match_single_choice(item, raw) or self._in_other_languages(item, raw)
            return value, "" if value is not None else _reprompt(item.kind, options=item.options)
        if isinstance(item, (TrueFalseItem, YesNoItem)):
            yes, no = ("true", "false") if isinstance(item, TrueFalseItem) else ("yes", "no")
            # Either language's button word counts when typed (surveys.texts.in_every_language, issue 14).
            said_yes = token in _AFFIRMATIVE or token in in_every_language(f"answer.{yes}")
            said_no = token in _NEGATIVE or token in in_every_language(f"answer.{no}")
            value = yes if said_yes else no if said_no else None
            return value, "" if value is not None else _reprompt(item.kind)
        if isinstance(item, LikertItem):
            value = _match_likert(item, raw) or self._in_other_languages(item, raw)
            return value, "" if value is not None else _reprompt(item.kind, labels=item.labels)
        if isinstance(item, NumberItem):
            return self._interpret_number(item, raw)
        assert isinstance(item, TextItem)
        return self._interpret_text(item, raw)

    def _in_other_languages(self, item: SingleChoiceItem | LikertItem, raw: str) -> str | None:
        """The value a label typed in another of the set's languages names ("Cytuno" in English), if only one."""
        found = set()
        for code in self.quiz.language_codes:
            if code != self.language:
                other = self.quiz.in_language(code).item(item.id)
                match = _match_single_choice if isinstance(other, SingleChoiceItem) else _match_likert
                found.add(match(other, raw))  # type: ignore[arg-type]
        found.discard(None)
        return found.pop() if len(found) == 1 else None

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
        asked = [item for item in self.items if self._shown(item, set()) is not False]
        return Summary(
            answered=sum(item.id in self._answers for item in asked),
            total=len(asked),
            correct=len(scored) - len(missed),
            scored=len(scored),
            knowledge_percent=knowledge_percent(self.quiz, self._answers),
            missed=missed,
            construct_means=construct_means(self.quiz, self._answers),
        )
