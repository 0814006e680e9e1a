"""What proves a person owns an address or a number (addition, migration 0024).

account_tokens: the links the site e-mails (reset a password, confirm an address, "this wasn't me",
download one's data). A link's secret is never stored: the token is derived from the row's id and the
site's secret (services/users/account_tokens.py), and the row keeps its SHA-256, so a copy of the
database opens nothing. Single use (used_at), each valid until expires_at.

phone_codes: the six-digit codes sent by SMS (services/users/phone_codes.py), stored as an HMAC under the
site's secret (a plain hash of a six-digit number is reversed in a second), with the tries spent on each.
"""

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import IdMixin
from .types import UTCDateTime, UUIDType, utcnow

TOKEN_PURPOSES = ("reset_password", "verify_email", "change_email", "not_me", "export")
CODE_PURPOSES = ("sign_in", "change_phone", "delete_account")


class AccountToken(IdMixin, db.Model):
    __tablename__ = "account_tokens"

    user_id: Mapped[uuid.UUID] = mapped_column(UUIDType, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    purpose: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    #: SHA-256 of the link's token, hex.
    token_hash: Mapped[str] = mapped_column(sa.String(64), nullable=False, unique=True)
    #: The address the link is about: the new one for change_email and verify_email, the old one for
    #: not_me (what a lock puts back). NULL for the others.
    email: Mapped[str | None] = mapped_column(sa.String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        sa.CheckConstraint(f"purpose IN {TOKEN_PURPOSES}", name="purpose_known"),
        sa.Index("ix_account_tokens_user_id_purpose", "user_id", "purpose"),
    )


class PhoneCode(IdMixin, db.Model):
    __tablename__ = "phone_codes"

    #: E.164, as phonenumbers writes it.
    phone: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    purpose: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    #: Whose code it is, for change_phone and delete_account; NULL for sign_in (the number may be new).
    user_id: Mapped[uuid.UUID | None] = mapped_column(UUIDType, sa.ForeignKey("users.id", ondelete="CASCADE"))
    #: HMAC-SHA256 of the code under the site's secret, hex.
    code_hash: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    #: The client's address when it was asked for (the per-address daily limit counts these).
    ip_address: Mapped[str | None] = mapped_column(sa.String(45))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    #: Wrong codes tried against this one; at the limit it is dead.
    attempts: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        sa.CheckConstraint(f"purpose IN {CODE_PURPOSES}", name="purpose_known"),
        sa.CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        sa.Index("ix_phone_codes_phone_created_at", "phone", "created_at"),
        sa.Index("ix_phone_codes_ip_address_created_at", "ip_address", "created_at"),
    )
