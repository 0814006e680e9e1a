"""Row locks (SELECT ... FOR UPDATE), in the one order every use case follows:
an astrologer's profile, then consultation sessions, then wallets (wallet.lock_wallets,
in wallet-id order). Each returns the row reloaded under the lock, or None.

A use case that writes a row of that order (a charge adds to the profile's total_earnings)
locks it in its place even when the write comes later; otherwise it would hold a session
while waiting for a profile that someone ending that session holds (a deadlock)."""

from ..extensions import db
from ..models import AstrologerProfile, ConsultationSession


def _locked(query, skip_locked=False):
    query = query.with_for_update(skip_locked=skip_locked).execution_options(populate_existing=True)
    return db.session.execute(query).scalar_one_or_none()


def astrologer_profile(astrologer_id, skip_locked=False):
    """skip_locked: None at once when another transaction holds it."""
    return _locked(db.select(AstrologerProfile).filter_by(astrologer_id=astrologer_id), skip_locked)


def session(session_id):
    return _locked(db.select(ConsultationSession).filter_by(id=session_id))


def sessions(session_ids):
    """Several sessions locked in id order (the order any two batches agree on), reloaded; {id: session}."""
    query = (
        db.select(ConsultationSession)
        .where(ConsultationSession.id.in_(sorted(session_ids)))
        .order_by(ConsultationSession.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {session.id: session for session in db.session.execute(query).scalars()}


def _astrologer_of(session_id):
    return db.session.execute(
        db.select(ConsultationSession.astrologer_id).filter_by(id=session_id)
    ).scalar_one_or_none()


def profile_of_session(session_id, skip_locked=False):
    """The profile of the session's astrologer, locked; None if there is no such session (or it was skipped)."""
    astrologer_id = _astrologer_of(session_id)
    return None if astrologer_id is None else astrologer_profile(astrologer_id, skip_locked)


def session_and_profile(session_id):
    """(astrologer profile, session), locked in the order: profile first; (None, None) if there is no such session."""
    astrologer_id = _astrologer_of(session_id)
    if astrologer_id is None:
        return None, None
    return astrologer_profile(astrologer_id), session(session_id)
