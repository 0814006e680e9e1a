"""Chat over Socket.IO (real test clients sharing the Flask login): auth, ordering, resends,
replay after reconnect, masking, escaping, bad payloads, the rate limit."""

import uuid

import pytest

from webapp.extensions import db, socketio
from webapp.models import ConnectionStatus, Message, SessionParticipant, UserStatus
from webapp.services.consultations import lifecycle
from webapp.services.messaging import chat, message_text, system_lines

from ..conftest import AuthActions


@pytest.fixture
def live(app, consult):
    """An active session and a logged-in Socket.IO client for each side (and a factory for more)."""
    astrologer = consult.astrologer(email="astro@example.com", name="Acharya Test")
    user = consult.user(email="user@example.com", name="Priya Test")
    session = consult.accept(consult.request(user, astrologer))

    def socket_for(email):
        http = app.test_client()
        AuthActions(http).login(email)
        return socketio.test_client(app, flask_test_client=http)

    class Live:
        pass

    live = Live()
    live.session, live.user, live.astrologer, live.socket_for = session, user, astrologer, socket_for
    live.user_socket, live.astro_socket = socket_for("user@example.com"), socket_for("astro@example.com")
    yield live
    for socket in (live.user_socket, live.astro_socket):
        if socket.is_connected():
            socket.disconnect()


def join(socket, session, after_seq=0):
    return socket.emit("join_session", {"session_id": str(session.id), "after_seq": after_seq}, callback=True)


def send(socket, session, content, client_id=None):
    payload = {"session_id": str(session.id), "client_id": client_id or uuid.uuid4().hex, "content": content}
    return socket.emit("send_message", payload, callback=True)


def received(socket, name):
    return [_payload(event) for event in socket.get_received() if event["name"] == name]


def _payload(event):
    # Flask-SocketIO's test client records "message" (Socket.IO's send() event name) unwrapped.
    args = event["args"]
    return args[0] if isinstance(args, list) else args


def test_anonymous_connect_is_refused(app):
    assert not socketio.test_client(app).is_connected()


def test_join_returns_state_and_history(live):
    ack = join(live.user_socket, live.session)
    assert ack["ok"] is True
    assert ack["session"]["status"] == "active" and ack["session"]["billed_minutes"] == 1
    assert ack["session"]["balance"] == "490.00" and ack["session"]["minutes_left"] == 49
    assert [m["message_type"] for m in ack["messages"]] == ["system"]  # "Session started"
    astro_ack = join(live.astro_socket, live.session)
    assert astro_ack["session"]["balance"] is None  # the user's balance is not the astrologer's business
    participant = db.session.query(SessionParticipant).filter_by(user_id=live.user.id).one()
    assert participant.connection_status == ConnectionStatus.CONNECTED and participant.last_seen_at is not None


def test_non_participant_cannot_join_or_send(live, consult):
    consult.user(email="stranger@example.com")
    stranger = live.socket_for("stranger@example.com")
    assert join(stranger, live.session) == {
        "ok": False,
        "error": "session_not_found",
        "message": "There is no such consultation.",
    }
    assert send(stranger, live.session, "hello")["error"] == "session_not_found"
    assert db.session.query(Message).filter_by(session_id=live.session.id).count() == 1
    assert stranger.is_connected()


def test_a_message_is_stored_then_broadcast_with_its_seq(live):
    join(live.user_socket, live.session), join(live.astro_socket, live.session)
    live.astro_socket.get_received()
    ack = send(live.user_socket, live.session, "  Namaste!  ", client_id="c-1")
    assert ack["ok"] and ack["message"]["content"] == "Namaste!" and ack["message"]["seq"] == 2
    assert ack["message"]["client_id"] == "c-1" and ack["message"]["sender_id"] == str(live.user.id)
    [broadcast] = received(live.astro_socket, "message")
    assert broadcast == ack["message"]


