"""The astrologer dashboard: availability per channel and the profile, saved in place; role checks."""

from decimal import Decimal

import pytest

from webapp.extensions import db, socketio
from webapp.models import Availability, UserType
from webapp.services.astrologers import astrologer_profile

from ..conftest import csrf_token_from

HTMX = {"HX-Request": "true"}


@pytest.fixture
def astrologer(make_astrologer, auth):
    person = make_astrologer(
        email="astro@example.com",
        name="Acharya Test",
        rate=Decimal("20.00"),
        languages=["Hindi"],
        specializations=["Vedic"],
    )
    auth.login("astro@example.com")
    return person


def _token(client):
    return csrf_token_from(client.get("/dashboard").get_data(as_text=True))


def _profile_data(**changes):
    data = {
        "chat_rate_per_minute": "25.50",
        "call_rate_per_minute": "40",
        "max_concurrent_sessions": "3",
        "languages": ["Hindi", "Tamil"],
        "specializations": ["Vedic", "KP"],
        "about": "Thirty years of Vedic practice.",
    }
    data.update(changes)
    return data


def test_astrologer_lands_on_the_dashboard_after_login(client, make_astrologer, auth):
    make_astrologer(email="a2@example.com")
    assert auth.login("a2@example.com").headers["Location"].endswith("/dashboard")


@pytest.mark.parametrize("role, status", [(None, 302), (UserType.USER, 403), (UserType.ADMIN, 403)])
@pytest.mark.parametrize(
    "method, path", [("get", "/dashboard"), ("post", "/dashboard/availability"), ("post", "/dashboard/profile")]
)
def test_dashboard_is_for_astrologers_only(client, auth, make_user, role, status, method, path):
    if role:
        make_user(email="someone@example.com", type=role)
        auth.login("someone@example.com")
        data = {"csrf_token": auth.csrf_token()}
    else:
        data = {}
    response = getattr(client, method)(path, data=data) if method == "post" else client.get(path)
    expected = 400 if (role is None and method == "post") else status  # anonymous POST fails CSRF first
    assert response.status_code == expected


def test_dashboard_shows_both_panels(client, astrologer):
    page = client.get("/dashboard").get_data(as_text=True)
    assert 'id="availability-panel"' in page and 'id="profile-panel"' in page
    assert 'name="chat_rate_per_minute" type="text" value="20.00"' in page
    assert '<input checked id="languages-0" name="languages" required type="checkbox" value="Hindi">' in page


def test_toggle_availability_in_place(client, astrologer):
    response = client.post(
        "/dashboard/availability",
        data={"channel": "chat", "status": "available", "csrf_token": _token(client)},
        headers=HTMX,
    )
    panel = response.get_data(as_text=True)
    assert response.status_code == 200 and panel.startswith('<section id="availability-panel"')
    assert "Chat: you are now available." in panel
    assert astrologer_profile.profile_of(astrologer.id).chat_availability == Availability.AVAILABLE
    assert astrologer_profile.profile_of(astrologer.id).call_availability == Availability.OFFLINE  # per channel


def test_toggle_without_javascript_redirects_with_a_flash(client, astrologer):
    response = client.post(
        "/dashboard/availability", data={"channel": "call", "status": "unavailable", "csrf_token": _token(client)}
    )
    assert response.status_code == 302
    assert "Call: you are now unavailable." in client.get("/dashboard").get_data(as_text=True)


@pytest.mark.parametrize("data", [{"channel": "fax", "status": "available"}, {"channel": "chat", "status": "busy"}, {}])
def test_bad_toggle_is_refused_with_a_message(client, astrologer, data):
    response = client.post("/dashboard/availability", data={**data, "csrf_token": _token(client)}, headers=HTMX)
    assert response.status_code == 422 and "Choose available, unavailable or offline" in response.get_data(as_text=True)
    assert astrologer_profile.profile_of(astrologer.id).chat_availability == Availability.OFFLINE


