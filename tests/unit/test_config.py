"""Configuration: defaults, parsing, and a clear error naming the variable for bad values."""

from decimal import Decimal

import pytest

from webapp import create_app
from webapp.config import Config, ConfigError, TestConfig


def test_defaults_match_the_contract():
    config = Config({})
    assert config.HOST == "127.0.0.1" and config.PORT == 5000
    assert config.SOCKETIO_ASYNC_MODE == "eventlet"
    assert (config.BILLING_MINUTE_SECONDS, config.BILLING_POLL_SECONDS) == (60, 1)
    assert config.RUN_BILLING_IN_PROCESS is True
    assert (config.MIN_START_MINUTES, config.LOW_BALANCE_MINUTES, config.FREE_FIRST_MINUTES) == (5, 2, 0)
    assert config.PLATFORM_COMMISSION_PERCENT == 30
    assert (config.ACCEPT_TIMEOUT_SECONDS, config.NO_REPLY_SECONDS) == (300, 180)
    assert (config.RECONNECT_GRACE_SECONDS, config.DOWNTIME_GRACE_SECONDS) == (90, 30)
    assert config.CURRENCY == "INR"
    assert (config.TOPUP_MIN, config.TOPUP_MAX) == (Decimal("50"), Decimal("100000"))
    assert config.PAYMENT_PROVIDER == "demo" and config.PAYMENT_WEBHOOK_SECRET
    assert config.SYNC_SECRET is None and config.HANDOFF_JWT_SECRET is None
    assert config.REDIS_URL is None and config.DATABASE_URL is None
    assert len(config.SECRET_KEY) >= 32


def test_development_secret_key_is_random_per_start():
    assert Config({}).SECRET_KEY != Config({}).SECRET_KEY


def test_values_are_parsed_from_the_environment():
    config = Config(
        {
            "PORT": "8080",
            "SOCKETIO_ASYNC_MODE": "threading",
            "RUN_BILLING_IN_PROCESS": "0",
            "TOPUP_MIN": "99.50",
            "PLATFORM_COMMISSION_PERCENT": "25",
            "DATABASE_URL": "postgres://u@h/db",
            "SYNC_SECRET": "s",
        }
    )
    assert config.PORT == 8080
    assert config.SOCKETIO_ASYNC_MODE == "threading"
    assert config.RUN_BILLING_IN_PROCESS is False
    assert config.TOPUP_MIN == Decimal("99.50") and isinstance(config.TOPUP_MIN, Decimal)
    assert config.PLATFORM_COMMISSION_PERCENT == 25
    assert config.DATABASE_URL == "postgresql://u@h/db"
    assert config.SYNC_SECRET == "s"


#: The smallest complete production settings: a real gateway and SMS provider, the seller on invoices.
PRODUCTION = {
    "APP_ENV": "production",
    "SECRET_KEY": "k",
    "PUBLIC_URL": "https://a.example",
    "SMS_PROVIDER": "msg91",
    "MSG91_AUTH_KEY": "k",
    "MSG91_TEMPLATE_ID": "t",
    "PAYMENT_PROVIDER": "razorpay",
    "RAZORPAY_KEY_ID": "rzp_live_x",
    "RAZORPAY_KEY_SECRET": "s",
    "RAZORPAY_WEBHOOK_SECRET": "w",
    "SELLER_NAME": "AstroConsult Private Limited",
    "SELLER_ADDRESS": "1 Residency Road, Bengaluru 560025",
    "SELLER_GSTIN": "29AABCA1234C1ZB",
}


