"""People: users (every role), their profile with the wallet mirror, astrologer profiles.

Seed tables: users, user_profiles, astrologer_profiles, every column under the
seed's name (../shared/SEED_SCHEMA.md). Where the product departs from the seed:

- users.phone and users.external_id are nullable (and, like users.email,
  unique where present): a person registered here has no external_id until the
  main backend knows them, the platform account has no phone, and the main
  backend may send a person with only an email. Every row has at least one of
  email, phone and external_id (CHECK).
- user_profiles.total_credited / total_debited are NUMERIC(12,2), wider than
  the seed's (10,2): they are lifetime sums (the platform's commission exceeds
  a crore), so a balance that fits (10,2) can have totals that do not.

users.sync_status of an account created here (registration, demo data, staff,
the platform account) is `pending`: the seed has no word for "never sent by the
main backend", and of its three values (synced, pending, failed) pending is the
true one. users.consultation_availability of everyone who does not consult
(users, staff) is `unavailable`.

Additions, each with its reason:

- users.type gains `admin` (the console) and `system` (owns the platform
  wallet that receives commission, so every internal movement has a
  matching opposite one); users.status gains `deleted` (soft delete by the
  main backend, with deleted_at); users.session_status gains `waiting`.
- users.password_hash: nullable, because users synced from the main backend
  may only ever arrive by hand-off.
- users.last_login_at: shown to admins; costs nothing.
- user_profiles.gender, birth_date, birth_time, birth_place: the birth details
  an astrologer reads first in every consultation.
- astrologer_profiles.languages (JSON list), experience_years, about,
  is_approved: the listing filters and the admin approval need them.
- astrologer_profiles.chat_availability / call_availability / video_availability:
  the astrologer's choice per channel (available / unavailable / offline);
  video_rate_per_minute: video is priced above voice (migration 0019; a
  video consultation is stored as a `call`, see enums.Channel). `busy` is derived
  from active sessions vs. max_concurrent_sessions and never stored there;
  users.consultation_availability is the derived value across channels.
- astrologer_profiles.rating_average, rating_count, total_sessions,
  total_minutes, total_earnings: the all-time figures the listing sorts by
  and the dashboard shows (monthly_* are the seed's current-month ones).
- astrologer_profiles.monthly_period: the calendar month (its first day, in
  REPORTING_TIMEZONE) that monthly_sessions and monthly_rating describe, so
  the billing loop can roll them over when a month begins.
- astrologer_profiles indexes for the listing (rate, rating, experience;
  GIN on the specializations and languages lists on PostgreSQL).

Who writes what: services/users/accounts.py creates the rows; services/wallet.py the
balance mirror and totals of user_profiles; services/consultations/ (records.py)
session_status, the consultation counts and ratings; services/astrologers/marketplace.py
consultation_availability; services/astrologers/performance.py last_active_at,
performance_metrics and the monthly figures; services/users/user_sync.py the sync
columns.
"""

import uuid
from datetime import date, datetime, time
from decimal import Decimal

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import IdMixin, TimestampMixin
from .enums import (
    Availability,
    ConsultationAvailability,
    PresenceStatus,
    SyncStatus,
    UserStatus,
    UserType,
    enum_column_type,
)
from .types import Decimal2, JSONType, Money, UTCDateTime, UUIDType, utcnow