def test_a_resend_with_the_same_client_id_is_stored_once(live):
    join(live.user_socket, live.session)
    first = send(live.user_socket, live.session, "Are you there?", client_id="same")
    again = send(live.user_socket, live.session, "Are you there?", client_id="same")
    assert again == first
    assert db.session.query(Message).filter_by(session_id=live.session.id, client_message_id="same").count() == 1


def test_a_hundred_rapid_messages_from_both_sides_keep_a_gap_free_order(live, app, monkeypatch):
    app.config["TESTING_NO_RATE_LIMIT"] = True
    join(live.user_socket, live.session), join(live.astro_socket, live.session)
    monkeypatch.setitem(app.config, "RATELIMIT_CHAT_MESSAGES", "1000/second")  # about ordering, not the limit
    acks = []
    for n in range(50):
        acks.append(send(live.user_socket, live.session, f"user {n}"))
        acks.append(send(live.astro_socket, live.session, f"astro {n}"))
    assert all(ack["ok"] for ack in acks)
    seqs = [m.seq for m in db.session.query(Message).filter_by(session_id=live.session.id).order_by(Message.seq)]
    assert seqs == list(range(1, 102))
    user_view = [m["seq"] for m in received(live.user_socket, "message")]
    assert user_view == sorted(user_view) and len(set(user_view)) == 100


def test_reconnect_replays_what_was_missed_exactly_once(live):
    join(live.user_socket, live.session)
    join(live.astro_socket, live.session)
    send(live.user_socket, live.session, "first")
    ack = join(live.astro_socket, live.session)
    last = ack["messages"][-1]["seq"]
    live.astro_socket.disconnect()
    for n in range(3):
        send(live.user_socket, live.session, f"while you were away {n}")
    back = live.socket_for("astro@example.com")
    replay = join(back, live.session, after_seq=last)
    assert [m["content"] for m in replay["messages"]] == [f"while you were away {n}" for n in range(3)]
    assert [m["seq"] for m in replay["messages"]] == [last + 1, last + 2, last + 3]
    assert join(back, live.session, after_seq=last + 3)["messages"] == []
    back.disconnect()


def test_disconnect_marks_the_participant_reconnecting_while_the_session_runs(live):
    join(live.astro_socket, live.session)
    live.astro_socket.disconnect()
    db.session.expire_all()
    participant = db.session.query(SessionParticipant).filter_by(user_id=live.astrologer.id).one()
    assert participant.connection_status == ConnectionStatus.RECONNECTING and participant.disconnected_at is not None


def test_a_second_tab_keeps_the_participant_connected(live):
    second_tab = live.socket_for("astro@example.com")
    join(live.astro_socket, live.session), join(second_tab, live.session)
    live.astro_socket.disconnect()
    db.session.expire_all()
    participant = db.session.query(SessionParticipant).filter_by(user_id=live.astrologer.id).one()
    assert participant.connection_status == ConnectionStatus.CONNECTED
    ack = send(live.user_socket, live.session, "both tabs see this")
    assert ack["ok"]
    assert [m["content"] for m in received(second_tab, "message")][-1] == "both tabs see this"
    second_tab.disconnect()


@pytest.mark.parametrize(
    "typed, shown",
    [
        ("call me on 98123 45678", "call me on [number hidden]"),
        ("+91-98123-45678 please", "[number hidden] please"),
        ("(022) 2345 6789 0", "[number hidden]"),
        ("mail priya.s+astro@gmail.com now", "mail [email hidden] now"),
        ("see https://example.com/x?y=1 or www.site.in", "see [link hidden] or [link hidden]"),
        ("my site is astro-priya.com/booking", "my site is [link hidden]"),
        ("born 12-04-1990 at 06:30", "born 12-04-1990 at 06:30"),  # dates and times are not phone numbers
        ("I was born in 1990, aged 34", "I was born in 1990, aged 34"),
    ],
)
def test_contact_details_are_masked_and_the_sender_sees_it(live, typed, shown):
    join(live.user_socket, live.session)
    ack = send(live.user_socket, live.session, typed)
    assert ack["message"]["content"] == shown
    assert db.session.query(Message).filter_by(id=uuid.UUID(ack["message"]["id"])).one().content == shown


