"""Admin actions: refunds, account status, astrologer approval, payouts. Each is written to the
audit trail (who, what, when, before and after) in the same transaction as the change itself."""

from decimal import Decimal

from ..extensions import db
from ..models import (
    AstrologerProfile,
    AuditEntry,
    BillingKind,
    BillingTransaction,
    ConsultationSession,
    User,
    UserStatus,
    UserType,
    utcnow,
)
from . import account_status, amounts, marketplace, notifier, payouts, refunds, rooms, wallet
from .errors import InvalidAmount, NotAllowed, SessionNotFound, ValidationFailed

PAYOUT_MIN = Decimal("500.00")
REASON_MAX = 200


def audit(actor_id, action, object_type, object_id, before, after, now):
    entry = AuditEntry(
        actor_id=actor_id,
        action=action,
        object_type=object_type,
        object_id=object_id,
        before=before,
        after=after,
        created_at=now,
    )
    db.session.add(entry)
    return entry


def history_of(object_type, object_id):
    """The audit entries of one object, newest first."""
    return db.session.execute(
        db.select(AuditEntry, User.name)
        .join(User, User.id == AuditEntry.actor_id)
        .where(AuditEntry.object_type == object_type, AuditEntry.object_id == object_id)
        .order_by(AuditEntry.created_at.desc())
    ).all()


def _reason(reason):
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("reason", "Say why (the user and the astrologer can ask).")
    if len(reason) > REASON_MAX:
        raise ValidationFailed("reason", f"Use at most {REASON_MAX} characters.")
    return reason


def refund_session(session_id, *, admin_id, reason, number, amount=None, now=None):
    """Refund all (amount None) or part of a session's charges; idempotent per refund number."""
    now = now or utcnow()
    reason = _reason(reason)
    session = db.session.get(ConsultationSession, session_id)
    if session is None:
        raise SessionNotFound()
    before = {"total_cost": str(session.total_cost)}
    repeated = wallet.find_by_key(refunds.refund_key(session_id, number)) is not None  # a double submit
    result = refunds.refund(session_id, number=number, amount=amount, reason=reason, now=now, actor_id=admin_id)
    if not repeated:
        audit(
            admin_id,
            "refund",
            "session",
            session_id,
            before,
            {"total_cost": str(session.total_cost), "amount": str(result.refund.amount), "reason": reason,
             "refund_id": str(result.refund.id)},
            now,
        )  # fmt: skip
    db.session.flush()
    return result


def set_user_status(user_id, status, *, admin_id, now=None):
    """Suspend or reactivate an account. Suspending ends the user's open sessions and drops their sockets."""
    now = now or utcnow()
    user = db.session.get(User, user_id)
    if user is None:
        raise SessionNotFound("There is no such account.")
    if status not in (UserStatus.ACTIVE, UserStatus.SUSPENDED):
        raise ValidationFailed("status", "Choose active or suspended.")
    if user.type in (UserType.ADMIN, UserType.SYSTEM) or user.status == UserStatus.DELETED:
        raise NotAllowed("This account's status cannot be changed here.")
    before = {"status": user.status.value}
    if account_status.change(user, status, now):
        if status == UserStatus.SUSPENDED:
            notifier.announce("account_suspended", {"user_id": str(user.id)}, room=rooms.of_user(user.id))
        audit(admin_id, "user.status", "user", user.id, before, {"status": status.value}, now)
    db.session.flush()
    return user


def approve_astrologer(astrologer_id, *, admin_id, now=None):
    """Approve an astrologer: they appear in the listing from now on."""
    now = now or utcnow()
    profile = db.session.execute(
        db.select(AstrologerProfile).filter_by(astrologer_id=astrologer_id)
    ).scalar_one_or_none()
    if profile is None:
        raise SessionNotFound("There is no such astrologer.")
    if not profile.is_approved:
        profile.is_approved = True
        profile.updated_at = now
        audit(admin_id, "astrologer.approve", "user", astrologer_id, {"is_approved": False}, {"is_approved": True}, now)
        marketplace.refresh_availability(astrologer_id)
    db.session.flush()
    return profile


def request_payout(astrologer_id, amount, *, payout_id, now=None):
    """An astrologer withdraws available earnings (at least PAYOUT_MIN); held until an admin decides."""
    amount = amounts.parse_amount(amount)
    if amount < PAYOUT_MIN:
        raise InvalidAmount(f"The minimum payout is INR {PAYOUT_MIN:,.2f}.")
    return payouts.request_payout(wallet.wallet_of(astrologer_id).id, amount, payout_id=payout_id, now=now)


REFERENCE_MAX = 100


def decide_payout(transaction_id, *, approve, admin_id, reason=None, reference=None, now=None):
    """Approve (the money leaves through the wallet service; `reference`: the bank's reference of the
    transfer) or reject (it becomes available again)."""
    now = now or utcnow()
    payout = db.session.get(BillingTransaction, transaction_id)
    if payout is None or payout.kind != BillingKind.PAYOUT:
        raise SessionNotFound("There is no such payout.")
    reference = (reference or "").strip() or None
    if reference and len(reference) > REFERENCE_MAX:
        raise ValidationFailed("reference", f"Use at most {REFERENCE_MAX} characters.")
    before = {"status": payout.status.value}
    if approve:
        payout = payouts.approve_payout(transaction_id, reference=reference, now=now, actor_id=admin_id)
    else:
        payout = payouts.reject_payout(transaction_id, reason=_reason(reason), now=now, actor_id=admin_id)
    if before["status"] != payout.status.value:
        audit(admin_id, "payout." + ("approve" if approve else "reject"), "payout", payout.id, before,
              {"status": payout.status.value, "reason": reason, "reference": reference}, now)  # fmt: skip
    db.session.flush()
    return payout
