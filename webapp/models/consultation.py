"""Consultations: the session itself, who takes part, and what they write.

Seed tables: consultation_sessions, session_participants, messages, every
column under the seed's name (../shared/SEED_SCHEMA.md). Where the product
departs from the seed:

- messages.sender_id is NULL for the platform's own lines (message_type
  `system`); every other message has a sender (CHECK).
- session_participants.joined_at is NULL until the session is accepted: both
  rows are written with the request (the queue and read receipts need them),
  and a request that is never accepted was never joined.
- consultation_sessions.total_cost is NOT NULL (0.00 before any charge): the
  ledger invariant compares it with the session's charges.

Additions, each with its reason:

- consultation_sessions.rate_per_minute: the rate frozen when the session is
  requested, so a rate change never touches a running session.
- consultation_sessions.requested_at: when the user asked (the queue's order).
- consultation_sessions.billed_minutes, next_charge_at (indexed),
  free_minutes: the billing pass's state lives in the database, so any
  scheduler process can pick a session up after another one died.
- consultation_sessions.end_reason, review_text, rated_at: why it ended (shown
  to both sides and to admins) and the user's review beside the seed's rating.
- consultation_sessions.offered_at (migration 0003): when a waiting request
  was put in front of the astrologer (at once when a slot was free, else
  when one freed). NULL means still queued. The accept timeout counts
  from it; queue positions count the requests not yet offered.
- consultation_sessions.astrologer_replied_at: the no-reply refund rule needs
  to know whether the astrologer ever wrote, without scanning messages.
- A partial unique index allows one open (waiting or active) session per
  user, so two tabs cannot both start one.
- messages.seq: gap-free order within a session, assigned under the session
  row lock; clients resume from the last seq they have.
- messages.client_message_id with UNIQUE(session_id, sender_id,
  client_message_id): a message resent after a reconnect is stored once.
- session_participants.last_read_seq, disconnected_at: read receipts and the
  reconnect grace period survive a process restart.
- session_participants.last_seen_at (migration 0004): refreshed by every event
  and a heartbeat, and what the reconnect rule (services/consultations/end_rules.py) reads, because
  it stays right when a process dies with its sockets or when sockets live on
  several processes (connection_status is the seed's display of the same).
- session_participants.media_lost_at (migration 0007): a call's media failure.
"""

import uuid
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import IdMixin, OrderedIdMixin, TimestampMixin
from .enums import (
    OPEN_SESSION_STATUSES,
    Channel,
    ConnectionStatus,
    EndReason,
    MessageType,
    ParticipantRole,
    SessionStatus,
    SessionType,
    enum_column_type,
)
from .types import Decimal2, JSONType, Money, UTCDateTime, UUIDType, decimal2_between, new_ordered_uuid, utcnow

_OPEN_STATUSES_SQL = sa.text("status IN ({})".format(", ".join(f"'{s.value}'" for s in OPEN_SESSION_STATUSES)))