def test_xss_is_stored_as_text_and_rendered_escaped(live, app):
    payload = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    join(live.user_socket, live.session)
    assert send(live.user_socket, live.session, payload)["message"]["content"] == payload
    http = app.test_client()
    AuthActions(http).login("astro@example.com")
    page = http.get(f"/consultations/{live.session.id}").get_data(as_text=True)
    assert "<script>alert" not in page and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page


@pytest.mark.parametrize(
    "payload, error",
    [
        ("not a dict", "bad_request"),
        (None, "bad_request"),
        (["list"], "bad_request"),
        ({}, "session_not_found"),
        ({"session_id": "garbage"}, "session_not_found"),
        ({"session_id": 42}, "session_not_found"),
        ({"session_id": str(uuid.uuid4()), "content": "hi"}, "session_not_found"),
    ],
)
def test_bad_payloads_get_an_error_ack_and_the_connection_stays(live, payload, error):
    ack = live.user_socket.emit("send_message", payload, callback=True)
    assert ack["ok"] is False and ack["error"] == error and ack["message"]
    assert live.user_socket.is_connected()


@pytest.mark.parametrize(
    "content, message",
    [
        ("", "cannot be empty"),
        ("   \n  ", "cannot be empty"),
        ("x" * 2001, "at most 2000 characters"),
        (12345, "must be text"),
        ({"rich": "text"}, "must be text"),
        (None, "must be text"),
    ],
)
def test_bad_content_is_refused_and_nothing_is_stored(live, content, message):
    join(live.user_socket, live.session)
    ack = live.user_socket.emit(
        "send_message", {"session_id": str(live.session.id), "client_id": "c", "content": content}, callback=True
    )
    assert ack["ok"] is False and ack["error"] == "invalid" and message in ack["message"]
    assert db.session.query(Message).filter_by(session_id=live.session.id).count() == 1


def test_exactly_2000_characters_is_fine(live):
    join(live.user_socket, live.session)
    assert send(live.user_socket, live.session, "y" * 2000)["ok"]


def test_bad_client_id_and_after_seq_are_refused(live):
    ack = live.user_socket.emit(
        "send_message", {"session_id": str(live.session.id), "client_id": "x" * 65, "content": "hi"}, callback=True
    )
    assert ack["error"] == "invalid"
    ack = live.user_socket.emit("join_session", {"session_id": str(live.session.id), "after_seq": "abc"}, callback=True)
    assert ack["error"] == "bad_request"


def test_sending_after_the_end_is_refused_but_a_resend_gets_its_message(live):
    join(live.user_socket, live.session)
    first = send(live.user_socket, live.session, "last words", client_id="last")
    lifecycle.end(live.session.id, by_user_id=live.user.id)
    db.session.commit()
    refused = send(live.user_socket, live.session, "too late")
    assert refused["ok"] is False and refused["error"] == "session_not_active"
    assert send(live.user_socket, live.session, "last words", client_id="last") == first
    typing = live.user_socket.emit("typing", {"session_id": str(live.session.id), "is_typing": True}, callback=True)
    assert typing["error"] == "session_not_active"


def test_typing_reaches_the_other_side_only(live):
    join(live.user_socket, live.session), join(live.astro_socket, live.session)
    live.user_socket.get_received(), live.astro_socket.get_received()
    live.user_socket.emit("typing", {"session_id": str(live.session.id), "is_typing": True}, callback=True)
    assert received(live.astro_socket, "typing") == [
        {"session_id": str(live.session.id), "user_id": str(live.user.id), "is_typing": True}
    ]
    assert received(live.user_socket, "typing") == []


