"""Every call to the language model (addition, migration 0021): what for, which model, the tokens it
used, and how it went. services/ai/language_model.py writes one per call, and sums a day's tokens for the daily cap."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import IdMixin
from .types import UTCDateTime, utcnow


class AICall(IdMixin, db.Model):
    __tablename__ = "ai_calls"

    #: What the call was for: safety_review (later: summary, matching).
    purpose: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    model: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    prompt_tokens: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    completion_tokens: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    #: ok | failed (the provider refused or did not answer) | capped (not made: the day's tokens are spent)
    outcome: Mapped[str] = mapped_column(sa.String(16), nullable=False)
    error: Mapped[str | None] = mapped_column(sa.String(300))
    duration_ms: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow, index=True)

    __table_args__ = (
        sa.CheckConstraint("outcome IN ('ok', 'failed', 'capped')", name="outcome_known"),
        sa.CheckConstraint("prompt_tokens >= 0 AND completion_tokens >= 0", name="tokens_not_negative"),
    )
