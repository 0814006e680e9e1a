"""Chat messages: stored first (seq gap-free per session, assigned under the session row lock),
then announced. System messages are the platform's own lines in the conversation."""

from ..extensions import db
from ..models import Message, MessageType, utcnow


def next_seq(session_id):
    """The next seq of a session; call with the session row locked."""
    last = db.session.execute(db.select(db.func.max(Message.seq)).where(Message.session_id == session_id)).scalar()
    return (last or 0) + 1


def post_system_message(session, content, now=None):
    """A platform line in the conversation (session started, low balance, ended, ...)."""
    message = Message(
        session_id=session.id,
        sender_id=None,
        message_type=MessageType.SYSTEM,
        content=content,
        seq=next_seq(session.id),
        sent_at=now or utcnow(),
    )
    db.session.add(message)
    db.session.flush()
    return message


def birth_details_text(profile):
    """The user's birth details as one line for the astrologer, or None when none are given."""
    parts = []
    if profile.birth_date:
        parts.append(f"born {profile.birth_date:%d %B %Y}")
    if profile.birth_time:
        parts.append(f"at {profile.birth_time:%H:%M}")
    if profile.birth_place:
        parts.append(f"in {profile.birth_place}")
    if not parts:
        return None
    return "Birth details: " + " ".join(parts) + "."
