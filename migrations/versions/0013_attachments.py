"""Attachments: the photos and documents behind `image` and `file` messages.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03

The seed's messages.message_type already has `image` and `file`, and messages.metadata describes
them; the seed has no table for the stored file. attachments holds one row per stored object: its
key in the attachment storage, its type decided from the bytes, its size, dimensions or pages, its
sender, and when and why it was removed (the sender's account deleted, the retention period of an
ended session over). Not in the seed schema (../shared/SEED_SCHEMA.md).
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "attachments",
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("message_id", sa.Uuid(), nullable=False),
        sa.Column("uploader_id", sa.Uuid(), nullable=False),
        sa.Column("content_type", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=160), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("pages", sa.Integer(), nullable=True),
        sa.Column("storage_key", sa.String(length=200), nullable=False),
        sa.Column("thumbnail_key", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("removed_reason", sa.String(length=20), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "content_type IN ('image/jpeg', 'image/png', 'application/pdf')", name=op.f("ck_attachments_content_type")
        ),
        sa.CheckConstraint("size > 0", name=op.f("ck_attachments_size_positive")),
        sa.CheckConstraint(
            "(removed_at IS NULL AND removed_reason IS NULL) OR "
            "(removed_at IS NOT NULL AND removed_reason IN ('account_deleted', 'retention'))",
            name=op.f("ck_attachments_removed_with_reason"),
        ),
        sa.ForeignKeyConstraint(
            ["session_id"], ["consultation_sessions.id"], name=op.f("fk_attachments_session_id_consultation_sessions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_attachments_message_id_messages"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["uploader_id"], ["users.id"], name=op.f("fk_attachments_uploader_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachments")),
        sa.UniqueConstraint("message_id", name=op.f("uq_attachments_message_id")),
        sa.UniqueConstraint("storage_key", name=op.f("uq_attachments_storage_key")),
        sa.UniqueConstraint("thumbnail_key", name=op.f("uq_attachments_thumbnail_key")),
    )
    op.create_index(op.f("ix_attachments_session_id"), "attachments", ["session_id"])
    op.create_index(op.f("ix_attachments_uploader_id"), "attachments", ["uploader_id"])


def downgrade():
    op.drop_index(op.f("ix_attachments_uploader_id"), table_name="attachments")
    op.drop_index(op.f("ix_attachments_session_id"), table_name="attachments")
    op.drop_table("attachments")
