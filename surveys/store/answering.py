"""The one answer path (buttons and typed answers), in SQLAlchemy Core: whose check-in, start, store, complete.

Sync functions on a Connection: a press runs them in one Transactions.run (one thread hop on SQLite);
async callers reach the same ones through AsyncConnection.run_sync.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, and_, bindparam, case, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from surveys.domain import states
from surveys.domain.states import CheckInState
from surveys.store.models import Answer, CheckIn, Contact, Course, Enrolment, QuizSetVersion

# Every press runs these. Built once as Core statements, so SQLAlchemy memoizes their cache keys
# and compiles each once per dialect; the ORM path cost ~2 ms a press in two statements
# (bench/README.md, conversation).
_WHEN = CheckIn.__table__.c.started_at.type  # UTCDateTime: aware in, aware out, naive UTC in SQLite


def of_chat(statement: Select[Any], chat_id: Any) -> Select[Any]:
    """Restrict a select over CheckIn to this chat's unwithdrawn enrolments, joining their course and quiz set.

    The one ownership rule: a forged check-in id for someone else's check-in finds nothing.
    """
    return (
        statement.join(Enrolment, Enrolment.id == CheckIn.enrolment_id)
        .join(Contact, Contact.enrolment_id == Enrolment.id)
        .join(Course, Course.id == Enrolment.course_id)
        .join(QuizSetVersion, QuizSetVersion.id == Course.quiz_set_id)
        .where(Contact.chat_id == chat_id, Enrolment.withdrawn_at.is_(None))
    )


_PRESSED = (
    of_chat(
        select(
            CheckIn.wave,
            CheckIn.state,
            CheckIn.due_at,
            CheckIn.closes_at,
            Course.title,
            Course.zone,
            Course.quiz_set_id,
            QuizSetVersion.slug,
            QuizSetVersion.checksum,
            Enrolment.language,
            Answer.item_id,
            Answer.value,
        ).select_from(CheckIn),
        bindparam("chat_id"),
    )
    # One row per stored answer (one row with NULLs when there is none yet).
    .outerjoin(Answer, Answer.check_in_id == CheckIn.id)
    .where(CheckIn.id == bindparam("check_in_id"))
    # PostgreSQL: hold the check-in row until the press commits, so expiry, pre closing or a withdrawal
    # waits for it instead of closing the check-in between this read and the answer's insert.
    # SQLite has one writer per process (Transactions.run) and renders no FOR UPDATE.
    .with_for_update(of=CheckIn)
)

_INSERT = {
    name: insert(Answer).on_conflict_do_nothing(index_elements=["check_in_id", "item_id"])
    for name, insert in (("postgresql", pg_insert), ("sqlite", sqlite_insert))
}

# Starting: an invited (scheduled/sent) check-in becomes in progress; a first reminder is
# planned if none is (a check-in started without an invitation, at consent or by typing, has
# none, and without one the dispatcher would never remind it).
_NOW = bindparam("now", type_=_WHEN)
_START = (
    update(CheckIn)
    .where(CheckIn.id == bindparam("check_in_id"), CheckIn.state.in_(states.OPEN))
    .values(
        state=case((CheckIn.state.in_(states.NOT_STARTED), CheckInState.IN_PROGRESS), else_=CheckIn.state),
        started_at=func.coalesce(CheckIn.started_at, _NOW),
        sent_at=func.coalesce(CheckIn.sent_at, _NOW),
        next_action_at=case(
            (and_(CheckIn.next_action_at.is_(None), CheckIn.reminders_sent == 0), bindparam("remind_at", type_=_WHEN)),
            else_=CheckIn.next_action_at,
        ),
    )
)

# Conditional, so a check-in closed meanwhile (expired, withdrawn) stays as it is.
_COMPLETE = (
    update(CheckIn)
    .where(CheckIn.id == bindparam("check_in_id"), CheckIn.state.in_(states.OPEN))
    .values(state=CheckInState.COMPLETED, completed_at=_NOW, claimed_by=None, next_action_at=None)
)


@dataclass(frozen=True, slots=True)
class Pressed:
    """A check-in named by a button, as the answer path needs it: state, course, quiz-set version, answers."""

    id: int
    wave: str
    state: str
    due_at: datetime
    closes_at: datetime
    course_title: str
    zone: str
    quiz_set_id: int
    quiz_slug: str
    quiz_checksum: str
    answers: dict[str, str]
    language: str = "en"  # the enrolment's: the press is answered in it (issue 14)


def pressed_check_in(conn: Connection, check_in_id: int, chat_id: int) -> Pressed | None:
    """The check-in with its stored answers if it belongs to this chat's unwithdrawn enrolment, else None."""
    rows = conn.execute(_PRESSED, {"check_in_id": check_in_id, "chat_id": chat_id}).all()
    if not rows:
        return None
    first = rows[0]
    answers = {row.item_id: row.value for row in rows if row.item_id is not None}
    return Pressed(
        check_in_id,
        first.wave,
        first.state,
        first.due_at,
        first.closes_at,
        first.title,
        first.zone,
        first.quiz_set_id,
        first.slug,
        first.checksum,
        answers,
        first.language,
    )


def start(conn: Connection, check_in_id: int, now: datetime, *, remind_at: datetime | None = None) -> None:
    """The practitioner has begun: in progress (if it was invited), no more invitations, a first reminder planned."""
    conn.execute(_START, {"check_in_id": check_in_id, "now": now, "remind_at": remind_at})


def record(
    conn: Connection,
    check_in_id: int,
    quiz_set_id: int,
    *,
    started: bool,
    item_id: str,
    value: str,
    score: float | None,
    now: datetime,
    completes: bool,
) -> bool:
    """Store one answer, start the check-in if it was not, complete it on the last; False if already answered.

    INSERT … ON CONFLICT (check-in, item) DO NOTHING: one round trip, and the unique constraint
    makes a double tap harmless, even from two processes.
    """
    row = {
        "check_in_id": check_in_id,
        "item_id": item_id,
        "quiz_set_id": quiz_set_id,
        "value": value,
        "score": score,
        "answered_at": now,
    }
    inserted = conn.execute(_INSERT[conn.dialect.name], row)
    if inserted.rowcount == 0:
        return False
    if not started:
        start(conn, check_in_id, now)
    if completes:
        conn.execute(_COMPLETE, {"check_in_id": check_in_id, "now": now})
    return True
