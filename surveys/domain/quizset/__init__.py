"""Quiz sets: the YAML format's models, its loader and validator, and the bundled sets."""

from surveys.domain.quizset.bundled import bundled_quiz_set, bundled_quiz_sets
from surveys.domain.quizset.errors import QuizSetError, QuizSetInvalid
from surveys.domain.quizset.loader import load_quiz_set
from surveys.domain.quizset.models import (
    ITEM_KINDS,
    KNOWN_CONSTRUCTS,
    CommitmentReminderItem,
    CommitmentReviewItem,
    CommitmentsItem,
    Item,
    LikertItem,
    NumberItem,
    Option,
    QuizSet,
    ShowIf,
    SingleChoiceItem,
    TextItem,
    TrueFalseItem,
    YesNoItem,
)

__all__ = [
    "ITEM_KINDS",
    "KNOWN_CONSTRUCTS",
    "CommitmentReminderItem",
    "CommitmentReviewItem",
    "CommitmentsItem",
    "Item",
    "LikertItem",
    "NumberItem",
    "Option",
    "QuizSet",
    "QuizSetError",
    "QuizSetInvalid",
    "ShowIf",
    "SingleChoiceItem",
    "TextItem",
    "TrueFalseItem",
    "YesNoItem",
    "bundled_quiz_set",
    "bundled_quiz_sets",
    "load_quiz_set",
]
