"""Video consultations: a third channel with its own rate and availability, stored as the seed's
`call` with session_metadata.call.video; billed at the video rate under every rule of a call; its
signaling (including the camera's `media` signal) between the two participants only."""

from datetime import timedelta
from decimal import Decimal

import pytest

from webapp.extensions import db
from webapp.models import Availability, Channel, SessionType
from webapp.services import wallet
from webapp.services.astrologers import astrologer_profile
from webapp.services.consultations import calls, lifecycle, lookup
from webapp.services.errors import AstrologerUnavailable, ValidationFailed

from ..conftest import csrf_token_from
from .test_calls import OFFER, _passes, joined, signals, socket_for

VIDEO_RATE = Decimal("40.00")


@pytest.fixture
def video(consult):
    """An accepted video call: chat 10, call 25, video 40 a minute; the user has 500.00."""
    astrologer = consult.astrologer(
        email="astro@example.com",
        call_rate=Decimal("25.00"),
        video_rate_per_minute=VIDEO_RATE,
        call_availability=Availability.AVAILABLE,
        video_availability=Availability.AVAILABLE,
    )
    user = consult.user(email="user@example.com", balance="500.00")
    return consult.accept(consult.request(user, astrologer, session_type="video"))


def media(socket, session, data):
    return socket.emit("call_signal", {"session_id": str(session.id), "kind": "media", "data": data}, callback=True)


# ---------------------------------------------------------------- the channel and its billing


def test_a_video_call_is_a_seed_call_noted_as_video_at_the_video_rate(video):
    assert video.session_type == SessionType.CALL  # the seed's enum keeps its two values
    assert video.session_metadata["call"]["video"] is True and video.channel == Channel.VIDEO
    assert video.rate_per_minute == VIDEO_RATE
    assert wallet.wallet_of(video.user_id).available_balance == Decimal("460.00")  # minute 1 at the video rate


def test_a_video_call_is_billed_every_minute_at_the_video_rate(app, video):
    calls.media_state(video, video.astrologer_id, "connected", now=video.started_at)
    db.session.commit()
    minute = timedelta(seconds=app.config["BILLING_MINUTE_SECONDS"])
    _passes(video, video.started_at, video.started_at + 2 * minute)
    assert video.billed_minutes == 3 and video.total_cost == Decimal("120.00")
    assert wallet.wallet_of(video.user_id).available_balance == Decimal("380.00")


def test_a_video_call_warns_and_ends_when_the_balance_runs_out(app, consult, events):
    astrologer = consult.astrologer(
        email="short@example.com", video_rate_per_minute=VIDEO_RATE, video_availability=Availability.AVAILABLE
    )
    user = consult.user(email="short-user@example.com", balance="200.00")  # the 5 minutes needed to start
    session = consult.accept(consult.request(user, astrologer, session_type="video"))
    calls.media_state(session, astrologer.id, "connected", now=session.started_at)
    db.session.commit()
    minute = timedelta(seconds=app.config["BILLING_MINUTE_SECONDS"])
    _passes(session, session.started_at, session.started_at + 6 * minute)
    low = [e.payload for e in events if e.name == "balance_low"]
    assert low and low[0]["session_id"] == str(session.id)
    assert session.end_reason.value == "insufficient_balance" and session.total_cost == Decimal("200.00")
    assert wallet.wallet_of(user.id).available_balance == Decimal("0.00")


def test_a_video_call_never_answered_is_refunded(app, video):
    _passes(video, video.started_at, video.started_at + timedelta(seconds=app.config["NO_REPLY_SECONDS"] + 1))
    assert video.end_reason.value == "astrologer_no_reply"
    assert wallet.wallet_of(video.user_id).available_balance == Decimal("500.00")