class User(IdMixin, TimestampMixin, UserMixin, db.Model):
    """Anyone who can own a wallet or log in: end user, astrologer, admin, system."""

    __tablename__ = "users"

    #: The main backend's id for this person; NULL for users created here.
    external_id: Mapped[str | None] = mapped_column(sa.String(255), unique=True)
    name: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    #: Lower-cased; unique where present.
    email: Mapped[str | None] = mapped_column(sa.String(255), unique=True)
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
    #: Where the person is in the consultation flow; written by services/consultations/records.py only.
    session_status: Mapped[PresenceStatus] = mapped_column(
        enum_column_type(PresenceStatus, "session_status"), nullable=False, default=PresenceStatus.IDLE
    )
    #: An astrologer's availability across channels as the listing derives it; `unavailable` for
    #: everyone who does not consult. Written by services/astrologers/marketplace.py with every change of its inputs.
    consultation_availability: Mapped[ConsultationAvailability] = mapped_column(
        enum_column_type(ConsultationAvailability, "consultation_availability"),
        nullable=False,
        default=ConsultationAvailability.UNAVAILABLE,
    )
    sync_status: Mapped[SyncStatus] = mapped_column(
        enum_column_type(SyncStatus, "sync_status"), nullable=False, default=SyncStatus.PENDING
    )
    #: When the main backend's last record for this person was applied; NULL if it never sent one.
    last_sync_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Fields from the main backend that this schema has no column for, kept verbatim; NULL if none.
    sync_metadata: Mapped[dict | None] = mapped_column(JSONType)
    #: Soft delete: set together with status `deleted`; rows are never removed.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Addition (migration 0024): when the person proved the address in `email` is theirs (a link sent
    #: to it, a password reset through it, or the main backend that sent it); NULL: not proven, and
    #: nothing but that proof is sent there (services/users/email_addresses.py).
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Addition (migration 0024): when a code texted to `phone` proved it is the person's (phone sign-in, a
    #: new number, or the main backend that sent it); NULL: typed at sign-up and not yet proven, and then
    #: the first person to prove the number by phone sign-in gets it (services/users/phone_codes.py).
    phone_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Addition (migration 0024): set by "this wasn't me" from an e-mail: every login ended, the password
    #: unusable until reset through the (restored) address, which clears it.
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Addition (migration 0024): the person asked to leave; at this moment their personal data is erased
    #: (services/users/erasure.py). Signing in before it clears it.
    deletion_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    profile: Mapped["UserProfile"] = relationship(back_populates="user", uselist=False)
    astrologer_profile: Mapped["AstrologerProfile | None"] = relationship(back_populates="user", uselist=False)
    wallet: Mapped["Wallet"] = relationship(back_populates="user", uselist=False)  # noqa: F821

    __table_args__ = (
        sa.CheckConstraint("email IS NOT NULL OR phone IS NOT NULL OR external_id IS NOT NULL", name="identifiable"),
        sa.CheckConstraint("(status = 'deleted') = (deleted_at IS NOT NULL)", name="deleted_status_matches_deleted_at"),
        sa.Index("ix_users_deletion_due_at", "deletion_due_at"),
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
    """Personal details, birth data for readings, the wallet mirror and the person's consultation figures."""

    __tablename__ = "user_profiles"

    user_id: Mapped[uuid.UUID] = mapped_column(
        UUIDType, sa.ForeignKey("users.id", ondelete="CASCADE"), unique=True, nullable=False
    )
    #: Mirror of wallets.current_balance, written by services/wallet.py in the same transaction.
    current_balance: Mapped[Decimal] = mapped_column(Money(), nullable=False, default=Decimal("0.00"))
    #: Sum of the wallet's credit entries, INR, >= 0 (top-ups, refunds, earnings); written by services/wallet.py.
    total_credited: Mapped[Decimal] = mapped_column(Money(12), nullable=False, default=Decimal("0.00"))
    #: Sum of the wallet's debit entries, INR, >= 0 (minutes, reversals, payouts); written by services/wallet.py.
    #: current_balance = total_credited - total_debited.
    total_debited: Mapped[Decimal] = mapped_column(Money(12), nullable=False, default=Decimal("0.00"))
    #: When current_balance last changed (the latest wallet entry), or when the wallet was opened.
    balance_updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    #: A few words the person writes about themselves; astrologers read it in the consultation.
    bio: Mapped[str | None] = mapped_column(sa.Text)
    avatar_url: Mapped[str | None] = mapped_column(sa.Text)
    #: Settings the person chose, by documented key: {"language": one of marketplace.LANGUAGES}.
    preferences: Mapped[dict | None] = mapped_column(JSONType)
    gender: Mapped[str | None] = mapped_column(sa.String(20))
    #: Birth details, posted as the first system message of a consultation.
    birth_date: Mapped[date | None] = mapped_column(sa.Date)
    birth_time: Mapped[time | None] = mapped_column(sa.Time)
    birth_place: Mapped[str | None] = mapped_column(sa.String(200))
    #: Not in the seed (migration 0014): where birth_place is, from the gazetteer (services/astrology/places.py),
    #: and its IANA zone, which turns the local birth time into UTC with that date's rules; the chart
    #: (services/astrology/kundli.py) needs all three. NULL together: no place chosen from the gazetteer.
    birth_latitude: Mapped[float | None] = mapped_column(sa.Float)
    birth_longitude: Mapped[float | None] = mapped_column(sa.Float)
    birth_time_zone: Mapped[str | None] = mapped_column(sa.String(64))
    #: Not in the seed (migration 0025): the state the person named for their tax invoices (a GST state
    #: code, services/money/taxes.STATES), the place of supply of their top-ups; asked at the first one.
    billing_state: Mapped[str | None] = mapped_column(sa.String(2))
    #: Consultations this person requested as the consulting user (every outcome); services/consultations/.
    total_consultations: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    #: Of those, the ones that were accepted and ended (status completed).
    completed_consultations: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    #: Mean of the private ratings astrologers gave this person (1-5), 0.00 when there are none;
    #: shown to admins only.
    average_rating: Mapped[Decimal] = mapped_column(Decimal2(3), nullable=False, default=Decimal("0.00"))
    total_ratings: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)

    user: Mapped[User] = relationship(back_populates="profile")

    __table_args__ = (
        sa.CheckConstraint(
            "(birth_latitude IS NULL AND birth_longitude IS NULL AND birth_time_zone IS NULL) OR "
            "(birth_latitude BETWEEN -90 AND 90 AND birth_longitude BETWEEN -180 AND 180 AND birth_time_zone IS NOT NULL)",
            name="birth_place_located",
        ),
        sa.CheckConstraint("total_credited >= 0", name="total_credited_not_negative"),
        sa.CheckConstraint("total_debited >= 0", name="total_debited_not_negative"),
        sa.CheckConstraint(
            "completed_consultations BETWEEN 0 AND total_consultations AND total_ratings >= 0",
            name="consultation_counts",
        ),
        # The 0..5 bound is kept by the rating service (see AstrologerProfile.rating_average).
        sa.CheckConstraint("average_rating >= 0", name="average_rating_not_negative"),
    )


