"""Voice calls: the lifecycle and billing at the call rate, and WebRTC signaling over the session's
room, between its two participants only."""

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest

from webapp.extensions import db, socketio
from webapp.models import Availability, SessionType
from webapp.services import periodic, wallet
from webapp.services.consultations import calls, lifecycle
from webapp.services.errors import AstrologerUnavailable
from webapp.services.messaging import chat

from ..conftest import AuthActions

OFFER = {"type": "offer", "sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\n"}
CANDIDATE = {"candidate": "candidate:1 1 udp 2122260223 192.168.1.2 50000 typ host", "sdpMid": "0", "sdpMLineIndex": 0}


@pytest.fixture
def call(app, consult):
    """An accepted call: chat rate 10, call rate 25."""
    astrologer = consult.astrologer(
        email="astro@example.com", call_rate=Decimal("25.00"), call_availability=Availability.AVAILABLE
    )
    user = consult.user(email="user@example.com", balance="500.00")
    return consult.accept(consult.request(user, astrologer, session_type="call"))


def socket_for(app, email):
    http = app.test_client()
    AuthActions(http).login(email)
    return socketio.test_client(app, flask_test_client=http)


def joined(app, email, session):
    socket = socket_for(app, email)
    assert socket.emit("join_session", {"session_id": str(session.id)}, callback=True)["ok"]
    socket.get_received()
    return socket


def signals(socket):
    return [event["args"][0] for event in socket.get_received() if event["name"] == "call_signal"]


def test_a_call_is_requested_at_the_call_rate_and_billed_per_minute_at_it(app, call):
    assert call.session_type == SessionType.CALL and call.rate_per_minute == Decimal("25.00")
    user_wallet = wallet.wallet_of(call.user_id)
    assert user_wallet.available_balance == Decimal("475.00")  # minute 1 at acceptance, at the call rate
    minute = timedelta(seconds=app.config["BILLING_MINUTE_SECONDS"])
    for participant in (call.user_id, call.astrologer_id):
        chat.connected(call.id, participant, now=call.started_at + minute)
    call.astrologer_replied_at = call.started_at  # answered
    db.session.commit()
    periodic.run_due(call.started_at + minute)
    db.session.refresh(call), db.session.refresh(user_wallet)
    assert call.billed_minutes == 2 and call.total_cost == Decimal("50.00")
    assert user_wallet.available_balance == Decimal("450.00")


def test_call_requests_follow_the_call_channels_availability(consult):
    astrologer = consult.astrologer(email="chat-only@example.com", call_availability=Availability.OFFLINE)
    user = consult.user(email="caller@example.com")
    with pytest.raises(AstrologerUnavailable, match="not taking call requests"):
        lifecycle.request(user.id, astrologer.id, "call")
    db.session.rollback()
    assert consult.request(user, astrologer, "chat").session_type == SessionType.CHAT


def test_an_offer_reaches_the_other_participant_only(app, call, consult):
    user = joined(app, "user@example.com", call)
    astrologer = joined(app, "astro@example.com", call)
    consult.user(email="eve@example.com")
    eve = socket_for(app, "eve@example.com")
    assert eve.emit("join_session", {"session_id": str(call.id)}, callback=True)["error"] == "session_not_found"

    ack = user.emit("call_signal", {"session_id": str(call.id), "kind": "offer", "data": OFFER}, callback=True)
    assert ack == {"ok": True}
    assert signals(astrologer) == [
        {"session_id": str(call.id), "from": str(call.user_id), "kind": "offer", "data": OFFER}
    ]
    assert signals(user) == [] and signals(eve) == []  # not echoed to the sender; nothing to outsiders

    answer = {"type": "answer", "sdp": "v=0\r\n"}
    assert astrologer.emit(
        "call_signal", {"session_id": str(call.id), "kind": "answer", "data": answer}, callback=True
    )["ok"]
    assert astrologer.emit(
        "call_signal", {"session_id": str(call.id), "kind": "ice", "data": CANDIDATE}, callback=True
    )["ok"]
    assert astrologer.emit("call_signal", {"session_id": str(call.id), "kind": "ice", "data": None}, callback=True)[
        "ok"
    ]
    assert [(s["kind"], s["data"]) for s in signals(user)] == [("answer", answer), ("ice", CANDIDATE), ("ice", None)]
    assert signals(eve) == []


def test_outsiders_cannot_send_signals(app, call, consult):
    consult.user(email="eve@example.com")
    eve = socket_for(app, "eve@example.com")
    astrologer = joined(app, "astro@example.com", call)
    ack = eve.emit("call_signal", {"session_id": str(call.id), "kind": "offer", "data": OFFER}, callback=True)
    assert ack["ok"] is False and ack["error"] == "session_not_found"
    assert signals(astrologer) == []


