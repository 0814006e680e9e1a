"""An astrologer's activity and figures: last_active_at, performance_metrics, the current month's
sessions and rating.

Each is written in the same transaction as the event it describes. The counting functions
expect the astrologer's profile locked by the caller (the lifecycle holds it for every event
counted here: accept, decline, timeout, end, rating), so two events never lose an increment.
The monthly figures are recomputed from the sessions themselves, never incremented, and the
billing loop rolls them over when a month begins (`roll_over`), so they cannot drift.

performance_metrics is a JSON object with these keys (counts are whole numbers; rates are 0..1
with four decimals, or null while their denominator is 0):

    offered                   requests put before the astrologer that were accepted, declined or timed out
    accepted                  of those, accepted
    acceptance_rate           accepted / offered
    replies                   completed sessions in which the astrologer replied (a message, or a call's audio)
    response_seconds          seconds from acceptance to that first reply, summed over those sessions
    average_response_seconds  response_seconds / replies, in whole seconds (null with no replies)
    completed_sessions        sessions accepted and ended
    users                     people with at least one completed session with this astrologer
    repeat_users              of those, people with two or more
    repeat_user_share         repeat_users / users
    safety_flags              flags the safety review raised about what the astrologer wrote (services/ai/safety.py)
    safety_flags_confirmed    of those, confirmed by an admin (both recomputed from the flags, never incremented)

Migration 0008 computed the same keys from the sessions that existed before it.
"""

from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app

from ...extensions import db
from ...models import AstrologerProfile, ConsultationSession, EndReason, SessionStatus, utcnow
from .. import locks, signals

ACTIVITY_RESOLUTION = timedelta(seconds=60)  # a dashboard view writes last_active_at at most this often
ROLLED_OVER = "performance.rolled_over"  # app.extensions key: the month every profile has been rolled to
COUNTS = (
    "offered", "accepted", "replies", "response_seconds", "completed_sessions", "users", "repeat_users",
    "safety_flags", "safety_flags_confirmed",
)  # fmt: skip


def _rate(part, whole):
    return round(part / whole, 4) if whole else None


def _with_rates(counts):
    return {
        **counts,
        "acceptance_rate": _rate(counts["accepted"], counts["offered"]),
        "average_response_seconds": round(counts["response_seconds"] / counts["replies"])
        if counts["replies"]
        else None,
        "repeat_user_share": _rate(counts["repeat_users"], counts["users"]),
    }


def _count(profile, **increments):
    current = profile.performance_metrics or {}
    counts = {key: int(current.get(key) or 0) + increments.get(key, 0) for key in COUNTS}
    profile.performance_metrics = _with_rates(counts)  # a new dict: JSON columns see assignments, not mutations


def safety_counted(profile, raised, confirmed):
    """The safety review's figures, as counted from the flags themselves (call with the profile locked)."""
    current = profile.performance_metrics or {}
    counts = {key: int(current.get(key) or 0) for key in COUNTS}
    counts.update(safety_flags=raised, safety_flags_confirmed=confirmed)
    profile.performance_metrics = _with_rates(counts)


def touch(profile, now):
    """The astrologer did something (answered a request, ended a session, rated a user)."""
    profile.last_active_at = max(profile.last_active_at or now, now)


def seen_on_dashboard(astrologer_id, now=None):
    """The astrologer has the dashboard open: last_active_at moves, at most once a minute (one UPDATE,
    no lock held beyond it)."""
    now = now or utcnow()
    db.session.execute(
        sa.update(AstrologerProfile)
        .where(
            AstrologerProfile.astrologer_id == astrologer_id,
            sa.or_(
                AstrologerProfile.last_active_at.is_(None),
                AstrologerProfile.last_active_at < now - ACTIVITY_RESOLUTION,
            ),
        )
        .values(last_active_at=now)
        .execution_options(synchronize_session=False)
    )


def request_answered(profile, *, accepted, now):
    """A request put before the astrologer was accepted, declined or timed out (call with the profile locked)."""
    _count(profile, offered=1, accepted=int(accepted))
    if accepted:
        touch(profile, now)


