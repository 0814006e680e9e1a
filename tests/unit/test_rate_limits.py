"""Rate limits as a user meets them: a clear 429 page (or JSON) with Retry-After, counted per
address, per account or per user as each limit says, and never across people it should not."""

import uuid

import pytest

from webapp.extensions import db
from webapp.models import BillingTransaction

from ..conftest import AuthActions
from .test_accounts import _register
from .test_user_sync import SECRET, person, push


def test_failed_logins_are_limited_per_account_at_100_an_hour(app, client, auth, make_user, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_LOGIN", "1000 per minute")  # isolate the per-account limit
    make_user(email="target@example.com")
    make_user(email="bystander@example.com")
    statuses = [auth.login("target@example.com", password="wrong-password").status_code for _ in range(100)]
    assert set(statuses) == {401}
    locked = auth.login("TARGET@example.com ", password="demo12345")  # however it is typed, the right password too
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 3000
    page = locked.get_data(as_text=True)
    assert "Too many failed sign-in attempts for this account" in page and "try again in" in page
    assert auth.login("bystander@example.com").status_code == 302  # other accounts are not locked


def test_successful_logins_do_not_count_against_the_account(app, client, auth, make_user, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_LOGIN_FAILURES_PER_ACCOUNT", "2 per hour")
    make_user(email="regular@example.com")
    for _ in range(4):
        assert auth.login("regular@example.com").status_code == 302
        auth.logout()


def test_logins_are_limited_per_address(client, auth, make_user):
    make_user(email="many@example.com")
    statuses = [auth.login(f"nobody{n}@example.com", password="wrong-password").status_code for n in range(31)]
    assert statuses[:30] == [401] * 30 and statuses[30] == 429


def test_registrations_are_limited_per_address(client, auth):
    def register(n):
        return _register(client, email=f"new{n}@example.com", phone=f"+9198765{n:05d}")

    statuses = []
    for n in range(11):
        statuses.append(register(n).status_code)
        auth.logout()
    assert statuses[:10] == [302] * 10 and statuses[10] == 429


def test_sign_ups_that_find_an_existing_account_are_few_per_address(app, client, auth, make_user):
    """Each "already exists" tells whether an address has an account (a sign-up logs in at once, so
    the answer cannot be hidden): five such answers an hour per address, then 429."""
    make_user(email="known@example.com")
    statuses = [_register(client, email="known@example.com", phone=f"+9198700{n:05d}").status_code for n in range(6)]
    assert statuses == [409] * 5 + [429]
    assert "already have an account" in _register(client, email="other@example.com").get_data(as_text=True)


def test_topups_are_limited_per_user(client, auth, make_user):
    make_user(email="payer@example.com")
    make_user(email="other-payer@example.com")
    auth.login("payer@example.com")

    def start():
        return client.post("/wallet/topups", data={"amount": "100", "state": "29", "csrf_token": auth.csrf_token()})

    statuses = [start().status_code for _ in range(21)]
    assert statuses[:20] == [303] * 20 and statuses[20] == 429
    assert db.session.query(BillingTransaction).count() == 20  # the refused one wrote nothing
    auth.logout()
    auth.login("other-payer@example.com")
    assert start().status_code == 303


def test_consultation_requests_are_limited_per_user(client, auth, make_user):
    make_user(email="asker@example.com")
    auth.login("asker@example.com")
    token = auth.csrf_token()
    statuses = [
        client.post("/consultations", data={"astrologer_id": str(uuid.uuid4()), "csrf_token": token}).status_code
        for _ in range(11)
    ]
    assert statuses[:10] == [404] * 10 and statuses[10] == 429


@pytest.fixture
def sync_secret(app, monkeypatch):
    monkeypatch.setitem(app.config, "SYNC_SECRET", SECRET)


def test_the_sync_api_is_limited_with_a_json_answer(client, sync_secret):
    statuses = [push(client, person(1)).status_code for _ in range(121)]
    assert statuses[:120] == [200] * 120
    refused = push(client, person(1))
    assert refused.status_code == 429 and refused.json["error"] == "too_many_requests"
    assert "Retry-After" in refused.headers


def test_an_accounts_email_and_phone_share_one_count_of_failures(app, client, auth, make_user, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_LOGIN", "1000 per minute")
    monkeypatch.setitem(app.config, "RATELIMIT_LOGIN_FAILURES_PER_ACCOUNT", "4 per hour")
    make_user(email="both@example.com", phone="+919812345670")
    for typed in ("both@example.com", "+919812345670", "BOTH@example.com", "98123 45670"):
        assert auth.login(typed, password="wrong-password").status_code == 401
    assert auth.login("+919812345670", password="wrong-password").status_code == 429
    assert auth.login("both@example.com", password="wrong-password").status_code == 429


def test_a_phone_typed_differently_is_the_same_account(app, client, auth, make_user, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_LOGIN", "1000 per minute")
    monkeypatch.setitem(app.config, "RATELIMIT_LOGIN_FAILURES_PER_ACCOUNT", "3 per hour")
    make_user(phone="+919812345678")
    for typed in ("+91 98123 45678", "9812345678", "0091-98123-45678"):
        assert auth.login(typed, password="wrong-password").status_code == 401
    assert auth.login("+919812345678", password="wrong-password").status_code == 429


def test_a_stranger_cannot_lock_the_owner_out_of_their_own_browser(app, auth, make_user, monkeypatch):
    """OWASP's device cookies: the owner's browser, which has signed in before, keeps its own count."""
    monkeypatch.setitem(app.config, "RATELIMIT_LOGIN", "1000 per minute")
    monkeypatch.setitem(app.config, "RATELIMIT_LOGIN_FAILURES_PER_ACCOUNT", "5 per hour")
    monkeypatch.setitem(app.config, "RATELIMIT_LOGIN_FAILURES_PER_DEVICE", "3 per hour")
    make_user(email="owner@example.com")
    owner = AuthActions(app.test_client())
    assert owner.login("owner@example.com").status_code == 302  # the phone has signed in before
    owner.logout()
    stranger = AuthActions(app.test_client())
    for _ in range(5):
        assert stranger.login("owner@example.com", password="guess-guess-1").status_code == 401
    assert stranger.login("owner@example.com", password="guess-guess-2").status_code == 429  # locked for strangers
    assert AuthActions(app.test_client()).login("owner@example.com").status_code == 429  # and any new browser
    assert owner.login("owner@example.com").status_code == 302  # the owner's own phone is not locked out
    owner.logout()
    for _ in range(3):
        assert owner.login("owner@example.com", password="typo-typo-1").status_code == 401
    assert owner.login("owner@example.com").status_code == 429  # a device guessing has its own limit


def test_a_device_cookie_vouches_only_for_its_own_account(app, auth, make_user, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_LOGIN", "1000 per minute")
    monkeypatch.setitem(app.config, "RATELIMIT_LOGIN_FAILURES_PER_ACCOUNT", "2 per hour")
    make_user(email="mine@example.com"), make_user(email="theirs@example.com")
    browser = AuthActions(app.test_client())
    assert browser.login("mine@example.com").status_code == 302
    browser.logout()
    for _ in range(2):
        assert browser.login("theirs@example.com", password="guess-guess-1").status_code == 401
    assert browser.login("theirs@example.com", password="guess-guess-2").status_code == 429
    browser.client.set_cookie("device", "forged-value")
    assert browser.login("theirs@example.com").status_code == 429
