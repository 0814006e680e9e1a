"""Chat: messages stored first, then announced; delivery and read receipts; presence; system messages.

A message's seq is assigned under the session row lock, so seqs are gap-free
per session and every client can resume from the last seq it has. A
client's own id for a message (client_id) makes a resend after a reconnect
store nothing new and return the first message. Content is plain text,
trimmed, 1..2000 characters, with phone numbers, e-mail addresses and links
masked before it is stored (services/messaging/message_text.py; the sender sees the masking too).

A message is stored (one tick), delivered when the other participant's
client acknowledges it (mark_delivered; two ticks) and read when they have
seen it (mark_read; two blue ticks; reading implies delivery).

messages.metadata (the model's message_metadata) holds, by key:

    masked  ["email", "link", "phone"]: what the masking hid in a participant's text (or file name)
    attachment_id, name, size, content_type, width, height, pages
            an `image` or `file` message's stored file (services/messaging/attachments.py); `removed`
            ("account_deleted", "retention") once the file is gone
    kind    a platform line's kind: "birth_details", "started", "low_balance", "topup", "ended",
            "masked"
    text    a platform line as a message key with its values (services/messaging/system_lines.py), and
            "Message removed" on a text message whose sender deleted their account
    removed "account_deleted" on such a message (services/users/erasure.py)

A platform line can be for one participant only (messages.visible_to_id): the wallet events
(low_balance, topup) are the paying user's business and the masking notice the sender's. They take
a seq like every message, reach only that participant's sockets, and are left out of the other's
history and transcript. The admin session page shows every line.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime

from flask_babel import force_locale, gettext

from ...extensions import db
from ...models import (
    ConnectionStatus,
    ConsultationSession,
    LoginSession,
    Message,
    MessageType,
    SessionParticipant,
    SessionStatus,
    User,
    UserStatus,
    utcnow,
)
from .. import locks
from ..errors import DomainError, NotAuthenticated, SessionNotActive, SessionNotFound, ValidationFailed
from ..notifications import notifier, rooms
from ..users import languages, login_sessions
from . import system_lines
from .message_text import clean_client_id, clean_content, masked

HISTORY_LIMIT = 500


def serialize(message):
    """A message as clients get it; a platform line in the current reader's language."""
    return {
        "id": str(message.id),
        "session_id": str(message.session_id),
        "seq": message.seq,
        "sender_id": str(message.sender_id) if message.sender_id else None,
        "message_type": message.message_type.value,
        "content": system_lines.text_of(message),  # a platform line, or a removed message, in the reader's language
        "sent_at": message.sent_at.isoformat(),
        "client_id": message.client_message_id,
        "metadata": message.message_metadata,
    }


def next_seq(session_id):
    """The next seq of a session; call with the session row locked."""
    last = db.session.execute(db.select(db.func.max(Message.seq)).where(Message.session_id == session_id)).scalar()
    return (last or 0) + 1


def participant_of(session_id, user_id):
    """The user's SessionParticipant row in the session, or None."""
    return db.session.execute(
        db.select(SessionParticipant).filter_by(session_id=session_id, user_id=user_id)
    ).scalar_one_or_none()


def _announce(message):
    """To the session's room; a platform line instead to each reader's own room, written in that
    reader's language (a participant's private line: to that participant only)."""
    if message.message_type == MessageType.SYSTEM and (message.message_metadata or {}).get("text"):
        for reader, language in _readers(message):
            with force_locale(language):
                notifier.announce("message", serialize(message), room=rooms.of_user(reader))
        return
    room = rooms.of_user(message.visible_to_id) if message.visible_to_id else rooms.of_session(message.session_id)
    notifier.announce("message", serialize(message), room=room)


def _readers(message):
    """(user id, language) of everyone a platform line is for."""
    if message.visible_to_id:
        ids = [message.visible_to_id]
    else:
        session = db.session.get(ConsultationSession, message.session_id)
        ids = [session.user_id, session.astrologer_id]
    language = languages.of_users(ids)
    return [(reader, language[reader]) for reader in ids]


@dataclass(frozen=True)
class Draft:
    """A message as a participant sent it, checked for shape but not yet stored."""

    session_id: uuid.UUID
    sender_id: uuid.UUID
    client_id: str | None
    content: str  # cleaned and masked
    now: datetime
    hidden: tuple = ()  # what the masking hid
    login_id: str | None = None  # the login session the sender's socket connected with (None: not a socket)
    message_type: MessageType = MessageType.TEXT  # image and file: services/messaging/attachments.py
    details: dict | None = None  # an attachment's description (services/messaging/attachments.py describe)

    @property
    def metadata(self):
        metadata = {**(self.details or {}), **({"masked": list(self.hidden)} if self.hidden else {})}
        return metadata or None