def test_mark_read_moves_forward_and_announces(live):
    join(live.user_socket, live.session), join(live.astro_socket, live.session)
    sent = send(live.user_socket, live.session, "read me")["message"]
    live.user_socket.get_received()
    ack = live.astro_socket.emit("mark_read", {"session_id": str(live.session.id), "up_to_seq": 999}, callback=True)
    assert ack == {"ok": True, "up_to_seq": sent["seq"]}  # clamped to the last message
    [read] = received(live.user_socket, "read")
    assert read["user_id"] == str(live.astrologer.id) and read["up_to_seq"] == sent["seq"]
    assert db.session.query(Message).filter_by(id=uuid.UUID(sent["id"])).one().read_at is not None
    live.astro_socket.emit("mark_read", {"session_id": str(live.session.id), "up_to_seq": 1}, callback=True)
    assert received(live.user_socket, "read") == []  # it never moves back
    bad = live.astro_socket.emit("mark_read", {"session_id": str(live.session.id), "up_to_seq": "x"}, callback=True)
    assert bad["error"] == "invalid"


def test_mark_delivered_announces_once_and_the_join_ack_carries_it(live):
    join(live.user_socket, live.session), join(live.astro_socket, live.session)
    sent = send(live.user_socket, live.session, "deliver me")["message"]
    live.user_socket.get_received()
    payload = {"session_id": str(live.session.id), "up_to_seq": sent["seq"]}
    ack = live.astro_socket.emit("mark_delivered", payload, callback=True)
    assert ack == {"ok": True, "up_to_seq": sent["seq"]}
    [delivered] = received(live.user_socket, "delivered")
    assert delivered["user_id"] == str(live.astrologer.id) and delivered["up_to_seq"] == sent["seq"]
    live.astro_socket.emit("mark_delivered", payload, callback=True)
    assert received(live.user_socket, "delivered") == []  # nothing new: no second announcement
    rejoined = join(live.user_socket, live.session, after_seq=sent["seq"])
    assert rejoined["delivered"] == {str(live.astrologer.id): sent["seq"]}
    assert db.session.query(Message).filter_by(id=uuid.UUID(sent["id"])).one().read_at is None  # delivered, unread


