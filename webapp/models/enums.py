"""Every enumerated value the schema stores, one `StrEnum` each.

Stored as VARCHAR with a CHECK (not a native PostgreSQL ENUM), so a value is
added by a plain migration on both backends. Values are the lower-case words
of CONTRACT.md and are what clients see.
"""

import enum

import sqlalchemy as sa


class UserType(enum.StrEnum):
    USER = "user"  #: an end user who pays for consultations
    ASTROLOGER = "astrologer"  #: earns from consultations
    ADMIN = "admin"  #: addition: reads ledgers, refunds, approves payouts
    SYSTEM = "system"  #: addition: owns the platform wallet; never logs in


class UserStatus(enum.StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"  #: refused at login; set by an admin
    DELETED = "deleted"  #: soft-deleted (deleted_at set); refused at login


class PresenceStatus(enum.StrEnum):
    """users.session_status: where a person is in the consultation flow, kept with every transition."""

    IDLE = "idle"  #: no open session
    WAITING = "waiting"  #: has requested a session that is not accepted yet
    IN_SESSION = "in_session"  #: takes part in an active session


class SyncStatus(enum.StrEnum):
    LOCAL = "local"  #: created here (registration, seed), not by the main backend
    SYNCED = "synced"  #: last record from the main backend applied
    ERROR = "error"  #: last record from the main backend was refused


class Availability(enum.StrEnum):
    """What an astrologer chose for one channel; `busy` is derived, never stored."""

    AVAILABLE = "available"
    UNAVAILABLE = "unavailable"
    OFFLINE = "offline"


class SessionType(enum.StrEnum):
    CHAT = "chat"
    CALL = "call"


class SessionStatus(enum.StrEnum):
    WAITING = "waiting"  #: requested; the hold is placed; not yet accepted
    ACTIVE = "active"  #: accepted; billed per started minute
    COMPLETED = "completed"  #: ended after acceptance
    CANCELLED = "cancelled"  #: never accepted (declined, cancelled, timed out)


#: A user may have at most one session in these states (partial unique index).
OPEN_SESSION_STATUSES = (SessionStatus.WAITING, SessionStatus.ACTIVE)


class EndReason(enum.StrEnum):
    USER_ENDED = "user_ended"
    ASTROLOGER_ENDED = "astrologer_ended"
    INSUFFICIENT_BALANCE = "insufficient_balance"
    ASTROLOGER_NO_REPLY = "astrologer_no_reply"
    SERVICE_INTERRUPTION = "service_interruption"
    PARTICIPANT_DISCONNECTED = "participant_disconnected"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    ACCEPT_TIMEOUT = "accept_timeout"
    ADMIN_ENDED = "admin_ended"
    ACCOUNT_DELETED = "account_deleted"


class ParticipantRole(enum.StrEnum):
    USER = "user"
    ASTROLOGER = "astrologer"


class ConnectionStatus(enum.StrEnum):
    """Whether a participant has a socket in the session's room (a display hint; the
    reconnect rule uses last_seen_at, which survives process crashes)."""

    CONNECTED = "connected"
    DISCONNECTED = "disconnected"


class MessageType(enum.StrEnum):
    TEXT = "text"  #: written by a participant
    SYSTEM = "system"  #: written by the platform (started, low balance, ended, ...)


class WalletStatus(enum.StrEnum):
    ACTIVE = "active"
    FROZEN = "frozen"  #: no money moves out until an admin unfreezes it


class BillingType(enum.StrEnum):
    """What a billing transaction is; the sign on the wallet follows from it."""

    TOPUP = "topup"  #: + user: money paid in through a provider
    HOLD = "hold"  #: available -> held while a request waits (current unchanged)
    RELEASE = "release"  #: held -> available when the request ends (current unchanged)
    CHARGE = "charge"  #: - user: one minute of a session
    EARNING = "earning"  #: + astrologer: their share of one minute
    COMMISSION = "commission"  #: + platform: the rest of that minute
    REFUND = "refund"  #: + user: a charge given back
    REVERSAL = "reversal"  #: - astrologer or platform: their share of a refunded charge
    PAYOUT = "payout"  #: - astrologer: earnings paid out


class BillingStatus(enum.StrEnum):
    PENDING = "pending"  #: created, no money moved yet (e.g. a top-up at checkout)
    COMPLETED = "completed"  #: the money moved (wallet_transactions written)
    FAILED = "failed"  #: the money never moved
    CANCELLED = "cancelled"  #: withdrawn before completion (e.g. a rejected payout)


class WalletEntryType(enum.StrEnum):
    CREDIT = "credit"  #: current_balance went up by amount
    DEBIT = "debit"  #: current_balance went down by amount


def enum_column_type(enum_cls, name):
    """VARCHAR + CHECK for `enum_cls`, storing the member values (not names)."""
    return sa.Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,  # room for values added later without a type change
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )
