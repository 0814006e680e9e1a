"""Video consultations: astrologer_profiles.video_rate_per_minute and video_availability.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06

Video is a third channel beside chat and call, with its own rate and its own choice of availability.
A video consultation is stored as the seed's session_type `call` with session_metadata.call.video
true (enums.Channel says why), so consultation_sessions needs no change. Existing astrologers start
with video offline, at their call rate.
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("astrologer_profiles") as batch:
        batch.add_column(sa.Column("video_rate_per_minute", sa.Numeric(precision=10, scale=2), nullable=True))
        batch.add_column(
            sa.Column(
                "video_availability",
                sa.Enum("available", "unavailable", "offline", name="video_availability", native_enum=False,
                        create_constraint=True, length=32),
                nullable=False,
                server_default="offline",
            )
        )  # fmt: skip
    op.execute("UPDATE astrologer_profiles SET video_rate_per_minute = call_rate_per_minute")
    with op.batch_alter_table("astrologer_profiles") as batch:
        batch.alter_column("video_rate_per_minute", existing_type=sa.Numeric(precision=10, scale=2), nullable=False)
        batch.alter_column("video_availability", server_default=None)
        batch.create_check_constraint(
            op.f("ck_astrologer_profiles_video_rate_not_negative"), "video_rate_per_minute >= 0"
        )


def downgrade():
    with op.batch_alter_table("astrologer_profiles") as batch:
        batch.drop_constraint(op.f("ck_astrologer_profiles_video_rate_not_negative"), type_="check")
        batch.drop_constraint(op.f("ck_astrologer_profiles_video_availability"), type_="check")
        batch.drop_column("video_availability")
        batch.drop_column("video_rate_per_minute")
