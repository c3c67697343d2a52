"""What exports and reports know about items and courses: a codebook built from stored quiz sets."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from surveys.domain import commitments
from surveys.domain.quizset import (
    CommitmentReminderItem,
    CommitmentReviewItem,
    CommitmentsItem,
    LikertItem,
    QuizSet,
    SingleChoiceItem,
    TrueFalseItem,
    YesNoItem,
)
from surveys.store.models import Course, QuizSetVersion
from surveys.texts import label as text_label

AGE_OF_CONSENT_TAG = "age-of-consent"
NOT_ASKED = "-8"
"""The wide export's code for an item not asked because of a branch (show_if, or a review of no commitments).

A skipped item is stored and exported as the empty string; an item left unanswered part-way is empty (no value).
"""
NOT_ASKED_LABEL = "not asked (branch)"


class SelectionError(LookupError):
    """The courses asked for do not exist, or the selection holds nothing to report."""


@dataclass(frozen=True)
class CourseInfo:
    """The course facts a report shows (no people in here)."""

    id: int
    code: str
    title: str
    level: int
    delivered_on: date
    waves: tuple[str, ...]  # those that ask something (not a message-only reminder wave)
    expected_attendance: int | None
    quiz_set_id: int


@dataclass(frozen=True)
class Part:
    """One answer row of a commitments or review item other than its closing row: a commitment, status or barrier."""

    id: str
    kind: str  # "commitment", "status" or "barrier"
    label: str
    value_labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Variable:
    """One exported variable: an item's own answer, or one part of a commitments or review item."""

    id: str
    item: ItemInfo
    kind: str
    label: str
    value_labels: dict[str, str]


@dataclass(frozen=True)
class ItemInfo:
    """One item of one stored quiz-set version, flattened for codebooks and SQL conditions."""

    quiz_set_id: int
    quiz_set: str
    id: str
    kind: str
    text: str
    tags: tuple[str, ...]
    waves: tuple[str, ...]
    construct: str | None
    reverse: bool
    scored: bool
    correct: str | None
    # Asked at every wave of its quiz set, so comparable across waves.
    core: bool = False
    # stored value → label, in the order offered.
    value_labels: dict[str, str] = field(default_factory=dict)
    # Asked only on a condition (show_if, or a review of the person's commitments): may be NOT_ASKED.
    branched: bool = False
    # The answer rows of a commitments or review item besides its own (surveys.domain.commitments).
    parts: tuple[Part, ...] = ()

    @property
    def age_of_consent(self) -> bool:
        """Whether the item is one of the age-of-consent items."""
        return AGE_OF_CONSENT_TAG in self.tags


@dataclass(frozen=True)
class Codebook:
    """Every item of the quiz sets behind the selected courses, and which are comparable across waves."""

    items: tuple[ItemInfo, ...]
    quiz_sets: dict[int, str]
    feedback: dict[str, bool]
    # The parsed versions (id → set), for working out which items a check-in did not ask.
    quizzes: dict[int, QuizSet] = field(default_factory=dict)

    def variables(self) -> list[Variable]:
        """Every exported variable, each id once in first-seen order: items (not reminders, which store
        nothing) with their parts before their closing row (commit.1, commit.2 … commit)."""
        found: dict[str, Variable] = {}
        for item in self.items:
            if item.kind == "commitment_reminder":
                continue
            for part in item.parts:
                found.setdefault(part.id, Variable(part.id, item, part.kind, part.label, part.value_labels))
            found.setdefault(item.id, Variable(item.id, item, item.kind, _closing_label(item), item.value_labels))
        return list(found.values())

    def variable_ids(self) -> list[str]:
        """The ids of variables(), in order."""
        return [v.id for v in self.variables()]

    @property
    def branched(self) -> bool:
        """Whether any item is asked only on a condition (then exports work out what was not asked)."""
        return any(i.branched for i in self.items)

    def item_ids(self) -> list[str]:
        """Distinct item ids in first-seen (file) order."""
        return list(dict.fromkeys(i.id for i in self.items))

    def first(self, item_id: str) -> ItemInfo:
        """The first stored definition of an item id."""
        return next(i for i in self.items if i.id == item_id)

    def where(self, **conditions: object) -> list[ItemInfo]:
        """Items whose attributes equal the given values."""
        return [i for i in self.items if all(getattr(i, k) == v for k, v in conditions.items())]

    def core_knowledge(self) -> list[ItemInfo]:
        """Scored items asked at every wave of their quiz set: the comparable knowledge core.

        Items asked at one wave only differ between waves, so a score over all items would
        change with the item mix rather than with what people know.
        """
        core = [i for i in self.items if i.scored and i.core]
        return core or [i for i in self.items if i.scored]

    def core_knowledge_ids(self) -> list[str]:
        """The core knowledge items' ids, each once however many quiz-set versions ask it."""
        return list(dict.fromkeys(i.id for i in self.core_knowledge()))

    @property
    def constructs(self) -> list[str]:
        """Constructs measured, in first-seen order."""
        return list(dict.fromkeys(i.construct for i in self.items if i.kind == "likert" and i.construct))


def _closing_label(item: ItemInfo) -> str:
    if item.kind == "commitments":
        return f"{item.text} — how many commitments were made (0 when none)"
    if item.kind == "commitment_review":
        return f"{item.text} — how many commitments were reviewed"
    return item.text


def status_labels() -> dict[str, str]:
    """A commitment's review status → its label (labels.yaml, as the buttons say it)."""
    return {status: text_label(f"commitment.{status}") for status in commitments.STATUSES}


