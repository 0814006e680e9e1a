"""Security headers on every page, HTTPS when configured, cookies, and templates the CSP can serve."""

import re
from pathlib import Path

import pytest

from webapp import create_app
from webapp.config import TestConfig

TEMPLATES = Path(__file__).resolve().parents[2] / "webapp" / "templates"


def test_every_page_carries_a_strict_policy_and_the_hardening_headers(client):
    for path in ("/astrologers", "/auth/login", "/healthz", "/no-such-page"):
        headers = client.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "object-src 'none'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp and "*" not in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert headers["X-Frame-Options"] == "DENY"
        assert "Strict-Transport-Security" not in headers  # plain HTTP here: HSTS means nothing


def test_the_session_cookie_is_httponly_and_lax(client, auth, make_user):
    make_user(email="cookie@example.com")
    response = auth.login("cookie@example.com")
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


@pytest.fixture
def https_app(database_url):
    return create_app(TestConfig(database_url, FORCE_HTTPS=True, SESSION_COOKIE_SECURE=True))


def test_with_force_https_http_is_redirected_and_https_gets_hsts_and_secure_cookies(https_app, app, client):
    browser = https_app.test_client()
    plain = browser.get("/auth/login")
    assert plain.status_code in (301, 302) and plain.headers["Location"].startswith("https://")
    secure = browser.get("/auth/login", base_url="https://localhost")
    assert secure.status_code == 200 and "max-age=" in secure.headers["Strict-Transport-Security"]
    cookie = next(c for c in secure.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "Secure" in cookie and "HttpOnly" in cookie
    # The other app keeps its own settings.
    assert client.get("/auth/login").status_code == 200


def test_no_template_has_inline_script_style_or_handlers():
    """Pages only: e-mail (templates/email/) is read in mail clients, which need inline styles, and
    never served under this site's policy."""
    offenders = []
    for template in TEMPLATES.rglob("*.html"):
        if template.is_relative_to(TEMPLATES / "email"):
            continue
        text = template.read_text()
        # A JSON data block (the scripts' catalog) is data the browser never runs; any other inline script is.
        inline_script = r'<script(?![^>]*\b(?:src=|type="application/json"))[^>]*>'
        for pattern in (inline_script, r"<style\b", r"\sstyle=", r"\son[a-z]+="):
            offenders += [f"{template.relative_to(TEMPLATES)}: {m}" for m in re.findall(pattern, text)]
    assert offenders == []


def test_behind_a_proxy_the_client_address_comes_from_x_forwarded_for(database_url):
    proxied = create_app(TestConfig(database_url, PROXY_HOPS=1)).test_client()
    assert proxied.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"}).status_code == 200
    # nginx itself is 127.0.0.1, but the client it forwards for is not on the allowlist
    assert proxied.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 403
    secure = proxied.get("/healthz", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"})
    assert secure.status_code == 200


def test_an_error_that_escapes_every_handler_is_a_plain_500_without_internals(app, client, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("secret internals at /srv/app/webapp/error_pages.py")

    monkeypatch.setattr("webapp.error_pages.error_response", broken)  # the error page itself fails
    response = client.get("/no-such-page")
    body = response.get_data(as_text=True)
    assert response.status_code == 500 and response.mimetype == "text/plain"
    assert "Something went wrong on our side" in body and "secret" not in body and "Traceback" not in body


def test_the_servers_own_debug_output_is_off_and_refused_in_production():
    from webapp.config import Config, ConfigError

    assert Config({}).SERVER_DEBUG is False
    assert Config({"SERVER_DEBUG": "1"}).SERVER_DEBUG is True  # development only, asked for by name
    with pytest.raises(ConfigError, match="SERVER_DEBUG"):
        Config(
            {"APP_ENV": "production", "SECRET_KEY": "x" * 32, "SERVER_DEBUG": "1",
             "PUBLIC_URL": "https://astro.example.com"}
        )  # fmt: skip


def _proxied_app(database_url, **environ):
    from webapp.config import TestConfig

    return create_app(TestConfig(database_url, environ={"PROXY_HOPS": "1", **environ}))


def test_behind_a_proxy_a_forwarded_host_is_ignored_without_a_trusted_host_list(database_url):
    client = _proxied_app(database_url).test_client()
    response = client.get("/", headers={"X-Forwarded-Host": "evil.example", "Host": "astro.example.com"})
    assert response.status_code in (301, 302, 308) and "evil.example" not in response.headers["Location"]


def test_with_a_public_url_only_its_host_is_accepted(database_url):
    client = _proxied_app(database_url, PUBLIC_URL="https://astro.example.com").test_client()
    ok = client.get("/", headers={"X-Forwarded-Host": "astro.example.com", "X-Forwarded-Proto": "https"})
    assert ok.status_code in (301, 302, 308) and ok.headers["Location"].startswith(("/", "https://astro.example.com"))
    assert client.get("/", headers={"X-Forwarded-Host": "evil.example"}).status_code == 400
    assert client.get("/", headers={"Host": "evil.example"}).status_code == 400
