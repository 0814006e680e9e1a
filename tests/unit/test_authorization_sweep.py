"""Who may do what, for every route and every Socket.IO event.

The routes come from app.url_map, so a new route without a rule here fails the sweep until
someone decides who may use it. Each (route, actor) pair runs on a fresh world: a user with an
active session with an astrologer, their top-up order, the astrologer's payout, and people with
no part in any of it. "ok" is any answer past the guards (a page, a redirect that is not to the
login, a form or state error); "login" is the redirect to the login page; "forbidden" is 403;
"hidden" is 404, which is how another person's objects answer.
"""

import io
import uuid

import pytest
from PIL import Image
from werkzeug.datastructures import FileStorage

from webapp import create_app
from webapp.config import TestConfig
from webapp.extensions import db, socketio
from webapp.models import SafetyFlag, UserType, utcnow
from webapp.services import wallet
from webapp.services.messaging import attachments
from webapp.services.money import invoices, payments, payouts

from ..conftest import AuthActions
from ..hindi import english_left

ACTORS = ("anonymous", "user", "other_user", "astrologer", "other_astrologer", "admin")
OK, LOGIN, FORBIDDEN, HIDDEN, UNSIGNED = "ok", "login", "forbidden", "hidden", "unsigned"

EVERYONE = dict.fromkeys(ACTORS, OK)
LOGGED_IN = {**dict.fromkeys(ACTORS, OK), "anonymous": LOGIN}
ADMIN_ONLY = {**dict.fromkeys(ACTORS, FORBIDDEN), "anonymous": LOGIN, "admin": OK}
ASTROLOGERS = {**dict.fromkeys(ACTORS, FORBIDDEN), "anonymous": LOGIN, "astrologer": OK, "other_astrologer": OK}
# The session's own astrologer acts on it; another astrologer finds nothing there.
THE_ASTROLOGER = {**ASTROLOGERS, "other_astrologer": HIDDEN}
PARTICIPANTS = {**dict.fromkeys(ACTORS, HIDDEN), "anonymous": LOGIN, "user": OK, "astrologer": OK}
THE_USER = {**dict.fromkeys(ACTORS, HIDDEN), "anonymous": LOGIN, "user": OK}
END_USERS = {**dict.fromkeys(ACTORS, FORBIDDEN), "anonymous": LOGIN, "user": OK, "other_user": OK}
MACHINES = dict.fromkeys(ACTORS, UNSIGNED)  # a signature, never a login, lets a request in