def _parts(item: object, quiz: QuizSet) -> tuple[Part, ...]:
    """The part rows a commitments or review item can store, numbered up to its commitments item's max."""
    if isinstance(item, CommitmentsItem):
        return tuple(
            Part(commitments.entry_id(item.id, n), "commitment", f"Commitment {n} as typed (scrubbed)")
            for n in range(1, item.max + 1)
        )
    if isinstance(item, CommitmentReviewItem):
        made = quiz.item(item.of)
        most = made.max if isinstance(made, CommitmentsItem) else commitments.DEFAULT_MAX
        parts: list[Part] = []
        for n in range(1, most + 1):
            parts.append(
                Part(commitments.entry_id(item.id, n), "status", f"Commitment {n}: {item.text}", status_labels())
            )
            parts.append(Part(commitments.barrier_id(item.id, n), "barrier", f"Commitment {n}: {item.barrier}"))
        return tuple(parts)
    return ()


def _value_labels(item: object) -> dict[str, str]:
    if isinstance(item, SingleChoiceItem):
        return {o.value: o.label for o in item.options}
    if isinstance(item, TrueFalseItem):
        return {"true": "True", "false": "False"}
    if isinstance(item, YesNoItem):
        return {"yes": "Yes", "no": "No"}
    if isinstance(item, LikertItem):
        return {str(n): label for n, label in enumerate(item.labels, start=1)}
    return {}


def items_of(version_id: int, ref: str, quiz: QuizSet) -> list[ItemInfo]:
    """Flatten a quiz set's items, marking the ones asked at every wave of the set."""
    out = []
    # A message-only wave asks nothing, so it does not decide which items are comparable across waves.
    asking = set(quiz.asking_waves)
    for item in quiz.items:
        info = ItemInfo(
            quiz_set_id=version_id,
            quiz_set=ref,
            id=item.id,
            kind=item.kind,
            text=" ".join(item.text.split()),
            tags=tuple(item.tags),
            waves=tuple(item.waves),
            construct=getattr(item, "construct_name", None),
            reverse=bool(getattr(item, "reverse", False)),
            scored=item.scored,
            correct=item.correct_value,
            core=asking <= set(item.waves),
            value_labels=_value_labels(item),
            branched=item.show_if is not None or isinstance(item, (CommitmentReviewItem, CommitmentReminderItem)),
            parts=_parts(item, quiz),
        )
        out.append(info)
    return out


def selection_label(selected: list[CourseInfo], codes: list[str] | None) -> str:
    """How a selection is named in the audit log: its codes, or "all courses" when none were asked for."""
    return ", ".join(c.code for c in selected) if codes else "all courses"


async def select_courses(session: AsyncSession, codes: list[str] | None) -> list[CourseInfo]:
    """The named courses (all when None or empty); SelectionError naming any unknown code."""
    query = select(
        Course.id,
        Course.code,
        Course.title,
        Course.level,
        Course.delivered_on,
        Course.waves,
        Course.expected_attendance,
        Course.quiz_set_id,
    ).order_by(Course.delivered_on, Course.code)
    if codes:
        wanted = {c.casefold() for c in codes}
        query = query.where(func.lower(Course.code).in_(wanted))
    found = (await session.execute(query)).all()
    asking = await _asking_waves(session, {r[-1] for r in found})
    rows = [CourseInfo(*r[:5], tuple(w for w in r[5] if w in asking[r[-1]]), *r[6:]) for r in found]
    if codes:
        missing = sorted({c for c in codes if c.casefold() not in {r.code.casefold() for r in rows}})
        if missing:
            raise SelectionError(f"no course with code {', '.join(missing)}; `followup course list` shows them")
    if not rows:
        raise SelectionError("there are no courses yet: nothing to export or report")
    return rows


async def _asking_waves(session: AsyncSession, version_ids: set[int]) -> dict[int, set[str]]:
    """Each quiz-set version's waves that ask something: a message-only wave (a reminder) has nothing to report."""
    rows = await session.execute(
        select(QuizSetVersion.id, QuizSetVersion.definition).where(QuizSetVersion.id.in_(version_ids))
    )
    asking = {}
    for version_id, definition in rows:
        quiz = QuizSet.from_definition(definition)
        asking[version_id] = set(quiz.asking_waves)
    return asking


async def load_codebook(session: AsyncSession, courses: list[CourseInfo]) -> Codebook:
    """The codebook of the quiz-set versions the courses use."""
    ids = sorted({c.quiz_set_id for c in courses})
    rows = (
        await session.execute(
            select(QuizSetVersion.id, QuizSetVersion.slug, QuizSetVersion.version, QuizSetVersion.definition)
            .where(QuizSetVersion.id.in_(ids))
            .order_by(QuizSetVersion.id)
        )
    ).all()
    items: list[ItemInfo] = []
    refs: dict[int, str] = {}
    feedback: dict[str, bool] = {}
    quizzes: dict[int, QuizSet] = {}
    for version_id, slug, version, definition in rows:
        ref = f"{slug}@{version}"
        quiz = quizzes[version_id] = QuizSet.from_definition(definition)
        refs[version_id] = ref
        feedback[ref] = quiz.feedback
        items.extend(items_of(version_id, ref, quiz))
    return Codebook(tuple(items), refs, feedback, quizzes)


def spss_name(name: str) -> str:
    """A valid SPSS variable name for an item id or column (letters, digits, underscore)."""
    clean = re.sub(r"[^A-Za-z0-9_]", "_", name)
    if not clean[:1].isalpha():
        clean = "v_" + clean
    return clean[:64]
