"""The answer-button path in SQLAlchemy Core: one read of the pressed check-in with its answers, one insert."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from surveys.domain import states
from surveys.models import Answer, CheckIn, Contact, Course, Enrolment, QuizSetVersion

# Every press runs these. Built once as Core statements, so SQLAlchemy memoizes their cache keys
# and compiles each once per dialect; the ORM path cost ~2 ms a press in two statements
# (bench/README.md, conversation).
_WHEN = CheckIn.__table__.c.started_at.type  # UTCDateTime: aware in, aware out, naive UTC in SQLite

_PRESSED = (
    select(CheckIn.wave, CheckIn.state, CheckIn.due_at, CheckIn.closes_at, Course.title,
           Course.quiz_set_id, QuizSetVersion.slug, QuizSetVersion.checksum, Answer.item_id, Answer.value)
    .select_from(CheckIn)
    .join(Enrolment, Enrolment.id == CheckIn.enrolment_id)
    .join(Contact, Contact.enrolment_id == Enrolment.id)
    .join(Course, Course.id == Enrolment.course_id)
    .join(QuizSetVersion, QuizSetVersion.id == Course.quiz_set_id)
    # One row per stored answer (one row with NULLs when there is none yet).
    .outerjoin(Answer, Answer.check_in_id == CheckIn.id)
    .where(CheckIn.id == bindparam("check_in_id"), Contact.chat_id == bindparam("chat_id"),
           Enrolment.withdrawn_at.is_(None))
)

_INSERT = {
    name: insert(Answer).on_conflict_do_nothing(index_elements=["check_in_id", "item_id"])
    for name, insert in (("postgresql", pg_insert), ("sqlite", sqlite_insert))
}

# As surveys.checkins.mark_started does for an invited (scheduled/sent) check-in.
_START = (
    update(CheckIn)
    .where(CheckIn.id == bindparam("check_in_id"), CheckIn.state.in_(("scheduled", "sent")))
    .values(state="in_progress", started_at=func.coalesce(CheckIn.started_at, bindparam("now", type_=_WHEN)),
            sent_at=func.coalesce(CheckIn.sent_at, bindparam("now", type_=_WHEN)))
)

# Conditional, so a check-in closed meanwhile (expired, withdrawn) stays as it is.
_COMPLETE = (
    update(CheckIn)
    .where(CheckIn.id == bindparam("check_in_id"), CheckIn.state.in_(states.OPEN))
    .values(state="completed", completed_at=bindparam("now", type_=_WHEN), claimed_by=None, next_action_at=None)
)


@dataclass(frozen=True, slots=True)
class Pressed:
    """The pressed check-in as the answer path needs it: its state, course, quiz-set version and answers."""

    id: int
    wave: str
    state: str
    due_at: datetime
    closes_at: datetime
    course_title: str
    quiz_set_id: int
    quiz_slug: str
    quiz_checksum: str
    answers: dict[str, str]


async def pressed_check_in(conn: AsyncConnection, check_in_id: int, chat_id: int) -> Pressed | None:
    """The check-in with its stored answers if it belongs to this chat's unwithdrawn enrolment, else None.

    As surveys.checkins.owned_check_in: a forged id for someone else's check-in finds nothing.
    """
    rows = (await conn.execute(_PRESSED, {"check_in_id": check_in_id, "chat_id": chat_id})).all()
    if not rows:
        return None
    first = rows[0]
    answers = {row.item_id: row.value for row in rows if row.item_id is not None}
    return Pressed(check_in_id, first.wave, first.state, first.due_at, first.closes_at, first.title,
                   first.quiz_set_id, first.slug, first.checksum, answers)


async def insert_answer(conn: AsyncConnection, row: dict[str, object]) -> bool:
    """INSERT … ON CONFLICT (check-in, item) DO NOTHING; False when the item was already answered.

    One round trip, and the unique constraint makes a double tap harmless, even from two processes.
    """
    inserted = await conn.execute(_INSERT[conn.dialect.name], row)
    return inserted.rowcount != 0


async def complete(conn: AsyncConnection, check_in_id: int, now: datetime) -> None:
    """The last answer is in: completed, unclaimed, nothing more to send (unless it closed meanwhile)."""
    await conn.execute(_COMPLETE, {"check_in_id": check_in_id, "now": now})


async def record_press(conn: AsyncConnection, pressed: Pressed, *, item_id: str, value: str, score: float | None,
                       now: datetime, completes: bool) -> bool:
    """Store one pressed answer, start an invited check-in, complete it on the last; False if already answered."""
    row = {"check_in_id": pressed.id, "item_id": item_id, "quiz_set_id": pressed.quiz_set_id,
           "value": value, "score": score, "answered_at": now}
    if not await insert_answer(conn, row):
        return False
    if pressed.state != "in_progress":
        await conn.execute(_START, {"check_in_id": pressed.id, "now": now})
    if completes:
        await complete(conn, pressed.id, now)
    return True
