"""Pydantic models of a quiz set: the item kinds, `show_if` and the set that holds them."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    PrivateAttr,
    StrictBool,
    StrictInt,
    ValidationInfo,
    field_validator,
    model_validator,
)

from surveys.domain import commitments, constructs, waves
from surveys.domain.quizset import languages as langs
from surveys.domain.quizset.checks import MAX_BUTTON_LABEL, set_problems

KNOWN_CONSTRUCTS = constructs.NAMES
ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,39}$"


def _button_label(label: str) -> str:
    if not label.strip():
        raise ValueError("a button label cannot be empty")
    if len(label) > MAX_BUTTON_LABEL:
        raise ValueError(f"label is {len(label)} characters; buttons allow at most {MAX_BUTTON_LABEL}: {label!r}")
    return label


def _construct(name: str) -> str:
    if name not in KNOWN_CONSTRUCTS:
        raise ValueError(f"unknown construct '{name}' (known: {', '.join(KNOWN_CONSTRUCTS)})")
    return name


ButtonLabel = Annotated[str, AfterValidator(_button_label)]
Construct = Annotated[str, AfterValidator(_construct)]
Wave = Annotated[str, Field(pattern=waves.PATTERN)]
Text = Annotated[str, Field(min_length=1)]


class _Strict(BaseModel):
    # Frozen: a loaded set is a value. Forbid: a misspelt key must be an error, not ignored.
    # Numbers are coerced to strings so `label: 16` means the same as `label: "16"`.
    model_config = ConfigDict(frozen=True, extra="forbid", coerce_numbers_to_str=True)


class Option(_Strict):
    """One answer of a single-choice item: a short typed code and its button label."""

    value: Annotated[str, Field(pattern=r"^[a-z0-9]{1,8}$")]
    label: ButtonLabel


ItemId = Annotated[str, Field(pattern=ID_PATTERN)]


class ShowIf(_Strict):
    """Ask an item only when an earlier item's answer (for a review: any of the statuses) is one of `in`."""

    item: ItemId
    # `in` is a Python keyword, so the attribute has another name.
    values: Annotated[tuple[Annotated[str, Field(min_length=1)], ...], Field(min_length=1, alias="in")]


class _Item(_Strict):
    id: ItemId
    text: Text
    tags: Annotated[tuple[Annotated[str, Field(min_length=1)], ...], Field(min_length=1)]
    waves: Annotated[tuple[Wave, ...], Field(min_length=1)]
    source: str | None = None
    required: StrictBool = True
    show_if: ShowIf | None = None

    @property
    def correct_value(self) -> str | None:
        """The stored value of the right answer, or None when the item is not scored."""
        return None

    @property
    def scored(self) -> bool:
        """Whether answers to this item count towards the knowledge score."""
        return self.correct_value is not None

    @field_validator("required")
    @classmethod
    def _only_text_is_optional(cls, required: bool) -> bool:
        if not required and cls is not TextItem:
            raise ValueError("only text items may set required: false")
        return required


class SingleChoiceItem(_Item):
    """Pick one of 2–8 options; scored when `correct` names one of them."""

    kind: Literal["single_choice"]
    options: Annotated[tuple[Option, ...], Field(min_length=2, max_length=8)]
    correct: str | None = None
    explanation: str | None = None

    @field_validator("options")
    @classmethod
    def _distinct_options(cls, options: tuple[Option, ...]) -> tuple[Option, ...]:
        values = [o.value for o in options]
        labels = [" ".join(o.label.casefold().split()) for o in options]
        if len(set(values)) != len(values):
            raise ValueError(f"option values must be distinct, got {', '.join(values)}")
        if len(set(labels)) != len(labels):
            raise ValueError("option labels must be distinct")
        return options

    @field_validator("correct")
    @classmethod
    def _correct_is_an_option(cls, correct: str | None, info: ValidationInfo) -> str | None:
        options = info.data.get("options")
        if correct is not None and options is not None and correct not in {o.value for o in options}:
            values = ", ".join(o.value for o in options)
            raise ValueError(f"correct answer '{correct}' is not one of the option values ({values})")
        return correct

    @property
    def correct_value(self) -> str | None:
        """The value of the right option, if the item is scored."""
        return self.correct


