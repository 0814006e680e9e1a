"""The figures and facts each consultation event writes beside its state: session_metadata, the
user's counters, users.session_status, the participants' leaving, and what the end says.

session_metadata holds, by key:

    end   {"reason": end_reason, "by": "user" | "astrologer" | "admin" | "system",
           "balance_left": the user's available balance (insufficient_balance),
           "participants": ["user" | "astrologer", ...] who were gone (participant_disconnected),
           "missed_minute": k, the minute not charged (service_interruption),
           "refunded": the amount given back (the astrologer never replied, whatever ended it)}
    call  {"video": true for a video call (written with the request; enums.Channel),
           "first_connected_at": when audio first connected, "failures": media failures reported,
           "media": "connected" | "lost" | "never_connected" (written when the call ends)}
"""

from datetime import timedelta

from flask import current_app

from ...extensions import db
from ...models import (
    OPEN_SESSION_STATUSES,
    ConnectionStatus,
    ConsultationSession,
    EndReason,
    PresenceStatus,
    SessionStatus,
    User,
    UserProfile,
    UserType,
)
from .. import wallet
from ..messaging import system_lines
from ..messaging.system_lines import N_
from ..notifications import notifier
from .lookup import taking_part

#: Who ended a session for each end reason (session_metadata.end.by); anything else: "system".
ENDED_BY = {
    EndReason.USER_ENDED: "user",
    EndReason.CANCELLED: "user",
    EndReason.ASTROLOGER_ENDED: "astrologer",
    EndReason.DECLINED: "astrologer",
    EndReason.ADMIN_ENDED: "admin",
}

#: The chat's last line for each end reason.
_ENDED = {
    EndReason.USER_ENDED: N_("The user ended the session."),
    EndReason.ASTROLOGER_ENDED: N_("The astrologer ended the session."),
    EndReason.INSUFFICIENT_BALANCE: N_("The session ended: the balance does not cover another minute."),
    EndReason.ASTROLOGER_NO_REPLY: N_("The session ended: the astrologer did not reply. Every charge is refunded."),
    EndReason.SERVICE_INTERRUPTION: N_(
        "The session ended after a service interruption. Only minutes before it were billed."
    ),
    EndReason.PARTICIPANT_DISCONNECTED: N_("The session ended: a participant was disconnected for too long."),
    EndReason.CAP_REACHED: N_("The session ended at the limit set for it. Nothing was charged past it."),
}


def note(session, key, **facts):
    """Add `facts` under `key` of the session's session_metadata (assigned anew: JSON columns see
    assignments, not mutations)."""
    metadata = dict(session.session_metadata or {})
    metadata[key] = {**metadata.get(key, {}), **facts}
    session.session_metadata = metadata


def announce(name, payload, *rooms):
    for room in rooms:
        notifier.announce(name, payload, room=room)


def count_for_user(user_id, column):
    """users' profile counter `column` + 1, in SQL (no read-modify-write)."""
    db.session.execute(
        db.update(UserProfile)
        .where(UserProfile.user_id == user_id)
        .values({column: getattr(UserProfile, column) + 1})
        .execution_options(synchronize_session=False)
    )


def refresh_presence(*user_ids):
    """users.session_status from the sessions themselves, so it can never stick."""
    for user_id in user_ids:
        statuses = set(
            db.session.execute(
                db.select(ConsultationSession.status).where(
                    taking_part(user_id),
                    ConsultationSession.status.in_(OPEN_SESSION_STATUSES),
                )
            ).scalars()
        )
        user = db.session.get(User, user_id)
        if SessionStatus.ACTIVE in statuses:
            user.session_status = PresenceStatus.IN_SESSION
        elif SessionStatus.WAITING in statuses and user.type == UserType.USER:
            user.session_status = PresenceStatus.WAITING
        else:
            user.session_status = PresenceStatus.IDLE


def leave(session, now):
    """Every participant leaves with the session's end."""
    for participant in session.participants:
        participant.left_at = now
        participant.connection_status = ConnectionStatus.DISCONNECTED


def ended_text(reason, refunded=None):
    """The chat's last line; with `refunded` (the astrologer never replied), what was given back."""
    then = None
    if refunded and reason != EndReason.ASTROLOGER_NO_REPLY:
        then = system_lines.line(
            N_("The astrologer never replied, so every charge (%(refunded)s) is refunded."), refunded=refunded
        )
    return system_lines.line(_ENDED.get(reason, N_("The session ended.")), then=then)


def end_facts(session, reason, now):
    """session_metadata.end of an active session ending now for `reason`."""
    facts = {"reason": reason.value, "by": ENDED_BY.get(reason, "system")}
    if reason == EndReason.INSUFFICIENT_BALANCE:
        facts["balance_left"] = str(wallet.wallet_of(session.user_id).available_balance)
    elif reason == EndReason.SERVICE_INTERRUPTION:
        facts["missed_minute"] = session.billed_minutes + session.free_minutes + 1
    elif reason == EndReason.CAP_REACHED:
        facts["cap_minutes"] = session.cap_minutes
    elif reason == EndReason.PARTICIPANT_DISCONNECTED:
        deadline = now - timedelta(seconds=current_app.config["RECONNECT_GRACE_SECONDS"])
        facts["participants"] = sorted(
            p.participant_role.value
            for p in session.participants
            if (p.last_seen_at or session.started_at) <= deadline or (p.media_lost_at and p.media_lost_at <= deadline)
        )
    return facts


def media_outcome(session, reason):
    """How a call's audio went: never connected, lost (the call ended on a media failure), or connected."""
    call = (session.session_metadata or {}).get("call", {})
    if not call.get("first_connected_at"):
        return "never_connected"
    lost = any(p.media_lost_at is not None for p in session.participants)
    return "lost" if reason == EndReason.PARTICIPANT_DISCONNECTED and lost else "connected"