class ConsultationSession(OrderedIdMixin, TimestampMixin, db.Model):
    """One chat or call between a user and an astrologer, billed per started minute."""

    __tablename__ = "consultation_sessions"

    user_id: Mapped[uuid.UUID] = mapped_column(UUIDType, sa.ForeignKey("users.id"), nullable=False, index=True)
    #: The astrologer's users.id (the same id /astrologers/<id> uses).
    astrologer_id: Mapped[uuid.UUID] = mapped_column(UUIDType, sa.ForeignKey("users.id"), nullable=False, index=True)
    session_type: Mapped[SessionType] = mapped_column(
        enum_column_type(SessionType, "session_type"), nullable=False, default=SessionType.CHAT
    )
    status: Mapped[SessionStatus] = mapped_column(
        enum_column_type(SessionStatus, "session_status"), nullable=False, default=SessionStatus.WAITING
    )
    #: INR per started minute, copied from the astrologer's rate at request time.
    rate_per_minute: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    #: When the request was offered to the astrologer (accept timeout starts); NULL while queued.
    offered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When the astrologer accepted: minute 1 starts (and is charged) here.
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[EndReason | None] = mapped_column(enum_column_type(EndReason, "end_reason"))
    #: The session's length in started minutes as the meter counted them (charged and free), set
    #: when an accepted session ends; NULL before, and for requests that were never accepted.
    duration_minutes: Mapped[int | None] = mapped_column(sa.Integer)
    #: Not in the seed: the user's spending cap as the minutes (charged and free) the session may
    #: last; billing never charges past it and ends the session at its boundary (cap_reached).
    #: NULL: no cap. A cap in money is turned into minutes at the frozen rate.
    cap_minutes: Mapped[int | None] = mapped_column(sa.Integer)
    #: Minutes charged so far (the count of minute debits, free minutes excluded).
    billed_minutes: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    #: Intro minutes given free to this session (FREE_FIRST_MINUTES, once per user).
    free_minutes: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    #: When the billing pass charges the next minute; NULL unless active.
    next_charge_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    #: The astrologer's first message after acceptance; NULL means no reply yet.
    astrologer_replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Debits less refunds, INR, >= 0; written with every charge and refund.
    total_cost: Mapped[Decimal] = mapped_column(Money(), nullable=False, default=Decimal("0.00"))
    #: The user's rating of the astrologer, 1-5, once, after a completed session with a paid minute.
    astrologer_rating: Mapped[Decimal | None] = mapped_column(Decimal2(3))
    review_text: Mapped[str | None] = mapped_column(sa.Text)
    rated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The astrologer's private rating of the user, 1-5, once, after a completed session; admins only.
    user_rating: Mapped[Decimal | None] = mapped_column(Decimal2(3))
    #: Facts about the session beyond its columns, by documented key (the docstring
    #: of services/consultations/records.py): the channel, how it ended, a call's media outcome.
    session_metadata: Mapped[dict | None] = mapped_column(JSONType)
    #: When a request was declined, cancelled, withdrawn or timed out (status cancelled).
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user = relationship("User", foreign_keys=[user_id])
    astrologer = relationship("User", foreign_keys=[astrologer_id])

    @property
    def channel(self):
        """Chat, call or video: a video consultation is a call noted as video (enums.Channel)."""
        if self.session_type == SessionType.CHAT:
            return Channel.CHAT
        return Channel.VIDEO if ((self.session_metadata or {}).get("call") or {}).get("video") else Channel.CALL

    participants: Mapped[list["SessionParticipant"]] = relationship(back_populates="session")

    __table_args__ = (
        sa.Index(
            "uq_consultation_sessions_one_open_per_user",
            "user_id",
            unique=True,
            postgresql_where=_OPEN_STATUSES_SQL,
            sqlite_where=_OPEN_STATUSES_SQL,
        ),
        sa.Index("ix_consultation_sessions_astrologer_status", "astrologer_id", "status"),
        sa.Index("ix_consultation_sessions_queue", "astrologer_id", "status", "requested_at"),
        sa.CheckConstraint("user_id <> astrologer_id", name="not_self"),
        sa.CheckConstraint("rate_per_minute >= 0", name="rate_not_negative"),
        sa.CheckConstraint("billed_minutes >= 0 AND free_minutes >= 0", name="minutes_not_negative"),
        sa.CheckConstraint("total_cost >= 0", name="total_cost_not_negative"),
        sa.CheckConstraint("duration_minutes >= 0", name="duration_not_negative"),
        sa.CheckConstraint("cap_minutes IS NULL OR cap_minutes >= 1", name="cap_positive"),
        *decimal2_between("astrologer_rating", 1, 5, "astrologer_rating_range"),
        *decimal2_between("user_rating", 1, 5, "user_rating_range"),
        sa.CheckConstraint("status <> 'active' OR started_at IS NOT NULL", name="active_has_started_at"),
        sa.CheckConstraint("(status = 'cancelled') = (cancelled_at IS NOT NULL)", name="cancelled_has_cancelled_at"),
    )


