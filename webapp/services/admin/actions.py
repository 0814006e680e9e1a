"""Admin actions: refunds, account status, astrologer approval, payouts. Each is written to the
audit trail (who, what, when, before and after) in the same transaction as the change itself."""

from datetime import timedelta

from flask_babel import gettext

from ...extensions import db
from ...models import (
    AstrologerProfile,
    AuditEntry,
    BillingKind,
    BillingStatus,
    BillingTransaction,
    ConsultationSession,
    Payout,
    User,
    UserStatus,
    UserType,
    utcnow,
)
from .. import wallet
from ..ai import safety
from ..astrologers import marketplace
from ..errors import NotAllowed, NothingToRefund, SessionNotFound, ValidationFailed
from ..money import payouts, refunds, topup_refunds
from ..notifications import notifier, rooms
from ..users import account_status

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


def checked_reason(reason):
    """The reason an admin gave, trimmed; ValidationFailed when blank or too long."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("reason", gettext("Say why (the user and the astrologer can ask)."))
    if len(reason) > REASON_MAX:
        raise ValidationFailed("reason", gettext("Use at most %(reason_max)s characters.", reason_max=REASON_MAX))
    return reason


def refund_session(session_id, *, admin_id, reason, number, amount=None, now=None):
    """Refund all (amount None) or part of a session's charges; idempotent per refund number."""
    now = now or utcnow()
    reason = checked_reason(reason)
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


def refund_from_minute(session_id, minute, *, admin_id, number, reason=None, now=None):
    """One click: refund what minutes `minute`.. of a session cost (at most what is left to refund)."""
    now = now or utcnow()
    charged = db.session.execute(
        db.select(db.func.sum(BillingTransaction.amount), db.func.count(BillingTransaction.id)).where(
            BillingTransaction.session_id == session_id,
            BillingTransaction.kind == BillingKind.CHARGE,
            BillingTransaction.status == BillingStatus.COMPLETED,
            BillingTransaction.minute >= minute,
        )
    ).one()
    session = db.session.get(ConsultationSession, session_id)
    if session is None:
        raise SessionNotFound()
    if not charged[1]:
        raise ValidationFailed("minute", gettext("Minute %(minute)s was not charged.", minute=minute))
    amount = min(charged[0], session.total_cost)
    if amount <= 0:
        raise NothingToRefund()
    reason = (reason or "").strip() or f"Refund from minute {minute} ({charged[1]} minute(s))"
    return refund_session(session_id, admin_id=admin_id, reason=reason, number=number, amount=amount, now=now)


def refund_topup(topup_id, *, admin_id, reason, now=None):
    """Pay a top-up back through its gateway, with a credit note (services/money/topup_refunds.py); audited."""
    now = now or utcnow()
    reason = checked_reason(reason)
    leg, note, changed = topup_refunds.refund_topup(topup_id, reason=reason, now=now)
    if changed:
        audit(admin_id, "topup.refund", "user", leg.user_id, {},
              {"amount": str(leg.amount), "reason": reason, "refund_id": str(leg.id),
               "credit_note": note.number if note else None}, now)  # fmt: skip
    db.session.flush()
    return leg, note, changed


#: Reading a conversation again within this long is one audit entry.
READ_AUDIT_WINDOW = timedelta(minutes=10)


def record_conversation_read(session_id, *, admin_id, messages, now=None):
    """An admin read a session's conversation: in the audit trail (once per admin per READ_AUDIT_WINDOW)."""
    _record_read("session.read", "session", session_id, admin_id, {"messages": messages}, now or utcnow())


def record_attachment_read(attachment, *, admin_id, thumbnail=False, now=None):
    """An admin opened a file (or its thumbnail) of a session they take no part in: in the audit trail (as a read)."""
    _record_read(
        "attachment.read",
        "attachment",
        attachment.id,
        admin_id,
        {"session": str(attachment.session_id), **({"thumbnail": True} if thumbnail else {})},
        now or utcnow(),
    )


