"""Intake: failed and duplicate inbound states, unknown refs, resent replies, questions.

inbound_messages: states 'failed' and 'duplicate'; duplicate_of_id,
reply_digest, unknown_refs. updates: question.

Revision ID: 5e1d7c4a9b20
Revises: f9ef0c2493e8
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5e1d7c4a9b20"
down_revision: str | None = "f9ef0c2493e8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STATES_BEFORE = "state IN ('stored', 'processed', 'held', 'discarded')"
_STATES_AFTER = "state IN ('stored', 'processed', 'held', 'failed', 'duplicate', 'discarded')"


def upgrade() -> None:
    with op.batch_alter_table("inbound_messages", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_inbound_messages_inbound_state"), type_="check")
        batch_op.create_check_constraint(op.f("ck_inbound_messages_inbound_state"), _STATES_AFTER)
        batch_op.add_column(sa.Column("duplicate_of_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("reply_digest", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("unknown_refs", sa.JSON(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_inbound_messages_duplicate_of_id_inbound_messages"),
            "inbound_messages",
            ["duplicate_of_id"],
            ["id"],
            ondelete="SET NULL",
        )
    with op.batch_alter_table("updates", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("question", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("updates", schema=None) as batch_op:
        batch_op.drop_column("question")
    op.execute(
        "UPDATE inbound_messages SET state = 'stored' WHERE state IN ('failed', 'duplicate')"
    )
    with op.batch_alter_table("inbound_messages", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_inbound_messages_duplicate_of_id_inbound_messages"), type_="foreignkey"
        )
        batch_op.drop_column("unknown_refs")
        batch_op.drop_column("reply_digest")
        batch_op.drop_column("duplicate_of_id")
        batch_op.drop_constraint(op.f("ck_inbound_messages_inbound_state"), type_="check")
        batch_op.create_check_constraint(op.f("ck_inbound_messages_inbound_state"), _STATES_BEFORE)
