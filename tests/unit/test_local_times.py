"""What a person reads: times in their own zone (stored UTC), money written one way."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from webapp.extensions import db
from webapp.models import Message, UserProfile
from webapp.services.messaging import chat
from webapp.services.money.amounts import format_money
from webapp.services.users import time_zones

from ..conftest import DEMO_PASSWORD, AuthActions


@pytest.mark.parametrize(
    "amount, shown",
    [("0", "₹0"), ("20", "₹20"), ("1234.5", "₹1,234.50"), ("100000", "₹1,00,000"), ("0.05", "₹0.05")],
)
def test_money_is_written_one_way(app, amount, shown):
    with app.test_request_context():
        assert format_money(Decimal(amount)) == shown


def _zone_of(user):
    return db.session.query(UserProfile).filter_by(user_id=user.id).one().preferences.get(time_zones.PREFERENCE)


def test_the_sign_in_form_brings_the_browsers_zone_and_never_overrides_a_chosen_one(client, auth, make_user):
    user = make_user(email="priya@example.com")

    def sign_in(zone):
        token = auth.csrf_token()
        fields = {"identifier": "priya@example.com", "password": DEMO_PASSWORD, "time_zone": zone, "csrf_token": token}
        assert client.post("/auth/login", data=fields).status_code == 302
        auth.logout()

    sign_in("not a zone")  # a hint, ignored
    assert (db.session.query(UserProfile).filter_by(user_id=user.id).one().preferences or {}).get("time_zone") is None
    sign_in("Asia/Dubai")
    assert _zone_of(user) == "Asia/Dubai"
    sign_in("Europe/Paris")  # the account has one now: a browser elsewhere does not change it
    assert _zone_of(user) == "Asia/Dubai"


def test_the_browser_zone_is_stored_once_and_pages_stop_asking(client, auth, make_user):
    user = make_user(email="priya@example.com")
    auth.login("priya@example.com")
    page = client.get("/astrologers").get_data(as_text=True)
    assert 'data-zone-url="/auth/account/time-zone"' in page and 'data-zone="Asia/Kolkata"' in page
    token = auth.csrf_token()
    response = client.post(
        "/auth/account/time-zone", data={"time_zone": "America/New_York"}, headers={"X-CSRFToken": token}
    )
    assert response.status_code == 204 and _zone_of(user) == "America/New_York"
    page = client.get("/astrologers").get_data(as_text=True)
    assert "data-zone-url" not in page and 'data-zone="America/New_York"' in page


@pytest.mark.parametrize("value", ["Mars/Olympus_Mons", "", "UTC'; DROP TABLE users;--", "x" * 65, "Factory"])
def test_a_zone_that_is_not_an_iana_name_is_refused_and_nothing_stored(client, auth, make_user, value):
    user = make_user(email="priya@example.com")
    auth.login("priya@example.com")
    response = client.post(
        "/auth/account/time-zone", data={"time_zone": value}, headers={"X-CSRFToken": auth.csrf_token()}
    )
    assert response.status_code == 422 and "time zone" in response.get_json()["message"]
    profile = db.session.query(UserProfile).filter_by(user_id=user.id).one()
    assert (profile.preferences or {}).get(time_zones.PREFERENCE) is None


def test_the_zone_is_sent_with_the_csrf_token_only(client, auth, make_user):
    make_user(email="priya@example.com")
    auth.login("priya@example.com")
    assert client.post("/auth/account/time-zone", data={"time_zone": "Asia/Dubai"}).status_code == 400


def test_a_browser_reporting_utc_is_heard(client, auth, make_user):
    user = make_user(email="priya@example.com")
    auth.login("priya@example.com")
    response = client.post(
        "/auth/account/time-zone", data={"time_zone": "UTC"}, headers={"X-CSRFToken": auth.csrf_token()}
    )
    assert response.status_code == 204 and _zone_of(user) == "UTC"


def test_the_account_page_changes_the_zone(client, auth, make_user):
    user = make_user(email="priya@example.com")
    auth.login("priya@example.com")
    page = client.get("/auth/account").get_data(as_text=True)
    assert '<option selected value="Asia/Kolkata">India Time (UTC+05:30)</option>' in page
    response = client.post(
        "/auth/account", data={"csrf_token": auth.csrf_token(), "time_zone": "Europe/London", "language": ""}
    )
    assert response.status_code == 302 and _zone_of(user) == "Europe/London"
    response = client.post(
        "/auth/account", data={"csrf_token": auth.csrf_token(), "time_zone": "Nowhere/Else", "language": ""}
    )
    assert response.status_code == 422 and "Not a valid choice" in response.get_data(as_text=True)
    assert _zone_of(user) == "Europe/London"


def test_room_history_and_transcript_read_in_the_viewers_zone(app, consult):
    astrologer = consult.astrologer(email="astro@example.com", name="Acharya Test")
    user = consult.user(email="user@example.com", name="Priya Test")
    session = consult.accept(consult.request(user, astrologer))
    sent = datetime(2026, 12, 1, 4, 49, tzinfo=UTC)
    chat.send(session.id, user.id, "c1", "namaste", now=sent)
    session.requested_at = sent
    db.session.commit()
    http = app.test_client()
    AuthActions(http).login("user@example.com")
    room = http.get(f"/consultations/{session.id}").get_data(as_text=True)
    assert '<time datetime="2026-12-01T04:49:00+00:00">10:19</time>' in room  # IST, the default
    history = http.get("/consultations").get_data(as_text=True)
    assert "01 Dec 2026, 10:19 IST" in history
    time_zones.set_zone(user.id, "America/New_York")
    db.session.commit()
    transcript = http.get(f"/consultations/{session.id}/transcript.txt").get_data(as_text=True)
    assert "Times in America/New_York (EST)" in transcript
    assert "[2026-11-30 23:49:00 EST] Priya Test: namaste" in transcript
    assert "23:49</time>" in http.get(f"/consultations/{session.id}").get_data(as_text=True)
    # Stored times stay UTC.
    assert db.session.query(Message).filter_by(content="namaste").one().sent_at == sent


def test_zone_labels_name_the_abbreviation_when_there_is_one(app):
    with app.app_context():
        winter = datetime(2026, 1, 15, tzinfo=UTC)
        summer = datetime(2026, 7, 15, tzinfo=UTC)
        assert time_zones.label("Asia/Kolkata", winter) == "Asia/Kolkata (IST)"
        assert time_zones.label("Europe/London", summer) == "Europe/London (BST)"
        assert time_zones.label("Asia/Dubai", winter) == "Asia/Dubai"  # "+04" is no name
