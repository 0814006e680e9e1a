""" "Continue with phone" as a person uses it: a code by SMS (the console provider's log line, and MSG91's
Flow API against a stand-in server the test starts), signed in, a new number making an account; the
limits that stop a guesser; a new number on the account proven by a code."""

import json
import logging
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from webapp.extensions import db
from webapp.models import PhoneCode, User, utcnow
from webapp.services.errors import CodeInvalid, CodeLimit, CodeTooSoon
from webapp.services.notifications import sms
from webapp.services.users import phone_codes

from ..conftest import AuthActions
from . import test_receipts

inbox = test_receipts.inbox  # the SMTP server the receipts' tests start, as a fixture here too


def _post(client, path, **data):
    return client.post(path, data={"csrf_token": AuthActions(client).csrf_token(), **data})


def _last_code(app, number):
    with app.app_context():
        return next(code for phone, code in sms.console_codes() if phone == number)


def test_a_new_number_gets_a_code_and_becomes_an_account(app, client, caplog):
    with caplog.at_level(logging.INFO, logger=app.logger.name):
        page = _post(client, "/auth/phone", phone="98123 45678")
    assert page.status_code == 200 and "We sent a 6-digit code to +91 ••••• •5678" in page.get_data(as_text=True)
    code = _last_code(app, "+919812345678")
    assert f"one-time code for +919812345678: {code}" in caplog.text
    wrong = _post(client, "/auth/phone/verify", phone="+919812345678", code="000000" if code != "000000" else "111111")
    assert wrong.status_code == 422 and "4 tries left" in wrong.get_data(as_text=True)
    nameless = _post(client, "/auth/phone/verify", phone="+919812345678", code=code)
    assert nameless.status_code == 422 and "tell us your name" in nameless.get_data(as_text=True)
    done = _post(client, "/auth/phone/verify", phone="+919812345678", code=code, name="Ravi Kumar")
    assert done.status_code == 303
    user = db.session.execute(db.select(User).filter_by(phone="+919812345678")).scalar_one()
    assert user.name == "Ravi Kumar" and user.email is None and user.password_hash is None
    assert client.get("/wallet").status_code == 200
    assert _post(app.test_client(), "/auth/phone/verify", phone="+919812345678", code=code, name="X").status_code == 422


def test_a_known_number_signs_in_to_its_account(app, make_user):
    person = make_user(email="withphone@example.com", phone="+919800000123")
    client = app.test_client()
    _post(client, "/auth/phone", phone="+91 98000 00123")
    done = _post(client, "/auth/phone/verify", phone="+919800000123", code=_last_code(app, "+919800000123"))
    assert done.status_code == 303
    assert client.get("/auth/account/security").get_data(as_text=True).count(person.email) >= 1


def test_five_wrong_codes_kill_the_code_and_the_day_limit_stops_more(app, monkeypatch):
    now = utcnow()
    number = phone_codes.send("9811122233", "sign_in", ip_address="10.0.0.1", now=now)
    db.session.commit()
    for left in (4, 3, 2, 1):
        with pytest.raises(CodeInvalid, match=f"{left} tries left"):
            phone_codes.check(number, "sign_in", "999999" if _last_code(app, number) != "999999" else "888888", now=now)
    with pytest.raises(CodeInvalid, match="Too many wrong codes"):
        phone_codes.check(number, "sign_in", "999999" if _last_code(app, number) != "999999" else "888888", now=now)
    with pytest.raises(CodeInvalid):  # even the right code, now
        phone_codes.check(number, "sign_in", _last_code(app, number), now=now)
    assert db.session.execute(db.select(PhoneCode.attempts)).scalar_one() == 5  # each try was kept
    with pytest.raises(CodeTooSoon):
        phone_codes.send(number, "sign_in", now=now + timedelta(seconds=20))
    monkeypatch.setitem(app.config, "SMS_DAILY_PER_NUMBER", 3)
    phone_codes.send(number, "sign_in", now=now + timedelta(seconds=31))
    phone_codes.send(number, "sign_in", now=now + timedelta(seconds=62))
    with pytest.raises(CodeLimit):
        phone_codes.send(number, "sign_in", now=now + timedelta(seconds=93))
    phone_codes.send(number, "sign_in", now=now + timedelta(days=1, seconds=1))  # a new day


