"""Notifications and follows (additions, migration 0015).

notifications: what the platform told a person, once: a unique dedupe_key per person makes telling
them again (a retried job, a second event for the same happening) write nothing. read_at is set when
they have seen it in the notification centre.

follows: a user follows an astrologer to hear when they become available. notified_at is when that
follower was last told, so an astrologer toggling availability within FOLLOW_NOTIFY_DEBOUNCE_SECONDS
tells each follower once (services/astrologers/follows.py).
"""

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import IdMixin
from .types import UTCDateTime, UUIDType, utcnow

KINDS = ("followed_available", "request_incoming", "request_answered", "queue_offer")


class Notification(IdMixin, db.Model):
    __tablename__ = "notifications"

    user_id: Mapped[uuid.UUID] = mapped_column(UUIDType, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    kind: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    title: Mapped[str] = mapped_column(sa.String(120), nullable=False)
    body: Mapped[str] = mapped_column(sa.String(300), nullable=False)
    #: Where it leads: a path of this site.
    url: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    dedupe_key: Mapped[str] = mapped_column(sa.String(160), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        sa.UniqueConstraint("user_id", "dedupe_key"),
        sa.CheckConstraint("url LIKE '/%'", name="url_is_a_path"),
        sa.Index("ix_notifications_user_created", "user_id", "created_at"),
        sa.Index(
            "ix_notifications_unread",
            "user_id",
            postgresql_where=sa.text("read_at IS NULL"),
            sqlite_where=sa.text("read_at IS NULL"),
        ),
    )


class Follow(db.Model):
    __tablename__ = "follows"

    user_id: Mapped[uuid.UUID] = mapped_column(
        UUIDType, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    astrologer_id: Mapped[uuid.UUID] = mapped_column(
        UUIDType, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (sa.CheckConstraint("user_id <> astrologer_id", name="not_oneself"),)


class PushSubscription(IdMixin, db.Model):
    """A browser's Web Push subscription (RFC 8030): where to send, and the keys to encrypt for it
    (RFC 8291). One per device; dropped when the push service answers 404 or 410."""

    __tablename__ = "push_subscriptions"

    user_id: Mapped[uuid.UUID] = mapped_column(
        UUIDType, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    endpoint: Mapped[str] = mapped_column(sa.String(1000), nullable=False, unique=True)
    #: The browser's P-256 public key and auth secret, base64url as PushSubscription.toJSON() gives them.
    p256dh: Mapped[str] = mapped_column(sa.String(120), nullable=False)
    auth: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    user_agent: Mapped[str | None] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
