"""The board's organisational figures: one value per measure and period (referrals, CSE forms, intelligence).

Revision ID: 0004
Revises: 0003
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "org_figure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("measure", sa.String(length=120), nullable=False),
        sa.Column("measure_key", sa.String(length=120), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=True),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("period_start <= period_end", name=op.f("ck_org_figure_period_order")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_org_figure")),
        sa.UniqueConstraint("measure_key", "period_start", "period_end", name="measure_period"),
    )
    with op.batch_alter_table("org_figure", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_org_figure_measure_key"), ["measure_key"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("org_figure", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_org_figure_measure_key"))
    op.drop_table("org_figure")