RULES = {
    ("GET", "astrologers.home"): EVERYONE,
    ("GET", "astrologers.index"): EVERYONE,
    ("GET", "astrologers.profile"): EVERYONE,
    ("GET", "static"): EVERYONE,
    ("GET", "health.healthz"): EVERYONE,
    ("GET", "health.readyz"): EVERYONE,
    ("GET", "metrics"): EVERYONE,  # guarded by address or token instead (tests/unit/test_observability.py)
    ("GET", "api.openapi"): EVERYONE,
    ("GET", "auth.login"): EVERYONE,
    ("POST", "auth.login"): EVERYONE,
    ("GET", "auth.register"): EVERYONE,
    ("POST", "auth.register"): EVERYONE,
    ("GET", "auth.handoff"): {**dict.fromkeys(ACTORS, FORBIDDEN)},  # no valid token: refused for all
    ("POST", "auth.logout"): dict.fromkeys(ACTORS, LOGIN),  # everyone ends on the login page
    ("POST", "auth.logout_everywhere"): dict.fromkeys(ACTORS, LOGIN),  # every login session ended, then the login page
    ("GET", "auth.account"): LOGGED_IN,
    ("POST", "auth.account"): LOGGED_IN,
    ("POST", "auth.time_zone"): LOGGED_IN,
    ("POST", "auth.language"): EVERYONE,  # a visitor's choice is a cookie, a person's is on the account
    ("POST", "auth.onboarding_done"): LOGGED_IN,
    ("GET", "kundli.mine"): LOGGED_IN,
    ("POST", "auth.email_preferences"): LOGGED_IN,
    # Getting back in: the links' tokens are the authority (a bad one is 410 for everyone).
    ("GET", "auth.forgot"): EVERYONE,
    ("POST", "auth.forgot"): EVERYONE,
    ("GET", "auth.reset"): EVERYONE,
    ("POST", "auth.reset"): EVERYONE,
    ("GET", "auth.confirm_email"): EVERYONE,
    ("POST", "auth.confirm_email"): EVERYONE,
    ("GET", "auth.not_me"): EVERYONE,
    ("POST", "auth.not_me"): EVERYONE,
    ("POST", "auth.resend_verification"): LOGGED_IN,
    ("GET", "auth.phone"): EVERYONE,
    ("POST", "auth.phone"): EVERYONE,
    ("POST", "auth.phone_verify"): EVERYONE,
    ("GET", "auth.phone_dev_codes"): EVERYONE,  # development only (the sweep's APP_ENV); 404 in production
    ("GET", "auth.security"): LOGGED_IN,
    ("POST", "auth.change_name"): LOGGED_IN,
    ("POST", "auth.change_password"): LOGGED_IN,
    ("POST", "auth.change_email"): LOGGED_IN,
    ("POST", "auth.change_phone"): LOGGED_IN,
    ("POST", "auth.end_device"): LOGGED_IN,  # another's device, or none, changes nothing
    ("POST", "auth.delete_account"): LOGGED_IN,  # without the password: a form error
    ("POST", "auth.export_data"): LOGGED_IN,
    ("GET", "auth.download_export"): {**dict.fromkeys(ACTORS, HIDDEN), "anonymous": LOGIN},  # nobody's copy
    ("POST", "auth.withdraw_ai_consent"): LOGGED_IN,
    # The signed token is the authority, not a login: without a valid one, 404 for everyone.
    ("GET", "auth.email_unsubscribe"): dict.fromkeys(ACTORS, HIDDEN),
    ("POST", "auth.email_unsubscribe"): dict.fromkeys(ACTORS, HIDDEN),
    # Following: users follow astrologers (others are refused); the astrologer_id names one.
    ("POST", "astrologers.follow"): {**END_USERS},
    ("POST", "astrologers.unfollow"): {**END_USERS},
    ("GET", "astrologers.following"): LOGGED_IN,
    # "Describe your concern": with no AI configured (the sweep's world) there is no matching, for anyone.
    ("POST", "astrologers.match"): {**dict.fromkeys(ACTORS, HIDDEN), "anonymous": LOGIN},
    ("GET", "astrologers.match_result"): {**dict.fromkeys(ACTORS, HIDDEN), "anonymous": LOGIN},
    ("GET", "notifications.index"): LOGGED_IN,
    ("POST", "notifications.read"): LOGGED_IN,
    ("POST", "push.subscribe"): LOGGED_IN,  # 422 without a subscription in the body: past the guards
    ("DELETE", "push.unsubscribe"): LOGGED_IN,
    ("GET", "push.service_worker"): EVERYONE,
    ("POST", "kundli.settings"): LOGGED_IN,
    ("GET", "kundli.place_options"): LOGGED_IN,
    # Nobody in the world has given birth details: the signed-in person's own chart is a 404 for all.
    ("GET", "kundli.as_json"): {**dict.fromkeys(ACTORS, HIDDEN), "anonymous": LOGIN},
    ("POST", "api.sync_users"): MACHINES,
    ("POST", "payments.webhook"): MACHINES,
    ("GET", "wallet.index"): LOGGED_IN,
    ("GET", "wallet.balance"): LOGGED_IN,
    ("GET", "wallet.transactions"): LOGGED_IN,
    ("POST", "wallet.topup"): LOGGED_IN,
    ("GET", "payments.checkout"): THE_USER,
    ("POST", "payments.demo_checkout_submit"): THE_USER,
    # Razorpay's handler posts its signed fields (none here: a 400 for anyone signed in); Stripe sends the
    # payer back with its session id (none here: nothing to show anyone).
    ("POST", "payments.razorpay_callback"): LOGGED_IN,
    ("GET", "wallet.invoice"): {**THE_USER, "admin": OK},  # the buyer's tax invoice; admins read every one
    ("GET", "admin.tax"): ADMIN_ONLY,
    ("GET", "admin.topup_refund"): ADMIN_ONLY,
    ("POST", "admin.topup_refund_confirm"): ADMIN_ONLY,
    ("GET", "payments.stripe_return"): {**dict.fromkeys(ACTORS, HIDDEN), "anonymous": LOGIN},
    ("POST", "consultations.create"): END_USERS,
    ("GET", "consultations.history"): LOGGED_IN,
    ("GET", "consultations.show"): PARTICIPANTS,
    ("GET", "consultations.messages"): PARTICIPANTS,
    ("GET", "consultations.transcript"): PARTICIPANTS,
    ("POST", "consultations.end"): PARTICIPANTS,
    ("POST", "consultations.cancel"): THE_USER,  # the astrologer declines instead
    ("POST", "consultations.cap"): {**THE_USER, "astrologer": FORBIDDEN},  # the one who pays sets a limit
    ("POST", "consultations.rating"): {**THE_USER, "astrologer": FORBIDDEN},
    ("POST", "consultations.user_rating"): {**PARTICIPANTS, "user": FORBIDDEN},  # the astrologer rates the user
    ("POST", "consultations.upload"): PARTICIPANTS,
    # The user's AI summary: with no AI configured (the sweep's world) there is none, for anyone.
    ("GET", "consultations.ai_summary"): {**dict.fromkeys(ACTORS, HIDDEN), "anonymous": LOGIN},
    ("POST", "consultations.request_summary"): {**dict.fromkeys(ACTORS, HIDDEN), "anonymous": LOGIN},
    ("POST", "consultations.delete_summary"): {**dict.fromkeys(ACTORS, HIDDEN), "anonymous": LOGIN},
    ("GET", "attachments.download"): {**PARTICIPANTS, "admin": OK},
    ("GET", "attachments.thumbnail"): {**PARTICIPANTS, "admin": OK},
    ("GET", "dashboard.index"): ASTROLOGERS,
    ("GET", "dashboard.requests_panel"): ASTROLOGERS,
    ("GET", "dashboard.sessions"): ASTROLOGERS,
    ("POST", "dashboard.availability"): ASTROLOGERS,
    ("POST", "dashboard.profile"): ASTROLOGERS,
    ("POST", "dashboard.payouts"): ASTROLOGERS,
    ("GET", "dashboard.earnings_page"): ASTROLOGERS,
    ("POST", "dashboard.accept"): THE_ASTROLOGER,
    ("POST", "dashboard.decline"): THE_ASTROLOGER,
    ("GET", "admin.index"): ADMIN_ONLY,
    ("GET", "admin.users"): ADMIN_ONLY,
    ("GET", "admin.user"): ADMIN_ONLY,
    ("POST", "admin.user_status"): ADMIN_ONLY,
    ("POST", "admin.approve_astrologer"): ADMIN_ONLY,
    ("GET", "admin.session"): ADMIN_ONLY,
    ("POST", "admin.refund"): ADMIN_ONLY,
    ("POST", "admin.refund_from"): ADMIN_ONLY,
    ("GET", "admin.audit"): ADMIN_ONLY,
    ("GET", "admin.payout"): ADMIN_ONLY,
    ("POST", "admin.payout_paid"): ADMIN_ONLY,
    ("GET", "admin.payouts"): ADMIN_ONLY,
    ("POST", "admin.approve_payout"): ADMIN_ONLY,
    ("POST", "admin.reject_payout"): ADMIN_ONLY,
    ("GET", "admin.billing_ledger"): ADMIN_ONLY,
    ("GET", "admin.wallet_ledger"): ADMIN_ONLY,
    ("GET", "admin.verify"): ADMIN_ONLY,
    ("GET", "admin.flags"): ADMIN_ONLY,
    ("POST", "admin.decide_flag"): ADMIN_ONLY,
}