def test_receipts_are_limited_per_socket(live, app, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_CHAT_RECEIPTS", "3/second")
    join(live.astro_socket, live.session)
    payload = {"session_id": str(live.session.id), "up_to_seq": 1}
    acks = [live.astro_socket.emit("mark_delivered", payload, callback=True) for _ in range(4)]
    assert [a["ok"] for a in acks] == [True, True, True, False] and acks[3]["error"] == "rate_limited"


def test_rate_limit_per_socket(live):
    join(live.user_socket, live.session)
    acks = [send(live.user_socket, live.session, f"burst {n}") for n in range(7)]
    assert [ack["ok"] for ack in acks[:5]] == [True] * 5
    assert acks[5] == {
        "ok": False,
        "error": "rate_limited",
        "message": "You are sending messages too fast; wait a moment.",
    }
    other = live.socket_for("user@example.com")  # the limit is per socket
    join(other, live.session)
    assert send(other, live.session, "from another tab")["ok"]
    other.disconnect()


def test_history_endpoint_json_and_html(live, app):
    join(live.user_socket, live.session)
    for n in range(3):
        send(live.user_socket, live.session, f"m{n}")
    http = app.test_client()
    AuthActions(http).login("user@example.com")
    data = http.get(
        f"/consultations/{live.session.id}/messages?after_seq=2", headers={"Accept": "application/json"}
    ).json
    assert [m["content"] for m in data["messages"]] == ["m1", "m2"] and data["has_more"] is False
    html = http.get(f"/consultations/{live.session.id}/messages?after_seq=3").get_data(as_text=True)
    assert "m2" in html and "m1" not in html and "<html" not in html


def test_room_renders_history_and_the_transcript_downloads_after_the_end(live, app):
    join(live.user_socket, live.session)
    send(live.user_socket, live.session, "keep this")
    http = app.test_client()
    AuthActions(http).login("user@example.com")
    room = http.get(f"/consultations/{live.session.id}").get_data(as_text=True)
    assert "keep this" in room and 'data-live-page="room"' in room and 'data-last-seq="2"' in room
    lifecycle.end(live.session.id, by_user_id=live.user.id)
    db.session.commit()
    summary = http.get(f"/consultations/{live.session.id}").get_data(as_text=True)
    assert "Transcript" in summary and "keep this" in summary and "Download as text" in summary
    text = http.get(f"/consultations/{live.session.id}/transcript.txt")
    assert text.mimetype == "text/plain" and "attachment" in text.headers["Content-Disposition"]
    assert "Priya Test: keep this" in text.get_data(as_text=True)


def test_topup_during_a_session_is_said_in_the_chat(live, app):
    from webapp.services.money import payments

    join(live.user_socket, live.session)
    join(live.astro_socket, live.session)
    live.user_socket.get_received()
    live.astro_socket.get_received()
    order, checkout = payments.start_topup(live.user.id, "200")
    db.session.commit()
    payments.demo_checkout(checkout.order_id, "pay", live.user.id)
    db.session.commit()
    events = live.user_socket.get_received()
    system = [_payload(e)["content"] for e in events if e["name"] == "message"]
    assert system == ["Top-up of ₹200 received."]
    [tick] = [_payload(e) for e in events if e["name"] == "billing_tick"]
    assert tick["balance"] == "690.00" and tick["minutes_left"] == 69
    [balance] = [_payload(e) for e in events if e["name"] == "balance"]  # the badge's figure, the same
    assert balance == {"available": "690.00", "held": "0.00", "current": "690.00"}
    # The user's wallet is not the astrologer's business: not sent, not in their history or transcript.
    assert received(live.astro_socket, "message") == []
    astrologer_view = join(live.astro_socket, live.session)["messages"]
    assert "Top-up" not in " ".join(m["content"] for m in astrologer_view)
    assert "Top-up of ₹200" in " ".join(m["content"] for m in join(live.user_socket, live.session)["messages"])
    http = app.test_client()
    AuthActions(http).login("astro@example.com")
    assert "Top-up" not in http.get(f"/consultations/{live.session.id}/transcript.txt").get_data(as_text=True)
    assert "Top-up" not in http.get(f"/consultations/{live.session.id}").get_data(as_text=True)
    # The astrologer still reads every seq after it: a receipt past the private line is accepted.
    seqs = [m["seq"] for m in astrologer_view]
    assert seqs == sorted(seqs) and max(seqs) < join(live.user_socket, live.session)["messages"][-1]["seq"]


def test_the_sender_of_a_masked_message_is_told_why_once(live):
    join(live.user_socket, live.session)
    join(live.astro_socket, live.session)
    live.astro_socket.get_received()
    send(live.user_socket, live.session, "call me on 98123 45678")
    send(live.user_socket, live.session, "or mail priya@example.com")
    own = join(live.user_socket, live.session)["messages"]
    notices = [m["content"] for m in own if (m["metadata"] or {}).get("kind") == "masked"]
    assert notices == [system_lines.english(system_lines.masking_notice(("phone",)))]
    assert "a phone number" in notices[0] and "stay out of consultations" in notices[0]
    theirs = join(live.astro_socket, live.session)["messages"]
    assert [m["content"] for m in theirs if m["message_type"] == "text"] == [
        "call me on [number hidden]",
        "or mail [email hidden]",
    ]
    assert not any((m["metadata"] or {}).get("kind") == "masked" for m in theirs)
    assert not any(m["message_type"] == "system" for m in received(live.astro_socket, "message"))


def test_mask_function_directly():
    assert message_text.mask("plain words, no contacts") == "plain words, no contacts"


def test_a_batch_keeps_each_sessions_order_and_refuses_each_bad_draft_on_its_own(live, app, consult):
    """chat.send_many, as the writer calls it under load: many senders and sessions in one transaction."""
    other_astrologer = consult.astrologer(email="astro2@example.com")
    other_user = consult.user(email="user2@example.com")
    other = consult.accept(consult.request(other_user, other_astrologer))
    stranger = consult.user(email="stranger@example.com")
    suspended = consult.user(email="gone@example.com")
    suspended.status = UserStatus.SUSPENDED
    db.session.commit()
    base = {s: len(chat.history(s)) for s in (live.session.id, other.id)}  # the system lines of the start
    drafts = [
        chat.draft(live.session.id, live.user.id, "a1", "first"),
        chat.draft(other.id, other_user.id, "b1", "elsewhere"),
        chat.draft(live.session.id, live.astrologer.id, "a2", "second"),
        chat.draft(live.session.id, stranger.id, "x", "not mine"),
        chat.draft(live.session.id, suspended.id, "y", "suspended"),
        chat.draft(live.session.id, live.user.id, "a1", "first, resent"),
        chat.draft(live.session.id, live.user.id, "a3", "third"),
    ]
    outcomes = chat.send_many(drafts)
    db.session.commit()
    stored = [
        (o[0].seq - base[o[0].session_id], o[0].content, o[1]) if isinstance(o, tuple) else o.code for o in outcomes
    ]
    assert stored == [
        (1, "first", True),
        (1, "elsewhere", True),
        (2, "second", True),
        "session_not_found",
        "unauthorized",
        (1, "first", False),  # the resend answers the first message
        (3, "third", True),
    ]
    assert [m.seq for m in chat.history(live.session.id)] == list(range(1, base[live.session.id] + 4))
    db.session.refresh(live.session)
    assert live.session.astrologer_replied_at is not None  # the astrologer's message counts as a reply


def test_a_failed_batch_is_an_error_ack_and_stores_nothing(live, monkeypatch):
    before = len(join(live.user_socket, live.session)["messages"])
    join(live.astro_socket, live.session)
    live.astro_socket.get_received()

    real = chat.send_many

    def broken(drafts):
        real(drafts)  # written and announced, then the commit never comes
        raise RuntimeError("the database went away")

    monkeypatch.setattr(chat, "send_many", broken)
    ack = send(live.user_socket, live.session, "lost?")
    assert ack == {"ok": False, "error": "internal", "message": "Something went wrong; please try again."}
    assert live.user_socket.is_connected()
    monkeypatch.setattr(chat, "send_many", real)
    assert len(chat.history(live.session.id)) == before
    assert not received(live.astro_socket, "message")  # nothing announced of what was not stored
    assert send(live.user_socket, live.session, "again")["message"]["seq"] == before + 1


def test_socket_windows_count_each_socket_in_a_moving_window():
    from limits import parse_many

    from webapp.ratelimits import SocketWindows

    windows, limits = SocketWindows(), parse_many("5/second;60/minute")
    assert [windows.allow("a", limits, 100.0 + n / 10) for n in range(6)] == [True] * 5 + [False]
    assert windows.allow("b", limits, 100.5)  # another socket has its own count
    assert windows.allow("a", limits, 101.01)  # the first send left the one-second window
    accepted = [windows.allow("a", limits, 100.0 + second + n / 10) for second in range(2, 13) for n in range(5)]
    assert accepted == [True] * 54 + [False]  # sixty in the last minute
    assert not windows.allow("a", limits, 113.0)
    assert windows.allow("a", limits, 161.5)
    windows.forget("a")
    assert [windows.allow("a", limits, 200.0) for _ in range(5)] == [True] * 5


@pytest.mark.parametrize(
    "client_id, content",
    [
        ("\u0000", "hello"),
        ("a b", "hello"),
        ("x" * 65, "hello"),
        ("ok-id", "nul \u0000 inside"),
        ("ok-id", "lone \ud800"),
    ],
)
def test_a_poison_draft_is_refused_before_the_writer_sees_it(live, client_id, content):
    join(live.user_socket, live.session)
    payload = {"session_id": str(live.session.id), "client_id": client_id, "content": content}
    ack = live.user_socket.emit("send_message", payload, callback=True)
    assert ack["ok"] is False and ack["error"] == "invalid"
    assert send(live.user_socket, live.session, "still fine")["ok"] is True


def test_a_draft_that_breaks_a_batch_fails_only_its_own_sender(live, app, consult):
    """A draft the checks let through but the database refuses (here: a lone surrogate, built by hand)
    shares the writer's batch with other people's drafts: theirs are stored, it alone fails."""
    import threading

    from webapp.realtime.writer import ChatWriter, WriterUnavailable, _Pending
    from webapp.services.errors import Unexpected

    other_user = consult.user(email="bystander@example.com")
    other = consult.accept(consult.request(other_user, consult.astrologer(email="astro3@example.com")))
    good = chat.draft(other.id, other_user.id, "good-1", "an innocent message")
    poison = chat.Draft(live.session.id, live.user.id, "poison-1", "broken \ud800 text", good.now)
    batch = [_Pending(good, threading.Event(), 0.0), _Pending(poison, threading.Event(), 0.0)]
    ChatWriter(app)._write(batch)
    stored, created = batch[0].outcome
    assert stored["content"] == "an innocent message" and created is True
    assert isinstance(batch[1].outcome, WriterUnavailable) and isinstance(batch[1].outcome, Unexpected)
    assert [m.content for m in chat.history(other.id)][-1] == "an innocent message"


def test_a_sender_the_writer_keeps_waiting_hears_it_is_unavailable_and_a_late_outcome_changes_nothing(app, consult):
    import threading

    from webapp.realtime.writer import WAIT_SECONDS, ChatWriter, WriterUnavailable, _Pending

    user = consult.user()
    session = consult.accept(consult.request(user, consult.astrologer()))
    writer = ChatWriter(app)
    stuck = _Pending(chat.draft(session.id, user.id, "slow-1", "hello"), threading.Event(), 100.0)
    fresh = _Pending(chat.draft(session.id, user.id, "slow-2", "hello"), threading.Event(), 100.0 + WAIT_SECONDS)
    writer.waiting.update({stuck, fresh})
    writer.fail_late(100.0 + WAIT_SECONDS + 1)  # the watch's round: the first has waited too long
    assert stuck.done.is_set() and isinstance(stuck.outcome, WriterUnavailable)
    assert not fresh.done.is_set()  # still within its wait
    stuck.settle(("stored after all", True))  # the writer finishing late: the sender was already told
    assert isinstance(stuck.outcome, WriterUnavailable)


def test_the_writer_outlives_a_batch_that_raises(app, consult, monkeypatch):
    import threading

    from webapp.realtime.writer import ChatWriter, WriterUnavailable, _Pending

    user = consult.user()
    session = consult.accept(consult.request(user, consult.astrologer()))
    writer = ChatWriter(app)
    monkeypatch.setattr(writer, "_write", lambda batch: 1 / 0)
    monkeypatch.setattr("webapp.realtime.writer.LINGER_SECONDS", 0)
    pending = _Pending(chat.draft(session.id, user.id, "boom-1", "hello"), threading.Event(), 0.0)

    class OneBatch:  # the queue: one batch, then the writer's loop is stopped by the test
        items = [pending]

        def get(self):
            if not self.items:
                raise SystemExit
            return self.items.pop()

        def get_nowait(self):
            raise queue.Empty

    import queue

    writer.queue = OneBatch()
    monkeypatch.setattr("webapp.realtime.writer.socketio.server.eio.get_queue_empty_exception", lambda: queue.Empty)
    with pytest.raises(SystemExit):
        writer._run()  # the failed batch is answered and the loop goes back for the next one
    assert pending.done.is_set() and isinstance(pending.outcome, WriterUnavailable)


def test_every_event_spends_from_a_budget_and_a_flooding_socket_is_disconnected(live, app, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_SOCKET_EVENTS", "5/second")
    monkeypatch.setitem(app.config, "RATELIMIT_SOCKET_FLOOD", "12/second")
    join(live.user_socket, live.session)
    presence = {"session_id": str(live.session.id)}
    acks = [live.user_socket.emit("presence", presence, callback=True) for _ in range(11)]
    assert [a["ok"] for a in acks[:4]] == [True] * 4  # the join was the first event of the five
    assert {a["error"] for a in acks[4:]} == {"rate_limited"}
    last = live.user_socket.emit("presence", presence, callback=True)  # the twelfth: past the flood limit
    assert last["error"] == "rate_limited" and "connection is closed" in last["message"]
    assert not live.user_socket.is_connected()
    told = [_payload(e) for e in live.user_socket.queue if e["name"] == "disconnect_reason"]
    assert told and told[0]["reason"] == "flooding"  # said before the server hung up
    assert live.astro_socket.emit("presence", presence, callback=True)["error"] == "session_not_found"  # not joined


def test_a_users_sockets_share_one_budget(live, app, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_USER_SOCKET_EVENTS", "4/second")
    second_tab = live.socket_for("user@example.com")
    join(live.user_socket, live.session), join(second_tab, live.session)
    presence = {"session_id": str(live.session.id)}
    acks = [socket.emit("presence", presence, callback=True) for socket in (live.user_socket, second_tab) * 2]
    assert [a["ok"] for a in acks] == [True, True, False, False]
    second_tab.disconnect()


def test_a_user_flooding_from_several_sockets_loses_every_one_of_them_without_the_database(
    live, app, monkeypatch, count_queries
):
    """Each socket stays under its own flood limit; together they pass the user's, and every socket of
    that user is told why and closed, from memory."""
    monkeypatch.setitem(app.config, "RATELIMIT_USER_SOCKET_EVENTS", "2/second")
    monkeypatch.setitem(app.config, "RATELIMIT_USER_SOCKET_FLOOD", "8/second")
    second_tab = live.socket_for("user@example.com")
    join(live.user_socket, live.session), join(second_tab, live.session)
    typing = {"session_id": str(live.session.id), "is_typing": True}
    with count_queries() as counted:
        acks = [socket.emit("typing", typing, callback=True) for socket in (live.user_socket, second_tab) * 3]
    assert [a["ok"] for a in acks] == [False] * 6 and counted.n == 0  # the two joins spent the second's budget
    last = second_tab.emit("typing", typing, callback=True)
    assert "connection is closed" in last["message"]
    assert not live.user_socket.is_connected() and not second_tab.is_connected()
    for socket in (live.user_socket, second_tab):
        assert any(e["name"] == "disconnect_reason" for e in socket.queue)
    assert live.astro_socket.is_connected()  # the other person is untouched


def test_events_for_a_session_the_socket_has_not_joined_cost_no_database(live, count_queries):
    stranger = live.socket_for("astro@example.com")
    with count_queries() as counted:
        for event in ("presence", "typing", "mark_read", "mark_delivered", "call_state", "leave_session"):
            ack = stranger.emit(event, {"session_id": str(uuid.uuid4()), "up_to_seq": 1}, callback=True)
            assert ack["error"] == "session_not_found"
    assert counted.n == 0
    stranger.disconnect()


def test_a_repeated_heartbeat_is_acknowledged_without_the_database(live, count_queries):
    join(live.user_socket, live.session)
    presence = {"session_id": str(live.session.id)}
    assert live.user_socket.emit("presence", presence, callback=True)["ok"]
    with count_queries() as counted:
        assert live.user_socket.emit("presence", presence, callback=True) == {"ok": True}
    assert counted.n == 0
    other = {"session_id": str(uuid.uuid4())}  # another session is not a repeat: it is checked
    assert live.user_socket.emit("presence", other, callback=True)["error"] == "session_not_found"
