"""Birth places located: user_profiles.birth_latitude, birth_longitude, birth_time_zone.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03

A birth chart needs where the person was born and the time zone rules of that place on that date;
the seed's birth_place is a string. The account page now picks the place from an offline gazetteer
(services/astrology/places.py) and stores its coordinates and IANA zone beside the label. All three are NULL
together (a place typed before this, or none). Not in the seed schema.
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

LOCATED = (
    "(birth_latitude IS NULL AND birth_longitude IS NULL AND birth_time_zone IS NULL) OR "
    "(birth_latitude BETWEEN -90 AND 90 AND birth_longitude BETWEEN -180 AND 180 AND birth_time_zone IS NOT NULL)"
)


def upgrade():
    with op.batch_alter_table("user_profiles") as batch:
        batch.add_column(sa.Column("birth_latitude", sa.Float(), nullable=True))
        batch.add_column(sa.Column("birth_longitude", sa.Float(), nullable=True))
        batch.add_column(sa.Column("birth_time_zone", sa.String(length=64), nullable=True))
        batch.create_check_constraint(op.f("ck_user_profiles_birth_place_located"), LOCATED)


def downgrade():
    with op.batch_alter_table("user_profiles") as batch:
        batch.drop_constraint(op.f("ck_user_profiles_birth_place_located"), type_="check")
        batch.drop_column("birth_time_zone")
        batch.drop_column("birth_longitude")
        batch.drop_column("birth_latitude")