def _routes():
    app = create_app(TestConfig("sqlite://"))
    return sorted(
        (method, rule.endpoint, rule.rule)
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
    )


ROUTES = _routes()


def test_every_route_has_a_rule():
    missing = [f"{method} {rule} ({endpoint})" for method, endpoint, rule in ROUTES if (method, endpoint) not in RULES]
    stale = sorted(set(RULES) - {(method, endpoint) for method, endpoint, _ in ROUTES})
    assert missing == [] and stale == [], "decide who may use each route in RULES"


@pytest.fixture
def world(app, consult, make_user, earn, monkeypatch):
    monkeypatch.setitem(app.config, "SYNC_SECRET", "sweep-sync-secret")
    astrologer = consult.astrologer(email="astro@example.com")
    other_astrologer = consult.astrologer(email="other-astro@example.com")
    user = consult.user(email="user@example.com")
    consult.user(email="other-user@example.com")
    make_user(email="admin@example.com", type=UserType.ADMIN)
    session = consult.accept(consult.request(user, astrologer))
    paid, paid_checkout = payments.start_topup(user.id, "100")
    payments.demo_checkout(paid_checkout.order_id, "pay", user.id)  # its tax invoice is the user's
    _, checkout = payments.start_topup(user.id, "100")
    earn(astrologer, "600.00")
    payout = payouts.request_payout(wallet.wallet_of(astrologer.id).id, "500", payout_id=uuid.uuid4())
    db.session.commit()  # a transaction of its own, as in the product: a send locks the session
    photo = io.BytesIO()
    Image.new("RGB", (8, 8)).save(photo, "PNG")
    photo.seek(0)
    message, _ = attachments.send(session.id, user.id, None, FileStorage(photo, "palm.png"), utcnow())
    db.session.commit()
    flag = SafetyFlag(
        session_id=session.id, astrologer_id=astrologer.id, source="rules", rule="contact_outside",
        reason="Moves the user to contact outside the platform.", passages=[], status="open",
    )  # fmt: skip
    db.session.add(flag)
    db.session.commit()
    return dict(
        session_id=session.id,
        user_id=user.id,
        astrologer_id=astrologer.id,
        other_astrologer_id=other_astrologer.id,
        payout_id=payout.id,
        flag_id=flag.id,
        match_id=uuid.uuid4(),
        attachment_id=message.message_metadata["attachment_id"],
        minute=1,
        order_id=checkout.order_id,
        provider_name="demo",
        invoice_id=invoices.invoice_of(paid.id).id,
        topup_id=paid.id,
        filename="css/app.css",
        token="not-a-signed-token",
        login_id=uuid.uuid4(),
    )


