"""The data model: SQLAlchemy 2 typed tables on one MetaData with a naming convention."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    column,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from surveys.domain import states
from surveys.domain.levels import SQL_CHECK as LEVEL_CHECK
from surveys.domain.states import CheckInState

# Stable constraint names, so Alembic migrations work on SQLite (batch mode) and PostgreSQL alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime stored in UTC; SQLite hands back naive values, made aware here."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: every time in followup must be timezone-aware")
        value = value.astimezone(UTC)
        # SQLite stores text; drop the zone so comparisons between stored values stay lexical.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base holding the one MetaData."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar = {datetime: UTCDateTime(), dict[str, Any]: JSON(), list[str]: JSON()}


class QuizSetVersion(Base):
    """One immutable version of a quiz set; a changed file makes a new version."""

    __tablename__ = "quiz_set"
    __table_args__ = (
        UniqueConstraint("slug", "version", name="slug_version"),
        UniqueConstraint("slug", "checksum", name="slug_checksum"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), index=True)
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    definition: Mapped[dict[str, Any]]
    checksum: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]

    @property
    def ref(self) -> str:
        """The `slug@version` form officers type."""
        return f"{self.slug}@{self.version}"


class Course(Base):
    """A delivered course; attendance is the denominator for response rates."""

    __tablename__ = "course"
    __table_args__ = (CheckConstraint(LEVEL_CHECK, name="level_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    level: Mapped[int] = mapped_column(Integer)
    delivered_on: Mapped[date] = mapped_column(Date)
    zone: Mapped[str] = mapped_column(String(64), default="Europe/London")
    quiz_set_id: Mapped[int] = mapped_column(ForeignKey("quiz_set.id"))
    waves: Mapped[list[str]]
    expected_attendance: Mapped[int | None] = mapped_column(Integer)
    # The language its practitioners are spoken to in ('cy'/'en'); None: each chooses (issue 14).
    language: Mapped[str | None] = mapped_column(String(8))
    ended_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    # The in-depth follow-up (surveys.store.in_depth): the percentage of 3-month completers invited,
    # and the seed its draw is made from, set at the first draw and kept so an audit can re-draw it.
    in_depth_share: Mapped[int] = mapped_column(Integer, default=25, server_default=text("25"))
    in_depth_seed: Mapped[str | None] = mapped_column(String(32))

    # Every relationship is lazy="raise": an async session cannot load one on attribute access, so
    # a query whose callers need the related row asks for it (joinedload) and a forgotten one fails loudly.
    quiz_set: Mapped[QuizSetVersion] = relationship(lazy="raise")


class Invite(Base):
    """A deep-link invite; only the token's hash is stored."""

    __tablename__ = "invite"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    single_use: Mapped[bool] = mapped_column(default=False)
    role: Mapped[str | None] = mapped_column(String(40))
    agency: Mapped[str | None] = mapped_column(String(40))
    level: Mapped[int | None] = mapped_column(Integer)
    language: Mapped[str | None] = mapped_column(String(8))  # the register's language for this attendee
    expires_at: Mapped[datetime | None]
    used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    created_at: Mapped[datetime]

    course: Mapped[Course] = relationship(lazy="raise")


