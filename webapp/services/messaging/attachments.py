"""Photos and documents in a consultation: sent like a message, stored privately, shown to the two people.

An upload is a chat message of type `image` or `file` (services/messaging/chat.py stores it: the same seq,
the same client_id rule, so a resend after a reconnect returns the first message and stores
nothing) whose metadata describes the stored file:

    {attachment_id, name, size, content_type, width, height, pages}

and an `attachments` row names its objects in the attachment storage (services/messaging/attachment_storage.py).
What is accepted is decided from the bytes and re-encoded (services/messaging/_attachment_files.py); the file
name is masked like text. Limits: ATTACHMENT_MAX_BYTES a file, ATTACHMENT_SESSION_MAX_BYTES a
session and ATTACHMENT_USER_DAILY_BYTES a person's 24 hours (stored bytes), all enforced while the
request body streams in (`body_allowance`, applied
by webapp/security.py before any form is read) and again, exactly, before anything is stored. Only
a participant of an active session sends; participants and admins download.

Removal: deleting an account (services/users/account_status.py) removes the files its owner sent;
ATTACHMENT_RETENTION_DAYS after a session ended (0: never) the periodic loop removes its files
(`remove_expired`). A removed attachment's message stays in the conversation and says so.
"""

import uuid
from datetime import timedelta

from flask import current_app
from flask_babel import gettext

from ...extensions import db
from ...models import Attachment, ConsultationSession, Message, MessageType, SessionStatus, UserType
from ..consultations import lookup
from ..errors import (
    AttachmentNotFound,
    AttachmentRemoved,
    DomainError,
    FileTooLarge,
    SessionNotActive,
    SessionNotFound,
    ValidationFailed,
)
from . import _attachment_files, attachment_storage, chat
from .message_text import clean_client_id

#: What a multipart body carries besides the file (boundaries, the client_id and CSRF fields).
FORM_OVERHEAD = 16 * 1024
RETENTION_BATCH = 200
REMOVED_WORDS = {True: "Photo removed", False: "Document removed"}


def size_words(size):
    """A size as people read it: 340 KB, 1.2 MB, 10 MB (static/js/chat.js writes it the same way)."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f}".removesuffix(".0") + " MB"
    return f"{max(-(-size // 1024), 1)} KB"


def facts(metadata):
    """What a file card says under the name: PDF · 3 pages · 1.2 MB."""
    pages = metadata.get("pages")
    words = ["PDF"] + ([f"{pages} page{'s' if pages != 1 else ''}"] if pages else [])
    return " · ".join(words + [size_words(metadata.get("size") or 0)])


def used_by(session_id):
    """Bytes the session's attachments take (removed ones included: the limit is on what was sent)."""
    return db.session.execute(
        db.select(db.func.coalesce(db.func.sum(Attachment.size), 0)).where(Attachment.session_id == session_id)
    ).scalar_one()


def _sent_today(user_id, now):
    """Bytes `user_id` uploaded in the 24 hours before `now`, in every session (removed files included)."""
    return db.session.execute(
        db.select(db.func.coalesce(db.func.sum(Attachment.size), 0)).where(
            Attachment.uploader_id == user_id, Attachment.created_at > now - timedelta(days=1)
        )
    ).scalar_one()


def _room_left(session_id, user_id, now):
    """(bytes the next file of this session from `user_id` may have, the refusal when it has more): the
    file limit, what the session has left, and what the person has left of their day's uploads."""
    config = current_app.config
    per_file, per_session, per_day = (
        config["ATTACHMENT_MAX_BYTES"],
        config["ATTACHMENT_SESSION_MAX_BYTES"],
        config["ATTACHMENT_USER_DAILY_BYTES"],
    )
    session_left = max(per_session - used_by(session_id), 0)
    day_left = max(per_day - _sent_today(user_id, now), 0)
    if day_left < min(per_file, session_left):
        return (
            day_left,
            gettext(
                "You have sent %(size)s of files in the last 24 hours, the most a day allows. Send more later.",
                size=size_words(per_day),
            ),
        )
    if session_left < per_file:
        return (
            session_left,
            gettext(
                "This consultation has %(left)s left for files (files together can have at most %(most)s).",
                left=size_words(session_left),
                most=size_words(per_session),
            ),
        )
    return per_file, gettext("A file can have at most %(size)s.", size=size_words(per_file))