def test_signals_need_an_active_call(app, call, consult):
    user = joined(app, "user@example.com", call)
    astrologer_of_chat = consult.astrologer(email="chatter@example.com")
    chatter = consult.user(email="chat-user@example.com")
    chat_session = consult.accept(consult.request(chatter, astrologer_of_chat))
    chat_socket = joined(app, "chat-user@example.com", chat_session)
    ack = chat_socket.emit(
        "call_signal", {"session_id": str(chat_session.id), "kind": "offer", "data": OFFER}, callback=True
    )
    assert ack["error"] == "not_a_call"
    lifecycle.end(call.id, by_user_id=call.user_id)
    db.session.commit()
    ack = user.emit("call_signal", {"session_id": str(call.id), "kind": "offer", "data": OFFER}, callback=True)
    assert ack["error"] == "session_not_active"


@pytest.mark.parametrize(
    "kind, data, error",
    [
        ("dance", OFFER, "kind must be ready, offer, answer, ice or media"),
        (None, OFFER, "kind must be ready, offer, answer, ice or media"),
        ("offer", {"type": "answer", "sdp": "v=0"}, "type 'offer'"),
        ("offer", {"type": "offer"}, "sdp must be text"),
        ("offer", {"type": "offer", "sdp": "x" * 20_001}, "sdp must be text"),
        ("answer", "v=0", "type 'answer'"),
        ("ice", "candidate:1", "must be an object or null"),
        ("ice", {"candidate": 5}, "candidate must be text"),
        ("ice", {"candidate": "x" * 1001}, "candidate must be text"),
        ("ice", {"candidate": "", "sdpMid": ["0"]}, "sdpMid must be short text"),
        ("ice", {"candidate": "", "sdpMLineIndex": True}, "sdpMLineIndex"),
        ("ice", {"candidate": "", "sdpMLineIndex": -1}, "sdpMLineIndex"),
    ],
)
def test_malformed_signals_are_refused_and_not_relayed(app, call, kind, data, error):
    user = joined(app, "user@example.com", call)
    astrologer = joined(app, "astro@example.com", call)
    ack = user.emit("call_signal", {"session_id": str(call.id), "kind": kind, "data": data}, callback=True)
    assert ack["ok"] is False and ack["error"] == "invalid" and error in ack["message"]
    assert user.is_connected() and signals(astrologer) == []


