"""Reading consultation sessions: a participant's session (never another's), a person's open
session, and their history. Read-only."""

from ...extensions import db
from ...models import OPEN_SESSION_STATUSES, ConsultationSession
from .. import paging
from ..errors import SessionNotFound


def taking_part(user_id):
    """The condition that `user_id` takes part in a session: its user or its astrologer."""
    return (ConsultationSession.user_id == user_id) | (ConsultationSession.astrologer_id == user_id)


def session_ids_of(user_id):
    """A select of the ids of every session `user_id` takes part in (for IN clauses)."""
    return db.select(ConsultationSession.id).where(taking_part(user_id))


def get_for_participant(session_id, user_id):
    """The session if `user_id` takes part in it; SessionNotFound otherwise (never reveal others')."""
    session = db.session.get(ConsultationSession, session_id)
    if session is None or user_id not in (session.user_id, session.astrologer_id):
        raise SessionNotFound()
    return session


def open_session_of(user_id):
    """The user's waiting or active session, or None (there is at most one)."""
    return db.session.execute(
        db.select(ConsultationSession).where(
            ConsultationSession.user_id == user_id, ConsultationSession.status.in_(OPEN_SESSION_STATUSES)
        )
    ).scalar_one_or_none()


def history(user_id, *, as_astrologer=False, page=1, per_page=10):
    """A person's sessions, newest first: a paging.Page of ConsultationSessions."""
    column = ConsultationSession.astrologer_id if as_astrologer else ConsultationSession.user_id
    query = (
        db.select(ConsultationSession)
        .where(column == user_id)
        .order_by(ConsultationSession.requested_at.desc(), ConsultationSession.id)
    )
    return paging.page_of(query, page, per_page, scalars=True)