def body_allowance(session_id, user, now):
    """(the most bytes an upload's request body may have, what to say past it): for a participant
    of an active session what the session and their day have room for, for anyone else the file
    limit (the upload is then refused for what it is, not for its size)."""
    per_file = current_app.config["ATTACHMENT_MAX_BYTES"]
    session = db.session.get(ConsultationSession, session_id)
    if (
        session is None
        or not user.is_authenticated
        or user.id not in (session.user_id, session.astrologer_id)
        or session.status != SessionStatus.ACTIVE
    ):
        return per_file + FORM_OVERHEAD, gettext("A file can have at most %(size)s.", size=size_words(per_file))
    left, refusal = _room_left(session_id, user.id, now)
    return left + FORM_OVERHEAD, refusal


def _read_upload(upload, session_id, sender_id, now):
    """The upload's bytes, refused when it is empty or larger than the session or the sender's day has room for."""
    if upload is None or not getattr(upload, "filename", None):
        raise ValidationFailed("file", gettext("Choose a photo or a PDF to send."))
    left, refusal = _room_left(session_id, sender_id, now)
    data = upload.stream.read(left + 1)
    if len(data) > left:
        raise FileTooLarge(refusal)
    if not data:
        raise ValidationFailed("file", gettext("This file is empty."))
    return data


def _still_active(session):
    if session.status != SessionStatus.ACTIVE:
        raise SessionNotActive(gettext("This consultation has ended; files can no longer be sent."))
    return session


def send(session_id, sender_id, client_id, upload, now):
    """Store a participant's photo or PDF as a message of an active session and announce it.
    Returns (message, created); created is False for a resend of `client_id`, which stores nothing."""
    session = lookup.get_for_participant(session_id, sender_id)
    client_id = clean_client_id(client_id)
    resent = chat.stored_message(session_id, sender_id, client_id)
    if resent is not None:
        return resent, False
    _still_active(session)
    data = _read_upload(upload, session_id, sender_id, now)
    # Preparing a photo takes a child process up to ATTACHMENT_DECODE_SECONDS: nothing has been written,
    # so the transaction ends here and no database connection waits idle in it meanwhile.
    db.session.rollback()
    prepared = _attachment_files.prepare(data, _attachment_files.PhotoLimits.of(current_app.config))
    session = _still_active(lookup.get_for_participant(session_id, sender_id))  # it may have ended meanwhile
    name, hidden = _attachment_files.display_name(upload.filename, prepared)
    attachment = Attachment(
        id=uuid.uuid4(),
        session_id=session_id,
        uploader_id=sender_id,
        content_type=prepared.content_type,
        name=name,
        size=len(prepared.data),
        sha256=prepared.sha256,
        width=prepared.width,
        height=prepared.height,
        pages=prepared.pages,
        created_at=now,
    )
    message, created = _stored_with_message(session, attachment, prepared, client_id, hidden, now)
    if created and (
        used_by(session_id) > current_app.config["ATTACHMENT_SESSION_MAX_BYTES"]
        or _sent_today(sender_id, now) > current_app.config["ATTACHMENT_USER_DAILY_BYTES"]
    ):
        # Counted again under the session's lock (send_many took it): another upload took the room
        # meanwhile. Rolled back, its objects discarded.
        raise FileTooLarge(gettext("Another file took the room left for files; this one was not sent."))
    return message, created


def _stored_with_message(session, attachment, prepared, client_id, hidden, now):
    """Put the objects, then the message (chat.send_many: seq, client_id, announcement) and the row."""
    backend = attachment_storage.storage()
    attachment.storage_key = f"{session.id}/{attachment.id}"
    keys = [attachment.storage_key]
    if prepared.thumbnail is not None:
        attachment.thumbnail_key = f"{session.id}/{attachment.id}.thumbnail"
        keys.append(attachment.thumbnail_key)
    attachment_storage.discard_unless_committed(keys)
    backend.put(attachment.storage_key, prepared.data, prepared.content_type)
    if prepared.thumbnail is not None:
        backend.put(attachment.thumbnail_key, prepared.thumbnail, "image/jpeg")
    draft = chat.Draft(
        session.id,
        attachment.uploader_id,
        client_id,
        attachment.name,
        now,
        hidden,
        message_type=MessageType.IMAGE if prepared.is_image else MessageType.FILE,
        details=describe(attachment),
    )
    (outcome,) = chat.send_many([draft])
    if isinstance(outcome, DomainError):
        raise outcome
    message, created = outcome
    if not created:  # the same client_id stored by a concurrent resend: that one is the message
        for key in keys:
            backend.delete(key)
        return message, False
    attachment.message_id = message.id
    db.session.add(attachment)
    db.session.flush()
    return message, True


