"""Platform lines for one participant only: messages.visible_to_id.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02

A wallet event (a top-up received, a low balance) and the masking notice concern one participant:
they are stored in the conversation (its seqs stay gap-free) but only that participant receives them,
sees them on reload and in the transcript; the admin session page shows them, labelled. The seed's
messages table has no such column (../shared/SEED_SCHEMA.md): NULL, for everyone, keeps its meaning.
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("visible_to_id", sa.Uuid(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_messages_visible_to_id_users"), "users", ["visible_to_id"], ["id"], ondelete="CASCADE"
        )
        batch.create_check_constraint(
            op.f("ck_messages_private_only_system"), "visible_to_id IS NULL OR message_type = 'system'"
        )


def downgrade():
    with op.batch_alter_table("messages") as batch:
        batch.drop_constraint(op.f("ck_messages_private_only_system"), type_="check")
        batch.drop_constraint(op.f("fk_messages_visible_to_id_users"), type_="foreignkey")
        batch.drop_column("visible_to_id")