@pytest.mark.parametrize(
    "environ, names",
    [
        ({"PORT": "abc"}, "PORT"),
        ({"PORT": "70000"}, "PORT"),
        ({"BILLING_MINUTE_SECONDS": "0"}, "BILLING_MINUTE_SECONDS"),
        ({"PLATFORM_COMMISSION_PERCENT": "101"}, "PLATFORM_COMMISSION_PERCENT"),
        ({"RUN_BILLING_IN_PROCESS": "maybe"}, "RUN_BILLING_IN_PROCESS"),
        ({"SOCKETIO_ASYNC_MODE": "asyncio"}, "SOCKETIO_ASYNC_MODE"),
        ({"TOPUP_MIN": "ten"}, "TOPUP_MIN"),
        ({"TOPUP_MIN": "10.005"}, "TOPUP_MIN"),
        ({"TOPUP_MIN": "500", "TOPUP_MAX": "100"}, "TOPUP_MIN"),
        ({"CURRENCY": "rupees"}, "CURRENCY"),
        ({"APP_ENV": "staging"}, "APP_ENV"),
        ({"HANDOFF_JWT_SECRET": "short"}, "HANDOFF_JWT_SECRET"),
        ({"ICE_SERVERS": "stun:stun.example.com"}, "ICE_SERVERS"),
        ({"ICE_SERVERS": '{"urls": "stun:x"}'}, "ICE_SERVERS"),
        ({"ICE_SERVERS": '[{"urls": "http://x"}]'}, "ICE_SERVERS"),
        ({"ICE_SERVERS": '[{"urls": []}]'}, "ICE_SERVERS"),
        ({"ICE_SERVERS": '[{"urls": "turn:x", "credential": 5}]'}, "ICE_SERVERS"),
        ({"APP_ENV": "production"}, "SECRET_KEY"),
        ({"APP_ENV": "production", "SECRET_KEY": "k"}, "PUBLIC_URL"),
        ({"APP_ENV": "production", "SECRET_KEY": "k", "PUBLIC_URL": "https://a.example"}, "SMS_PROVIDER"),
        ({**PRODUCTION, "PAYMENT_PROVIDER": "demo"}, "PAYMENT_PROVIDERS: the demo provider"),
        ({**PRODUCTION, "SELLER_GSTIN": ""}, "SELLER_NAME, SELLER_ADDRESS and SELLER_GSTIN"),
        ({**PRODUCTION, "RAZORPAY_WEBHOOK_SECRET": ""}, "RAZORPAY_KEY_ID, _KEY_SECRET and _WEBHOOK_SECRET"),
        ({"PAYMENT_PROVIDERS": "demo,paypal"}, "PAYMENT_PROVIDERS"),
        ({"SELLER_GSTIN": "29AABCA1234C1ZA"}, "SELLER_GSTIN"),  # a wrong check digit
        ({"INVOICE_PREFIX": "ASTRO"}, "INVOICE_PREFIX"),
        ({"RAZORPAY_API_BASE": "api.razorpay.com"}, "RAZORPAY_API_BASE"),
        ({"SMS_PROVIDER": "msg91", "MSG91_AUTH_KEY": "k"}, "MSG91_TEMPLATE_ID"),
        ({"PUBLIC_URL": "astro.example.com"}, "PUBLIC_URL"),
        ({"PUBLIC_URL": "https://astro.example.com/app"}, "PUBLIC_URL"),
    ],
)
def test_bad_values_fail_at_start_naming_the_variable(environ, names):
    with pytest.raises(ConfigError, match=names):
        Config(environ)


def test_production_marks_cookies_secure():
    config = Config(PRODUCTION)
    assert config.SESSION_COOKIE_SECURE is True and config.REMEMBER_COOKIE_SECURE is True
    assert Config({}).SESSION_COOKIE_SECURE is False


def test_factory_builds_an_app_with_every_feature(app):
    for endpoint in (
        "auth.register",
        "auth.login",
        "auth.logout",
        "astrologers.index",
        "health.healthz",
        "health.readyz",
    ):
        assert endpoint in app.view_functions
    assert app.config["TESTING"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert "seed-demo" in app.cli.commands


def test_factory_defaults_to_sqlite_in_the_instance_folder(tmp_path, monkeypatch):
    app = create_app(TestConfig(None))
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("instance/astroconsult.db")


def test_ice_servers_are_read_as_the_browsers_take_them():
    servers = (
        '[{"urls": "stun:stun.example.com:3478"}, {"urls": ["turn:t.example.com"], "username": "u", "credential": "p"}]'
    )
    assert Config({"ICE_SERVERS": servers}).ICE_SERVERS == [
        {"urls": "stun:stun.example.com:3478"},
        {"urls": ["turn:t.example.com"], "username": "u", "credential": "p"},
    ]
    assert Config({}).ICE_SERVERS == []  # host candidates only
