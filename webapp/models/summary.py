"""What users ask a language model for (issue 29), each theirs alone.

consultation_summaries (migration 0022): a summary of a consultation, the questions asked, what was
said, the remedies suggested, in the user's language; never shown to the astrologer or anyone else,
and deleted when the user deletes it. concern_matches (migration 0023): a concern in the user's own
words and the available astrologers that fit it."""

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import IdMixin
from .types import JSONType, UTCDateTime, UUIDType, utcnow


class ConsultationSummary(IdMixin, db.Model):
    __tablename__ = "consultation_summaries"

    session_id: Mapped[uuid.UUID] = mapped_column(
        UUIDType, sa.ForeignKey("consultation_sessions.id", ondelete="CASCADE"), nullable=False, unique=True
    )
    #: The session's user, the only person who sees it.
    user_id: Mapped[uuid.UUID] = mapped_column(UUIDType, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    #: The language it is written in (the user's preferred language, else English).
    language: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    #: pending (a job is writing it) | ready | failed (the model could not; the user may ask again)
    status: Mapped[str] = mapped_column(sa.String(16), nullable=False, default="pending")
    #: {"questions": [text], "summary": text, "remedies": [text]} once ready.
    content: Mapped[dict | None] = mapped_column(JSONType)
    #: How many times it was asked for (each asks the model once; the job's key counts it).
    attempt: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=1)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    ready_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        sa.CheckConstraint("status IN ('pending', 'ready', 'failed')", name="status_known"),
        sa.CheckConstraint("(status = 'ready') = (content IS NOT NULL)", name="content_when_ready"),
    )


class ConcernMatch(IdMixin, db.Model):
    """A user's concern in their own words, and the available astrologers a language model found fitting
    (addition, migration 0023; services/ai/matching.py). Only its user sees it."""

    __tablename__ = "concern_matches"

    user_id: Mapped[uuid.UUID] = mapped_column(
        UUIDType, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    #: The concern as sent: trimmed, at most 500 characters, numbers, addresses and links hidden.
    concern: Mapped[str] = mapped_column(sa.String(500), nullable=False)
    #: pending | ready | failed
    status: Mapped[str] = mapped_column(sa.String(16), nullable=False, default="pending")
    #: [{"astrologer_id", "why"}], best first, once ready (empty: nobody available fits).
    results: Mapped[list | None] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    ready_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        sa.CheckConstraint("status IN ('pending', 'ready', 'failed')", name="status_known"),
        sa.CheckConstraint("(status = 'ready') = (results IS NOT NULL)", name="results_when_ready"),
    )
