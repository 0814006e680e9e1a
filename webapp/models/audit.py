"""The admin audit trail (addition, migration 0005): who did what to which object, when, before and after.

Written by services/admin/actions.py with every admin action, in the same transaction; never updated or deleted.
"""

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import IdMixin
from .types import JSONType, UTCDateTime, UUIDType, utcnow


class AuditEntry(IdMixin, db.Model):
    __tablename__ = "audit_entries"

    actor_id: Mapped[uuid.UUID] = mapped_column(UUIDType, sa.ForeignKey("users.id"), nullable=False)
    #: e.g. "refund", "user.status", "astrologer.approve", "payout.approve", "payout.paid", "payout.reject",
    #: "session.read" (an admin read a conversation)
    action: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    #: "user", "session", "payout"
    object_type: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    object_id: Mapped[uuid.UUID] = mapped_column(UUIDType, nullable=False)
    before: Mapped[dict] = mapped_column(JSONType, nullable=False, default=dict)
    after: Mapped[dict] = mapped_column(JSONType, nullable=False, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    __table_args__ = (
        sa.Index("ix_audit_entries_object", "object_type", "object_id", "created_at"),
        sa.Index("ix_audit_entries_created_at", "created_at"),
        sa.Index("ix_audit_entries_actor", "actor_id", "created_at"),
    )
