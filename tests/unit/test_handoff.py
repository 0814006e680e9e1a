"""Hand-off from the main backend: a one-time, short-lived HS256 token logs the user in."""

import time
import uuid

import jwt
import pytest

from webapp.extensions import db
from webapp.models import UserStatus
from webapp.services.users import accounts

SECRET = "handoff-secret-for-tests-0123456789abcdef"


@pytest.fixture(autouse=True)
def handoff_secret(app, monkeypatch):
    monkeypatch.setitem(app.config, "HANDOFF_JWT_SECRET", SECRET)


@pytest.fixture
def synced(app):
    user = accounts.create_user(name="Handed Over", external_id="main-42")
    db.session.commit()
    return user


def token(sub="main-42", lifetime=120, issued=None, jti=None, secret=SECRET, algorithm="HS256"):
    issued = int(issued if issued is not None else time.time())
    claims = {"sub": sub, "iat": issued, "exp": issued + lifetime, "jti": jti or uuid.uuid4().hex}
    return jwt.encode(claims, secret, algorithm=algorithm)


def test_a_valid_token_logs_the_user_in_and_goes_to_next(client, synced):
    response = client.get(f"/auth/handoff?token={token()}&next=/wallet")
    assert response.status_code == 302 and response.headers["Location"] == "/wallet"
    assert "Handed Over" in client.get("/astrologers").get_data(as_text=True)


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example", "/\\evil.example"])
def test_next_never_leaves_the_site(client, synced, target):
    response = client.get(f"/auth/handoff?token={token()}&next={target}")
    assert response.status_code == 302 and response.headers["Location"] == "/astrologers"


def test_a_token_is_used_once(client, synced):
    once = token()
    assert client.get(f"/auth/handoff?token={once}").status_code == 302
    other = client.application.test_client()
    again = other.get(f"/auth/handoff?token={once}")
    assert again.status_code == 403 and "already used" in again.get_data(as_text=True)


@pytest.mark.parametrize(
    "bad, message",
    [
        (lambda: token(issued=time.time() - 400), "expired"),
        (lambda: token(lifetime=3600), "too long"),
        (lambda: token(secret="someone-else-entirely-0123456789abcdef"), "not valid"),
        (lambda: token(sub="nobody"), "cannot sign in"),
        (lambda: "not.a.jwt", "not valid"),
        (lambda: jwt.encode({"sub": "main-42", "exp": int(time.time()) + 60}, SECRET, algorithm="HS256"), "not valid"),
        (lambda: "", "not valid"),
        (lambda: token(sub="main\x0042"), "not valid"),
        (lambda: token(sub=42), "not valid"),
        (lambda: token(jti="j" * 129), "not valid"),
    ],
)
def test_bad_tokens_are_refused(client, synced, bad, message):
    response = client.get(f"/auth/handoff?token={bad()}")
    assert response.status_code == 403 and message in response.get_data(as_text=True)
    assert "Handed Over" not in client.get("/astrologers").get_data(as_text=True)


def test_suspended_users_are_not_handed_over(client, synced):
    synced.status = UserStatus.SUSPENDED
    db.session.commit()
    assert client.get(f"/auth/handoff?token={token()}").status_code == 403


def test_without_a_secret_hand_off_is_off(app, client, synced, monkeypatch):
    monkeypatch.setitem(app.config, "HANDOFF_JWT_SECRET", None)
    assert client.get(f"/auth/handoff?token={token()}").status_code == 403
