"""Consultations over HTTP: request from a profile, the waiting room, the dashboard's requests,
the room, the summary with rating, history; every refusal a clear page and a 4xx."""

import re
import uuid
from decimal import Decimal

import pytest

from webapp.extensions import db
from webapp.models import Availability, ConsultationSession, SessionStatus
from webapp.services.consultations import lifecycle
from webapp.services.messaging import chat

from ..conftest import AuthActions, csrf_token_from

HTMX = {"HX-Request": "true"}


@pytest.fixture
def people(consult, make_user):
    astrologer = consult.astrologer(email="astro@example.com", name="Acharya Test", rate=Decimal("20.00"))
    user = consult.user(email="user@example.com", name="Priya Test")
    return user, astrologer


def _token(client):
    return csrf_token_from(client.get("/astrologers").get_data(as_text=True))


def _request(client, astrologer_id, session_type="chat", **fields):
    """POST /consultations as the request form does; `fields` adds the rest (the spending cap)."""
    return client.post(
        "/consultations",
        data={
            "astrologer_id": str(astrologer_id),
            "session_type": session_type,
            "csrf_token": _token(client),
            **fields,
        },
    )


def _set_cap(client, session, kind, value):
    """The room's cap form, as htmx posts it."""
    return client.post(
        f"/consultations/{session.id}/cap",
        data={"cap_kind": kind, "cap_value": value},
        headers={**HTMX, "X-CSRFToken": _token(client)},
    )


def test_user_requests_and_lands_in_the_waiting_room(client, auth, people):
    user, astrologer = people
    auth.login("user@example.com")
    response = _request(client, astrologer.id)
    assert response.status_code == 303
    session = db.session.query(ConsultationSession).one()
    assert response.headers["Location"].endswith(f"/consultations/{session.id}")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Waiting for Acharya Test" in page and 'data-live-page="waiting"' in page
    assert "₹100 is held" in page and "Cancel request" in page


@pytest.mark.parametrize(
    "case, status, text",
    [
        ("unknown", 404, "There is no such astrologer."),
        ("malformed", 404, "There is nothing here"),
        ("offline", 409, "is not taking chat requests right now"),
        ("poor", 402, "Recharge your wallet"),
        ("busy elsewhere", 409, "Go to your open consultation"),
    ],
)
def test_refused_requests_explain_why(client, auth, people, consult, case, status, text):
    user, astrologer = people
    target = astrologer.id
    if case == "unknown":
        target = uuid.uuid4()
    elif case == "malformed":
        target = "not-a-uuid"
    elif case == "offline":
        astrologer.astrologer_profile.chat_availability = Availability.OFFLINE
        db.session.commit()
    elif case == "poor":
        target = consult.astrologer(rate=Decimal("150.00")).id  # 750.00 needed, 500.00 funded
    elif case == "busy elsewhere":
        consult.request(user, consult.astrologer())
    auth.login("user@example.com")
    before = db.session.query(ConsultationSession).count()
    response = _request(client, target)
    assert response.status_code == status
    assert text in response.get_data(as_text=True)
    assert db.session.query(ConsultationSession).count() == before


def test_astrologers_cannot_request(client, auth, people):
    auth.login("astro@example.com")
    response = _request(client, people[1].id)
    assert response.status_code == 403 and "started from a user account" in response.get_data(as_text=True)


def test_request_needs_login_and_csrf(client, people):
    assert client.post("/consultations", data={"astrologer_id": str(people[1].id)}).status_code == 400
    response = client.post("/consultations", data={"astrologer_id": str(people[1].id), "csrf_token": _token(client)})
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def _astrologer_client(app):
    other = app.test_client()
    AuthActions(other).login("astro@example.com")
    return other


def test_dashboard_shows_the_request_and_accept_opens_the_room(app, client, auth, people):
    user, astrologer = people
    auth.login("user@example.com")
    _request(client, astrologer.id)
    session = db.session.query(ConsultationSession).one()
    astro = _astrologer_client(app)
    panel = astro.get("/dashboard/requests", headers=HTMX).get_data(as_text=True)
    assert "Priya Test" in panel and "Accept" in panel and "Decline" in panel
    accepted = astro.post(f"/dashboard/requests/{session.id}/accept", data={"csrf_token": _token(astro)}, headers=HTMX)
    assert accepted.status_code == 200 and accepted.headers["HX-Redirect"] == f"/consultations/{session.id}"
    room = astro.get(f"/consultations/{session.id}").get_data(as_text=True)
    assert (
        'data-live-page="room"' in room
        and "Priya Test" in room
        and 'End<span class="visually-hidden"> consultation</span>' in room
    )
    assert "Acharya Test" in client.get(f"/consultations/{session.id}").get_data(
        as_text=True
    )  # the user is in the room too


