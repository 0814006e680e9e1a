"""The schema: nine tables of the seed plus the additions each module lists.

Import models from here; the modules split them by what they hold:
user.py (people), consultation.py (sessions and chat), ledger.py (money).
"""

from .audit import AuditEntry
from .consultation import ConsultationSession, Message, SessionParticipant
from .enums import (
    OPEN_SESSION_STATUSES,
    Availability,
    BillingStatus,
    BillingType,
    ConnectionStatus,
    EndReason,
    MessageType,
    ParticipantRole,
    PresenceStatus,
    SessionStatus,
    SessionType,
    SyncStatus,
    UserStatus,
    UserType,
    WalletEntryType,
    WalletStatus,
)
from .handoff import UsedHandoffToken
from .ledger import BillingTransaction, Wallet, WalletTransaction
from .types import to_money, utcnow
from .user import AstrologerProfile, User, UserProfile

__all__ = [
    "AuditEntry",
    "OPEN_SESSION_STATUSES",
    "AstrologerProfile",
    "Availability",
    "BillingStatus",
    "BillingTransaction",
    "BillingType",
    "ConnectionStatus",
    "ConsultationSession",
    "EndReason",
    "Message",
    "MessageType",
    "ParticipantRole",
    "PresenceStatus",
    "SessionParticipant",
    "SessionStatus",
    "SessionType",
    "SyncStatus",
    "User",
    "UserProfile",
    "UserStatus",
    "UserType",
    "UsedHandoffToken",
    "Wallet",
    "WalletEntryType",
    "WalletStatus",
    "WalletTransaction",
    "to_money",
    "utcnow",
]