def describe(attachment):
    """The message's metadata for `attachment` (the contract's keys)."""
    return {
        "attachment_id": str(attachment.id),
        "name": attachment.name,
        "size": attachment.size,
        "content_type": attachment.content_type,
        "width": attachment.width,
        "height": attachment.height,
        "pages": attachment.pages,
    }


def for_viewer(attachment_id, viewer):
    """The attachment, if `viewer` is a participant of its session or an admin; AttachmentNotFound
    for anyone else (as for an unknown id), AttachmentRemoved when its file is gone."""
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None:
        raise AttachmentNotFound()
    if viewer.type != UserType.ADMIN:
        try:
            lookup.get_for_participant(attachment.session_id, viewer.id)
        except SessionNotFound:
            raise AttachmentNotFound() from None
    if attachment.removed:
        raise AttachmentRemoved()
    return attachment


def open_object(attachment, thumbnail=False):
    """(a binary file to send, its content type); AttachmentNotFound for a thumbnail a PDF has not."""
    if thumbnail and attachment.thumbnail_key is None:
        raise AttachmentNotFound(gettext("A document has no thumbnail."))
    key = attachment.thumbnail_key if thumbnail else attachment.storage_key
    try:
        return attachment_storage.storage().open(key), "image/jpeg" if thumbnail else attachment.content_type
    except attachment_storage.MissingObject:
        current_app.logger.error("attachment %s has no object under %s", attachment.id, key)
        raise AttachmentRemoved(gettext("This file is no longer stored.")) from None


# ---------------------------------------------------------------- removal


def _remove(attachments, reason, now):
    """Mark `attachments` removed for `reason`, their messages saying so; their objects are deleted
    after the commit."""
    keys = []
    for attachment in attachments:
        attachment.removed_at, attachment.removed_reason = now, reason
        keys += [key for key in (attachment.storage_key, attachment.thumbnail_key) if key]
    messages = db.session.execute(
        db.select(Message).where(Message.id.in_([a.message_id for a in attachments]))
    ).scalars()
    by_id = {a.message_id: a for a in attachments}
    for message in messages:
        attachment = by_id[message.id]
        message.content = REMOVED_WORDS[attachment.is_image]
        message.message_metadata = {
            "attachment_id": str(attachment.id),
            "content_type": attachment.content_type,
            "removed": reason,
        }
        message.updated_at = now
    attachment_storage.delete_after_commit(keys)
    db.session.flush()
    return len(attachments)


def remove_sent_by(user_id, now):
    """The account of `user_id` is deleted: every file they sent is removed. Returns how many."""
    found = (
        db.session.execute(
            db.select(Attachment).where(Attachment.uploader_id == user_id, Attachment.removed_at.is_(None))
        )
        .scalars()
        .all()
    )
    return _remove(found, "account_deleted", now) if found else 0


def remove_expired(now, days=None):
    """Remove the files of sessions that ended more than ATTACHMENT_RETENTION_DAYS ago (0: keep
    them), at most RETENTION_BATCH a call (the periodic loop calls again next pass). Returns how many."""
    days = current_app.config["ATTACHMENT_RETENTION_DAYS"] if days is None else days
    if not days:
        return 0
    found = (
        db.session.execute(
            db.select(Attachment)
            .join(ConsultationSession, ConsultationSession.id == Attachment.session_id)
            .where(Attachment.removed_at.is_(None), ConsultationSession.ended_at < now - timedelta(days=days))
            .order_by(Attachment.created_at)
            .limit(RETENTION_BATCH)
        )
        .scalars()
        .all()
    )
    return _remove(found, "retention", now) if found else 0


def of_session(session_id):
    """The session's attachments in the order they were sent (the admin session page)."""
    return (
        db.session.execute(
            db.select(Attachment).where(Attachment.session_id == session_id).order_by(Attachment.created_at)
        )
        .scalars()
        .all()
    )
