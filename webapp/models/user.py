"""People: users (every role), their profile with the wallet mirror, astrologer profiles.

Seed tables: users, user_profiles, astrologer_profiles. Additions, each with
its reason:

- users.type gains `admin` (the console) and `system` (owns the platform
  wallet that receives commission, so every internal movement has a
  matching opposite one).
- users.password_hash: nullable, because users synced from the main backend
  may only ever arrive by hand-off.
- users.email and users.phone are unique where present (login identifiers;
  a collision is an error, never a silent merge).
- users.last_login_at: shown to admins; costs nothing.
- users.session_status (idle / waiting / in_session): kept by the
  consultation service in the same transaction as every transition
  (migration 0003).
- astrologer_profiles.languages (JSON list), experience_years, about,
  is_approved: the listing filters and the admin approval need them.
- astrologer_profiles indexes for the listing (rate, rating, experience;
  GIN on the specializations and languages lists on PostgreSQL).
- astrologer_profiles.chat_availability / call_availability: the astrologer's
  choice per channel (available / unavailable / offline). `busy` is derived
  from active sessions vs. max_concurrent_sessions and never stored, so it
  cannot get stuck.
"""

import uuid
from datetime import date, datetime, time
from decimal import Decimal

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import IdMixin, TimestampMixin
from .enums import Availability, PresenceStatus, SyncStatus, UserStatus, UserType, enum_column_type
from .types import Decimal2, JSONType, Money, UTCDateTime, UUIDType


class User(IdMixin, TimestampMixin, UserMixin, db.Model):
    """Anyone who can own a wallet or log in: end user, astrologer, admin, system."""

    __tablename__ = "users"

    #: The main backend's id for this person; NULL for users created here.
    external_id: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120), nullable=False)
    #: Lower-cased; unique where present.
    email: Mapped[str | None] = mapped_column(sa.String(254), unique=True)
    #: E.164 (+<country><number>); unique where present.
    phone: Mapped[str | None] = mapped_column(sa.String(20), unique=True)
    type: Mapped[UserType] = mapped_column(
        enum_column_type(UserType, "user_type"), nullable=False, default=UserType.USER
    )
    status: Mapped[UserStatus] = mapped_column(
        enum_column_type(UserStatus, "user_status"), nullable=False, default=UserStatus.ACTIVE
    )
    #: Argon2id PHC string; NULL when the user can only arrive by hand-off.
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Where the person is in the consultation flow; written by services/consultations.py only.
    session_status: Mapped[PresenceStatus] = mapped_column(
        enum_column_type(PresenceStatus, "session_status"), nullable=False, default=PresenceStatus.IDLE
    )
    #: Soft delete: set together with status `deleted`; rows are never removed.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    profile: Mapped["UserProfile"] = relationship(back_populates="user", uselist=False)
    astrologer_profile: Mapped["AstrologerProfile | None"] = relationship(back_populates="user", uselist=False)
    wallet: Mapped["Wallet"] = relationship(back_populates="user", uselist=False)  # noqa: F821

    __table_args__ = (
        sa.CheckConstraint("email IS NOT NULL OR phone IS NOT NULL OR external_id IS NOT NULL", name="identifiable"),
        sa.CheckConstraint("(status = 'deleted') = (deleted_at IS NOT NULL)", name="deleted_status_matches_deleted_at"),
    )

    @property
    def is_active(self):
        """Flask-Login: suspended and deleted users are logged out on their next request."""
        return self.status == UserStatus.ACTIVE

    @property
    def is_astrologer(self):
        return self.type == UserType.ASTROLOGER

    @property
    def is_admin(self):
        return self.type == UserType.ADMIN

    def __repr__(self):
        return f"<User {self.id} {self.type} {self.email or self.phone or self.external_id}>"