def _record_read(action, object_type, object_id, admin_id, details, now):
    recent = db.session.execute(
        db.select(AuditEntry.id)
        .where(
            AuditEntry.actor_id == admin_id,
            AuditEntry.action == action,
            AuditEntry.object_id == object_id,
            AuditEntry.created_at > now - READ_AUDIT_WINDOW,
        )
        .limit(1)
    ).first()
    if recent is None:
        audit(admin_id, action, object_type, object_id, {}, details, now)
        db.session.flush()


def set_user_status(user_id, status, *, admin_id, now=None):
    """Suspend or reactivate an account. Suspending ends the user's open sessions and drops their sockets."""
    now = now or utcnow()
    user = db.session.get(User, user_id)
    if user is None:
        raise SessionNotFound(gettext("There is no such account."))
    if status not in (UserStatus.ACTIVE, UserStatus.SUSPENDED):
        raise ValidationFailed("status", gettext("Choose active or suspended."))
    if user.type in (UserType.ADMIN, UserType.SYSTEM) or user.status == UserStatus.DELETED:
        raise NotAllowed(gettext("This account's status cannot be changed here."))
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
        raise SessionNotFound(gettext("There is no such astrologer."))
    if not profile.is_approved:
        profile.is_approved = True
        profile.updated_at = now
        audit(admin_id, "astrologer.approve", "user", astrologer_id, {"is_approved": False}, {"is_approved": True}, now)
        marketplace.refresh_availability(astrologer_id)
    db.session.flush()
    return profile


REFERENCE_MAX = 100


def _reference(reference, required=False):
    reference = (reference or "").strip() or None
    if reference is None and required:
        raise ValidationFailed("reference", gettext("Enter the bank's reference of the transfer (the UTR)."))
    if reference and len(reference) > REFERENCE_MAX:
        raise ValidationFailed(
            "reference", gettext("Use at most %(reference_max)s characters.", reference_max=REFERENCE_MAX)
        )
    return reference


def _payout_state(payout):
    return {"status": payout.status.value, "amount": str(payout.amount), "reference": payout.provider_reference}


def _audited_payout_step(action, payout_id, admin_id, now, step):
    """Run `step` (a services/money/payouts.py call) and audit it when it changed the payout."""
    existing = db.session.get(Payout, payout_id)
    if existing is None:
        raise SessionNotFound(gettext("There is no such payout."))
    before = _payout_state(existing)
    result = step()
    if result.changed:
        after = _payout_state(result.payout)
        if result.payout.reason:
            after["reason"] = result.payout.reason
        audit(admin_id, action, "payout", result.payout.id, before, after, now)
    db.session.flush()
    return result.payout


def approve_payout(payout_id, *, admin_id, reference=None, now=None):
    """Approve a requested payout: the payout provider sends it (the demo one settles at once);
    `reference`: the bank's reference when staff sent the transfer themselves."""
    now = now or utcnow()
    reference = _reference(reference)
    return _audited_payout_step(
        "payout.approve", payout_id, admin_id, now,
        lambda: payouts.approve(payout_id, actor_id=admin_id, reference=reference, now=now),
    )  # fmt: skip


def mark_payout_paid(payout_id, *, admin_id, reference, now=None):
    """Record that an approved payout reached the bank account, under the bank's reference."""
    now = now or utcnow()
    reference = _reference(reference, required=True)
    return _audited_payout_step(
        "payout.paid", payout_id, admin_id, now, lambda: payouts.mark_paid(payout_id, reference=reference, now=now)
    )


def reject_payout(payout_id, *, admin_id, reason, now=None):
    """Refuse a requested payout, saying why: the amount is withdrawable again."""
    now = now or utcnow()
    reason = checked_reason(reason)
    return _audited_payout_step(
        "payout.reject", payout_id, admin_id, now,
        lambda: payouts.reject(payout_id, reason=reason, actor_id=admin_id, now=now),
    )  # fmt: skip


def decide_flag(flag_id, *, admin_id, action, note=None, now=None):
    """Confirm or dismiss a safety flag (services/ai/safety.py), with an optional note; audited."""
    now = now or utcnow()
    flag, before = safety.decide(flag_id, admin_id=admin_id, action=action, note=note, now=now)
    audit(admin_id, "flag.decide", "flag", flag.id, before, {"status": flag.status, "note": flag.note}, now)
    return flag
