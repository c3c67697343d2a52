"""Indexes that keep a dispatch pass independent of how many check-ins are stored.

Expiry by closes_at over open check-ins only (partial); the withdrawn enrolments and blocked contacts each pass looks for,
as partial indexes holding only those rows.

Revision ID: 0003
Revises: 0002
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN_WHERE = "state IN ('scheduled', 'sent', 'in_progress')"


def upgrade() -> None:
    with op.batch_alter_table("check_in", schema=None) as batch_op:
        batch_op.create_index("ix_check_in_open_closes", ["closes_at"], unique=False,
                              sqlite_where=sa.text(OPEN_WHERE), postgresql_where=sa.text(OPEN_WHERE))
    with op.batch_alter_table("enrolment", schema=None) as batch_op:
        batch_op.create_index("ix_enrolment_withdrawn", ["id"], unique=False,
                              sqlite_where=sa.text("withdrawn_at IS NOT NULL"),
                              postgresql_where=sa.text("withdrawn_at IS NOT NULL"))
    with op.batch_alter_table("contact", schema=None) as batch_op:
        batch_op.create_index("ix_contact_unreachable", ["enrolment_id"], unique=False,
                              sqlite_where=sa.text("unreachable_at IS NOT NULL"),
                              postgresql_where=sa.text("unreachable_at IS NOT NULL"))


def downgrade() -> None:
    with op.batch_alter_table("contact", schema=None) as batch_op:
        batch_op.drop_index("ix_contact_unreachable")
    with op.batch_alter_table("enrolment", schema=None) as batch_op:
        batch_op.drop_index("ix_enrolment_withdrawn")
    with op.batch_alter_table("check_in", schema=None) as batch_op:
        batch_op.drop_index("ix_check_in_open_closes")
