"""Safety flags (addition, migration 0020): what an astrologer wrote in a session that an admin should
look at (payment or contact outside the platform, fear or guarantees used to sell remedies), found by
services/ai/safety.py. A flag never changes a message; an admin confirms or dismisses it, with a note.

One flag per session, source and rule (a unique key), holding every passage of that session that
matched, so a review run twice writes nothing new.
"""

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import IdMixin
from .types import JSONType, UTCDateTime, UUIDType, utcnow

SOURCES = ("rules", "model")  #: the rule-based pass; a language model's review (issue 29, later)
STATUSES = ("open", "confirmed", "dismissed")


class SafetyFlag(IdMixin, db.Model):
    __tablename__ = "safety_flags"

    session_id: Mapped[uuid.UUID] = mapped_column(
        UUIDType, sa.ForeignKey("consultation_sessions.id", ondelete="CASCADE"), nullable=False
    )
    #: The astrologer who wrote the passages (users.id).
    astrologer_id: Mapped[uuid.UUID] = mapped_column(UUIDType, sa.ForeignKey("users.id"), nullable=False, index=True)
    source: Mapped[str] = mapped_column(sa.String(16), nullable=False)
    #: What was found: services/ai/safety.py RULES' names (payment_outside, contact_outside, fear_selling,
    #: guaranteed_results).
    rule: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    #: Why, in words an admin reads.
    reason: Mapped[str] = mapped_column(sa.String(300), nullable=False)
    #: [{"message_id", "seq", "text"}]: the messages that matched, as stored (masked), at most 10.
    passages: Mapped[list] = mapped_column(JSONType, nullable=False)
    status: Mapped[str] = mapped_column(sa.String(16), nullable=False, default="open")
    #: The deciding admin's note.
    note: Mapped[str | None] = mapped_column(sa.String(500))
    decided_by: Mapped[uuid.UUID | None] = mapped_column(UUIDType, sa.ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    session = relationship("ConsultationSession")
    astrologer = relationship("User", foreign_keys=[astrologer_id])
    decider = relationship("User", foreign_keys=[decided_by])

    __table_args__ = (
        sa.UniqueConstraint("session_id", "source", "rule"),
        sa.CheckConstraint("source IN ('rules', 'model')", name="source_known"),
        sa.CheckConstraint("status IN ('open', 'confirmed', 'dismissed')", name="status_known"),
        sa.CheckConstraint("(status = 'open') = (decided_at IS NULL)", name="decided_when_closed"),
        sa.Index("ix_safety_flags_status_created", "status", "created_at"),
    )
