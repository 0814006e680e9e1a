"""Notifications and follows: what the platform told each person (once, by dedupe key), and who follows whom.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03

notifications: one row per thing a person was told (a followed astrologer became available, ...), unique
per (user, dedupe_key) so a happening reported twice tells nobody twice; read_at from the notification
centre. follows: a user following an astrologer; notified_at debounces availability changes. Neither is
in the seed schema.
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

UNREAD = sa.text("read_at IS NULL")


def upgrade():
    op.create_table(
        "notifications",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("body", sa.String(length=300), nullable=False),
        sa.Column("url", sa.String(length=200), nullable=False),
        sa.Column("dedupe_key", sa.String(length=160), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint("url LIKE '/%'", name=op.f("ck_notifications_url_is_a_path")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_notifications_user_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint("user_id", "dedupe_key", name=op.f("uq_notifications_user_id_dedupe_key")),
    )
    op.create_index("ix_notifications_user_created", "notifications", ["user_id", "created_at"])
    op.create_index("ix_notifications_unread", "notifications", ["user_id"], postgresql_where=UNREAD, sqlite_where=UNREAD)
    op.create_table(
        "follows",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("astrologer_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("notified_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("user_id <> astrologer_id", name=op.f("ck_follows_not_oneself")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_follows_user_id_users"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["astrologer_id"], ["users.id"], name=op.f("fk_follows_astrologer_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "astrologer_id", name=op.f("pk_follows")),
    )
    op.create_index(op.f("ix_follows_astrologer_id"), "follows", ["astrologer_id"])


def downgrade():
    op.drop_index(op.f("ix_follows_astrologer_id"), table_name="follows")
    op.drop_table("follows")
    op.drop_index("ix_notifications_unread", table_name="notifications", postgresql_where=UNREAD, sqlite_where=UNREAD)
    op.drop_index("ix_notifications_user_created", table_name="notifications")
    op.drop_table("notifications")
