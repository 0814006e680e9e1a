"""Used hand-off tokens: each jti is accepted once.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "used_handoff_tokens",
        sa.Column("jti", sa.String(length=128), nullable=False),
        sa.Column("external_id", sa.String(length=64), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("jti", name=op.f("pk_used_handoff_tokens")),
    )


def downgrade():
    op.drop_table("used_handoff_tokens")
