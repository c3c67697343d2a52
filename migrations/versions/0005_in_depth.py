"""The in-depth follow-up and the weekly pulse.

A course's share invited to the in-depth follow-up and the seed of its draw; the draw itself (one row per
3-month completer, kept for audit), case-study answers, relayed-message records (never their text), and the
weeks a pulse went out.

Revision ID: 0005
Revises: 0004
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("course", schema=None) as batch_op:
        batch_op.add_column(sa.Column("in_depth_share", sa.Integer(), server_default=sa.text("25"), nullable=False))
        batch_op.add_column(sa.Column("in_depth_seed", sa.String(length=32), nullable=True))

    op.create_table(
        "in_depth_draw",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("enrolment_id", sa.Integer(), nullable=True),
        sa.Column("stratum", sa.String(length=40), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("share", sa.Integer(), nullable=False),
        sa.Column("selected", sa.Boolean(), nullable=False),
        sa.Column("drawn_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=True),
        sa.Column("responded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["course_id"], ["course.id"], name=op.f("fk_in_depth_draw_course_id_course"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["enrolment_id"], ["enrolment.id"],
                                name=op.f("fk_in_depth_draw_enrolment_id_enrolment"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_in_depth_draw")),
        sa.UniqueConstraint("course_id", "stratum", "sequence", name="course_stratum_sequence"),
        sa.UniqueConstraint("enrolment_id", name=op.f("uq_in_depth_draw_enrolment_id")),
    )
    with op.batch_alter_table("in_depth_draw", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_in_depth_draw_course_id"), ["course_id"], unique=False)

    op.create_table(
        "in_depth_answer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enrolment_id", sa.Integer(), nullable=False),
        sa.Column("question", sa.String(length=32), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["enrolment_id"], ["enrolment.id"],
                                name=op.f("fk_in_depth_answer_enrolment_id_enrolment"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_in_depth_answer")),
        sa.UniqueConstraint("enrolment_id", "question", name="enrolment_question"),
    )
    with op.batch_alter_table("in_depth_answer", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_in_depth_answer_enrolment_id"), ["enrolment_id"], unique=False)

    op.create_table(
        "relay",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enrolment_id", sa.Integer(), nullable=False),
        sa.Column("officer", sa.String(length=32), nullable=False),
        sa.Column("direction", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["enrolment_id"], ["enrolment.id"], name=op.f("fk_relay_enrolment_id_enrolment"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_relay")),
    )
    with op.batch_alter_table("relay", schema=None) as batch_op:
        batch_op.create_index("ix_relay_enrolment_at", ["enrolment_id", "at"], unique=False)

    op.create_table(
        "pulse_sent",
        sa.Column("week_of", sa.Date(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("week_of", name=op.f("pk_pulse_sent")),
    )


def downgrade() -> None:
    op.drop_table("pulse_sent")
    with op.batch_alter_table("relay", schema=None) as batch_op:
        batch_op.drop_index("ix_relay_enrolment_at")
    op.drop_table("relay")
    with op.batch_alter_table("in_depth_answer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_in_depth_answer_enrolment_id"))
    op.drop_table("in_depth_answer")
    with op.batch_alter_table("in_depth_draw", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_in_depth_draw_course_id"))
    op.drop_table("in_depth_draw")
    with op.batch_alter_table("course", schema=None) as batch_op:
        batch_op.drop_column("in_depth_seed")
        batch_op.drop_column("in_depth_share")
