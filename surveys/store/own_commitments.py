"""A person's own commitments from their earlier check-ins: what review and reminder items show back."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, or_, select

from surveys.domain import commitments
from surveys.domain.quizset import CommitmentReminderItem, CommitmentReviewItem, QuizSet
from surveys.store.models import Answer, CheckIn


def reviewed_items(quiz: QuizSet, wave: str) -> set[str]:
    """The commitments items whose commitments a wave shows back (empty for most waves: no query then)."""
    return {
        item.of for item in quiz.items_for(wave) if isinstance(item, (CommitmentReviewItem, CommitmentReminderItem))
    }


def own_commitments_by_enrolment(
    conn: Connection, enrolment_ids: Iterable[int], item_ids: set[str]
) -> dict[int, dict[str, tuple[str, ...]]]:
    """enrolment → commitments item id → the commitments stored under it, in the order made (one query)."""
    enrolments = sorted(set(enrolment_ids))
    if not enrolments or not item_ids:
        return {}
    # Narrowed in SQL by prefix; commitments.split decides exactly which rows are commitments.
    prefixes = or_(*(Answer.item_id.startswith(f"{item_id}.", autoescape=True) for item_id in sorted(item_ids)))
    rows = conn.execute(
        select(CheckIn.enrolment_id, Answer.item_id, Answer.value)
        .join(CheckIn, CheckIn.id == Answer.check_in_id)
        .where(CheckIn.enrolment_id.in_(enrolments), prefixes)
        .order_by(CheckIn.due_at, Answer.id)
    ).all()
    answers: dict[int, dict[str, str]] = {}
    for enrolment_id, answer_id, value in rows:
        answers.setdefault(enrolment_id, {})[answer_id] = value
    return {
        enrolment_id: {item_id: commitments.commitments_from(found, item_id) for item_id in item_ids}
        for enrolment_id, found in answers.items()
    }


def own_commitments(conn: Connection, check_in_id: int, quiz: QuizSet, wave: str) -> dict[str, tuple[str, ...]]:
    """The commitments a check-in's review items show back, from the same person's other check-ins."""
    wanted = reviewed_items(quiz, wave)
    if not wanted:
        return {}
    enrolment_id = conn.scalar(select(CheckIn.enrolment_id).where(CheckIn.id == check_in_id))
    if enrolment_id is None:
        return {}
    return own_commitments_by_enrolment(conn, [enrolment_id], wanted).get(enrolment_id, {})
