"""Chat: messages stored first, then announced; read receipts; presence; system messages.

A message's seq is assigned under the session row lock, so seqs are gap-free
per session and every client can resume from the last seq it has. A
client's own id for a message (client_id) makes a resend after a reconnect
store nothing new and return the first message. Content is plain text,
trimmed, 1..2000 characters, with phone numbers, e-mail addresses and links
masked before it is stored (so the sender sees the masking too).
"""

import re
import uuid

from ..extensions import db
from ..models import (
    ConnectionStatus,
    Message,
    MessageType,
    SessionParticipant,
    SessionStatus,
    utcnow,
)
from . import locks, notifier
from .errors import SessionNotActive, SessionNotFound, ValidationFailed

MAX_LENGTH = 2000
CLIENT_ID_MAX = 64
HISTORY_LIMIT = 500

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
LINK = re.compile(
    r"\b(?:https?://|www\.)\S+|\b[\w-]+(?:\.[\w-]+)*\.(?:com|in|net|org|io|co|me|info|app|xyz|biz|us|uk|link|ly)\b(?:/\S*)?",
    re.IGNORECASE,
)
# Ten or more digits, with the separators people type between them.
PHONE = re.compile(r"(?<![\w])[+(]?\d(?:[\s\-().]*\d){9,}")


def mask(text):
    """Hide contact details and links, so consultations stay on the platform."""
    text = EMAIL.sub("[email hidden]", text)
    text = LINK.sub("[link hidden]", text)
    return PHONE.sub("[number hidden]", text)


def clean_content(content):
    """Trimmed text of 1..2000 characters, or ValidationFailed with a reason a person can read."""
    if not isinstance(content, str):
        raise ValidationFailed("content", "A message must be text.")
    content = content.strip()
    if not content:
        raise ValidationFailed("content", "A message cannot be empty.")
    if len(content) > MAX_LENGTH:
        raise ValidationFailed("content", f"A message can have at most {MAX_LENGTH} characters.")
    return content


def clean_client_id(client_id):
    if client_id is None:
        return None
    if not isinstance(client_id, str) or not 1 <= len(client_id) <= CLIENT_ID_MAX:
        raise ValidationFailed("client_id", f"client_id must be text of 1 to {CLIENT_ID_MAX} characters.")
    return client_id


def serialize(message):
    return {
        "id": str(message.id),
        "session_id": str(message.session_id),
        "seq": message.seq,
        "sender_id": str(message.sender_id) if message.sender_id else None,
        "message_type": message.message_type.value,
        "content": message.content,
        "sent_at": message.sent_at.isoformat(),
        "client_id": message.client_message_id,
    }


def session_room(session_id):
    return f"session:{session_id}"


def next_seq(session_id):
    """The next seq of a session; call with the session row locked."""
    last = db.session.execute(db.select(db.func.max(Message.seq)).where(Message.session_id == session_id)).scalar()
    return (last or 0) + 1


def _participant(session_id, user_id):
    return db.session.execute(
        db.select(SessionParticipant).filter_by(session_id=session_id, user_id=user_id)
    ).scalar_one_or_none()


def _announce(message):
    notifier.announce(db.session(), "message", serialize(message), room=session_room(message.session_id))


def send(session_id, sender_id, client_id, content, now=None):
    """Store a participant's message in an active session and announce it. Returns (message, created):
    created is False when `client_id` was already stored (a resend), and nothing new is written."""
    now = now or utcnow()
    content = clean_content(content)
    client_id = clean_client_id(client_id)
    session = locks.session(session_id)
    if session is None or sender_id not in (session.user_id, session.astrologer_id):
        raise SessionNotFound()
    if client_id is not None:
        existing = db.session.execute(
            db.select(Message).filter_by(session_id=session_id, sender_id=sender_id, client_message_id=client_id)
        ).scalar_one_or_none()
        if existing is not None:
            return existing, False
    if session.status != SessionStatus.ACTIVE:
        raise SessionNotActive("This consultation has ended; messages can no longer be sent.")
    message = Message(
        session_id=session_id,
        sender_id=sender_id,
        message_type=MessageType.TEXT,
        content=mask(content),
        seq=next_seq(session_id),
        client_message_id=client_id,
        sent_at=now,
    )
    db.session.add(message)
    if sender_id == session.astrologer_id and session.astrologer_replied_at is None:
        session.astrologer_replied_at = now  # the no-reply refund rule reads this
    _seen(session_id, sender_id, now)
    db.session.flush()
    _announce(message)
    return message, True


