"""Every enumerated value the schema stores, one `StrEnum` each.

Stored as VARCHAR with a CHECK (not a native PostgreSQL ENUM), so a value is
added by a plain migration on both backends. Values are the lower-case words
of CONTRACT.md and are what clients see. Every value the seed schema lists
(../shared/SEED_SCHEMA.md) is a member; members the seed does not list are
marked "addition" with their reason.

The two ledgers keep the product's finer kind of each movement (BillingKind)
and also carry the seed's coarser `transaction_type`, derived from the kind by
the two mappings at the end of this module (`flask ledger verify` checks that
every row agrees with them).
"""

import enum

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l


class UserType(enum.StrEnum):
    USER = "user"  #: an end user who pays for consultations
    ASTROLOGER = "astrologer"  #: earns from consultations
    ADMIN = "admin"  #: addition: reads ledgers, refunds, approves payouts
    SYSTEM = "system"  #: addition: owns the platform wallet; never logs in


class UserStatus(enum.StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"  #: deactivated by the main backend (not a sanction); refused at login
    SUSPENDED = "suspended"  #: refused at login; set by an admin (or the main backend)
    DELETED = "deleted"  #: addition: soft-deleted (deleted_at set) by the main backend; refused at login


class PresenceStatus(enum.StrEnum):
    """users.session_status: where a person is in the consultation flow, kept with every transition."""

    IDLE = "idle"  #: no open session
    WAITING = "waiting"  #: addition: has requested a session that is not accepted yet (the seed has no word for it)
    IN_SESSION = "in_session"  #: takes part in an active session


class SyncStatus(enum.StrEnum):
    """users.sync_status: where this person stands with the main backend."""

    SYNCED = "synced"  #: the main backend's last record for this person was applied
    #: The main backend has not sent this person (yet): accounts created here (registration,
    #: demo data, staff, the platform account). The seed has no "local" value; pending is the
    #: one it allows that is true of them.
    PENDING = "pending"
    FAILED = "failed"  #: the main backend's last record for this person was refused (the answer said why)


class Availability(enum.StrEnum):
    """What an astrologer chose for one channel; `busy` is derived, never chosen."""

    AVAILABLE = "available"
    UNAVAILABLE = "unavailable"
    OFFLINE = "offline"


class ConsultationAvailability(enum.StrEnum):
    """users.consultation_availability: an astrologer's derived availability across channels, as the
    listing shows it (services/astrologers/marketplace.py writes it with every change of its inputs)."""

    AVAILABLE = "available"  #: a channel is open and a slot is free
    BUSY = "busy"  #: a channel is open but every slot has an active session
    UNAVAILABLE = "unavailable"  #: on a break; also every account that does not consult (users, staff)
    OFFLINE = "offline"  #: not working now, not approved yet, or the account is not active


class SessionType(enum.StrEnum):
    CHAT = "chat"
    CALL = "call"  #: voice, or video when session_metadata.call.video is true (Channel.VIDEO)


class Channel(enum.StrEnum):
    """Addition: what a user consults over and an astrologer opens: the seed's two session types and video.

    A video consultation is a call with cameras: it is stored as session_type `call` with
    session_metadata.call.video true, not as a third session_type, so the seed's column keeps the two
    values every other system reads, and every rule of a call (signaling between the participants,
    the media-loss grace, the no-reply refund) holds for video unchanged. Each channel has its own
    rate and its own availability on astrologer_profiles (`<channel>_rate_per_minute`,
    `<channel>_availability`).
    """

    CHAT = "chat"
    CALL = "call"  #: a voice call
    VIDEO = "video"  #: a video call

    @property
    def session_type(self):
        return SessionType.CHAT if self is Channel.CHAT else SessionType.CALL

    @property
    def label(self):
        """The word people read: Chat, Call, Video call."""
        return CHANNEL_LABELS[self]


CHANNEL_LABELS = {Channel.CHAT: _l("Chat"), Channel.CALL: _l("Call"), Channel.VIDEO: _l("Video call")}


class SessionStatus(enum.StrEnum):
    WAITING = "waiting"  #: requested; the hold is placed; not yet accepted
    ACTIVE = "active"  #: accepted; billed per started minute
    COMPLETED = "completed"  #: ended after acceptance
    CANCELLED = "cancelled"  #: never accepted (declined, cancelled, timed out)


#: A user may have at most one session in these states (partial unique index).
OPEN_SESSION_STATUSES = (SessionStatus.WAITING, SessionStatus.ACTIVE)


class EndReason(enum.StrEnum):
    """Addition: why a session ended (shown to both sides and to admins)."""

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
    ACCOUNT_INACTIVE = "account_inactive"  #: the main backend deactivated a participant's account
    CAP_REACHED = "cap_reached"  #: the spending cap the user set was reached (migration 0012)


class ParticipantRole(enum.StrEnum):
    USER = "user"
    ASTROLOGER = "astrologer"


class ConnectionStatus(enum.StrEnum):
    """Whether a participant has a socket in the session's room (a display hint; the
    reconnect rule uses last_seen_at, which survives process crashes)."""

    CONNECTED = "connected"  #: a socket of theirs is in the room
    #: Their last socket left an active session: the reconnect grace is running.
    RECONNECTING = "reconnecting"
    DISCONNECTED = "disconnected"  #: not in the room: never joined, left, or the session is over


class MessageType(enum.StrEnum):
    TEXT = "text"  #: written by a participant
    IMAGE = "image"  #: a photo a participant sent (metadata describes the stored file)
    FILE = "file"  #: a document a participant sent (metadata describes the stored file)
    SYSTEM = "system"  #: written by the platform (started, low balance, ended, ...)


class WalletStatus(enum.StrEnum):
    ACTIVE = "active"
    FROZEN = "frozen"  #: no money moves out until an admin unfreezes it
    #: The owner's account is not active (suspended, inactive or closed): nothing new is paid from it
    #: (holds, minutes, payouts); it follows the account back to active. Refunds still reach it.
    SUSPENDED = "suspended"


class BillingKind(enum.StrEnum):
    """Addition: billing_transactions.kind, what a movement is; the sign on the wallet follows from it.

    The seed's five transaction types cannot tell a top-up from an astrologer's earning (both
    credits) or a minute's charge from a payout (both debits), which the ledger invariants and every
    statement need; each kind maps to one seed type (BILLING_TRANSACTION_TYPES below).
    """

    TOPUP = "topup"  #: + user: money paid in through a provider
    HOLD = "hold"  #: available -> held while a request waits (current unchanged)
    RELEASE = "release"  #: held -> available when the request ends (current unchanged)
    CHARGE = "charge"  #: - user: one minute of a session
    EARNING = "earning"  #: + astrologer: their share of one minute
    COMMISSION = "commission"  #: + platform: the rest of that minute
    REFUND = "refund"  #: + user: a charge given back
    REVERSAL = "reversal"  #: - astrologer or platform: their share of a refunded charge
    PAYOUT = "payout"  #: - astrologer: earnings paid out
    FORFEIT = (
        "forfeit"  #: - user: a deleted account's balance, given up (DELETION_BALANCE_POLICY=forfeit; migration 0024)
    )
    UNCLAIMED = "unclaimed"  #: + platform: that balance, kept by the platform
    TAX = "tax"  #: + tax account: the tax paid with a top-up, owed to the government (migration 0025)
    TOPUP_REFUND = "topup_refund"  #: - user: a top-up paid back through its gateway (migration 0025)
    TAX_REFUND = "tax_refund"  #: - tax account: that top-up's tax, given back with a credit note


class PayoutStatus(enum.StrEnum):
    """Addition: payouts.status, where an astrologer's withdrawal stands (models/payout.py)."""

    REQUESTED = "requested"  #: asked for; the amount is held until an admin decides
    APPROVED = "approved"  #: an admin approved it and the provider was asked to send it
    PAID = "paid"  #: the provider (or the bank) confirmed the transfer: the money left the wallet
    REJECTED = "rejected"  #: an admin refused it, with a reason: the amount is withdrawable again
    FAILED = "failed"  #: the provider could not send it: the amount is withdrawable again


#: A payout in these states still holds its amount.
OPEN_PAYOUT_STATUSES = (PayoutStatus.REQUESTED, PayoutStatus.APPROVED)


class BillingTransactionType(enum.StrEnum):
    """billing_transactions.transaction_type, the seed's type of a movement (derived from its kind)."""

    CREDIT = "credit"  #: money into the owner's wallet from outside or from a consultation
    DEBIT = "debit"  #: money out of the owner's wallet
    REFUND = "refund"  #: a charge given back to the user
    HOLD = "hold"  #: money reserved in the wallet (available -> held)
    RELEASE = "release"  #: a reservation given back (held -> available)


class BillingStatus(enum.StrEnum):
    PENDING = "pending"  #: created, no money moved yet (e.g. a top-up at checkout)
    COMPLETED = "completed"  #: the money moved (wallet_transactions written)
    FAILED = "failed"  #: the money never moved
    CANCELLED = "cancelled"  #: withdrawn before completion (e.g. a rejected payout)


class WalletDirection(enum.StrEnum):
    """Addition: wallet_transactions.direction, which way current_balance moved. The seed's
    transaction_type says why (a transfer can go either way); the balance chain's CHECK needs the way."""

    CREDIT = "credit"  #: current_balance went up by amount
    DEBIT = "debit"  #: current_balance went down by amount


class WalletTransactionType(enum.StrEnum):
    """wallet_transactions.transaction_type, the seed's type of a balance change (derived from the
    kind of the billing transaction that caused it)."""

    DEPOSIT = "deposit"  #: money paid in from outside (a top-up)
    WITHDRAWAL = "withdrawal"  #: money paid out to a bank (a payout)
    TRANSFER = "transfer"  #: a consultation minute between the user and the astrologer
    FEE = "fee"  #: the platform's commission on a minute
    REFUND = "refund"  #: a charge given back, and the astrologer's and platform's shares taken back


#: billing_transactions: kind -> the seed's transaction_type.
BILLING_TRANSACTION_TYPES = {
    BillingKind.TOPUP: BillingTransactionType.CREDIT,
    BillingKind.EARNING: BillingTransactionType.CREDIT,
    BillingKind.COMMISSION: BillingTransactionType.CREDIT,
    BillingKind.CHARGE: BillingTransactionType.DEBIT,
    BillingKind.REVERSAL: BillingTransactionType.DEBIT,
    BillingKind.PAYOUT: BillingTransactionType.DEBIT,
    BillingKind.FORFEIT: BillingTransactionType.DEBIT,
    BillingKind.UNCLAIMED: BillingTransactionType.CREDIT,
    BillingKind.TAX: BillingTransactionType.CREDIT,
    BillingKind.TOPUP_REFUND: BillingTransactionType.DEBIT,
    BillingKind.TAX_REFUND: BillingTransactionType.DEBIT,
    BillingKind.REFUND: BillingTransactionType.REFUND,
    BillingKind.HOLD: BillingTransactionType.HOLD,
    BillingKind.RELEASE: BillingTransactionType.RELEASE,
}

#: wallet_transactions: the kind of the causing billing transaction -> (direction, the seed's
#: transaction_type). Holds and releases change no current_balance, so they have no wallet row.
WALLET_ENTRY_TYPES = {
    BillingKind.TOPUP: (WalletDirection.CREDIT, WalletTransactionType.DEPOSIT),
    BillingKind.CHARGE: (WalletDirection.DEBIT, WalletTransactionType.TRANSFER),
    BillingKind.EARNING: (WalletDirection.CREDIT, WalletTransactionType.TRANSFER),
    BillingKind.COMMISSION: (WalletDirection.CREDIT, WalletTransactionType.FEE),
    BillingKind.REFUND: (WalletDirection.CREDIT, WalletTransactionType.REFUND),
    BillingKind.REVERSAL: (WalletDirection.DEBIT, WalletTransactionType.REFUND),
    BillingKind.PAYOUT: (WalletDirection.DEBIT, WalletTransactionType.WITHDRAWAL),
    BillingKind.FORFEIT: (WalletDirection.DEBIT, WalletTransactionType.TRANSFER),
    BillingKind.UNCLAIMED: (WalletDirection.CREDIT, WalletTransactionType.TRANSFER),
    BillingKind.TAX: (WalletDirection.CREDIT, WalletTransactionType.DEPOSIT),
    BillingKind.TOPUP_REFUND: (WalletDirection.DEBIT, WalletTransactionType.WITHDRAWAL),
    BillingKind.TAX_REFUND: (WalletDirection.DEBIT, WalletTransactionType.WITHDRAWAL),
}


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


#: The words people read for stored values (the templates' `label` filter), in the reader's language:
#: the values themselves stay English in the database, in CSV and in the API.
VALUE_LABELS = {
    "user": _l("user"),
    "astrologer": _l("astrologer"),
    "admin": _l("admin"),
    "system": _l("system"),
    "active": _l("active"),
    "inactive": _l("inactive"),
    "suspended": _l("suspended"),
    "deleted": _l("deleted"),
    "synced": _l("synced"),
    "pending": _l("pending"),
    "failed": _l("failed"),
    "available": _l("available"),
    "unavailable": _l("unavailable"),
    "offline": _l("offline"),
    "busy": _l("busy"),
    "waiting": _l("waiting"),
    "completed": _l("completed"),
    "cancelled": _l("cancelled"),
    "user_ended": _l("ended by the user"),
    "astrologer_ended": _l("ended by the astrologer"),
    "insufficient_balance": _l("balance ran out"),
    "astrologer_no_reply": _l("the astrologer did not reply"),
    "service_interruption": _l("service interruption"),
    "participant_disconnected": _l("a participant disconnected"),
    "declined": _l("declined"),
    "accept_timeout": _l("not answered in time"),
    "admin_ended": _l("ended by an admin"),
    "account_deleted": _l("account deleted"),
    "account_inactive": _l("account deactivated"),
    "cap_reached": _l("spending limit reached"),
    "connected": _l("connected"),
    "reconnecting": _l("reconnecting"),
    "disconnected": _l("disconnected"),
    "text": _l("text"),
    "image": _l("photo"),
    "file": _l("file"),
    "frozen": _l("frozen"),
    "topup": _l("top-up"),
    "hold": _l("hold"),
    "release": _l("release"),
    "charge": _l("charge"),
    "earning": _l("earning"),
    "commission": _l("commission"),
    "refund": _l("refund"),
    "reversal": _l("reversal"),
    "payout": _l("payout"),
    "forfeit": _l("balance given up at deletion"),
    "unclaimed": _l("balance of a deleted account"),
    "requested": _l("requested"),
    "approved": _l("approved"),
    "paid": _l("paid"),
    "rejected": _l("rejected"),
    "credit": _l("credit"),
    "debit": _l("debit"),
    "deposit": _l("deposit"),
    "withdrawal": _l("withdrawal"),
    "transfer": _l("transfer"),
    "fee": _l("fee"),
    "chat": _l("chat"),
    "call": _l("call"),
    "video": _l("video call"),
    "open": _l("to decide"),
    "confirmed": _l("confirmed"),
    "dismissed": _l("dismissed"),
    "all": _l("all"),
}


def label_of(value):
    """The word people read for a stored value (an enum member or its text); the value itself when
    it has no label."""
    key = getattr(value, "value", value)
    return VALUE_LABELS.get(key, key)
