"""A spending cap the user sets: consultation_sessions.cap_minutes and the end reason cap_reached.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02

"Stop at N minutes" or "stop at ₹X" (turned into minutes at the frozen rate) is stored as the
number of minutes the session may last; billing never charges a minute past it and ends the
session at its boundary with end_reason cap_reached. NULL: no cap. Not in the seed schema.
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

END_REASONS = (
    "user_ended", "astrologer_ended", "insufficient_balance", "astrologer_no_reply", "service_interruption",
    "participant_disconnected", "declined", "cancelled", "accept_timeout", "admin_ended", "account_deleted",
    "account_inactive",
)  # fmt: skip


def _end_reasons(*values):
    return "end_reason IN (" + ", ".join(repr(v) for v in values) + ")"


def upgrade():
    with op.batch_alter_table("consultation_sessions") as batch:
        batch.add_column(sa.Column("cap_minutes", sa.Integer(), nullable=True))
        batch.create_check_constraint(op.f("ck_consultation_sessions_cap_positive"), "cap_minutes IS NULL OR cap_minutes >= 1")
        batch.drop_constraint(op.f("ck_consultation_sessions_end_reason"), type_="check")
        batch.create_check_constraint(op.f("ck_consultation_sessions_end_reason"), _end_reasons(*END_REASONS, "cap_reached"))


def downgrade():
    op.execute("UPDATE consultation_sessions SET end_reason = 'user_ended' WHERE end_reason = 'cap_reached'")
    with op.batch_alter_table("consultation_sessions") as batch:
        batch.drop_constraint(op.f("ck_consultation_sessions_end_reason"), type_="check")
        batch.create_check_constraint(op.f("ck_consultation_sessions_end_reason"), _end_reasons(*END_REASONS))
        batch.drop_constraint(op.f("ck_consultation_sessions_cap_positive"), type_="check")
        batch.drop_column("cap_minutes")
