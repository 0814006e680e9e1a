"""A logout ends the login session on the server: a copy of the cookie taken before it is worth
nothing after it, on any page or socket; "log out everywhere" and a suspension end them all; the
CSRF secret is new after every sign-in."""

import pytest

from webapp.extensions import db, socketio
from webapp.models import LoginSession, UserStatus, UserType
from webapp.services.admin import actions as admin

from ..conftest import AuthActions, csrf_token_from


def _copy_of(client, app):
    """Another browser holding the same cookies (a cookie stolen or saved before the logout)."""
    copy = app.test_client()
    for cookie in client._cookies.values():
        copy.set_cookie(cookie.key, cookie.value, domain=cookie.domain, path=cookie.path)
    return copy


def _logged_in(app, email):
    client = app.test_client()
    assert AuthActions(client).login(email).status_code == 302
    return client


def test_a_cookie_copied_before_logout_is_refused_after_it(app, make_user, fund):
    fund(make_user(email="owner@example.com"), "100")
    owner = _logged_in(app, "owner@example.com")
    thief = _copy_of(owner, app)
    assert thief.get("/wallet").status_code == 200  # the copy works while the owner is signed in
    token = csrf_token_from(thief.get("/wallet").get_data(as_text=True))
    AuthActions(owner).logout()
    wallet = thief.get("/wallet")
    assert wallet.status_code == 302 and "/auth/login" in wallet.headers["Location"]
    topup = thief.post("/wallet/topups", data={"amount": "500", "state": "29", "csrf_token": token})
    assert topup.status_code == 302 and "/auth/login" in topup.headers["Location"]
    assert db.session.query(LoginSession).filter(LoginSession.revoked_at.is_(None)).count() == 0


def test_logout_closes_the_open_socket_and_the_old_cookie_cannot_open_another(app, make_user):
    make_user(email="talker@example.com")
    browser = _logged_in(app, "talker@example.com")
    socket = socketio.test_client(app, flask_test_client=browser)
    assert socket.is_connected()
    saved = _copy_of(browser, app)
    AuthActions(browser).logout()
    assert not socket.is_connected()  # closed by the logout
    assert not socketio.test_client(app, flask_test_client=saved).is_connected()  # refused at connect


def test_log_out_everywhere_ends_every_login_session_of_the_account(app, make_user):
    make_user(email="many@example.com")
    phone, laptop = _logged_in(app, "many@example.com"), _logged_in(app, "many@example.com")
    page = laptop.get("/auth/account/security").get_data(as_text=True)
    assert page.count('class="device-name"') == 2 and "This device" in page and page.count(">Sign out<") == 1
    phone.post("/auth/logout-everywhere", data={"csrf_token": AuthActions(phone).csrf_token()})
    assert laptop.get("/wallet").status_code == 302


def test_suspension_ends_the_accounts_login_sessions(app, make_user):
    person = make_user(email="suspect@example.com")
    boss = make_user(type=UserType.ADMIN)
    browser = _logged_in(app, "suspect@example.com")
    admin.set_user_status(person.id, UserStatus.SUSPENDED, admin_id=boss.id)
    admin.set_user_status(person.id, UserStatus.ACTIVE, admin_id=boss.id)  # back, but the old sign-in is not
    db.session.commit()
    assert browser.get("/wallet").status_code == 302


def test_a_csrf_token_from_before_the_sign_in_is_refused_after_it(app, make_user):
    make_user(email="fixation@example.com")
    browser = app.test_client()
    before = csrf_token_from(browser.get("/auth/login").get_data(as_text=True))
    assert (
        browser.post(
            "/auth/login",
            data={"identifier": "fixation@example.com", "password": "s3cret-Passw0rd", "csrf_token": before},
        ).status_code
        == 302
    )
    refused = browser.post("/auth/account", data={"csrf_token": before, "bio": "planted"})
    assert refused.status_code == 400
    after = csrf_token_from(browser.get("/auth/account").get_data(as_text=True))
    assert after != before
    assert browser.post("/auth/account", data={"csrf_token": after, "bio": "mine"}).status_code == 302


@pytest.mark.parametrize("cookie_without", ["login_id"])
def test_a_session_cookie_without_a_login_session_is_anonymous(app, make_user, cookie_without):
    make_user(email="legacy@example.com")
    browser = _logged_in(app, "legacy@example.com")
    with browser.session_transaction() as session:
        session.pop(cookie_without)  # a cookie from before login sessions existed
    assert browser.get("/wallet").status_code == 302


def test_the_chat_writer_refuses_a_draft_from_an_ended_login_session(app, consult):
    """Another process's socket of a logged-out browser may still send before its next reload: the
    writer checks the login session the socket connected with."""
    from webapp.services.errors import NotAuthenticated
    from webapp.services.messaging import chat
    from webapp.services.users import login_sessions

    astrologer, user = consult.astrologer(), consult.user()
    session = consult.accept(consult.request(user, astrologer))
    login = login_sessions.start(user.id)
    db.session.commit()
    live = chat.draft(session.id, user.id, "live-1", "while signed in", login_id=str(login.id))
    assert chat.send_many([live])[0][1] is True
    login_sessions.end(login.id)
    db.session.commit()
    ended = chat.draft(session.id, user.id, "late-1", "after the logout", login_id=str(login.id))
    assert isinstance(chat.send_many([ended])[0], NotAuthenticated)
    db.session.rollback()
