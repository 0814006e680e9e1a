"""Accounts over HTTP: register, log in by email or phone, log out; every unhappy path."""

import pytest
from argon2 import PasswordHasher

from webapp.extensions import db
from webapp.models import User, UserStatus, UserType, Wallet, utcnow

from ..conftest import DEMO_PASSWORD, AuthActions, csrf_token_from


def _register(client, **fields):
    token = csrf_token_from(client.get("/auth/register").get_data(as_text=True))
    data = {"name": "Asha Verma", "email": "asha@example.com", "phone": "+91 98123 45678", "password": "stars4ever"}
    data.update(fields)
    data.setdefault("csrf_token", token)
    return client.post("/auth/register", data=data)


def test_register_creates_a_logged_in_user_with_wallet(client):
    response = _register(client)
    assert response.status_code == 302
    user = db.session.query(User).filter_by(email="asha@example.com").one()
    assert user.type == UserType.USER and user.phone == "+919812345678"
    assert user.password_hash.startswith("$argon2id$")
    assert db.session.query(Wallet).filter_by(user_id=user.id).one().current_balance == 0
    assert user.profile is not None
    page = client.get("/astrologers").get_data(as_text=True)
    assert "Asha Verma" in page and "₹0" in page  # logged in, balance badge shown


def test_a_passphrase_of_words_is_a_good_password(client):
    """No composition rule (OWASP ASVS 2.1.9): four words without a digit are accepted."""
    response = _register(client, password="correct horse battery staple")
    assert response.status_code == 302
    assert db.session.query(User).filter_by(email="asha@example.com").one()


def test_a_new_user_is_shown_the_first_run_panel_until_they_are_done(client, fund):
    _register(client)
    page = client.get("/astrologers").get_data(as_text=True)
    assert 'id="first-run"' in page and ">Add money</a>" in page and "How billing works" in page
    user = db.session.query(User).filter_by(email="asha@example.com").one()
    fund(user, "100.00")
    page = client.get("/astrologers").get_data(as_text=True)
    assert page.count('class="step-state">Done') == 1  # the money is in; the birth details are not
    token = csrf_token_from(page)
    assert client.post("/auth/onboarding/done", headers={"HX-Request": "true", "X-CSRFToken": token}).get_data() == b""
    assert 'id="first-run"' not in client.get("/astrologers").get_data(as_text=True)
    assert client.post("/auth/onboarding/done", data={"csrf_token": token}).status_code == 303  # again: no change
    AuthActions(client).logout()
    AuthActions(client).login("asha@example.com", "stars4ever")
    assert 'id="first-run"' not in client.get("/astrologers").get_data(as_text=True)  # stored, not per browser


def test_the_first_run_panel_is_for_end_users_only(client, auth, make_astrologer):
    make_astrologer(email="astro@example.com")
    auth.login("astro@example.com")
    assert 'id="first-run"' not in client.get("/astrologers").get_data(as_text=True)


def test_register_page_renders(client):
    page = client.get("/auth/register").get_data(as_text=True)
    for field in ('name="name"', 'name="email"', 'name="phone"', 'name="password"', 'name="csrf_token"'):
        assert field in page


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"name": ""}, "Enter your name."),
        ({"email": "not-an-email"}, "Enter a valid email address"),
        ({"email": ""}, "Enter your email address."),
        ({"phone": "12"}, "Enter a phone number with country code"),
        ({"password": "short1"}, "at least 8 characters"),
        ({"password": "aaaaaaaaaa"}, "too easy to guess"),
        ({"password": "password1"}, "too easy to guess"),
        ({"password": "asha12345", "email": "asha@example.com"}, "name or email"),
        ({"name": "x" * 121}, "2 to 120 characters"),
        ({"email": "a" * 250 + "@example.com"}, "at most 254"),
        ({"password": "a1" * 65}, "at most 128"),
    ],
)
def test_register_rejects_bad_input_and_keeps_what_was_typed(client, fields, message):
    response = _register(client, **fields)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in page
    assert db.session.query(User).count() == 0
    if fields.get("email", "asha@example.com") == "asha@example.com":
        assert 'value="asha@example.com"' in page  # the input is kept
    assert 'aria-invalid="true"' in page


def test_register_with_a_taken_email_says_so(client, make_user):
    make_user(email="asha@example.com")
    response = _register(client, email="ASHA@example.com")
    assert response.status_code == 409
    assert "An account with this email already exists" in response.get_data(as_text=True)
    assert db.session.query(User).filter_by(email="asha@example.com").count() == 1


@pytest.mark.parametrize("name", ["Asha\u2028Bcc: x@example.com", "Asha\x85Rao", "Asha\u202eoaR"])
def test_a_name_that_would_break_a_mail_header_or_read_backwards_is_refused(client, name):
    response = _register(client, name=name)
    assert response.status_code == 422 and "Use letters, spaces and punctuation only." in response.get_data(
        as_text=True
    )
    assert db.session.query(User).count() == 0


def test_register_with_a_taken_phone_says_so(client, make_user):
    make_user(phone="+919812345678")
    response = _register(client, phone="98123 45678")
    assert response.status_code == 409
    assert "An account with this phone number already exists" in response.get_data(as_text=True)


def test_register_without_csrf_token_is_400_and_writes_nothing(client):
    response = _register(client, csrf_token="")
    assert response.status_code == 400
    assert "security token" in response.get_data(as_text=True)
    assert db.session.query(User).count() == 0


def test_login_by_email(client, auth, make_user):
    user = make_user(email="ravi@example.com")
    response = auth.login("Ravi@Example.com ")
    assert response.status_code == 302 and response.headers["Location"].endswith("/astrologers")
    db.session.refresh(user)
    assert user.last_login_at is not None


