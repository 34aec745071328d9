"""Weekly digests: programmes.weekly_digest; reminders.programme_id, participant_id optional.

Revision ID: c0cf983cf27e
Revises: 6a4b2e5819b1
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c0cf983cf27e"
down_revision: str | None = "6a4b2e5819b1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("programmes", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("weekly_digest", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
    with op.batch_alter_table("reminders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("programme_id", sa.Integer(), nullable=True))
        batch_op.alter_column("participant_id", existing_type=sa.INTEGER(), nullable=True)
        batch_op.create_index(
            batch_op.f("ix_reminders_programme_id"), ["programme_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_reminders_programme_id_programmes"),
            "programmes",
            ["programme_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade() -> None:
    with op.batch_alter_table("reminders", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_reminders_programme_id_programmes"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_reminders_programme_id"))
        batch_op.alter_column("participant_id", existing_type=sa.INTEGER(), nullable=False)
        batch_op.drop_column("programme_id")
    with op.batch_alter_table("programmes", schema=None) as batch_op:
        batch_op.drop_column("weekly_digest")
