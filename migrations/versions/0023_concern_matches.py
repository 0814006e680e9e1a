"""Concern matches: a user's concern in their own words and the available astrologers that fit it.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07

services/ai/matching.py: pending while a job asks the language model, ready with [{astrologer_id, why}],
or failed. The concern is stored as sent (masked, at most 500 characters). Not in the seed schema.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "concern_matches",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("concern", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column(
            "results", sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql"),
            nullable=True,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ready_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint("status IN ('pending', 'ready', 'failed')", name=op.f("ck_concern_matches_status_known")),
        sa.CheckConstraint(
            "(status = 'ready') = (results IS NOT NULL)", name=op.f("ck_concern_matches_results_when_ready")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_concern_matches_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_concern_matches")),
    )  # fmt: skip
    op.create_index(op.f("ix_concern_matches_user_id"), "concern_matches", ["user_id"])


def downgrade():
    op.drop_index(op.f("ix_concern_matches_user_id"), table_name="concern_matches")
    op.drop_table("concern_matches")
