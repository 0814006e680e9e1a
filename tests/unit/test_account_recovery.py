"""Getting back in and proving who one is, as a person would: "Forgot password?" with the mail that
arrives (a real SMTP server), the reset link used, reused and expired; account enumeration by text and
timing; the verification link and its banner; a changed password, name and e-mail address with the old
address's "this wasn't me"; the devices by name, one ended."""

import re
import statistics
import time
from datetime import timedelta

import pytest

from webapp.extensions import db
from webapp.models import AccountToken, LoginSession, User, utcnow
from webapp.services import jobs
from webapp.services.users import account_tokens, credentials

from ..conftest import DEMO_PASSWORD, AuthActions
from . import test_receipts
from .test_receipts import parts

inbox = test_receipts.inbox  # the SMTP server the receipts' tests start, as a fixture here too

ANDROID_CHROME = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36"


def _post(client, path, **data):
    return client.post(path, data={"csrf_token": AuthActions(client).csrf_token(), **data})


def _mails(queued, inbox):
    """Run the queued jobs; the messages that arrived, as (to, text)."""
    for delivery_id in list(queued):
        jobs.perform(delivery_id)
    queued.clear()
    found = [(to[0], parts(message)[0], message) for to, message in inbox.messages]
    inbox.messages.clear()
    return found


def _path(text, route):
    return re.search(rf"https?://[^/\s]+(/auth/{route}/\S+)", text).group(1)


def test_forgot_password_sends_a_link_that_resets_once_and_signs_out_everywhere(app, make_user, inbox, queued):
    make_user(email="lost@example.com", name="Meera Iyer")
    old_phone = app.test_client()
    assert AuthActions(old_phone).login("lost@example.com").status_code == 302
    browser = app.test_client()
    page = _post(browser, "/auth/forgot", email=" Lost@Example.com ")
    assert page.status_code == 200 and "If lost@example.com belongs to an account" in page.get_data(as_text=True)
    ((to, text, message),) = _mails(queued, inbox)
    assert to == "lost@example.com" and message["Subject"] == "Reset your AstroConsult password"
    assert "List-Unsubscribe" not in message  # about the account itself: cannot be turned off
    path = _path(text, "reset")
    assert browser.get(path).status_code == 200
    mismatch = _post(browser, path, password="a new passphrase", confirm="another one")
    assert mismatch.status_code == 422 and "not the same" in mismatch.get_data(as_text=True)
    done = _post(browser, path, password="river stone lamp", confirm="river stone lamp")
    assert done.status_code == 303  # signed in here with the new password
    assert old_phone.get("/wallet").status_code == 302  # every other login ended
    assert AuthActions(app.test_client()).login("lost@example.com", "river stone lamp").status_code == 302
    assert AuthActions(app.test_client()).login("lost@example.com", DEMO_PASSWORD).status_code == 401
    again = app.test_client().get(path)
    assert again.status_code == 410 and "expired or has already been used" in again.get_data(as_text=True)
    stolen = _post(app.test_client(), path, password="attacker words here", confirm="attacker words here")
    assert stolen.status_code == 410


def test_a_reset_link_expires_after_30_minutes_and_a_newer_one_replaces_it(app, make_user):
    user = make_user(email="slow@example.com")
    now = utcnow()
    row = credentials.request_reset("slow@example.com", now=now)
    token = account_tokens.token_of(row.id)
    assert credentials.reset_link_valid(token, now + timedelta(minutes=29))
    assert not credentials.reset_link_valid(token, now + timedelta(minutes=30))
    newer = credentials.request_reset("slow@example.com", now=now + timedelta(minutes=1))
    assert not credentials.reset_link_valid(token, now + timedelta(minutes=2))  # the newest mail counts
    assert credentials.reset_link_valid(account_tokens.token_of(newer.id), now + timedelta(minutes=2))
    stored = db.session.execute(db.select(AccountToken.token_hash).filter_by(user_id=user.id)).scalars().all()
    assert token not in stored and account_tokens.token_of(newer.id) not in stored  # only hashes are kept


def test_forgot_says_the_same_and_takes_about_as_long_for_an_unknown_address(app, make_user, queued, monkeypatch):
    make_user(email="known@example.com")
    client = app.test_client()

    def ask(address):
        token = AuthActions(client).csrf_token()
        started = time.perf_counter()
        response = client.post("/auth/forgot", data={"csrf_token": token, "email": address})
        return time.perf_counter() - started, response

    monkeypatch.setitem(app.config, "RATELIMIT_FORGOT", "1000 per hour")
    monkeypatch.setitem(app.config, "RATELIMIT_FORGOT_PER_EMAIL", "1000 per hour")
    known = [ask("known@example.com") for _ in range(7)]
    unknown = [ask(f"nobody{n}@example.com") for n in range(7)]
    assert {r.status_code for _, r in known + unknown} == {200}
    assert re.sub(r"nobody\d@example.com", "X", unknown[0][1].get_data(as_text=True)).count("If X belongs") == 1
    assert known[0][1].get_data(as_text=True).count("If known@example.com belongs") == 1
    gap = abs(statistics.median(t for t, _ in known) - statistics.median(t for t, _ in unknown))
    assert gap < 0.05  # the mail is a job: the answer does not wait for it either way


