"""Row locks (SELECT ... FOR UPDATE), in the one order every use case follows:
an astrologer's profile, then consultation sessions, then wallets (wallet.lock_wallets,
in wallet-id order). Each returns the row reloaded under the lock, or None."""

from ..extensions import db
from ..models import AstrologerProfile, ConsultationSession


def _locked(query):
    return db.session.execute(query.with_for_update().execution_options(populate_existing=True)).scalar_one_or_none()


def astrologer_profile(astrologer_id):
    return _locked(db.select(AstrologerProfile).filter_by(user_id=astrologer_id))


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