def test_video_follows_its_own_availability_not_the_calls(consult):
    astrologer = consult.astrologer(
        email="voice-only@example.com",
        call_availability=Availability.AVAILABLE,
        video_availability=Availability.OFFLINE,
    )
    user = consult.user(email="wants-video@example.com")
    with pytest.raises(AstrologerUnavailable, match="not taking video call requests"):
        lifecycle.request(user.id, astrologer.id, "video")
    db.session.rollback()
    call = consult.request(user, astrologer, "call")
    assert call.channel == Channel.CALL and call.session_metadata is None


def test_a_request_names_its_channel_to_the_astrologer(consult, events):
    astrologer = consult.astrologer(email="seen@example.com", video_availability=Availability.AVAILABLE)
    user = consult.user(email="asker@example.com")
    consult.request(user, astrologer, "video")
    (requested,) = [e.payload for e in events if e.name == "session_requested"]
    assert requested["session_type"] == "call" and requested["channel"] == "video"


# ---------------------------------------------------------------- signaling


def test_joining_a_video_call_says_its_channel(app, video):
    socket = socket_for(app, "user@example.com")
    ack = socket.emit("join_session", {"session_id": str(video.id)}, callback=True)
    assert ack["ok"] and ack["session"]["session_type"] == "call" and ack["session"]["channel"] == "video"
    assert ack["session"]["rate_per_minute"] == "40.00"


def test_signals_of_a_video_call_reach_the_other_participant_only(app, video, consult):
    user = joined(app, "user@example.com", video)
    astrologer = joined(app, "astro@example.com", video)
    consult.user(email="eve@example.com")
    eve = socket_for(app, "eve@example.com")
    assert (
        eve.emit("call_signal", {"session_id": str(video.id), "kind": "offer", "data": OFFER}, callback=True)["error"]
        == "session_not_found"
    )
    assert user.emit("call_signal", {"session_id": str(video.id), "kind": "offer", "data": OFFER}, callback=True)["ok"]
    assert media(astrologer, video, {"video": False, "reason": "no_camera"}) == {"ok": True}
    assert [(s["kind"], s["data"]) for s in signals(astrologer)] == [("offer", OFFER)]
    assert signals(user) == [
        {
            "session_id": str(video.id),
            "from": str(video.astrologer_id),
            "kind": "media",
            "data": {"video": False, "reason": "no_camera"},
        }
    ]
    assert signals(eve) == []


def test_falling_back_to_audio_only_keeps_the_session_and_its_billing(app, video):
    user = joined(app, "user@example.com", video)
    astrologer = joined(app, "astro@example.com", video)
    calls.media_state(video, video.astrologer_id, "connected", now=video.started_at)
    db.session.commit()
    assert media(user, video, {"video": False, "reason": "audio_only"}) == {"ok": True}
    assert [s["data"] for s in signals(astrologer)] == [{"video": False, "reason": "audio_only"}]
    minute = timedelta(seconds=app.config["BILLING_MINUTE_SECONDS"])
    _passes(video, video.started_at, video.started_at + minute)
    assert video.status.value == "active" and video.billed_minutes == 2 and video.rate_per_minute == VIDEO_RATE
    assert media(user, video, {"video": True, "reason": None}) == {"ok": True}  # the camera may come back


@pytest.mark.parametrize(
    "data, error",
    [
        (None, "video: true or false"),
        ({"video": "yes"}, "video: true or false"),
        ({"video": False}, "reason must be one of"),
        ({"video": False, "reason": "bored"}, "reason must be one of"),
        ({"video": True, "reason": "camera_off"}, "has no reason"),
    ],
)
def test_malformed_media_signals_are_refused_and_not_relayed(app, video, data, error):
    user = joined(app, "user@example.com", video)
    astrologer = joined(app, "astro@example.com", video)
    ack = media(user, video, data)
    assert ack["ok"] is False and ack["error"] == "invalid" and error in ack["message"]
    assert signals(astrologer) == []


