"""Attachments (addition, migration 0013): the photo or document behind an `image` or `file` message.

The seed's messages.message_type has `image` and `file` and its metadata column describes them
(../shared/SEED_SCHEMA.md); the seed has no place for the file itself. A row here is the stored
object: its key in the attachment storage (services/messaging/attachment_storage.py), what it is (decided
from the bytes, re-encoded; services/messaging/_attachment_files.py) and who sent it. The message and its row
are written in one transaction (services/messaging/attachments.py).

A removed attachment (its sender's account deleted, or the retention period of an ended session
over) keeps its row with removed_at and why, its objects deleted from the storage; the message
stays in the conversation (seqs stay gap-free) and says the file was removed.
"""

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import IdMixin
from .types import UTCDateTime, UUIDType, utcnow

#: What the product stores (every upload is re-encoded into one of these, or is a checked PDF).
CONTENT_TYPES = ("image/jpeg", "image/png", "application/pdf")
REMOVED_REASONS = ("account_deleted", "retention")


def _one_of(column, values):
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


class Attachment(IdMixin, db.Model):
    __tablename__ = "attachments"

    session_id: Mapped[uuid.UUID] = mapped_column(
        UUIDType, sa.ForeignKey("consultation_sessions.id", ondelete="CASCADE"), nullable=False, index=True
    )
    #: The `image` or `file` message that shows it (one attachment per message).
    message_id: Mapped[uuid.UUID] = mapped_column(
        UUIDType, sa.ForeignKey("messages.id", ondelete="CASCADE"), nullable=False, unique=True
    )
    uploader_id: Mapped[uuid.UUID] = mapped_column(UUIDType, sa.ForeignKey("users.id"), nullable=False, index=True)
    content_type: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    #: The name as shown: the sender's file name, masked like text, with the stored type's extension.
    name: Mapped[str] = mapped_column(sa.String(160), nullable=False)
    #: Bytes of the stored object (what a download sends; what the per-session limit counts).
    size: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    sha256: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    width: Mapped[int | None] = mapped_column(sa.Integer)
    height: Mapped[int | None] = mapped_column(sa.Integer)
    pages: Mapped[int | None] = mapped_column(sa.Integer)
    storage_key: Mapped[str] = mapped_column(sa.String(200), nullable=False, unique=True)
    #: Images only: a small JPEG made once at upload.
    thumbnail_key: Mapped[str | None] = mapped_column(sa.String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    removed_reason: Mapped[str | None] = mapped_column(sa.String(20))

    __table_args__ = (
        sa.CheckConstraint(_one_of("content_type", CONTENT_TYPES), name="content_type"),
        sa.CheckConstraint("size > 0", name="size_positive"),
        sa.CheckConstraint(
            "(removed_at IS NULL AND removed_reason IS NULL) OR "
            f"(removed_at IS NOT NULL AND {_one_of('removed_reason', REMOVED_REASONS)})",
            name="removed_with_reason",
        ),
    )

    @property
    def is_image(self):
        return self.content_type.startswith("image/")

    @property
    def removed(self):
        return self.removed_at is not None
