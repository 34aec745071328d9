"""Reminder nonces, the time of the latest send attempt, a programme's first planning pass.

- reminders.nonce: per-row randomness in reply tokens and Message-IDs. Rows
  never claimed get one now; rows already claimed or sent keep their older
  token (and Message-ID), which stays valid for exactly those rows.
- reminders.last_attempt_at: when the latest claim was taken; filled from the
  audit log for rows attempted before.
- programmes.first_planned_at: no digest is dated before it; filled with the
  programme's first outbox row.

Revision ID: f9ef0c2493e8
Revises: 385a13407e81
Create Date: 2026-11-29
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tracker.db.types
from tracker.core.tokens import NONCE_BYTES, nonce_from_bytes

revision: str = "f9ef0c2493e8"
down_revision: str | None = "385a13407e81"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("programmes", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "first_planned_at", tracker.db.types.UtcDateTime(timezone=True), nullable=True
            )
        )
    with op.batch_alter_table("reminders", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("last_attempt_at", tracker.db.types.UtcDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("nonce", sa.String(length=12), nullable=True))
    bind = op.get_bind()
    unclaimed = bind.execute(sa.text("SELECT id FROM reminders WHERE message_id IS NULL")).all()
    if unclaimed:
        bind.execute(
            sa.text("UPDATE reminders SET nonce = :nonce WHERE id = :id"),
            [
                {"id": row.id, "nonce": nonce_from_bytes(secrets.token_bytes(NONCE_BYTES))}
                for row in unclaimed
            ],
        )
    bind.execute(
        sa.text(
            "UPDATE reminders SET last_attempt_at = ("
            " SELECT MAX(events.at) FROM events WHERE events.reminder_id = reminders.id"
            " AND events.action IN ('reminder.sent', 'reminder.failed', 'reminder.retry'))"
            " WHERE attempts > 0"
        )
    )
    bind.execute(
        sa.text(
            "UPDATE programmes SET first_planned_at = ("
            " SELECT MIN(reminders.created_at) FROM reminders"
            " LEFT JOIN participants ON participants.id = reminders.participant_id"
            " WHERE participants.programme_id = programmes.id"
            " OR reminders.programme_id = programmes.id)"
        )
    )


def downgrade() -> None:
    with op.batch_alter_table("reminders", schema=None) as batch_op:
        batch_op.drop_column("nonce")
        batch_op.drop_column("last_attempt_at")
    with op.batch_alter_table("programmes", schema=None) as batch_op:
        batch_op.drop_column("first_planned_at")