def draft(session_id, sender_id, client_id, content, now=None, login_id=None):
    """A Draft of valid content and client_id, or ValidationFailed; reads nothing from the database."""
    content, hidden = masked(clean_content(content))
    return Draft(session_id, sender_id, clean_client_id(client_id), content, now or utcnow(), hidden, login_id)


def send(session_id, sender_id, client_id, content, now=None):
    """Store a participant's message in an active session and announce it. Returns (message, created):
    created is False when `client_id` was already stored (a resend), and nothing new is written."""
    (outcome,) = send_many([draft(session_id, sender_id, client_id, content, now)])
    if isinstance(outcome, DomainError):
        raise outcome
    return outcome


def send_many(drafts):
    """Store the drafts in order, in a few statements whatever their number; announce the new ones.

    Returns one outcome per draft: (message, created), or the DomainError that refused it (sender no
    longer active, not a participant, session ended). A draft whose client_id its sender already used
    in that session (stored before, or earlier in `drafts`) gets that message back with created False,
    even after the end. Sessions are locked in id order, so seqs stay gap-free per session.
    """
    session_ids = {d.session_id for d in drafts}
    sessions = locks.session_rows(session_ids)
    active = set(
        db.session.execute(
            db.select(User.id).where(User.id.in_({d.sender_id for d in drafts}), User.status == UserStatus.ACTIVE)
        ).scalars()
    )
    signed_in = {d.login_id for d in drafts if d.login_id is not None}
    if signed_in:
        signed_in = {
            str(login_id)
            for login_id in db.session.execute(
                db.select(LoginSession.id).where(
                    LoginSession.id.in_(login_sessions.parse_id(i) for i in signed_in),
                    LoginSession.revoked_at.is_(None),
                )
            ).scalars()
        }
    stored = {}
    client_ids = {d.client_id for d in drafts if d.client_id is not None}
    if client_ids:
        stored = {
            (m.session_id, m.sender_id, m.client_message_id): m
            for m in db.session.execute(
                db.select(Message).where(Message.session_id.in_(session_ids), Message.client_message_id.in_(client_ids))
            ).scalars()
        }
    last_seq = dict(
        db.session.execute(
            db.select(Message.session_id, db.func.max(Message.seq))
            .where(Message.session_id.in_(session_ids))
            .group_by(Message.session_id)
        ).all()
    )
    noticed = _masking_noticed({(d.session_id, d.sender_id) for d in drafts if d.hidden})
    outcomes, created, seen, replied = [], [], set(), {}
    for d in drafts:
        session = sessions.get(d.session_id)
        key = (d.session_id, d.sender_id, d.client_id)
        if d.sender_id not in active or (d.login_id is not None and d.login_id not in signed_in):
            outcomes.append(NotAuthenticated())
        elif session is None or d.sender_id not in (session.user_id, session.astrologer_id):
            outcomes.append(SessionNotFound())
        elif d.client_id is not None and key in stored:
            outcomes.append((stored[key], False))
        elif session.status != SessionStatus.ACTIVE:
            outcomes.append(SessionNotActive(gettext("This consultation has ended; messages can no longer be sent.")))
        else:
            last_seq[d.session_id] = last_seq.get(d.session_id, 0) + 1
            message = Message.new(
                session_id=d.session_id,
                sender_id=d.sender_id,
                message_type=d.message_type,
                content=d.content,
                seq=last_seq[d.session_id],
                client_message_id=d.client_id,
                message_metadata=d.metadata,
                sent_at=d.now,
            )
            if d.sender_id == session.astrologer_id and session.astrologer_replied_at is None:
                replied.setdefault(d.session_id, d.now)  # the no-reply refund rule reads this
            if d.client_id is not None:
                stored[key] = message
            seen.add((d.session_id, d.sender_id))
            created.append(message)
            outcomes.append((message, True))
            if d.hidden and (d.session_id, d.sender_id) not in noticed:
                noticed.add((d.session_id, d.sender_id))
                last_seq[d.session_id] += 1
                created.append(
                    _system_line(
                        d.session_id,
                        system_lines.masking_notice(d.hidden),
                        d.now,
                        "masked",
                        last_seq[d.session_id],
                        d.sender_id,
                    )
                )
    _insert(created)
    for session_id, at in replied.items():
        db.session.execute(
            db.update(ConsultationSession)
            .where(ConsultationSession.id == session_id, ConsultationSession.astrologer_replied_at.is_(None))
            .values(astrologer_replied_at=at)
            .execution_options(synchronize_session="evaluate")
        )
    if seen:
        _seen_sending(seen, max(d.now for d in drafts))
    for message in created:
        _announce(message)
    return outcomes


