"""What exports and reports know about items and courses: a codebook built from stored quiz sets."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from surveys.domain.quizset import LikertItem, QuizSet, SingleChoiceItem, TrueFalseItem, YesNoItem
from surveys.store.models import Course, QuizSetVersion

AGE_OF_CONSENT_TAG = "age-of-consent"


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
    waves: tuple[str, ...]
    expected_attendance: int | None
    quiz_set_id: int


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
            core=set(quiz.waves) <= set(item.waves),
            value_labels=_value_labels(item),
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
    rows = [CourseInfo(*r[:5], tuple(r[5]), *r[6:]) for r in (await session.execute(query)).all()]
    if codes:
        missing = sorted({c for c in codes if c.casefold() not in {r.code.casefold() for r in rows}})
        if missing:
            raise SelectionError(f"no course with code {', '.join(missing)}; `followup course list` shows them")
    if not rows:
        raise SelectionError("there are no courses yet: nothing to export or report")
    return rows


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
    for version_id, slug, version, definition in rows:
        ref = f"{slug}@{version}"
        quiz = QuizSet.from_definition(definition)
        refs[version_id] = ref
        feedback[ref] = quiz.feedback
        items.extend(items_of(version_id, ref, quiz))
    return Codebook(tuple(items), refs, feedback)


def spss_name(name: str) -> str:
    """A valid SPSS variable name for an item id or column (letters, digits, underscore)."""
    clean = re.sub(r"[^A-Za-z0-9_]", "_", name)
    if not clean[:1].isalpha():
        clean = "v_" + clean
    return clean[:64]
