"""Answers from the personal page, and attachments.

- web_submissions: one submit of a participant's personal page (/u/<token>).
- attachments: files from email replies and page uploads (name, type, size,
  SHA-256, and the bytes unless they were over the limits).
- updates.web_submission_id: the submit an update (source "web") came from.

Revision ID: 7b3f2d9e1c44
Revises: 5e1d7c4a9b20
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tracker.db.types

revision: str = "7b3f2d9e1c44"
down_revision: str | None = "5e1d7c4a9b20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "web_submissions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("at", tracker.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("address", tracker.db.types.SafeString(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_web_submissions_participant_id_participants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_submissions")),
    )
    with op.batch_alter_table("web_submissions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_web_submissions_participant_id_at", ["participant_id", "at"], unique=False
        )

    op.create_table(
        "attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("inbound_message_id", sa.Integer(), nullable=True),
        sa.Column("web_submission_id", sa.Integer(), nullable=True),
        sa.Column("action_id", sa.Integer(), nullable=True),
        sa.Column("filename", tracker.db.types.SafeString(length=255), nullable=False),
        sa.Column("content_type", tracker.db.types.SafeString(length=127), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", tracker.db.types.SafeString(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.Column("stored", sa.Boolean(), nullable=False),
        sa.Column("created_at", tracker.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["actions.id"],
            name=op.f("fk_attachments_action_id_actions"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["inbound_message_id"],
            ["inbound_messages.id"],
            name=op.f("fk_attachments_inbound_message_id_inbound_messages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_attachments_participant_id_participants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["web_submission_id"],
            ["web_submissions.id"],
            name=op.f("fk_attachments_web_submission_id_web_submissions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachments")),
    )
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_attachments_inbound_message_id"), ["inbound_message_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_attachments_participant_id"), ["participant_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_attachments_web_submission_id"), ["web_submission_id"], unique=False
        )

    with op.batch_alter_table("updates", schema=None) as batch_op:
        batch_op.add_column(sa.Column("web_submission_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_updates_web_submission_id"), ["web_submission_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_updates_web_submission_id_web_submissions"),
            "web_submissions",
            ["web_submission_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade() -> None:
    with op.batch_alter_table("updates", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_updates_web_submission_id_web_submissions"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_updates_web_submission_id"))
        batch_op.drop_column("web_submission_id")

    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attachments_web_submission_id"))
        batch_op.drop_index(batch_op.f("ix_attachments_participant_id"))
        batch_op.drop_index(batch_op.f("ix_attachments_inbound_message_id"))

    op.drop_table("attachments")
    with op.batch_alter_table("web_submissions", schema=None) as batch_op:
        batch_op.drop_index("ix_web_submissions_participant_id_at")

    op.drop_table("web_submissions")