class TrueFalseItem(_Item):
    """A statement answered true or false; always scored."""

    kind: Literal["true_false"]
    correct: StrictBool
    explanation: str | None = None

    @property
    def correct_value(self) -> str | None:
        """ "true" or "false"."""
        return "true" if self.correct else "false"


class LikertItem(_Item):
    """A five-point agreement scale feeding one attitude construct."""

    kind: Literal["likert"]
    # `construct` would shadow BaseModel.construct, so the attribute has another name.
    construct_name: Construct = Field(alias="construct")
    reverse: StrictBool = False
    labels: tuple[ButtonLabel, ...]

    @field_validator("labels")
    @classmethod
    def _five_labels(cls, labels: tuple[str, ...]) -> tuple[str, ...]:
        if len(labels) != 5:
            raise ValueError(
                f"a Likert item needs exactly 5 labels (strongly disagree … strongly agree), found {len(labels)}"
            )
        return labels


class YesNoItem(_Item):
    """A yes/no question, usually about a change in practice; not scored."""

    kind: Literal["yes_no"]
    construct_name: Construct | None = Field(default=None, alias="construct")


class NumberItem(_Item):
    """A whole number between `min` and `max`; not scored."""

    kind: Literal["number"]
    min: StrictInt
    max: StrictInt
    unit: str | None = None

    @field_validator("max")
    @classmethod
    def _max_not_below_min(cls, maximum: int, info: ValidationInfo) -> int:
        minimum = info.data.get("min")
        if minimum is not None and maximum < minimum:
            raise ValueError(f"max ({maximum}) is below min ({minimum})")
        return maximum


class TextItem(_Item):
    """A free-text answer of at most `max_length` characters; not scored."""

    kind: Literal["text"]
    max_length: Annotated[StrictInt, Field(ge=1, le=1000)] = 500


class CommitmentsItem(_Item):
    """Up to `max` things the person will do differently, typed one per message (surveys.domain.commitments)."""

    kind: Literal["commitments"]
    max: Annotated[StrictInt, Field(ge=1, le=9)] = commitments.DEFAULT_MAX


class CommitmentReviewItem(_Item):
    """Each of the person's own commitments (item `of`) shown back: a status, and what got in the way."""

    kind: Literal["commitment_review"]
    of: ItemId
    # Asked after a status in commitments.BARRIER_ASKED; free text, skippable. Left out, it is
    # languages.DEFAULT_BARRIER in the set's language(s).
    barrier: Text = langs.DEFAULT_BARRIER[langs.PRIMARY]


class CommitmentReminderItem(_Item):
    """A message, no question: the person's own commitments (item `of`) sent as the wave's invitation."""

    kind: Literal["commitment_reminder"]
    of: ItemId


AnyItem = (
    SingleChoiceItem
    | TrueFalseItem
    | LikertItem
    | YesNoItem
    | NumberItem
    | TextItem
    | CommitmentsItem
    | CommitmentReviewItem
    | CommitmentReminderItem
)
# Parsed by its `kind`.
Item = Annotated[AnyItem, Field(discriminator="kind")]
ITEM_KINDS: dict[str, type[_Item]] = {
    "single_choice": SingleChoiceItem,
    "true_false": TrueFalseItem,
    "likert": LikertItem,
    "yes_no": YesNoItem,
    "number": NumberItem,
    "text": TextItem,
    "commitments": CommitmentsItem,
    "commitment_review": CommitmentReviewItem,
    "commitment_reminder": CommitmentReminderItem,
}


