"""Participant presence: connection_status and last_seen_at.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("session_participants") as batch:
        batch.add_column(
            sa.Column(
                "connection_status",
                sa.Enum("connected", "disconnected", name="connection_status", native_enum=False, create_constraint=True, length=32),
                nullable=False,
                server_default="disconnected",
            )
        )
        batch.add_column(sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("session_participants") as batch:
        batch.alter_column("connection_status", server_default=None)


def downgrade():
    with op.batch_alter_table("session_participants") as batch:
        batch.drop_constraint(op.f("ck_session_participants_connection_status"), type_="check")
        batch.drop_column("last_seen_at")
        batch.drop_column("connection_status")
