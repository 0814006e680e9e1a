"""Login sessions: a row per sign-in, so a logout (or "log out everywhere") ends it on the server.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02

Cookies issued before this revision name no login session, so everyone signs in once more.
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "login_sessions",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("user_agent", sa.String(length=200), nullable=True),
        sa.Column("ip_address", sa.String(length=45), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_login_sessions_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_sessions")),
    )
    op.create_index("ix_login_sessions_user_id_revoked_at", "login_sessions", ["user_id", "revoked_at"])


def downgrade():
    op.drop_index("ix_login_sessions_user_id_revoked_at", table_name="login_sessions")
    op.drop_table("login_sessions")
