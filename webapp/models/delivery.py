"""Deliveries (addition, migration 0016): each message the platform sends outside the site (an e-mail
today), written in the transaction of the happening it reports and done by a background job.

`key` is unique: the same happening asks for one delivery however often it is reported, and a job
retried after a failure finds the row already `sent` and sends nothing again. A delivery that keeps
failing ends `dead` with its last error, which admins read (services/jobs.py).
"""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import IdMixin
from .types import JSONType, UTCDateTime, utcnow

STATUSES = ("pending", "sent", "dead", "skipped")


class Delivery(IdMixin, db.Model):
    __tablename__ = "deliveries"

    key: Mapped[str] = mapped_column(sa.String(160), nullable=False, unique=True)
    #: What kind of message: "email" (services/notifications/mail.py).
    channel: Mapped[str] = mapped_column(sa.String(16), nullable=False)
    #: What the job needs to send it (for e-mail: to, subject, text, html, category).
    payload: Mapped[dict] = mapped_column(JSONType, nullable=False)
    status: Mapped[str] = mapped_column(sa.String(16), nullable=False, default="pending")
    attempts: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        sa.CheckConstraint("status IN ('pending', 'sent', 'dead', 'skipped')", name="status"),
        sa.CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        sa.Index("ix_deliveries_status_created", "status", "created_at"),
    )