def post_system_message(session, content, now=None):
    """A platform line in the conversation (session started, low balance, top-up, ended), announced."""
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
    _announce(message)
    return message


def history(session_id, after_seq=0, limit=HISTORY_LIMIT):
    """Messages with seq > after_seq, in order, at most `limit`."""
    return (
        db.session.execute(
            db.select(Message)
            .where(Message.session_id == session_id, Message.seq > after_seq)
            .order_by(Message.seq)
            .limit(limit)
        )
        .scalars()
        .all()
    )


def mark_read(session_id, user_id, up_to_seq, now=None):
    """The participant has read everything up to `up_to_seq`; announced as `read` when it moves forward."""
    now = now or utcnow()
    if not isinstance(up_to_seq, int) or isinstance(up_to_seq, bool) or up_to_seq < 0:
        raise ValidationFailed("up_to_seq", "up_to_seq must be a whole number.")
    participant = _participant(session_id, user_id)
    if participant is None:
        raise SessionNotFound()
    last = db.session.execute(db.select(db.func.max(Message.seq)).where(Message.session_id == session_id)).scalar() or 0
    up_to_seq = min(up_to_seq, last)
    _seen(session_id, user_id, now)
    if up_to_seq > participant.last_read_seq:
        participant.last_read_seq = up_to_seq
        db.session.execute(
            db.update(Message)
            .where(
                Message.session_id == session_id,
                Message.seq <= up_to_seq,
                Message.sender_id != user_id,
                Message.read_at.is_(None),
            )
            .values(read_at=now)
        )
        notifier.announce(
            db.session(),
            "read",
            {
                "session_id": str(session_id),
                "user_id": str(user_id),
                "up_to_seq": up_to_seq,
                "read_at": now.isoformat(),
            },
            room=session_room(session_id),
        )
    db.session.flush()
    return participant


def _seen(session_id, user_id, now, status=ConnectionStatus.CONNECTED):
    participant = _participant(session_id, user_id)
    if participant is not None:
        participant.last_seen_at = now
        participant.connection_status = status
        if status == ConnectionStatus.CONNECTED:
            participant.disconnected_at = None
        elif participant.disconnected_at is None:
            participant.disconnected_at = now
    return participant


def connected(session_id, user_id, now=None):
    """A socket of the participant joined the room, or sent a heartbeat."""
    _seen(session_id, user_id, now or utcnow())
    db.session.flush()


def disconnected(session_id, user_id, now=None):
    """The participant's last socket in the room is gone (the reconnect grace starts)."""
    _seen(session_id, user_id, now or utcnow(), ConnectionStatus.DISCONNECTED)
    db.session.flush()


def read_state(session_id):
    """{user_id: last_read_seq} of a session's participants, for the ticks."""
    rows = db.session.execute(
        db.select(SessionParticipant.user_id, SessionParticipant.last_read_seq).filter_by(session_id=session_id)
    ).all()
    return {str(user_id): seq for user_id, seq in rows}


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


def transcript(session, names):
    """The conversation as plain text, one line per message (for download)."""
    lines = [f"Consultation {session.id}", ""]
    for message in history(session.id, limit=None):
        who = names.get(message.sender_id, "AstroConsult") if message.sender_id else "AstroConsult"
        lines.append(f"[{message.sent_at:%Y-%m-%d %H:%M:%S} UTC] {who}: {message.content}")
    return "\n".join(lines) + "\n"


def parse_session_id(value):
    """A UUID from client input, or SessionNotFound (unknown ids and garbage look the same)."""
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        raise SessionNotFound() from None
