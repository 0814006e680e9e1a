"""Consultation summaries: what a user asked a language model to keep of a reading, theirs alone.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07

One row per session at most (unique session_id): pending while a job writes it, ready with its
content (questions, summary, remedies) in the user's language, or failed. Deleted with the session or
the user, or when the user deletes it. Not in the seed schema.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "consultation_summaries",
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("language", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column(
            "content", sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql"),
            nullable=True,
        ),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ready_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'ready', 'failed')", name=op.f("ck_consultation_summaries_status_known")
        ),
        sa.CheckConstraint(
            "(status = 'ready') = (content IS NOT NULL)", name=op.f("ck_consultation_summaries_content_when_ready")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"], ["consultation_sessions.id"],
            name=op.f("fk_consultation_summaries_session_id_consultation_sessions"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_consultation_summaries_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consultation_summaries")),
        sa.UniqueConstraint("session_id", name=op.f("uq_consultation_summaries_session_id")),
    )  # fmt: skip


def downgrade():
    op.drop_table("consultation_summaries")
