"""Session flow: users.session_status and consultation_sessions.offered_at.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25

session_status is kept by the consultation service with every transition;
offered_at separates requests in front of the astrologer (accept timeout
running) from requests still queued. A waiting-queue index serves the
FIFO head and the positions.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column(
                "session_status",
                sa.Enum("idle", "waiting", "in_session", name="session_status", native_enum=False, create_constraint=True, length=32),
                nullable=False,
                server_default="idle",
            )
        )
    with op.batch_alter_table("users") as batch:
        batch.alter_column("session_status", server_default=None)
    with op.batch_alter_table("consultation_sessions") as batch:
        batch.add_column(sa.Column("offered_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_consultation_sessions_queue", "consultation_sessions", ["astrologer_id", "status", "requested_at"]
    )


def downgrade():
    op.drop_index("ix_consultation_sessions_queue", table_name="consultation_sessions")
    with op.batch_alter_table("consultation_sessions") as batch:
        batch.drop_column("offered_at")
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint(op.f("ck_users_session_status"), type_="check")
        batch.drop_column("session_status")