class AstrologerProfile(IdMixin, TimestampMixin, db.Model):
    """What users browse: expertise, rates, capacity, availability per channel, ratings, performance."""

    __tablename__ = "astrologer_profiles"

    #: The astrologer's users.id (the seed's name; the same id /astrologers/<id> uses).
    astrologer_id: Mapped[uuid.UUID] = mapped_column(
        UUIDType, sa.ForeignKey("users.id", ondelete="CASCADE"), unique=True, nullable=False
    )
    #: e.g. ["Vedic", "Tarot"]
    specializations: Mapped[list] = mapped_column(JSONType, nullable=False, default=list)
    #: e.g. ["Hindi", "English"]
    languages: Mapped[list] = mapped_column(JSONType, nullable=False, default=list)
    experience_years: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    about: Mapped[str | None] = mapped_column(sa.Text)
    #: INR per started minute of chat; frozen onto a session when it is requested.
    chat_rate_per_minute: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    #: INR per started minute of a call; frozen onto a session when it is requested.
    call_rate_per_minute: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    #: Addition (migration 0019): INR per started minute of a video call; frozen onto a session when
    #: it is requested. A video consultation is a call with cameras (enums.Channel).
    video_rate_per_minute: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    max_concurrent_sessions: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=1)
    chat_availability: Mapped[Availability] = mapped_column(
        enum_column_type(Availability, "chat_availability"), nullable=False, default=Availability.OFFLINE
    )
    call_availability: Mapped[Availability] = mapped_column(
        enum_column_type(Availability, "call_availability"), nullable=False, default=Availability.OFFLINE
    )
    #: Addition (migration 0019): the astrologer's choice for video, a channel of its own.
    video_availability: Mapped[Availability] = mapped_column(
        enum_column_type(Availability, "video_availability"), nullable=False, default=Availability.OFFLINE
    )
    is_approved: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    #: Mean of session ratings, 0.00 when there are none.
    rating_average: Mapped[Decimal] = mapped_column(Decimal2(3), nullable=False, default=Decimal("0.00"))
    rating_count: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    total_sessions: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    total_minutes: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    #: Sum of earnings less reversals, INR; written by the charges (services/billing/) and refunds (services/money/refunds.py).
    total_earnings: Mapped[Decimal] = mapped_column(Money(12), nullable=False, default=Decimal("0.00"))
    #: The astrologer's last sign of work: a dashboard action, or an event of one of their sessions.
    last_active_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: What an admin ranks astrologers by (services/astrologers/performance.py documents every key); NULL until
    #: the first request is answered.
    performance_metrics: Mapped[dict | None] = mapped_column(JSONType)
    #: Completed sessions that ended in monthly_period.
    monthly_sessions: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    #: Mean rating given in monthly_period, 0.00 when none.
    monthly_rating: Mapped[Decimal] = mapped_column(Decimal2(3), nullable=False, default=Decimal("0.00"))
    #: The first day of the month (in REPORTING_TIMEZONE) that the monthly figures describe.
    monthly_period: Mapped[date | None] = mapped_column(sa.Date)

    user: Mapped[User] = relationship(back_populates="astrologer_profile")

    __table_args__ = (
        sa.CheckConstraint("chat_rate_per_minute >= 0", name="chat_rate_not_negative"),
        sa.CheckConstraint("call_rate_per_minute >= 0", name="call_rate_not_negative"),
        sa.CheckConstraint("video_rate_per_minute >= 0", name="video_rate_not_negative"),
        sa.CheckConstraint("max_concurrent_sessions BETWEEN 1 AND 20", name="capacity_range"),
        sa.CheckConstraint("experience_years BETWEEN 0 AND 80", name="experience_range"),
        # The 0..5 bound is kept by the rating service; a literal bound would not survive
        # SQLite's paise storage of Decimal2 (4.70 is stored as 470).
        sa.CheckConstraint("rating_average >= 0 AND monthly_rating >= 0", name="rating_not_negative"),
        sa.CheckConstraint(
            "rating_count >= 0 AND total_sessions >= 0 AND total_minutes >= 0 AND monthly_sessions >= 0",
            name="counts_not_negative",
        ),
        # The listing's filters and sorts (addition, migration 0002).
        sa.Index("ix_astrologer_profiles_chat_rate", "chat_rate_per_minute"),
        sa.Index("ix_astrologer_profiles_rating", "rating_average", "rating_count"),
        sa.Index("ix_astrologer_profiles_experience", "experience_years"),
        sa.Index("ix_astrologer_profiles_specializations", "specializations", postgresql_using="gin"),
        sa.Index("ix_astrologer_profiles_languages", "languages", postgresql_using="gin"),
    )
