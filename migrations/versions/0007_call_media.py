"""Voice calls: session_participants.media_lost_at, when a participant's media connection failed.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("session_participants") as batch:
        batch.add_column(sa.Column("media_lost_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("session_participants") as batch:
        batch.drop_column("media_lost_at")