class UserProfile(IdMixin, TimestampMixin, db.Model):
    """Personal details, birth data for readings, sync bookkeeping, and the wallet mirror."""

    __tablename__ = "user_profiles"

    user_id: Mapped[uuid.UUID] = mapped_column(
        UUIDType, sa.ForeignKey("users.id", ondelete="CASCADE"), unique=True, nullable=False
    )
    avatar_url: Mapped[str | None] = mapped_column(sa.String(500))
    gender: Mapped[str | None] = mapped_column(sa.String(20))
    #: Birth details, posted as the first system message of a consultation.
    birth_date: Mapped[date | None] = mapped_column(sa.Date)
    birth_time: Mapped[time | None] = mapped_column(sa.Time)
    birth_place: Mapped[str | None] = mapped_column(sa.String(200))
    preferred_language: Mapped[str | None] = mapped_column(sa.String(40))
    #: Mirror of wallets.current_balance, written by services/wallet.py in the same transaction.
    current_balance: Mapped[Decimal] = mapped_column(Money(), nullable=False, default=Decimal("0.00"))
    #: Sum of completed top-ups, INR, >= 0; written by services/wallet.py.
    total_recharged: Mapped[Decimal] = mapped_column(Money(12), nullable=False, default=Decimal("0.00"))
    #: Sum of consultation charges less refunds, INR, >= 0; written by services/wallet.py.
    total_spent: Mapped[Decimal] = mapped_column(Money(12), nullable=False, default=Decimal("0.00"))
    sync_status: Mapped[SyncStatus] = mapped_column(
        enum_column_type(SyncStatus, "sync_status"), nullable=False, default=SyncStatus.LOCAL
    )
    last_sync_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Fields from the main backend that this schema has no column for, kept verbatim.
    sync_metadata: Mapped[dict] = mapped_column(JSONType, nullable=False, default=dict)

    user: Mapped[User] = relationship(back_populates="profile")

    __table_args__ = (
        sa.CheckConstraint("total_recharged >= 0", name="total_recharged_not_negative"),
        sa.CheckConstraint("total_spent >= 0", name="total_spent_not_negative"),
    )


class AstrologerProfile(IdMixin, TimestampMixin, db.Model):
    """What users browse: expertise, rates, capacity, availability per channel, ratings."""

    __tablename__ = "astrologer_profiles"

    user_id: Mapped[uuid.UUID] = mapped_column(
        UUIDType, sa.ForeignKey("users.id", ondelete="CASCADE"), unique=True, nullable=False
    )
    #: e.g. ["Vedic", "Tarot"]
    specializations: Mapped[list] = mapped_column(JSONType, nullable=False, default=list)
    #: e.g. ["Hindi", "English"]
    languages: Mapped[list] = mapped_column(JSONType, nullable=False, default=list)
    experience_years: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    about: Mapped[str | None] = mapped_column(sa.Text)
    photo_url: Mapped[str | None] = mapped_column(sa.String(500))
    #: INR per started minute of chat; frozen onto a session when it is requested.
    chat_rate_per_minute: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    #: INR per started minute of a call; frozen onto a session when it is requested.
    call_rate_per_minute: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    max_concurrent_sessions: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=1)
    chat_availability: Mapped[Availability] = mapped_column(
        enum_column_type(Availability, "chat_availability"), nullable=False, default=Availability.OFFLINE
    )
    call_availability: Mapped[Availability] = mapped_column(
        enum_column_type(Availability, "call_availability"), nullable=False, default=Availability.OFFLINE
    )
    is_approved: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    #: Mean of session ratings, 0.00 when there are none.
    rating_average: Mapped[Decimal] = mapped_column(Decimal2(3), nullable=False, default=Decimal("0.00"))
    rating_count: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    total_sessions: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    total_minutes: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    #: Sum of earnings less reversals, INR; written by services/wallet.py.
    total_earnings: Mapped[Decimal] = mapped_column(Money(12), nullable=False, default=Decimal("0.00"))

    user: Mapped[User] = relationship(back_populates="astrologer_profile")

    __table_args__ = (
        sa.CheckConstraint("chat_rate_per_minute >= 0", name="chat_rate_not_negative"),
        sa.CheckConstraint("call_rate_per_minute >= 0", name="call_rate_not_negative"),
        sa.CheckConstraint("max_concurrent_sessions BETWEEN 1 AND 20", name="capacity_range"),
        sa.CheckConstraint("experience_years BETWEEN 0 AND 80", name="experience_range"),
        # The 0..5 bound is kept by the rating service; a literal bound would not survive
        # SQLite's paise storage of Decimal2 (4.70 is stored as 470).
        sa.CheckConstraint("rating_average >= 0", name="rating_not_negative"),
        sa.CheckConstraint(
            "rating_count >= 0 AND total_sessions >= 0 AND total_minutes >= 0", name="counts_not_negative"
        ),
        # The listing's filters and sorts (addition, migration 0002).
        sa.Index("ix_astrologer_profiles_chat_rate", "chat_rate_per_minute"),
        sa.Index("ix_astrologer_profiles_rating", "rating_average", "rating_count"),
        sa.Index("ix_astrologer_profiles_experience", "experience_years"),
        sa.Index("ix_astrologer_profiles_specializations", "specializations", postgresql_using="gin"),
        sa.Index("ix_astrologer_profiles_languages", "languages", postgresql_using="gin"),
    )
