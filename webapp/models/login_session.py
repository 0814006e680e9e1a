"""Login sessions (addition, migration 0009): one row per sign-in, so a sign-out ends it on the server.

The cookie names its row (session["login_id"]); a request or socket event whose row is revoked is
anonymous, so a cookie copied before a logout is worth nothing after it. Written by
services/users/login_sessions.py; rows are kept (revoked, not deleted) as the account's sign-in history.
"""

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import IdMixin
from .types import UTCDateTime, UUIDType, utcnow


class LoginSession(IdMixin, db.Model):
    __tablename__ = "login_sessions"

    user_id: Mapped[uuid.UUID] = mapped_column(UUIDType, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    #: Set by a logout, "log out everywhere", or the account leaving `active`; never cleared.
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: What the person sees in their list of signed-in devices.
    user_agent: Mapped[str | None] = mapped_column(sa.String(200))
    ip_address: Mapped[str | None] = mapped_column(sa.String(45))
    #: Addition (migration 0024): the last request made with it, kept to within LAST_SEEN_STEP
    #: (services/users/login_sessions.py), so a page view costs no write.
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (sa.Index("ix_login_sessions_user_id_revoked_at", "user_id", "revoked_at"),)