def _insert(messages):
    """Write `messages` (made by Message.new, not in the ORM session) in one INSERT: the writer's
    batches are the busiest writes of the product, and the unit of work would build, flush and
    expire an object per message to store what is already here."""
    if messages:
        db.session.execute(db.insert(Message), [message.values() for message in messages])


def stored_message(session_id, sender_id, client_id):
    """The message `sender_id` already stored in the session under `client_id`, or None."""
    if client_id is None:
        return None
    return db.session.execute(
        db.select(Message).filter_by(session_id=session_id, sender_id=sender_id, client_message_id=client_id)
    ).scalar_one_or_none()


def _masking_noticed(pairs):
    """The (session, sender) pairs among `pairs` already told what the masking hides."""
    if not pairs:
        return set()
    rows = db.session.execute(
        db.select(Message.session_id, Message.visible_to_id, Message.message_metadata).where(
            Message.session_id.in_({session_id for session_id, _ in pairs}),
            Message.visible_to_id.in_({sender_id for _, sender_id in pairs}),
            Message.message_type == MessageType.SYSTEM,
        )
    ).all()
    return {(session_id, to) for session_id, to, meta in rows if (meta or {}).get("kind") == "masked"}


def _system_line(session_id, text, now, kind, seq, visible_to=None):
    """A platform line: `text` (system_lines.line) kept as its key and values, content in English."""
    return Message.new(
        session_id=session_id,
        message_type=MessageType.SYSTEM,
        content=system_lines.english(text),
        message_metadata={"kind": kind, "text": text},
        seq=seq,
        visible_to_id=visible_to,
        sent_at=now,
    )


def post_system_message(session, text, now=None, *, kind, to=None):
    """A platform line (`text`: system_lines.line) in the conversation of `kind` (see messages.metadata
    above), announced; `to` (a participant's id) makes it that participant's only."""
    now = now or utcnow()
    message = _system_line(session.id, text, now, kind, next_seq(session.id), to)
    db.session.add(message)
    db.session.flush()
    _announce(message)
    return message


MAX_SEQ = 2**31 - 1  # messages.seq is an INTEGER column


def history(session_id, after_seq=0, limit=HISTORY_LIMIT, *, viewer_id=None):
    """The messages `viewer_id` sees with seq > after_seq, in order, at most `limit` (an after_seq
    past any seq finds none): another participant's private lines are left out (viewer_id None:
    every line)."""
    after_seq = min(after_seq, MAX_SEQ)
    query = db.select(Message).where(Message.session_id == session_id, Message.seq > after_seq)
    if viewer_id is not None:
        query = query.where(db.or_(Message.visible_to_id.is_(None), Message.visible_to_id == viewer_id))
    return db.session.execute(query.order_by(Message.seq).limit(limit)).scalars().all()


def _receipt(session_id, user_id, up_to_seq):
    """(participant, up_to_seq within the session's messages) for a receipt, or the refusal."""
    if not isinstance(up_to_seq, int) or isinstance(up_to_seq, bool) or up_to_seq < 0:
        raise ValidationFailed("up_to_seq", gettext("up_to_seq must be a whole number."))
    participant = participant_of(session_id, user_id)
    if participant is None:
        raise SessionNotFound()
    last = db.session.execute(db.select(db.func.max(Message.seq)).where(Message.session_id == session_id)).scalar() or 0
    return participant, min(up_to_seq, last)


def _others_up_to(session_id, user_id, up_to_seq, unset):
    """The other participant's messages up to `up_to_seq` whose `unset` column is still NULL."""
    return (
        db.update(Message)
        .where(
            Message.session_id == session_id,
            Message.seq <= up_to_seq,
            Message.sender_id != user_id,
            unset.is_(None),
        )
        .execution_options(synchronize_session=False)
    )