def test_media_signals_are_for_video_calls_only(app, consult):
    astrologer = consult.astrologer(email="voice@example.com", call_availability=Availability.AVAILABLE)
    consult.user(email="voice-user@example.com")
    voice = consult.accept(consult.request(consult.user(email="caller@example.com"), astrologer, "call"))
    socket = joined(app, "caller@example.com", voice)
    ack = media(socket, voice, {"video": False, "reason": "camera_off"})
    assert ack["error"] == "invalid" and "video calls" in ack["message"]


def test_media_lost_beyond_the_grace_ends_a_video_call(app, video):
    grace = timedelta(seconds=app.config["RECONNECT_GRACE_SECONDS"])
    calls.media_state(video, video.astrologer_id, "connected", now=video.started_at)
    lost_at = video.started_at + timedelta(seconds=5)
    calls.media_state(video, video.user_id, "failed", now=lost_at)
    db.session.commit()
    _passes(video, video.started_at, lost_at + grace)
    assert video.end_reason.value == "participant_disconnected"
    assert video.session_metadata["call"]["media"] == "lost" and video.session_metadata["call"]["video"] is True


# ---------------------------------------------------------------- pages and forms


def test_the_video_room_has_the_video_panel(app, client, auth, video, monkeypatch):
    monkeypatch.setitem(app.config, "ICE_SERVERS", [{"urls": "stun:stun.example.com:3478"}])
    auth.login("user@example.com")
    page = client.get(f"/consultations/{video.id}").get_data(as_text=True)
    assert 'aria-label="Video call"' in page and 'data-video="true"' in page and 'data-role="caller"' in page
    assert "js/video.js" in page and "js/call.js" in page and "Video call · ₹40/min" in page
    for control in ("data-call-mute", "data-call-camera", "data-call-flip", "data-call-audio-only", "data-call-volume"):
        assert control in page
    assert 'aria-controls="room-chat"' in page and 'id="room-chat"' in page  # the chat, a drawer on phones
    assert "Add money without leaving the video call" in page
    assert "stun.example.com" in page
    auth.logout()
    auth.login("astro@example.com")
    assert 'data-role="callee"' in client.get(f"/consultations/{video.id}").get_data(as_text=True)


def test_a_voice_call_room_has_no_video(app, client, auth, consult):
    astrologer = consult.astrologer(email="v@example.com", call_availability=Availability.AVAILABLE)
    consult.user(email="vu@example.com")
    session = consult.accept(consult.request(consult.user(email="vc@example.com"), astrologer, "call"))
    auth.login("vc@example.com")
    page = client.get(f"/consultations/{session.id}").get_data(as_text=True)
    assert 'aria-label="Voice call"' in page and "js/video.js" not in page and "data-call-camera" not in page


def test_users_start_a_video_call_from_the_profile(app, client, auth, consult):
    astrologer = consult.astrologer(
        email="face@example.com",
        name="Mira Facereader",
        video_rate_per_minute=Decimal("35.00"),
        video_availability=Availability.AVAILABLE,
    )
    viewer = consult.user(email="viewer@example.com", balance="300.00")
    auth.login("viewer@example.com")
    page = client.get(f"/astrologers/{astrologer.id}").get_data(as_text=True)
    video_part = page.split('id="start-video"')[1]
    assert "Video call now" in page and "<dt>Video call</dt><dd>₹35 per minute</dd>" in page
    assert 'name="session_type" value="video"' in video_part and "Start video call" in video_part
    assert "Minimum balance for 5 minutes: <strong>₹175</strong>" in video_part
    response = client.post(
        "/consultations",
        data={"astrologer_id": str(astrologer.id), "session_type": "video", "csrf_token": csrf_token_from(page)},
    )
    assert response.status_code == 303
    session = lookup.open_session_of(viewer.id)
    assert session.channel == Channel.VIDEO and session.rate_per_minute == Decimal("35.00")