def test_double_clicked_accept_gets_a_clear_409(app, client, auth, people):
    auth.login("user@example.com")
    _request(client, people[1].id)
    session = db.session.query(ConsultationSession).one()
    astro = _astrologer_client(app)
    token = _token(astro)
    astro.post(f"/dashboard/requests/{session.id}/accept", data={"csrf_token": token}, headers=HTMX)
    again = astro.post(f"/dashboard/requests/{session.id}/accept", data={"csrf_token": token}, headers=HTMX)
    assert again.status_code == 409 and "already started" in again.get_data(as_text=True)
    assert db.session.query(ConsultationSession).one().billed_minutes == 1


def test_accepting_a_cancelled_request_is_409(app, client, auth, people):
    auth.login("user@example.com")
    _request(client, people[1].id)
    session = db.session.query(ConsultationSession).one()
    client.post(f"/consultations/{session.id}/cancel", data={"csrf_token": _token(client)})
    astro = _astrologer_client(app)
    response = astro.post(f"/dashboard/requests/{session.id}/accept", data={"csrf_token": _token(astro)}, headers=HTMX)
    assert response.status_code == 409 and "already cancelled" in response.get_data(as_text=True)


def test_decline_tells_the_user_and_offers_others(app, client, auth, people, consult):
    consult.astrologer(name="Other Vedic", specializations=["Vedic"])
    people[1].astrologer_profile.specializations = ["Vedic"]
    db.session.commit()
    auth.login("user@example.com")
    _request(client, people[1].id)
    session = db.session.query(ConsultationSession).one()
    astro = _astrologer_client(app)
    declined = astro.post(f"/dashboard/requests/{session.id}/decline", data={"csrf_token": _token(astro)}, headers=HTMX)
    assert declined.status_code == 200 and "Request declined" in declined.get_data(as_text=True)
    summary = client.get(f"/consultations/{session.id}").get_data(as_text=True)
    assert "Declined by the astrologer" in summary and "the held amount was released" in summary
    assert "Other Vedic" in summary  # similar astrologers available now


def test_end_and_rate(app, client, auth, people):
    auth.login("user@example.com")
    _request(client, people[1].id)
    session = db.session.query(ConsultationSession).one()
    astro = _astrologer_client(app)
    astro.post(f"/dashboard/requests/{session.id}/accept", data={"csrf_token": _token(astro)})
    chat.send(session.id, session.astrologer_id, "first-reply", "Namaste.")  # answered, so the minute is paid
    db.session.commit()
    ended = client.post(f"/consultations/{session.id}/end", data={"csrf_token": _token(client)}, headers=HTMX)
    assert ended.headers["HX-Redirect"] == f"/consultations/{session.id}"
    summary = client.get(f"/consultations/{session.id}").get_data(as_text=True)
    assert "Consultation ended" in summary and "Ended by the user" in summary and "₹20" in summary
    assert "How was it?" in summary
    assert "How was it?" not in astro.get(f"/consultations/{session.id}").get_data(as_text=True)
    bad = client.post(f"/consultations/{session.id}/rating", data={"rating": "9", "csrf_token": _token(client)})
    assert bad.status_code == 422
    rated = client.post(
        f"/consultations/{session.id}/rating", data={"rating": "5", "review": "Spot on.", "csrf_token": _token(client)}
    )
    assert rated.status_code == 303
    page = client.get(f"/consultations/{session.id}").get_data(as_text=True)
    assert "Spot on." in page and "How was it?" not in page
    again = client.post(f"/consultations/{session.id}/rating", data={"rating": "1", "csrf_token": _token(client)})
    assert again.status_code == 422 and "already rated" in again.get_data(as_text=True)


