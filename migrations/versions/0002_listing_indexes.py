"""Listing indexes: the astrologer filters and sorts.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25

GIN indexes serve the JSON containment filters (specialization, language)
on PostgreSQL; SQLite gets plain indexes there, harmless and unused.
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_astrologer_profiles_chat_rate", "astrologer_profiles", ["chat_rate_per_minute"])
    op.create_index("ix_astrologer_profiles_rating", "astrologer_profiles", ["rating_average", "rating_count"])
    op.create_index("ix_astrologer_profiles_experience", "astrologer_profiles", ["experience_years"])
    op.create_index(
        "ix_astrologer_profiles_specializations", "astrologer_profiles", ["specializations"], postgresql_using="gin"
    )
    op.create_index("ix_astrologer_profiles_languages", "astrologer_profiles", ["languages"], postgresql_using="gin")


def downgrade():
    for name in ("languages", "specializations", "experience", "rating", "chat_rate"):
        op.drop_index(f"ix_astrologer_profiles_{name}", table_name="astrologer_profiles")