class _Views(dict):
    """A set's one-language views, made once each: a cache, so it never makes two equal sets unequal."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Views)

    __hash__ = None  # type: ignore[assignment]


class QuizSet(_Strict):
    """A validated quiz set. Build one with `load_quiz_set` or `QuizSet.from_definition`.

    A bilingual set (`languages: [en, cy]`) holds its English texts in its attributes, so exports, the
    codebook and reports read it as before; `in_language(code)` is the same set with another language's texts.
    """

    slug: Annotated[str, Field(pattern=r"^[a-z0-9-]{3,40}$")]
    title: Text
    description: Text
    language: str = "en-GB"
    languages: tuple[Annotated[str, Field(pattern=r"^[a-z]{2,3}$")], ...] | None = None
    estimate_minutes: Annotated[StrictInt, Field(ge=1, le=15)]
    feedback: StrictBool = False
    waves: Annotated[tuple[Wave, ...], Field(min_length=1)]
    intro: str | None = None
    items: Annotated[tuple[Item, ...], Field(min_length=1)]

    # Per-language texts by item id and option value (languages.split); empty for a one-language set.
    _translations: dict = PrivateAttr(default_factory=dict)
    _views: _Views = PrivateAttr(default_factory=_Views)

    @model_validator(mode="wrap")
    @classmethod
    def _languages_and_set_rules(
        cls, data: Any, handler: ModelWrapValidatorHandler[QuizSet], info: ValidationInfo
    ) -> QuizSet:
        if not isinstance(data, Mapping):
            return handler(data)
        # The fields hold the primary language's texts; the others are kept aside for in_language().
        primary, translations = langs.split(data)
        model = handler(primary)
        model._translations = translations
        # The loader runs these checks itself on the raw YAML so it can point at lines;
        # anything else building a QuizSet (a stored definition, a test) is checked here.
        if not (info.context or {}).get("checked_by_loader"):
            problems = set_problems(model.to_definition())
            if problems:
                raise ValueError("; ".join(p.message for p in problems))
        return model

    @property
    def language_codes(self) -> tuple[str, ...]:
        """The languages the set is written in ("en", "cy"); a one-language set's from its `language` tag."""
        return self.languages or (langs.code_of(self.language),)

    @property
    def primary_language(self) -> str:
        """The language of the set's own attributes: English when the set has it."""
        return langs.primary_of(self.language_codes)

    def language_for(self, language: str | None) -> str:
        """The language a person speaking `language` is asked in: it, if the set is written in it, else the primary."""
        return language if language in self.language_codes else self.primary_language

    def in_language(self, language: str | None) -> QuizSet:
        """The set with every text in `language`: a one-language set to render, ask and match typed answers in.

        Values, ids, waves and scoring are the same in every view, so answers compare across languages.
        A language the set is not written in (or None) gives the primary language's view.
        """
        code = self.language_for(language)
        if code == self.primary_language and not self._translations:
            return self
        if code not in self._views:
            self._views[code] = self._view(code)
        return self._views[code]

    def _view(self, code: str) -> QuizSet:
        definition = self.model_dump(mode="json", by_alias=True)
        langs.resolve(definition, self._translations, code)
        definition.update(language=code, languages=None)
        return QuizSet.model_validate(definition, context={"checked_by_loader": True})

    def text_in(self, item_id: str, language: str | None, field: str = "text") -> str | None:
        """One text of an item (`text`, `explanation`, `barrier`, `unit`) in a language, unrendered."""
        return getattr(self.in_language(language).item(item_id), field, None)

    def item(self, item_id: str) -> AnyItem:
        """The item with this id; KeyError if there is none."""
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(item_id)

    def items_for(self, wave: str) -> tuple[Item, ...]:
        """The items asked at a wave, in file order."""
        return tuple(item for item in self.items if wave in item.waves)

    def message_only(self, wave: str) -> bool:
        """Whether a wave asks nothing: its items are all reminders (a nudge sent as the invitation)."""
        items = self.items_for(wave)
        return bool(items) and all(isinstance(item, CommitmentReminderItem) for item in items)

    @property
    def asking_waves(self) -> tuple[str, ...]:
        """The set's waves that ask questions (not message-only): these decide which items are comparable."""
        return tuple(w for w in self.waves if not self.message_only(w))

    def to_definition(self) -> dict:
        """The set as plain JSON-ready data, as stored in the database."""
        definition = self.model_dump(mode="json", by_alias=True)
        # An unset show_if or languages is left out, so sets written before they existed keep their checksums.
        for item in definition["items"]:
            if item.get("show_if", 0) is None:
                del item["show_if"]
        if definition["languages"] is None:
            del definition["languages"]
        else:
            del definition["language"]  # a bilingual set has no single language tag
        langs.merge(definition, self._translations, self.primary_language)
        return definition

    @classmethod
    def from_definition(cls, definition: dict) -> QuizSet:
        """Rebuild a set from `to_definition()` output; raises QuizSetInvalid if it is not valid."""
        # Imported here because the loader builds on these models.
        from surveys.domain.quizset.loader import validate_data

        return validate_data(definition, filename="<definition>")

    @property
    def checksum(self) -> str:
        """sha256 of the canonical JSON of the set: equal sets, equal checksums."""
        canonical = json.dumps(self.to_definition(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