def session_completed(profile, session, now):
    """An accepted session ended (call with the profile locked, after its status and ended_at are set)."""
    replied = session.astrologer_replied_at is not None and session.started_at is not None
    response = max(int((session.astrologer_replied_at - session.started_at).total_seconds()), 0) if replied else 0
    earlier = db.session.execute(
        sa.select(sa.func.count(ConsultationSession.id)).where(
            ConsultationSession.astrologer_id == session.astrologer_id,
            ConsultationSession.user_id == session.user_id,
            ConsultationSession.status == SessionStatus.COMPLETED,
            ConsultationSession.id != session.id,
        )
    ).scalar_one()
    _count(
        profile,
        completed_sessions=1,
        replies=int(replied),
        response_seconds=response,
        users=int(earlier == 0),
        repeat_users=int(earlier == 1),
    )
    db.session.flush()
    refresh_month(profile, now)


# ---------------------------------------------------------------- the month


def month_of(now):
    """(first day, start, end) of the calendar month of `now` in REPORTING_TIMEZONE; start and end in UTC."""
    zone = ZoneInfo(current_app.config["REPORTING_TIMEZONE"])
    local = now.astimezone(zone)
    first = date(local.year, local.month, 1)
    following = date(local.year + local.month // 12, local.month % 12 + 1, 1)
    start = datetime(first.year, first.month, 1, tzinfo=zone).astimezone(UTC)
    end = datetime(following.year, following.month, 1, tzinfo=zone).astimezone(UTC)
    return first, start, end


def refresh_month(profile, now):
    """monthly_sessions and monthly_rating of the month of `now`, from the sessions (flush first)."""
    first, start, end = month_of(now)
    astrologer = ConsultationSession.astrologer_id == profile.astrologer_id
    sessions = db.session.execute(
        sa.select(sa.func.count(ConsultationSession.id)).where(
            astrologer,
            ConsultationSession.status == SessionStatus.COMPLETED,
            ConsultationSession.ended_at >= start,
            ConsultationSession.ended_at < end,
        )
    ).scalar_one()
    total, rated = db.session.execute(
        sa.select(sa.func.sum(ConsultationSession.astrologer_rating), sa.func.count(ConsultationSession.id)).where(
            astrologer,
            ConsultationSession.astrologer_rating.is_not(None),
            ConsultationSession.rated_at >= start,
            ConsultationSession.rated_at < end,
        )
    ).one()
    profile.monthly_sessions = sessions
    profile.monthly_rating = (total / rated).quantize(Decimal("0.01"), ROUND_HALF_UP) if rated else Decimal("0.00")
    profile.monthly_period = first


def roll_over(now=None):
    """Start a new month's figures for every profile still describing an earlier month (the billing
    loop calls it every pass; it queries only until a month is done). Profiles locked by a running
    event are skipped and taken by the next pass. Returns how many were rolled; the caller commits."""
    now = now or utcnow()
    first, _, _ = month_of(now)
    if current_app.extensions.get(ROLLED_OVER) == first:  # this process has seen the month done
        return 0
    stale = locks.astrologer_profiles_where(
        sa.or_(AstrologerProfile.monthly_period.is_(None), AstrologerProfile.monthly_period < first), limit=500
    )
    for profile in stale:
        refresh_month(profile, now)
    if not stale and not _any_stale(first):  # done: none left, none skipped
        current_app.extensions[ROLLED_OVER] = first
    return len(stale)


def _any_stale(first):
    return (
        db.session.execute(
            sa.select(AstrologerProfile.id).where(
                sa.or_(AstrologerProfile.monthly_period.is_(None), AstrologerProfile.monthly_period < first)
            )
        ).first()
        is not None
    )


@signals.session_ended.connect
def _count_the_session(session, *, profile, reason, now, **_):
    session_completed(profile, session, now)
    if reason == EndReason.ASTROLOGER_ENDED:
        touch(profile, now)