class Enrolment(Base):
    """A consenting practitioner on a course, known only by a random pseudonym."""

    __tablename__ = "enrolment"

    id: Mapped[int] = mapped_column(primary_key=True)
    pseudonym: Mapped[str] = mapped_column(String(16), unique=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"), index=True)
    role: Mapped[str | None] = mapped_column(String(40))
    agency: Mapped[str | None] = mapped_column(String(40))
    level: Mapped[int | None] = mapped_column(Integer)
    consented_at: Mapped[datetime]
    withdrawn_at: Mapped[datetime | None]
    # The practitioner's language ('cy'/'en') for every message: on the enrolment, not the contact, so
    # it stays after the purge as an attribute of the answers (the export's check-in language).
    language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")

    course: Mapped[Course] = relationship(lazy="raise")

    # Every dispatch pass looks for the withdrawn: a partial index holds only them (no scan of all).
    __table_args__ = (
        Index(
            "ix_enrolment_withdrawn",
            "id",
            sqlite_where=text("withdrawn_at IS NOT NULL"),
            postgresql_where=text("withdrawn_at IS NOT NULL"),
        ),
    )


class Contact(Base):
    """The only link from an enrolment to a person (a Telegram chat); deleted when no longer needed."""

    __tablename__ = "contact"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolment.id", ondelete="CASCADE"), unique=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, index=True)
    unreachable_at: Mapped[datetime | None]
    created_at: Mapped[datetime]

    # As for withdrawals: each dispatch pass looks for blocked chats, which are few.
    __table_args__ = (
        Index(
            "ix_contact_unreachable",
            "enrolment_id",
            sqlite_where=text("unreachable_at IS NOT NULL"),
            postgresql_where=text("unreachable_at IS NOT NULL"),
        ),
    )


OPEN_WHERE = column("state").in_([str(state) for state in states.OPEN])
"""The open check-in states as SQL, for the partial index expiry uses."""


class CheckIn(Base):
    """One wave for one enrolment: the durable schedule and the position in the quiz."""

    __tablename__ = "check_in"
    __table_args__ = (
        UniqueConstraint("enrolment_id", "wave", name="enrolment_wave"),
        # The dispatcher reads only what is due: (state, due_at) keeps a tick independent of
        # how many check-ins are stored.
        Index("ix_check_in_state_due", "state", "due_at"),
        # Reminders, snoozes and retries are found by when their next action is due.
        Index("ix_check_in_state_next_action", "state", "next_action_at"),
        # Expiry finds open check-ins past their close without a scan. Partial, so the claim (whose
        # WHERE does not imply it) can never pick it over the two indexes above: a full
        # (state, closes_at) index made SQLite walk every open row for each claim.
        Index("ix_check_in_open_closes", "closes_at", sqlite_where=OPEN_WHERE, postgresql_where=OPEN_WHERE),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolment.id", ondelete="CASCADE"))
    wave: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default=CheckInState.SCHEDULED)
    due_at: Mapped[datetime]
    closes_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    reminders_sent: Mapped[int] = mapped_column(Integer, default=0)
    next_action_at: Mapped[datetime | None]
    # "Remind me tomorrow" was pressed: the next reminder is owed even after the automatic two.
    snoozed_until: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claim_expires_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    last_error: Mapped[str | None] = mapped_column(String(200))

    enrolment: Mapped[Enrolment] = relationship(lazy="raise")


class Answer(Base):
    """One answer to one item: no chat id, name or username, ever."""

    __tablename__ = "answer"
    __table_args__ = (UniqueConstraint("check_in_id", "item_id", name="checkin_item"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    check_in_id: Mapped[int] = mapped_column(ForeignKey("check_in.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[str] = mapped_column(String(64))
    quiz_set_id: Mapped[int] = mapped_column(ForeignKey("quiz_set.id"))
    value: Mapped[str] = mapped_column(Text)
    score: Mapped[float | None] = mapped_column(Float)
    answered_at: Mapped[datetime]


class AuditEvent(Base):
    """An admin action or a refused attempt, with a pseudonymised actor."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    role: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(String(200))
    outcome: Mapped[str] = mapped_column(String(16), default="ok")
    detail: Mapped[str | None] = mapped_column(Text)


class InDepthDraw(Base):
    """One 3-month completer's place in the in-depth draw: their stratum, their turn in it, and the outcome.

    Kept (without the enrolment) after an erasure, so the draw can still be re-drawn for audit.
    """

    __tablename__ = "in_depth_draw"
    __table_args__ = (UniqueConstraint("course_id", "stratum", "sequence", name="course_stratum_sequence"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"), index=True)
    enrolment_id: Mapped[int | None] = mapped_column(
        ForeignKey("enrolment.id", ondelete="SET NULL"), unique=True, nullable=True
    )
    stratum: Mapped[str] = mapped_column(String(40))
    sequence: Mapped[int] = mapped_column(Integer)
    share: Mapped[int] = mapped_column(Integer)  # the course's share when drawn, for the re-draw
    selected: Mapped[bool]
    drawn_at: Mapped[datetime]
    # invited → agreed | declined; agreed → told (None when not selected): surveys.domain.in_depth.STATUSES.
    status: Mapped[str | None] = mapped_column(String(16))
    responded_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]


class InDepthAnswer(Base):
    """One answer of a case-study conversation, scrubbed: no chat id, name or username, ever."""

    __tablename__ = "in_depth_answer"
    __table_args__ = (UniqueConstraint("enrolment_id", "question", name="enrolment_question"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolment.id", ondelete="CASCADE"), index=True)
    question: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(Text)
    answered_at: Mapped[datetime]


class Relay(Base):
    """That a message passed between an officer and an in-depth participant; never its text or a chat id.

    `officer` is the officer's audit pseudonym: a reply goes back to whoever of FOLLOWUP_ADMIN_IDS it matches.
    """

    __tablename__ = "relay"
    __table_args__ = (Index("ix_relay_enrolment_at", "enrolment_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolment.id", ondelete="CASCADE"))
    officer: Mapped[str] = mapped_column(String(32))
    direction: Mapped[str] = mapped_column(String(16))  # to_person | to_officer
    at: Mapped[datetime]


class PulseSent(Base):
    """The week a weekly pulse went out: one row per week, so several workers send it once."""

    __tablename__ = "pulse_sent"

    week_of: Mapped[date] = mapped_column(Date, primary_key=True)
    sent_at: Mapped[datetime]


class OrgFigure(Base):
    """One of the board's own counts (referrals, CSE forms, intelligence) for one measure over one period.

    Board-level totals, not answers: no person is behind a row, which is why reports show them unsuppressed.
    """

    __tablename__ = "org_figure"
    __table_args__ = (
        UniqueConstraint("measure_key", "period_start", "period_end", name="measure_period"),
        CheckConstraint("period_start <= period_end", name="period_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    measure: Mapped[str] = mapped_column(String(120))
    # The measure as compared (case and spacing folded), so "MASH referrals" and "mash  referrals" are one.
    measure_key: Mapped[str] = mapped_column(String(120), index=True)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    value: Mapped[float] = mapped_column(Float)
    source: Mapped[str | None] = mapped_column(String(200))
    imported_at: Mapped[datetime]
