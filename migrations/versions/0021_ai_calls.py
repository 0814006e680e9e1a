"""AI calls: every call to the language model with its tokens, for the log and the daily cap.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07

services/ai/language_model.py writes a row per call (purpose, model, prompt and completion tokens, outcome, error,
duration) and sums the day's tokens against AI_DAILY_TOKENS before each call. Not in the seed schema.
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "ai_calls",
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("prompt_tokens", sa.Integer(), nullable=False),
        sa.Column("completion_tokens", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("error", sa.String(length=300), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint("outcome IN ('ok', 'failed', 'capped')", name=op.f("ck_ai_calls_outcome_known")),
        sa.CheckConstraint(
            "prompt_tokens >= 0 AND completion_tokens >= 0", name=op.f("ck_ai_calls_tokens_not_negative")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ai_calls")),
    )
    op.create_index(op.f("ix_ai_calls_created_at"), "ai_calls", ["created_at"])


def downgrade():
    op.drop_index(op.f("ix_ai_calls_created_at"), table_name="ai_calls")
    op.drop_table("ai_calls")
