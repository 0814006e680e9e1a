"""Voice and video calls: what a WebRTC signal between the two participants of a call session may carry.

The server never touches media. It relays each side's offer, answer and ICE
candidates to the other side over the session's Socket.IO room, after
checking that the sender takes part in an active call session and that the
signal has the shape a browser produces (RTCSessionDescriptionInit,
RTCIceCandidateInit), with sizes bounded so the room cannot be flooded.

A video call (Channel.VIDEO: a call noted as video) also relays `media`
signals: whether the sender's camera is sending and, when it is not, why
(turned off, none found, refused, or the call fell back to audio only), so
the other side is told why it sees no picture. Camera changes never
renegotiate and never touch billing: the session and its rate go on.
"""

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from ...extensions import db
from ...models import Channel, SessionType, utcnow
from .. import locks
from ..errors import DomainError, ValidationFailed
from ..messaging import chat
from . import records

KINDS = ("ready", "offer", "answer", "ice", "media")
#: Why a video call's camera is not sending (the media signal's reason; null while it sends).
CAMERA_REASONS = ("camera_off", "no_camera", "camera_refused", "audio_only")
MEDIA_STATES = ("connected", "failed")
MAX_SDP = 20_000
MAX_CANDIDATE = 1_000
MAX_MID = 64


class NotACall(DomainError):
    code = "not_a_call"
    status = 409
    message = _l("This consultation is a chat, not a call.")


def clean_signal(session, kind, data):
    """The signal to relay, as {"kind", "data"}; NotACall or ValidationFailed otherwise.

    ready: null (the sender's microphone is on and it is listening: the caller answers with a fresh
    offer); offer/answer: {"type": kind, "sdp": text}; ice: {"candidate": text, "sdpMid": text or
    null, "sdpMLineIndex": whole number or null}, or null for the end of candidates; media (video
    calls only): {"video": true, "reason": null} or {"video": false, "reason": one of CAMERA_REASONS}.
    """
    if session.session_type != SessionType.CALL:
        raise NotACall()
    if kind not in KINDS:
        raise ValidationFailed("kind", gettext("kind must be ready, offer, answer, ice or media."))
    if kind == "ready":
        return {"kind": kind, "data": None}
    if kind == "ice":
        return {"kind": kind, "data": _candidate(data)}
    if kind == "media":
        return {"kind": kind, "data": _camera(session, data)}
    if not isinstance(data, dict) or data.get("type") != kind:
        raise ValidationFailed(
            "data", gettext("An %(kind)s needs data with type %(kind)s and an sdp.", kind=repr(kind))
        )
    sdp = data.get("sdp")
    if not isinstance(sdp, str) or not 1 <= len(sdp) <= MAX_SDP:
        raise ValidationFailed("data", gettext("sdp must be text of 1 to %(max_sdp)s characters.", max_sdp=MAX_SDP))
    return {"kind": kind, "data": {"type": kind, "sdp": sdp}}


def _candidate(data):
    if data is None:
        return None  # the sender has gathered every candidate
    if not isinstance(data, dict):
        raise ValidationFailed("data", gettext("An ICE candidate must be an object or null."))
    candidate, mid, index = data.get("candidate"), data.get("sdpMid"), data.get("sdpMLineIndex")
    if not isinstance(candidate, str) or len(candidate) > MAX_CANDIDATE:
        raise ValidationFailed(
            "data",
            gettext("candidate must be text of at most %(max_candidate)s characters.", max_candidate=MAX_CANDIDATE),
        )
    if mid is not None and (not isinstance(mid, str) or len(mid) > MAX_MID):
        raise ValidationFailed("data", gettext("sdpMid must be short text or null."))
    if index is not None and (not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < 64):
        raise ValidationFailed("data", gettext("sdpMLineIndex must be a small whole number or null."))
    return {"candidate": candidate, "sdpMid": mid, "sdpMLineIndex": index}


def _camera(session, data):
    if session.channel != Channel.VIDEO:
        raise ValidationFailed("kind", gettext("media signals are for video calls."))
    if not isinstance(data, dict) or not isinstance(data.get("video"), bool):
        raise ValidationFailed("data", gettext("media data needs video: true or false."))
    reason = data.get("reason")
    if data["video"] and reason is not None:
        raise ValidationFailed("data", gettext("A camera that sends has no reason."))
    if not data["video"] and reason not in CAMERA_REASONS:
        raise ValidationFailed("data", "reason must be one of " + ", ".join(CAMERA_REASONS) + ".")
    return {"video": data["video"], "reason": reason}


def media_state(session, user_id, state, now=None):
    """A participant's browser reports its media connection: "connected" or "failed".

    The astrologer's connected audio is their answer (the no-reply rule reads astrologer_replied_at, as
    a first chat message does; the user's own browser connecting answers nothing); connected audio
    clears a loss; a failure starts the reconnect grace, after which
    the end rules close the session as participant_disconnected (consultations/end_rules.py). The call's facts
    (first connection, failures reported) go to session_metadata, under the session's lock.
    """
    now = now or utcnow()
    if session.session_type != SessionType.CALL:
        raise NotACall()
    if state not in MEDIA_STATES:
        raise ValidationFailed("state", gettext("state must be connected or failed."))
    session = locks.session(session.id)  # session_metadata is also written by the end of the session
    participant = chat.participant_of(session.id, user_id)
    call = (session.session_metadata or {}).get("call", {})
    if state == "connected":
        participant.media_lost_at = None
        if session.astrologer_replied_at is None and user_id == session.astrologer_id:
            session.astrologer_replied_at = now  # only the astrologer's own connection answers the call
        if not call.get("first_connected_at"):
            records.note(session, "call", first_connected_at=now.isoformat())
    else:
        records.note(session, "call", failures=int(call.get("failures") or 0) + 1)
        if participant.media_lost_at is None:
            participant.media_lost_at = now
    db.session.flush()
    return participant