def mark_delivered(session_id, user_id, up_to_seq, now=None):
    """The participant's client has received everything up to `up_to_seq`: the other side's messages
    are delivered; announced as `delivered` when any was not yet. Returns the seq applied."""
    now = now or utcnow()
    _, up_to_seq = _receipt(session_id, user_id, up_to_seq)
    _seen(session_id, user_id, now)
    changed = db.session.execute(
        _others_up_to(session_id, user_id, up_to_seq, Message.delivered_at).values(delivered_at=now, updated_at=now)
    ).rowcount
    if changed:
        _announce_receipt("delivered", session_id, user_id, up_to_seq, now)
    db.session.flush()
    return up_to_seq


def _announce_receipt(name, session_id, user_id, up_to_seq, now):
    """`delivered` or `read` {session_id, user_id, up_to_seq, <name>_at} to the session's room, after commit."""
    payload = {"session_id": str(session_id), "user_id": str(user_id), "up_to_seq": up_to_seq}
    notifier.announce(name, {**payload, f"{name}_at": now.isoformat()}, room=rooms.of_session(session_id))


def delivery_state(session_id):
    """{user_id: the highest seq of the other side's messages their client acknowledged}, for the ticks."""
    recipient = db.aliased(SessionParticipant)
    rows = db.session.execute(
        db.select(recipient.user_id, db.func.max(Message.seq))
        .join(Message, Message.session_id == recipient.session_id)
        .where(
            recipient.session_id == session_id,
            Message.sender_id != recipient.user_id,
            Message.delivered_at.is_not(None),
        )
        .group_by(recipient.user_id)
    ).all()
    return {str(user_id): seq for user_id, seq in rows}


def mark_read(session_id, user_id, up_to_seq, now=None):
    """The participant has read everything up to `up_to_seq` (and so received it); announced as `read`
    when it moves forward."""
    now = now or utcnow()
    participant, up_to_seq = _receipt(session_id, user_id, up_to_seq)
    _seen(session_id, user_id, now)
    if up_to_seq > participant.last_read_seq:
        participant.last_read_seq = up_to_seq
        db.session.execute(
            _others_up_to(session_id, user_id, up_to_seq, Message.read_at).values(
                read_at=now, delivered_at=db.func.coalesce(Message.delivered_at, now), updated_at=now
            )
        )
        _announce_receipt("read", session_id, user_id, up_to_seq, now)
    db.session.flush()
    return participant


def _seen(session_id, user_id, now, status=ConnectionStatus.CONNECTED):
    """The participant showed a sign of life (connected) or their last socket left (reconnecting
    while the session is active: the grace runs; disconnected once it is over)."""
    participant = participant_of(session_id, user_id)
    if participant is not None:
        participant.last_seen_at = now
        participant.connection_status = status
        if status == ConnectionStatus.CONNECTED:
            participant.disconnected_at = None
        elif participant.disconnected_at is None:
            participant.disconnected_at = now
    return participant


def _seen_sending(pairs, now):
    """Participants (session id, user id) who just sent a message: connected, seen at `now`, one statement."""
    db.session.execute(
        db.update(SessionParticipant)
        .where(db.tuple_(SessionParticipant.session_id, SessionParticipant.user_id).in_(sorted(pairs)))
        .values(last_seen_at=now, connection_status=ConnectionStatus.CONNECTED, disconnected_at=None)
        # No RETURNING round of the rows: the transaction reads none of them again.
        .execution_options(synchronize_session=False)
    )


def connected(session_id, user_id, now=None):
    """A socket of the participant joined the room, or sent a heartbeat."""
    _seen(session_id, user_id, now or utcnow())
    db.session.flush()


def disconnected(session_id, user_id, now=None):
    """The participant's last socket in the room is gone (the reconnect grace starts in an active session)."""
    active = (
        db.session.execute(db.select(ConsultationSession.status).filter_by(id=session_id)).scalar_one_or_none()
        == SessionStatus.ACTIVE
    )
    status = ConnectionStatus.RECONNECTING if active else ConnectionStatus.DISCONNECTED
    _seen(session_id, user_id, now or utcnow(), status)
    db.session.flush()


def read_state(session_id):
    """{user_id: last_read_seq} of a session's participants, for the ticks."""
    rows = db.session.execute(
        db.select(SessionParticipant.user_id, SessionParticipant.last_read_seq).filter_by(session_id=session_id)
    ).all()
    return {str(user_id): seq for user_id, seq in rows}


def parse_session_id(value):
    """A UUID from client input, or SessionNotFound (unknown ids and garbage look the same)."""
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        raise SessionNotFound() from None
