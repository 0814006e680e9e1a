"""The schema: the nine tables of the seed, column for column, plus the additions each module lists.

Import models from here; the modules split them by what they hold:
user.py (people), consultation.py (sessions and chat), ledger.py (money), attachment.py (files sent in a
chat), notification.py (what people were told, who follows whom).
"""

from .account import AccountToken, PhoneCode
from .ai_call import AICall
from .attachment import Attachment
from .audit import AuditEntry
from .consultation import ConsultationSession, Message, SessionParticipant
from .delivery import Delivery
from .enums import (
    BILLING_TRANSACTION_TYPES,
    OPEN_PAYOUT_STATUSES,
    OPEN_SESSION_STATUSES,
    WALLET_ENTRY_TYPES,
    Availability,
    BillingKind,
    BillingStatus,
    BillingTransactionType,
    Channel,
    ConnectionStatus,
    ConsultationAvailability,
    EndReason,
    MessageType,
    ParticipantRole,
    PayoutStatus,
    PresenceStatus,
    SessionStatus,
    SessionType,
    SyncStatus,
    UserStatus,
    UserType,
    WalletDirection,
    WalletStatus,
    WalletTransactionType,
)
from .handoff import UsedHandoffToken
from .invoice import InvoiceCounter, InvoiceKind, TaxInvoice
from .ledger import BillingTransaction, Wallet, WalletTransaction
from .login_session import LoginSession
from .notification import Follow, Notification, PushSubscription
from .payout import LedgerCheck, Payout
from .safety import SafetyFlag
from .summary import ConcernMatch, ConsultationSummary
from .types import to_money, utcnow
from .user import AstrologerProfile, User, UserProfile

__all__ = [
    "InvoiceCounter",
    "InvoiceKind",
    "TaxInvoice",
    "AccountToken",
    "PhoneCode",
    "AICall",
    "Attachment",
    "AuditEntry",
    "BILLING_TRANSACTION_TYPES",
    "OPEN_PAYOUT_STATUSES",
    "OPEN_SESSION_STATUSES",
    "WALLET_ENTRY_TYPES",
    "AstrologerProfile",
    "Availability",
    "BillingKind",
    "BillingStatus",
    "BillingTransaction",
    "BillingTransactionType",
    "Channel",
    "ConcernMatch",
    "ConnectionStatus",
    "ConsultationAvailability",
    "ConsultationSession",
    "ConsultationSummary",
    "Delivery",
    "EndReason",
    "Follow",
    "LedgerCheck",
    "LoginSession",
    "Message",
    "MessageType",
    "Notification",
    "ParticipantRole",
    "Payout",
    "PushSubscription",
    "PayoutStatus",
    "PresenceStatus",
    "SafetyFlag",
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
    "WalletDirection",
    "WalletStatus",
    "WalletTransaction",
    "WalletTransactionType",
    "to_money",
    "utcnow",
]