def test_a_code_expires_after_ten_minutes(app):
    now = utcnow()
    number = phone_codes.send("9811122244", "sign_in", now=now)
    with pytest.raises(CodeInvalid):
        phone_codes.check(number, "sign_in", _last_code(app, number), now=now + timedelta(minutes=10))


def test_asking_again_within_30_seconds_is_refused_with_the_wait(app, client):
    _post(client, "/auth/phone", phone="9811122255")
    again = _post(client, "/auth/phone", phone="9811122255", code_form="1")
    assert again.status_code == 429 and "You can ask for another in" in again.get_data(as_text=True)


def test_bad_numbers_get_a_form_error(app, client):
    for typed in ("12345", "not a number", "+1 555 0100", "9" * 40):
        response = _post(client, "/auth/phone", phone=typed)
        assert response.status_code == 422 and "country code" in response.get_data(as_text=True), typed
    assert db.session.execute(db.select(db.func.count(PhoneCode.id))).scalar_one() == 0


def test_codes_asked_for_from_one_network_are_limited(app, client):
    statuses = [_post(client, "/auth/phone", phone=f"98111222{n:02d}").status_code for n in range(6)]
    assert statuses == [200] * 5 + [429]


def test_the_development_page_lists_console_codes_and_production_has_none(app, client, monkeypatch):
    _post(client, "/auth/phone", phone="9811122266")
    assert _last_code(app, "+919811122266") in client.get("/auth/phone/dev-codes").get_data(as_text=True)
    monkeypatch.setitem(app.config, "APP_ENV", "production")
    assert client.get("/auth/phone/dev-codes").status_code == 404


def test_a_new_number_on_the_account_is_proven_by_a_code(app, make_user, auth):
    user = make_user(email="mover@example.com", phone="+919800000777")
    make_user(email="other@example.com", phone="+919800000888")
    auth.login("mover@example.com")
    sent = _post(auth.client, "/auth/account/phone", phone="98000 00999")
    assert sent.status_code == 200 and "We sent a 6-digit code to +91 ••••• •0999" in sent.get_data(as_text=True)
    wrong = _post(auth.client, "/auth/account/phone", phone="+919800000999", code="12345x")
    assert wrong.status_code == 422
    done = _post(auth.client, "/auth/account/phone", phone="+919800000999", code=_last_code(app, "+919800000999"))
    assert done.status_code == 303 and db.session.get(User, user.id).phone == "+919800000999"
    _post(auth.client, "/auth/account/phone", phone="+919800000888")
    taken = _post(auth.client, "/auth/account/phone", phone="+919800000888", code=_last_code(app, "+919800000888"))
    assert taken.status_code == 409 and "already exists" in taken.get_data(as_text=True)


class _Msg91(BaseHTTPRequestHandler):
    """MSG91's Flow API as documented: POST /api/v5/flow/ with an authkey header and a JSON body."""

    received, answer = [], {"type": "success", "message": "3763646c3058373530393831"}

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).received.append((self.path, self.headers["authkey"], body))
        data = json.dumps(type(self).answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def msg91(app, monkeypatch):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Msg91)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Msg91.received, _Msg91.answer = [], {"type": "success", "message": "ok"}
    monkeypatch.setitem(app.config, "SMS_PROVIDER", "msg91")
    monkeypatch.setitem(app.config, "MSG91_API_BASE", f"http://127.0.0.1:{server.server_port}")
    monkeypatch.setitem(app.config, "MSG91_AUTH_KEY", "test-auth-key")
    monkeypatch.setitem(app.config, "MSG91_TEMPLATE_ID", "otp-template")
    yield _Msg91
    server.shutdown()