EMAILS = {
    "user": "user@example.com",
    "other_user": "other-user@example.com",
    "astrologer": "astro@example.com",
    "other_astrologer": "other-astro@example.com",
    "admin": "admin@example.com",
}


def _outcome(response):
    if response.status_code in (301, 302, 303) and "/auth/login" in response.headers.get("Location", ""):
        return LOGIN
    return {401: UNSIGNED, 403: FORBIDDEN, 404: HIDDEN}.get(response.status_code, OK)


def _unsigned(response):
    """Machine endpoints refuse a request without a valid signature: 401, or 400 for the payment
    provider's webhook, whose body is checked with its signature."""
    return UNSIGNED if response.status_code in (400, 401) else _outcome(response)


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("method, endpoint, rule", ROUTES, ids=[f"{m} {r}" for m, _, r in ROUTES])
def test_each_actor_gets_exactly_what_the_rule_says(app, client, world, method, endpoint, rule, actor):
    if (method, endpoint) not in RULES:
        pytest.skip("no rule yet: test_every_route_has_a_rule fails for it")
    auth = AuthActions(client)
    if actor != "anonymous":
        assert auth.login(EMAILS[actor]).status_code == 302
    with app.test_request_context():
        from flask import url_for

        arguments = {name: world[name] for name in app.url_map._rules_by_endpoint[endpoint][0].arguments}
        url = url_for(endpoint, **arguments)
    if method == "GET":
        response = client.get(url)
    else:
        response = client.open(url, method=method, data={"csrf_token": auth.csrf_token()})
    expected = RULES[(method, endpoint)][actor]
    outcome = _unsigned(response) if RULES[(method, endpoint)] is MACHINES else _outcome(response)
    assert outcome == expected, f"{actor} {method} {url}: {response.status_code}"
    assert response.status_code < 500


