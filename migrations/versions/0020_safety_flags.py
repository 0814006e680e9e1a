"""Safety flags: what an astrologer wrote that an admin should look at, with the passages and why.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07

One row per (session, source, rule): the rule-based review (services/ai/safety.py) of a session's
astrologer messages when it ends, later a language model's. Open until an admin confirms or
dismisses it with a note. Not in the seed schema.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "safety_flags",
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("astrologer_id", sa.Uuid(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("rule", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column(
            "passages", sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql"),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("decided_by", sa.Uuid(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint("source IN ('rules', 'model')", name=op.f("ck_safety_flags_source_known")),
        sa.CheckConstraint("status IN ('open', 'confirmed', 'dismissed')", name=op.f("ck_safety_flags_status_known")),
        sa.CheckConstraint("(status = 'open') = (decided_at IS NULL)", name=op.f("ck_safety_flags_decided_when_closed")),
        sa.ForeignKeyConstraint(
            ["session_id"], ["consultation_sessions.id"], name=op.f("fk_safety_flags_session_id_consultation_sessions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["astrologer_id"], ["users.id"], name=op.f("fk_safety_flags_astrologer_id_users")),
        sa.ForeignKeyConstraint(["decided_by"], ["users.id"], name=op.f("fk_safety_flags_decided_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_safety_flags")),
        sa.UniqueConstraint("session_id", "source", "rule", name=op.f("uq_safety_flags_session_id_source_rule")),
    )  # fmt: skip
    op.create_index(op.f("ix_safety_flags_astrologer_id"), "safety_flags", ["astrologer_id"])
    op.create_index("ix_safety_flags_status_created", "safety_flags", ["status", "created_at"])


def downgrade():
    op.drop_index("ix_safety_flags_status_created", table_name="safety_flags")
    op.drop_index(op.f("ix_safety_flags_astrologer_id"), table_name="safety_flags")
    op.drop_table("safety_flags")