def test_signals_are_rate_limited_per_socket(app, call, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_CALL_SIGNALS", "3/second")
    user = joined(app, "user@example.com", call)
    payload = {"session_id": str(call.id), "kind": "ice", "data": CANDIDATE}
    acks = [user.emit("call_signal", payload, callback=True) for _ in range(4)]
    assert [a["ok"] for a in acks] == [True, True, True, False] and acks[3]["error"] == "rate_limited"


def test_a_bad_session_id_is_not_found(app, call):
    user = joined(app, "user@example.com", call)
    for session_id in ("garbage", str(uuid.uuid4()), None):
        ack = user.emit("call_signal", {"session_id": session_id, "kind": "offer", "data": OFFER}, callback=True)
        assert ack["error"] == "session_not_found"


def _passes(session, start, until):
    """The billing loop every 10 s from `start` to `until`, both participants' sockets alive throughout
    (so only the rule under test can end the session)."""
    now = start
    while now < until:
        now = min(now + timedelta(seconds=10), until)
        for participant in (session.user_id, session.astrologer_id):
            chat.connected(session.id, participant, now=now)
        db.session.commit()
        periodic.run_due(now)
    db.session.refresh(session)


def test_connected_audio_is_the_astrologers_answer(app, call):
    astrologer = joined(app, "astro@example.com", call)
    assert call.astrologer_replied_at is None
    ack = astrologer.emit("call_state", {"session_id": str(call.id), "state": "connected"}, callback=True)
    assert ack == {"ok": True}
    db.session.refresh(call)
    assert call.astrologer_replied_at is not None
    _passes(call, call.started_at, call.started_at + timedelta(seconds=app.config["NO_REPLY_SECONDS"] + 1))
    assert call.status.value == "active"


def test_the_users_own_connected_audio_is_no_answer(app, call):
    user = joined(app, "user@example.com", call)
    assert user.emit("call_state", {"session_id": str(call.id), "state": "connected"}, callback=True) == {"ok": True}
    db.session.refresh(call)
    assert call.astrologer_replied_at is None


def test_a_call_never_answered_is_ended_and_refunded(app, call):
    _passes(call, call.started_at, call.started_at + timedelta(seconds=app.config["NO_REPLY_SECONDS"] + 1))
    assert call.end_reason.value == "astrologer_no_reply" and call.billed_minutes >= 3
    assert wallet.wallet_of(call.user_id).available_balance == Decimal("500.00")


def test_media_lost_beyond_the_grace_ends_the_call_without_another_minute(app, call):
    grace = timedelta(seconds=app.config["RECONNECT_GRACE_SECONDS"])
    user = joined(app, "user@example.com", call)
    calls.media_state(call, call.astrologer_id, "connected", now=call.started_at)
    db.session.commit()
    lost_at = call.started_at + timedelta(seconds=5)
    calls.media_state(call, call.user_id, "failed", now=lost_at)
    db.session.commit()
    _passes(call, call.started_at, lost_at + grace - timedelta(seconds=1))  # still within the grace: kept
    assert call.status.value == "active"
    minute = timedelta(seconds=app.config["BILLING_MINUTE_SECONDS"])
    _passes(call, lost_at + grace - timedelta(seconds=1), lost_at + grace)
    assert call.status.value == "completed" and call.end_reason.value == "participant_disconnected"
    assert call.ended_at == lost_at + grace
    assert call.billed_minutes == (lost_at + grace - call.started_at) // minute + 1  # only minutes begun before
    minutes_at_end = call.billed_minutes
    _passes(call, lost_at + grace, lost_at + 3 * grace)
    assert call.billed_minutes == minutes_at_end  # nothing after the end
    assert user.emit("call_state", {"session_id": str(call.id), "state": "connected"}, callback=True)["error"] == (
        "session_not_active"
    )


def test_media_that_recovers_within_the_grace_keeps_the_call(app, call):
    grace = timedelta(seconds=app.config["RECONNECT_GRACE_SECONDS"])
    calls.media_state(call, call.astrologer_id, "connected", now=call.started_at)
    calls.media_state(call, call.user_id, "failed", now=call.started_at + timedelta(seconds=5))
    calls.media_state(call, call.user_id, "connected", now=call.started_at + timedelta(seconds=20))
    db.session.commit()
    _passes(call, call.started_at, call.started_at + 2 * grace)
    assert call.status.value == "active"


def test_call_state_is_refused_for_chats_and_bad_states(app, call, consult):
    user = joined(app, "user@example.com", call)
    ack = user.emit("call_state", {"session_id": str(call.id), "state": "exploded"}, callback=True)
    assert ack["error"] == "invalid"
    chat_astrologer, chatter = consult.astrologer(email="c@example.com"), consult.user(email="cu@example.com")
    chat_session = consult.accept(consult.request(chatter, chat_astrologer))
    sock = joined(app, "cu@example.com", chat_session)
    ack = sock.emit("call_state", {"session_id": str(chat_session.id), "state": "connected"}, callback=True)
    assert ack["error"] == "not_a_call"


def test_the_profile_offers_each_channel_by_its_own_availability_and_rate(app, client, auth, consult):
    astrologer = consult.astrologer(
        email="voice@example.com",
        chat_availability=Availability.OFFLINE,
        call_availability=Availability.AVAILABLE,
        call_rate=Decimal("30.00"),
    )
    consult.user(email="caller@example.com", balance="200.00")
    auth.login("caller@example.com")
    page = client.get(f"/astrologers/{astrologer.id}").get_data(as_text=True)
    chat_part, call_part = page.split('id="start-call"')
    assert "Chat (offline)" in chat_part and 'value="chat"' not in chat_part
    assert 'name="session_type" value="call"' in call_part and "Start call" in call_part
    assert "Minimum balance for 5 minutes: <strong>₹150</strong>" in call_part  # 5 x the call rate


def test_the_call_room_has_the_call_panel_with_the_configured_ice_servers(app, client, auth, call, monkeypatch):
    servers = [{"urls": "stun:stun.example.com:3478"}]
    monkeypatch.setitem(app.config, "ICE_SERVERS", servers)
    auth.login("user@example.com")
    page = client.get(f"/consultations/{call.id}").get_data(as_text=True)
    assert 'data-role="caller"' in page and "js/call.js" in page and "End call" in page
    assert 'data-ice-servers="[{&#34;urls&#34;: &#34;stun:stun.example.com:3478&#34;}]"' in page
    assert 'id="messages"' in page  # the chat stays beside the call
    auth.logout()
    auth.login("astro@example.com")
    assert 'data-role="callee"' in client.get(f"/consultations/{call.id}").get_data(as_text=True)


def test_a_chat_room_has_no_call_panel(app, client, auth, consult):
    astrologer, user = consult.astrologer(email="ca@example.com"), consult.user(email="cu@example.com")
    session = consult.accept(consult.request(user, astrologer))
    auth.login("cu@example.com")
    page = client.get(f"/consultations/{session.id}").get_data(as_text=True)
    assert (
        "data-call" not in page
        and "js/call.js" not in page
        and 'End<span class="visually-hidden"> consultation</span>' in page
    )


def test_the_microphone_and_camera_are_allowed_to_this_origin_only(client):
    policy = client.get("/healthz").headers["Permissions-Policy"]
    assert "microphone=(self)" in policy and "camera=(self)" in policy and "geolocation=()" in policy
