"""Deliveries: messages sent outside the site (e-mail), once each, by background jobs.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03

One row per message, keyed by the happening it reports (unique), written with that happening and done
by a job after the commit; a retried job finds it sent and sends nothing. Failing past its retries it
ends dead with the reason, for admins. Not in the seed schema.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "deliveries",
        sa.Column("key", sa.String(length=160), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column(
            "payload", sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql"), nullable=False
        ),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint("status IN ('pending', 'sent', 'dead', 'skipped')", name=op.f("ck_deliveries_status")),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_deliveries_attempts_not_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
        sa.UniqueConstraint("key", name=op.f("uq_deliveries_key")),
    )
    op.create_index("ix_deliveries_status_created", "deliveries", ["status", "created_at"])


def downgrade():
    op.drop_index("ix_deliveries_status_created", table_name="deliveries")
    op.drop_table("deliveries")