def test_profile_saves_in_place(client, astrologer):
    response = client.post("/dashboard/profile", data={**_profile_data(), "csrf_token": _token(client)}, headers=HTMX)
    assert response.status_code == 200 and "Profile saved" in response.get_data(as_text=True)
    profile = astrologer_profile.profile_of(astrologer.id)
    db.session.refresh(profile)
    assert profile.chat_rate_per_minute == Decimal("25.50") and profile.call_rate_per_minute == Decimal("40.00")
    assert profile.max_concurrent_sessions == 3
    assert profile.languages == ["Hindi", "Tamil"] and profile.specializations == ["Vedic", "KP"]
    assert profile.about == "Thirty years of Vedic practice."


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"chat_rate_per_minute": "0.50"}, "Enter an amount from 1 to 1000"),
        ({"chat_rate_per_minute": "1000.01"}, "Enter an amount from 1 to 1000"),
        ({"call_rate_per_minute": "12.345"}, "at most 2 decimals"),
        ({"call_rate_per_minute": "abc"}, "Enter an amount from 1 to 1000"),
        ({"chat_rate_per_minute": "NaN"}, "Enter an amount from 1 to 1000"),
        ({"max_concurrent_sessions": "11"}, "Use a number from 1 to 10."),
        ({"max_concurrent_sessions": "0"}, "Use a number from 1 to 10."),
        ({"max_concurrent_sessions": ""}, "Enter a number."),
        ({"languages": []}, "Choose at least one language."),
        ({"languages": ["Klingon"]}, "is not a valid choice"),
        ({"specializations": []}, "Choose at least one specialization."),
        ({"about": "x" * 2001}, "Use at most 2000 characters."),
    ],
)
def test_profile_validation_errors_render_in_place_and_save_nothing(client, astrologer, changes, message):
    response = client.post(
        "/dashboard/profile", data={**_profile_data(**changes), "csrf_token": _token(client)}, headers=HTMX
    )
    panel = response.get_data(as_text=True)
    assert response.status_code == 422 and message in panel and panel.startswith('<section id="profile-panel"')
    profile = astrologer_profile.profile_of(astrologer.id)
    db.session.refresh(profile)
    assert profile.chat_rate_per_minute == Decimal("20.00") and profile.languages == ["Hindi"]


def test_profile_errors_without_javascript_render_the_page(client, astrologer):
    response = client.post(
        "/dashboard/profile", data={**_profile_data(max_concurrent_sessions="99"), "csrf_token": _token(client)}
    )
    assert response.status_code == 422 and "<html" in response.get_data(as_text=True)


def test_unapproved_astrologer_is_told_they_are_not_listed(client, make_astrologer, auth):
    make_astrologer(email="new@example.com", is_approved=False)
    auth.login("new@example.com")
    assert "waiting for approval" in client.get("/dashboard").get_data(as_text=True)


def test_toggle_broadcasts_availability_after_commit(client, astrologer, events):
    client.post(
        "/dashboard/availability",
        data={"channel": "chat", "status": "available", "csrf_token": _token(client)},
        headers=HTMX,
    )
    assert [(e.name, e.payload, e.namespace) for e in events] == [
        (
            "availability",
            {
                "astrologer_id": str(astrologer.id),
                "status": "available",
                "channels": {"chat": "available", "call": "offline", "video": "offline"},
            },
            "/marketplace",
        )
    ]
    events.clear()
    client.post(
        "/dashboard/availability",
        data={"channel": "chat", "status": "available", "csrf_token": _token(client)},
        headers=HTMX,
    )
    assert events == []  # nothing changed, nothing said


def test_capacity_change_that_frees_a_slot_broadcasts(client, astrologer, events, make_user, make_session):
    astrologer_profile.set_availability(astrologer.id, "chat", "available")
    db.session.commit()
    make_session(make_user(), astrologer)  # now busy: 1 of 1
    events.clear()
    client.post(
        "/dashboard/profile",
        data={**_profile_data(max_concurrent_sessions="2"), "csrf_token": _token(client)},
        headers=HTMX,
    )
    assert [e.payload["status"] for e in events] == ["available"]


def test_a_rolled_back_change_is_never_announced(app, astrologer, events):
    astrologer_profile.set_availability(astrologer.id, "chat", "available")
    db.session.rollback()
    assert events == []


def test_browsers_on_the_marketplace_namespace_receive_the_toggle(app, client, astrologer):
    visitor = socketio.test_client(app, namespace="/marketplace")  # anonymous: the namespace is public
    assert visitor.is_connected(namespace="/marketplace")
    client.post(
        "/dashboard/availability",
        data={"channel": "chat", "status": "available", "csrf_token": _token(client)},
        headers=HTMX,
    )
    received = visitor.get_received(namespace="/marketplace")
    assert [(m["name"], m["args"][0]["astrologer_id"], m["args"][0]["status"]) for m in received] == [
        ("availability", str(astrologer.id), "available")
    ]
    visitor.disconnect(namespace="/marketplace")