def test_a_video_request_is_refused_with_a_page_when_video_is_off(app, client, auth, consult):
    astrologer = consult.astrologer(email="novideo@example.com", video_availability=Availability.OFFLINE)
    hopeful = consult.user(email="hopeful@example.com", balance="300.00")
    auth.login("hopeful@example.com")
    page = client.get(f"/astrologers/{astrologer.id}").get_data(as_text=True)
    assert "Video call (offline)" in page
    response = client.post(
        "/consultations",
        data={"astrologer_id": str(astrologer.id), "session_type": "video", "csrf_token": csrf_token_from(page)},
    )
    assert response.status_code == 409 and "not taking video call requests" in response.get_data(as_text=True)
    assert lookup.open_session_of(hopeful.id) is None  # nothing held, nothing written


def test_listing_cards_show_the_video_rate_and_status(client, consult):
    consult.astrologer(
        email="card@example.com",
        name="Kavya Cardview",
        video_rate_per_minute=Decimal("55.00"),
        video_availability=Availability.UNAVAILABLE,
    )
    page = client.get("/astrologers?q=Kavya").get_data(as_text=True)
    assert (
        'Video call <span class="channel-rate">₹55/min</span> <span class="channel-note">· unavailable</span>' in page
    )


@pytest.fixture
def astrologer_client(client, auth, consult):
    astrologer = consult.astrologer(email="dash@example.com", call_rate=Decimal("25.00"))
    auth.login("dash@example.com")
    return astrologer


def _token(client):
    return csrf_token_from(client.get("/dashboard").get_data(as_text=True))


def test_the_dashboard_opens_and_closes_video(client, astrologer_client, events):
    page = client.get("/dashboard").get_data(as_text=True)
    assert 'aria-label="Video call availability"' in page and "Video rate (₹ per minute)" in page
    response = client.post(
        "/dashboard/availability",
        data={"channel": "video", "status": "available", "csrf_token": _token(client)},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200 and "Video call: you are now available." in response.get_data(as_text=True)
    assert astrologer_profile.profile_of(astrologer_client.id).video_availability == Availability.AVAILABLE
    (announced,) = [e.payload for e in events if e.name == "availability"]
    assert announced["channels"]["video"] == "available"


def test_the_dashboard_saves_the_video_rate(client, astrologer_client):
    form = {
        "chat_rate_per_minute": "20.00",
        "call_rate_per_minute": "25.00",
        "max_concurrent_sessions": "1",
        "languages": ["Hindi"],
        "specializations": ["Vedic"],
        "about": "",
    }
    response = client.post(
        "/dashboard/profile", data={**form, "video_rate_per_minute": "45.50", "csrf_token": _token(client)}
    )
    assert response.status_code == 302
    assert astrologer_profile.profile_of(astrologer_client.id).video_rate_per_minute == Decimal("45.50")
    response = client.post(
        "/dashboard/profile",
        data={**form, "video_rate_per_minute": "0.50", "csrf_token": _token(client)},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 422 and "Enter an amount from 1 to 1000" in response.get_data(as_text=True)
    response = client.post("/dashboard/profile", data={**form, "csrf_token": _token(client)})  # an older client
    assert response.status_code == 302
    assert astrologer_profile.profile_of(astrologer_client.id).video_rate_per_minute == Decimal("45.50")


def test_update_profile_checks_the_video_rate_itself(astrologer_client):
    with pytest.raises(ValidationFailed) as refused:
        astrologer_profile.update_profile(
            astrologer_client.id,
            chat_rate_per_minute=Decimal("20"),
            call_rate_per_minute=Decimal("25"),
            video_rate_per_minute=Decimal("1000.01"),
            max_concurrent_sessions=1,
            languages=["Hindi"],
            specializations=["Vedic"],
            about=None,
        )
    assert refused.value.field == "video_rate_per_minute"


def test_admins_see_a_video_calls_channel(admin_client, video):
    page = admin_client.get(f"/admin/sessions/{video.id}").get_data(as_text=True)
    assert "<dt>Channel</dt><dd>Video call</dd>" in page and "₹40/min" in page