def test_reset_mails_are_limited_per_address(app, make_user, queued):
    make_user(email="target@example.com")
    client = app.test_client()
    statuses = [_post(client, "/auth/forgot", email="TARGET@example.com").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert len(queued) == 3


def test_sign_up_sends_a_verification_link_and_receipts_wait_for_it(app, inbox, queued, client):
    token = AuthActions(client).csrf_token()
    client.post("/auth/register", data={
        "csrf_token": token, "name": "Nisha Rao", "email": "nisha@example.com", "phone": "+91 98100 11223",
        "password": "correct horse battery", "locale": "en",
    })  # fmt: skip
    page = client.get("/wallet").get_data(as_text=True)
    assert "Confirm your e-mail address: we sent a link to nisha@example.com" in page
    ((to, text, message),) = _mails(queued, inbox)
    assert to == "nisha@example.com" and message["Subject"] == "Confirm your e-mail address"
    user = db.session.execute(db.select(User).filter_by(email="nisha@example.com")).scalar_one()
    from webapp.services.notifications import mail

    assert not mail.wanted_by(user, "receipts")
    path = _path(text, "email/confirm")
    assert client.get(path).status_code == 200 and db.session.get(User, user.id).email_verified_at is None  # a scanner
    assert _post(client, path).status_code == 200
    db.session.expire_all()
    assert db.session.get(User, user.id).email_verified_at is not None
    assert "Confirm your e-mail address" not in client.get("/wallet").get_data(as_text=True)
    assert _post(client, path).status_code == 410


def test_changing_the_password_needs_the_current_one_and_signs_out_the_other_devices(app, make_user):
    make_user(email="owner@example.com")
    laptop, phone = app.test_client(), app.test_client()
    AuthActions(laptop).login("owner@example.com")
    AuthActions(phone).login("owner@example.com")
    wrong = _post(
        laptop, "/auth/account/password", current="guess", password="new words here", confirm="new words here"
    )
    assert wrong.status_code == 422 and "not your current password" in wrong.get_data(as_text=True)
    assert phone.get("/wallet").status_code == 200
    done = _post(laptop, "/auth/account/password", current=DEMO_PASSWORD, password="new words here",
                 confirm="new words here")  # fmt: skip
    assert done.status_code == 303
    assert laptop.get("/wallet").status_code == 200 and phone.get("/wallet").status_code == 302


def test_a_name_is_changed_and_refused_when_empty(app, make_user, auth):
    user = make_user(email="namer@example.com")
    auth.login("namer@example.com")
    assert _post(auth.client, "/auth/account/name", name="   ").status_code == 422
    assert _post(auth.client, "/auth/account/name", name="  Kavya   Menon ").status_code == 303
    assert db.session.get(User, user.id).name == "Kavya Menon"


def test_a_changed_address_is_confirmed_from_the_new_one_and_the_old_one_can_lock_the_account(
    app, make_user, inbox, queued
):
    user = make_user(email="old@example.com", name="Arjun")
    thief = app.test_client()
    AuthActions(thief).login("old@example.com")
    wrong = _post(thief, "/auth/account/email-address", email="thief@example.com", password="nope")
    assert wrong.status_code == 422 and not queued
    assert (
        _post(thief, "/auth/account/email-address", email="thief@example.com", password=DEMO_PASSWORD).status_code
        == 303
    )
    mails = {to: (text, message) for to, text, message in _mails(queued, inbox)}
    assert set(mails) == {"thief@example.com", "old@example.com"}
    assert "thief@example.com" in mails["old@example.com"][0] and "lock my account" in mails["old@example.com"][0]
    _post(thief, _path(mails["thief@example.com"][0], "email/confirm"))
    db.session.expire_all()
    assert db.session.get(User, user.id).email == "thief@example.com"
    owner = app.test_client()
    not_me = _path(mails["old@example.com"][0], "not-me")
    assert owner.get(not_me).status_code == 200
    locked = _post(owner, not_me)
    assert locked.status_code == 200 and "Your account is locked" in locked.get_data(as_text=True)
    db.session.expire_all()
    user = db.session.get(User, user.id)
    assert user.email == "old@example.com" and user.locked_at is not None
    assert thief.get("/wallet").status_code == 302  # signed out
    refused = AuthActions(app.test_client()).login("old@example.com")
    assert refused.status_code == 403 and "locked" in refused.get_data(as_text=True)
    ((to, text, _),) = _mails(queued, inbox)  # the reset link that opens it again
    assert to == "old@example.com"
    assert (
        _post(owner, _path(text, "reset"), password="fresh start words", confirm="fresh start words").status_code == 303
    )
    db.session.expire_all()
    assert db.session.get(User, user.id).locked_at is None


def test_devices_are_named_and_one_can_be_signed_out(app, make_user):
    make_user(email="devices@example.com")
    laptop = app.test_client()
    phone = app.test_client()
    phone.environ_base["HTTP_USER_AGENT"] = ANDROID_CHROME
    AuthActions(laptop).login("devices@example.com")
    AuthActions(phone).login("devices@example.com")
    page = laptop.get("/auth/account/security").get_data(as_text=True)
    assert "Chrome on Android" in page
    other = db.session.execute(
        db.select(LoginSession).where(LoginSession.user_agent == ANDROID_CHROME, LoginSession.revoked_at.is_(None))
    ).scalar_one()
    stranger = make_user(email="stranger@example.com")
    del stranger
    outsider = app.test_client()
    AuthActions(outsider).login("stranger@example.com")
    _post(outsider, f"/auth/account/devices/{other.id}/end")
    assert phone.get("/wallet").status_code == 200  # not the stranger's to end
    assert _post(laptop, f"/auth/account/devices/{other.id}/end").status_code == 303
    assert phone.get("/wallet").status_code == 302 and laptop.get("/wallet").status_code == 200


@pytest.mark.parametrize("agent, name", [
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1", "Safari on iOS"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox on Windows"),
    ("", "Unknown browser"),
])  # fmt: skip
def test_device_names(app, agent, name):
    from webapp.services.users import login_sessions

    with app.test_request_context():
        assert login_sessions.device_name(agent) == name