def test_someone_elses_session_is_404_everywhere(app, client, auth, people, consult, make_user):
    user, astrologer = people
    session = consult.request(user, astrologer)
    make_user(email="stranger@example.com")
    auth.login("stranger@example.com")
    token = _token(client)
    for method, path in [
        ("get", f"/consultations/{session.id}"),
        ("post", f"/consultations/{session.id}/cancel"),
        ("post", f"/consultations/{session.id}/end"),
        ("post", f"/consultations/{session.id}/rating"),
    ]:
        response = client.get(path) if method == "get" else client.post(path, data={"csrf_token": token, "rating": "5"})
        assert response.status_code == 404, path
    other_astro = consult.astrologer(email="other-astro@example.com")
    astro = app.test_client()
    AuthActions(astro).login(other_astro.email)
    response = astro.post(f"/dashboard/requests/{session.id}/accept", data={"csrf_token": _token(astro)}, headers=HTMX)
    assert response.status_code == 404
    db.session.refresh(session)
    assert session.status == SessionStatus.WAITING


def test_history_pages_with_htmx(client, auth, people, consult):
    user, astrologer = people
    for _ in range(11):
        session = consult.request(user, astrologer)
        lifecycle.cancel(session.id, user.id)
        db.session.commit()
    auth.login("user@example.com")
    page = client.get("/consultations").get_data(as_text=True)
    assert page.count("Cancelled by the user") == 10 and "Older →" in page
    second = client.get("/consultations?page=2", headers=HTMX).get_data(as_text=True)
    assert "<html" not in second and second.count("Cancelled by the user") == 1


def test_birth_details_reach_the_astrologer_first(app, client, auth, people):
    auth.login("user@example.com")
    token = _token(client)
    saved = client.post(
        "/auth/account",
        data={"birth_date": "1990-04-12", "birth_time": "06:30", "birth_place": "Madurai, India", "csrf_token": token},
    )
    assert saved.status_code == 302
    _request(client, people[1].id)
    session = db.session.query(ConsultationSession).one()
    lifecycle.accept(session.id, people[1].id)
    db.session.commit()
    first = consultations_first_message(session.id)
    assert first == "Birth details: born 12 April 1990 at 06:30 in Madurai, India."


def consultations_first_message(session_id):
    from webapp.models import Message

    return db.session.query(Message).filter_by(session_id=session_id, seq=1).one().content


def test_account_form_refuses_bad_dates(client, auth, people):
    auth.login("user@example.com")
    response = client.post("/auth/account", data={"birth_date": "2999-01-01", "csrf_token": _token(client)})
    assert response.status_code == 422 and "between 1900 and today" in response.get_data(as_text=True)
    assert re.search(r'value="2999-01-01"', response.get_data(as_text=True))


def test_a_cap_set_on_the_request_form_is_quoted_kept_and_changed_in_the_room(app, client, auth, people):
    user, astrologer = people
    auth.login("user@example.com")
    profile = client.get(f"/astrologers/{astrologer.id}").get_data(as_text=True)
    assert 'name="cap_kind"' in profile and "₹100 held to start" in profile  # 5 minutes at 20.00
    response = _request(client, astrologer.id, cap_kind="amount", cap_value="60")
    assert response.status_code == 303
    session = db.session.query(ConsultationSession).one()
    assert session.cap_minutes == 3  # ₹60 at ₹20 a minute
    assert "₹60 is held" in client.get(response.headers["Location"]).get_data(as_text=True)  # 3 minutes, not 5
    lifecycle.accept(session.id, astrologer.id)
    db.session.commit()
    room = client.get(f"/consultations/{session.id}").get_data(as_text=True)
    assert 'data-bar="cap_minutes">3 min<' in room
    changed = _set_cap(client, session, "minutes", "10")
    assert changed.status_code == 200 and "Limit: 10 minutes (₹200 at most)." in changed.get_data(as_text=True)
    refused = _set_cap(client, session, "minutes", "ten")
    assert refused.status_code == 422 and "whole minutes from 1 to 600" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(ConsultationSession, session.id).cap_minutes == 10


def test_a_cap_that_pays_for_nothing_refuses_the_request_and_holds_nothing(client, auth, people):
    user, astrologer = people
    auth.login("user@example.com")
    response = _request(client, astrologer.id, cap_kind="amount", cap_value="5")
    assert response.status_code == 422 and "does not pay for one minute at ₹20" in response.get_data(as_text=True)
    assert db.session.query(ConsultationSession).count() == 0
    db.session.refresh(user.wallet)
    assert user.wallet.held_balance == 0
