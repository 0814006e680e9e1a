"""Used hand-off tokens (addition, migration 0006): a jti is accepted once, ever."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime


class UsedHandoffToken(db.Model):
    __tablename__ = "used_handoff_tokens"

    #: The token's jti claim, as the main backend sent it.
    jti: Mapped[str] = mapped_column(sa.String(128), primary_key=True)
    external_id: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    used_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