def test_msg91_receives_the_code_and_nothing_is_logged(app, client, msg91, caplog):
    with caplog.at_level(logging.DEBUG):
        assert _post(client, "/auth/phone", phone="98111 22277").status_code == 200
    ((path, key, body),) = msg91.received
    code = body["recipients"][0]["otp"]
    assert path == "/api/v5/flow/" and key == "test-auth-key" and body["template_id"] == "otp-template"
    assert body["recipients"][0]["mobiles"] == "919811122277" and len(code) == 6
    assert code not in caplog.text
    done = _post(client, "/auth/phone/verify", phone="+919811122277", code=code, name="Sita Devi")
    assert done.status_code == 303


def test_a_provider_refusal_is_said_plainly_and_keeps_nothing(app, client, msg91):
    msg91.answer = {"type": "error", "message": "Invalid authkey"}
    refused = _post(client, "/auth/phone", phone="98111 22288")
    assert refused.status_code == 503 and "could not send a text message" in refused.get_data(as_text=True)
    assert "authkey" not in refused.get_data(as_text=True)
    assert db.session.execute(db.select(db.func.count(PhoneCode.id))).scalar_one() == 0


def test_a_number_typed_at_someone_elses_sign_up_goes_to_whoever_proves_it(app, make_user, inbox, queued):
    squatter = make_user(email="squatter@example.com", phone="+919800004444", verified=False)
    squatter.email_verified_at = utcnow()  # their address is theirs; the number never was
    db.session.commit()
    client = app.test_client()
    _post(client, "/auth/phone", phone="+91 98000 04444")
    code = _last_code(app, "+919800004444")
    told = _post(client, "/auth/phone/verify", phone="+919800004444", code=code, name="Real Owner")
    page = told.get_data(as_text=True)
    assert told.status_code == 422 and "never confirmed it. If that account is yours, log in" in page
    assert 'name="claim"' in page and db.session.get(User, squatter.id).phone == "+919800004444"  # nothing yet
    done = _post(client, "/auth/phone/verify", phone="+919800004444", code=code, name="Real Owner", claim="y")
    assert done.status_code == 303
    db.session.expire_all()
    owner = db.session.execute(db.select(User).filter_by(phone="+919800004444")).scalar_one()
    assert owner.name == "Real Owner" and owner.phone_verified_at is not None
    assert db.session.get(User, squatter.id).phone is None  # nobody keeps a number by typing it first
    from webapp.services import jobs

    for delivery_id in queued:
        jobs.perform(delivery_id)
    ((to, message),) = inbox.messages
    assert to == ["squatter@example.com"] and "removed from your AstroConsult account" in message["Subject"]


def test_a_proven_number_signs_in_to_its_account_and_a_sign_up_number_is_confirmed_from_the_page(app, make_user):
    keeper = make_user(email="keeper@example.com", phone="+919800005555", verified=False)
    client = app.test_client()
    AuthActions(client).login("keeper@example.com")
    page = client.get("/auth/account/security").get_data(as_text=True)
    assert "not confirmed yet: confirm it with a code below" in page and 'value="+919800005555"' in page
    _post(client, "/auth/account/phone", phone="+919800005555")
    assert _post(client, "/auth/account/phone", phone="+919800005555",
                 code=_last_code(app, "+919800005555")).status_code == 303  # fmt: skip
    assert db.session.get(User, keeper.id).phone_verified_at is not None
    other = app.test_client()
    _post(other, "/auth/phone", phone="+919800005555")
    _post(other, "/auth/phone/verify", phone="+919800005555", code=_last_code(app, "+919800005555"))
    assert "keeper@example.com" in other.get("/auth/account/security").get_data(as_text=True)
