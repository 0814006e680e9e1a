"""Mixins every table shares: a UUID primary key and automatic timestamps."""

import uuid
from datetime import datetime

from sqlalchemy.orm import Mapped, mapped_column

from .types import UTCDateTime, UUIDType, new_ordered_uuid, new_uuid, utcnow


class IdMixin:
    id: Mapped[uuid.UUID] = mapped_column(UUIDType, primary_key=True, default=new_uuid)


class OrderedIdMixin:
    """A time-ordered UUIDv7 key, for the tables written fastest (the ledgers, sessions): inserts land
    at the right edge of the primary-key index, and the minute keys (`session:<id>:...`) of sessions
    started together sort together. Not for ids that must not reveal when a row was made."""

    id: Mapped[uuid.UUID] = mapped_column(UUIDType, primary_key=True, default=new_ordered_uuid)


class TimestampMixin:
    #: Set on insert; never changed.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    #: Set on insert and on every ORM update of the row.
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow)