def test_login_by_phone_in_any_common_format(client, auth, make_user):
    make_user(phone="+919812345678")
    assert auth.login("98123-45678").status_code == 302


def test_login_redirects_to_a_local_next_only(client, make_user):
    make_user(email="ravi@example.com")
    page = client.get("/auth/login?next=/astrologers?page=2").get_data(as_text=True)
    token = csrf_token_from(page)
    ok = client.post(
        "/auth/login",
        data={
            "identifier": "ravi@example.com",
            "password": DEMO_PASSWORD,
            "next": "/astrologers?page=2",
            "csrf_token": token,
        },
    )
    assert ok.headers["Location"].endswith("/astrologers?page=2")


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)"]
)
def test_login_never_redirects_off_site(client, make_user, target):
    make_user(email="ravi@example.com")
    token = csrf_token_from(client.get("/auth/login").get_data(as_text=True))
    response = client.post(
        "/auth/login",
        data={"identifier": "ravi@example.com", "password": DEMO_PASSWORD, "next": target, "csrf_token": token},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/astrologers"


def test_wrong_password_is_refused_with_a_clear_message(client, auth, make_user):
    make_user(email="ravi@example.com")
    response = auth.login("ravi@example.com", "wrong-password1")
    page = response.get_data(as_text=True)
    assert response.status_code == 401
    assert "do not match an account" in page
    assert 'value="ravi@example.com"' in page  # input kept
    assert "Log out" not in page


def test_unknown_user_gets_the_same_message_as_a_wrong_password(auth):
    response = auth.login("nobody@example.com", "whatever123")
    assert response.status_code == 401
    assert "do not match an account" in response.get_data(as_text=True)


def test_suspended_user_is_refused_at_login(auth, make_user):
    user = make_user(email="ravi@example.com")
    user.status = UserStatus.SUSPENDED
    db.session.commit()
    response = auth.login("ravi@example.com")
    assert response.status_code == 403
    assert "suspended" in response.get_data(as_text=True)


def test_deleted_user_is_refused_at_login(auth, make_user):
    user = make_user(email="ravi@example.com")
    user.status, user.deleted_at = UserStatus.DELETED, utcnow()
    db.session.commit()
    response = auth.login("ravi@example.com")
    assert response.status_code == 403
    assert "closed" in response.get_data(as_text=True)


def test_a_user_suspended_while_logged_in_is_logged_out(client, auth, make_user):
    user = make_user(email="ravi@example.com", name="Ravi Kumar")
    auth.login("ravi@example.com")
    assert "Ravi Kumar" in client.get("/astrologers").get_data(as_text=True)
    user.status = UserStatus.SUSPENDED
    db.session.commit()
    assert "Ravi Kumar" not in client.get("/astrologers").get_data(as_text=True)


def test_login_form_errors_for_empty_and_overlong_input(client):
    token = csrf_token_from(client.get("/auth/login").get_data(as_text=True))
    response = client.post("/auth/login", data={"identifier": "", "password": "", "csrf_token": token})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Enter your email or mobile number." in page and "Enter your password." in page
    response = client.post("/auth/login", data={"identifier": "a" * 300, "password": "x", "csrf_token": token})
    assert response.status_code == 422 and "at most 254" in response.get_data(as_text=True)


def test_login_without_csrf_token_is_400(client, make_user):
    make_user(email="ravi@example.com")
    response = client.post("/auth/login", data={"identifier": "ravi@example.com", "password": DEMO_PASSWORD})
    assert response.status_code == 400


def test_system_user_cannot_log_in(auth, app):
    from webapp.services.users import accounts

    with app.app_context():
        user = accounts.platform_user()
        user.password_hash = PasswordHasher().hash("guessable123")
        db.session.commit()
    assert auth.login(accounts.PLATFORM_EMAIL, "guessable123").status_code == 401


def test_logout_requires_post_and_logs_out(client, auth, make_user):
    make_user(email="ravi@example.com", name="Ravi Kumar")
    auth.login("ravi@example.com")
    assert client.get("/auth/logout").status_code == 405
    response = auth.logout()
    assert response.status_code == 302
    assert "Ravi Kumar" not in client.get("/astrologers").get_data(as_text=True)


def test_logged_in_user_visiting_login_goes_home(client, auth, make_user):
    make_user(email="ravi@example.com")
    auth.login("ravi@example.com")
    assert client.get("/auth/login").status_code == 302
    assert client.get("/auth/register").status_code == 302


def test_outdated_password_hash_is_upgraded_at_login(app, auth, make_user):
    user = make_user(email="ravi@example.com")
    user.password_hash = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(DEMO_PASSWORD)
    db.session.commit()
    old = user.password_hash
    assert auth.login("ravi@example.com").status_code == 302
    db.session.refresh(user)
    assert user.password_hash != old and user.password_hash.startswith("$argon2id$")


def test_htmx_requests_carry_the_csrf_token_in_a_header(client, auth, make_user):
    make_user(email="ravi@example.com", name="Ravi Kumar")
    auth.login("ravi@example.com")
    headers = {"HX-Request": "true", "X-CSRFToken": auth.csrf_token()}
    assert client.post("/auth/logout", headers=headers).status_code == 302
    assert "Ravi Kumar" not in client.get("/astrologers").get_data(as_text=True)


def test_htmx_requests_without_the_header_are_refused(client, auth, make_user):
    make_user(email="ravi@example.com", name="Ravi Kumar")
    auth.login("ravi@example.com")
    assert client.post("/auth/logout", headers={"HX-Request": "true"}).status_code == 400
    assert "Ravi Kumar" in client.get("/astrologers").get_data(as_text=True)