class SessionParticipant(IdMixin, TimestampMixin, db.Model):
    """A person's presence in a session: joined, left, connection and read state."""

    __tablename__ = "session_participants"

    session_id: Mapped[uuid.UUID] = mapped_column(
        UUIDType, sa.ForeignKey("consultation_sessions.id", ondelete="CASCADE"), nullable=False
    )
    user_id: Mapped[uuid.UUID] = mapped_column(UUIDType, sa.ForeignKey("users.id"), nullable=False, index=True)
    participant_role: Mapped[ParticipantRole] = mapped_column(
        enum_column_type(ParticipantRole, "participant_role"), nullable=False
    )
    #: When the session was accepted (both start together); NULL while it waits.
    joined_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Set when the participant's last socket went away (connection_status reconnecting); cleared on reconnect.
    disconnected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Highest message seq this participant has read (read receipts).
    last_read_seq: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    connection_status: Mapped[ConnectionStatus] = mapped_column(
        enum_column_type(ConnectionStatus, "connection_status"), nullable=False, default=ConnectionStatus.DISCONNECTED
    )
    #: The last sign of life from any of this participant's sockets in the session.
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Calls: when this participant's media connection failed; cleared when it connects again.
    media_lost_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    session: Mapped[ConsultationSession] = relationship(back_populates="participants")
    user = relationship("User")

    __table_args__ = (sa.UniqueConstraint("session_id", "user_id"),)


class Message(OrderedIdMixin, TimestampMixin, db.Model):
    """One chat message; `seq` orders a session's messages without gaps."""

    __tablename__ = "messages"

    session_id: Mapped[uuid.UUID] = mapped_column(
        UUIDType, sa.ForeignKey("consultation_sessions.id", ondelete="CASCADE"), nullable=False
    )
    #: NULL for system messages.
    sender_id: Mapped[uuid.UUID | None] = mapped_column(UUIDType, sa.ForeignKey("users.id"))
    message_type: Mapped[MessageType] = mapped_column(
        enum_column_type(MessageType, "message_type"), nullable=False, default=MessageType.TEXT
    )
    #: Plain text as stored (already masked); rendered escaped.
    content: Mapped[str] = mapped_column(sa.Text, nullable=False)
    #: The seed's `metadata` column (the attribute has another name: SQLAlchemy reserves it).
    #: Facts about the message by documented key (services/messaging/chat.py MESSAGE_METADATA): what masking
    #: hid, which platform line a system message is; NULL when there is nothing to say.
    message_metadata: Mapped[dict | None] = mapped_column("metadata", JSONType)
    seq: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    #: The sender's own id for the message, so a resend is stored once.
    client_message_id: Mapped[str | None] = mapped_column(sa.String(64))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    #: When the other participant's client acknowledged receiving it (mark_delivered, or read).
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Not in the seed: a platform line for this participant only (a wallet event for the paying user,
    #: the masking notice for the sender); NULL: both participants see it (migration 0011).
    visible_to_id: Mapped[uuid.UUID | None] = mapped_column(UUIDType, sa.ForeignKey("users.id", ondelete="CASCADE"))

    __table_args__ = (
        sa.UniqueConstraint("session_id", "seq"),
        sa.CheckConstraint("visible_to_id IS NULL OR message_type = 'system'", name="private_only_system"),
        sa.UniqueConstraint("session_id", "sender_id", "client_message_id"),
        sa.CheckConstraint("seq >= 1", name="seq_positive"),
        sa.CheckConstraint("length(content) BETWEEN 1 AND 4000", name="content_length"),
        sa.CheckConstraint("message_type = 'system' OR sender_id IS NOT NULL", name="sender_unless_system"),
        sa.CheckConstraint("read_at IS NULL OR delivered_at IS NOT NULL", name="read_after_delivered"),
    )

    @classmethod
    def new(
        cls,
        *,
        session_id,
        seq,
        content,
        sent_at,
        sender_id=None,
        message_type=MessageType.TEXT,
        client_message_id=None,
        message_metadata=None,
        visible_to_id=None,
    ):
        """A message not stored yet with every column it is written with set (a time-ordered id,
        created and updated at `sent_at`): for the ORM session, or for one Core INSERT of many
        (`values`), which sees no column defaults of the model."""
        return cls(
            id=new_ordered_uuid(),
            session_id=session_id,
            sender_id=sender_id,
            message_type=message_type,
            content=content,
            message_metadata=message_metadata,
            seq=seq,
            client_message_id=client_message_id,
            visible_to_id=visible_to_id,
            sent_at=sent_at,
            created_at=sent_at,
            updated_at=sent_at,
        )

    def values(self):
        """Its column values by attribute name, for a Core INSERT of messages made by `new`."""
        return {column.key: getattr(self, column.key) for column in sa.inspect(type(self)).column_attrs}