EVENTS = (
    "join_session",
    "send_message",
    "typing",
    "mark_read",
    "mark_delivered",
    "presence",
    "leave_session",
    "call_signal",
    "call_state",
)


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("event", EVENTS)
def test_socket_events_answer_participants_only(app, world, event, actor):
    http = app.test_client()
    if actor != "anonymous":
        AuthActions(http).login(EMAILS[actor])
    socket = socketio.test_client(app, flask_test_client=http)
    if actor == "anonymous":
        assert not socket.is_connected()  # no socket at all without a login
        return
    payload = {
        "session_id": str(world["session_id"]),
        "client_id": uuid.uuid4().hex,
        "content": "hello",
        "up_to_seq": 1,
        "kind": "ice",
        "data": None,
        "state": "connected",
    }
    if event != "join_session":  # every other event is for a session the socket has joined
        socket.emit("join_session", {"session_id": payload["session_id"], "after_seq": 0}, callback=True)
    ack = socket.emit(event, payload, callback=True)
    socket.disconnect()
    if actor in ("user", "astrologer") and event.startswith("call_"):
        assert ack["error"] == "not_a_call"  # let through to the session's own rules (this one is a chat)
    elif actor in ("user", "astrologer"):
        assert ack.get("ok") is True, ack
    else:
        assert ack == {"ok": False, "error": "session_not_found", "message": ack["message"]}


PAGES = [(method, endpoint, rule) for method, endpoint, rule in ROUTES if method == "GET" and endpoint != "static"]


@pytest.fixture
def hindi_first(app, monkeypatch):
    """Hindi the default, so everything the world's people are told while it is built (notifications,
    written in each person's language when told) is told in Hindi, as to people who chose it."""
    monkeypatch.setitem(app.config, "LANGUAGES", ["hi", "en"])


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("method, endpoint, rule", PAGES, ids=[f"{m} {r}" for m, _, r in PAGES])
def test_every_page_a_person_may_open_reads_in_hindi(app, client, hindi_first, world, method, endpoint, rule, actor):
    """Issue 41: with Hindi chosen, no English sentence is left on any page the sweep opens."""
    if RULES.get((method, endpoint), {}).get(actor) != OK:
        pytest.skip("not a page this actor opens")
    if actor != "anonymous":
        assert AuthActions(client).login(EMAILS[actor]).status_code == 302
    with app.test_request_context():
        from flask import url_for

        arguments = {name: world[name] for name in app.url_map._rules_by_endpoint[endpoint][0].arguments}
        url = url_for(endpoint, **arguments)
    response = client.get(url, headers={"Accept-Language": "hi"}, follow_redirects=True)
    page = response.mimetype == "text/html" and response.get_data(as_text=True)
    response.close()  # a file's answer holds it open until closed
    if not page:
        pytest.skip("not a page: machine output stays English")
    left = english_left(page)
    assert left == [], f"{actor} {url}: {left}"
