"""Configuration: every variable of CONTRACT.md, parsed and validated once, at start.

A bad value stops the app with a message naming the variable; nothing here
reads the environment after `create_app` has run. `Config` is development and
production (APP_ENV), `TestConfig` overrides the database and the clocks for
the test suite.
"""

import json
import os
import re
import secrets
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from stdnum.in_ import gstin


class ConfigError(RuntimeError):
    """A configuration variable is missing or malformed."""


DEV_WEBHOOK_SECRET = "dev-webhook-secret"
ASYNC_MODES = ("eventlet", "gevent", "threading")  # gevent: measured beside eventlet (bench/RESULTS.md)
APP_ENVS = ("development", "production")
#: The payment gateways (services/money/payments.py): `demo` pays inside this app, for development.
PAYMENT_PROVIDERS = ("demo", "razorpay", "stripe")
#: The made-up seller on a development server's tax invoices (a GSTIN of Karnataka with a valid check digit).
DEMO_SELLER = {
    "name": "AstroConsult Demo Private Limited",
    "address": "12 MG Road, Bengaluru, Karnataka 560001",
    "gstin": "29AABCA1234C1ZB",
}
#: The browsers' push services (PUSH_SERVICES' default): Chrome, Opera, Samsung Internet and Brave use
#: Firebase Cloud Messaging, Edge the Windows Push Notification Services, Firefox Mozilla's autopush,
#: Safari Apple's.
PUSH_SERVICES = (
    "https://fcm.googleapis.com",
    "https://updates.push.services.mozilla.com",
    "https://*.notify.windows.com",
    "https://*.push.apple.com",
)


#: The languages the product can speak: English (the source) and those with a complete catalog under
#: webapp/translations/ (`make lint` checks it). LANGUAGES lists those offered, the first the default.
KNOWN_LANGUAGES = ("en", "hi")


def _languages(raw):
    chosen = [code.strip() for code in raw.split(",") if code.strip()]
    unknown = [code for code in chosen if code not in KNOWN_LANGUAGES]
    if not chosen or unknown:
        raise ConfigError(f"LANGUAGES must list some of {', '.join(KNOWN_LANGUAGES)}, got {raw!r}")
    return list(dict.fromkeys(chosen))


class _Env:
    """Typed readers over one environment mapping; each error names its variable."""

    def __init__(self, environ):
        self.environ = environ

    def str(self, name, default=None):
        value = self.environ.get(name)
        if value is None or value.strip() == "":
            return default
        return value.strip()

    def int(self, name, default, minimum=None, maximum=None):
        raw = self.str(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
        self._check_range(name, value, minimum, maximum)
        return value

    def decimal(self, name, default, minimum=None, maximum=None):
        raw = self.str(name)
        if raw is None:
            return Decimal(default)
        try:
            value = Decimal(raw)
        except InvalidOperation:
            raise ConfigError(f"{name} must be a decimal amount, got {raw!r}") from None
        if not value.is_finite() or value != value.quantize(Decimal("0.01")):
            raise ConfigError(f"{name} must be an amount with at most 2 decimal places, got {raw!r}")
        self._check_range(name, value, minimum, maximum)
        return value

    def bool(self, name, default):
        raw = self.str(name)
        if raw is None:
            return default
        lowered = raw.lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{name} must be 1 or 0 (true/false), got {raw!r}")

    def choice(self, name, default, choices):
        value = self.str(name, default)
        if value not in choices:
            raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
        return value

    @staticmethod
    def _check_range(name, value, minimum, maximum):
        if minimum is not None and value < minimum:
            raise ConfigError(f"{name} must be at least {minimum}, got {value}")
        if maximum is not None and value > maximum:
            raise ConfigError(f"{name} must be at most {maximum}, got {value}")


ICE_SCHEMES = ("stun:", "turn:", "turns:")


def _ice_servers(text):
    """ICE_SERVERS: a JSON list of RTCIceServer objects ({"urls", optional "username", "credential"}),
    handed to the browsers of a call as is. Empty: host candidates only (calls on one network)."""
    try:
        servers = json.loads(text or "[]")
    except ValueError:
        raise ConfigError('ICE_SERVERS must be JSON, e.g. [{"urls": "stun:stun.example.com:3478"}]') from None
    if not isinstance(servers, list):
        raise ConfigError("ICE_SERVERS must be a JSON list of objects with urls")
    for server in servers:
        urls = server.get("urls") if isinstance(server, dict) else None
        urls = [urls] if isinstance(urls, str) else urls
        if not urls or not all(isinstance(url, str) and url.startswith(ICE_SCHEMES) for url in urls):
            raise ConfigError(
                f"ICE_SERVERS: each server needs urls starting with stun:, turn: or turns:, got {server!r}"
            )
        if any(not isinstance(server.get(key, ""), str) for key in ("username", "credential")):
            raise ConfigError("ICE_SERVERS: a server's username and credential must be text")
    return servers


def _timezone(name, value):
    """An IANA time zone name that this machine's zone database knows (zoneinfo, or the tzdata package)."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{name} must be an IANA time zone such as Asia/Kolkata, got {value!r}") from None
    return value


def _public_url(url):
    """PUBLIC_URL as an origin, scheme://host[:port], or None when unset; refused when it is not one."""
    if url is None:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/") or parts.query:
        raise ConfigError(f"PUBLIC_URL must be the site's origin, such as https://astro.example.com, got {url!r}")
    return f"{parts.scheme}://{parts.netloc}"


def _http_url(name, url):
    if not url.startswith(("https://", "http://")):
        raise ConfigError(f"{name} must be an http(s) URL, got {url!r}")
    return url.rstrip("/")


def _database_url(url):
    # Heroku-style URLs say postgres://, which SQLAlchemy 2 no longer accepts.
    if url and url.startswith("postgres://"):
        return "postgresql://" + url[len("postgres://") :]
    return url


class Config:
    """Settings read from the environment (os.environ unless a mapping is given)."""

    TESTING = False
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    MAX_CONTENT_LENGTH = 2 * 1024 * 1024
    #: Rate limits (Flask-Limiter strings; storage in Redis when REDIS_URL is set). Login is
    #: limited per address and, for failed attempts, per account (OWASP ASVS 2.2.1).
    RATELIMIT_LOGIN = "30 per minute"
    RATELIMIT_LOGIN_FAILURES_PER_ACCOUNT = "100 per hour"  # from browsers that never signed in to it
    RATELIMIT_LOGIN_FAILURES_PER_DEVICE = "10 per hour"  # from a known device of the account (its own count)
    RATELIMIT_REGISTER = "10 per hour"
    #: Sign-ups refused because the e-mail or phone already has an account (each tells that much).
    RATELIMIT_REGISTER_TAKEN = "5 per hour"
    #: Password reset mails: per address asking, and per e-mail address asked for.
    RATELIMIT_FORGOT = "10 per hour"
    RATELIMIT_FORGOT_PER_EMAIL = "3 per hour"
    #: SMS codes asked for, and codes tried, per client address (services/users/phone_codes.py adds the
    #: per-number limits and SMS_DAILY_PER_NUMBER / SMS_DAILY_PER_IP).
    RATELIMIT_PHONE_CODES = "5 per minute;20 per hour"
    RATELIMIT_PHONE_VERIFY = "20 per minute;100 per hour"
    #: Account changes that check a password or send a mail (e-mail, password, deletion, export).
    RATELIMIT_ACCOUNT_CHANGES = "10 per hour"
    RATELIMIT_TOPUP = "20 per hour"
    RATELIMIT_PAYMENT_CALLBACK = "30 per hour"  # Razorpay's checkout handing the page a payment
    RATELIMIT_CONSULTATION_REQUEST = "10 per minute;60 per hour"
    RATELIMIT_SYNC = "120 per minute"
    RATELIMIT_CHAT_MESSAGES = "5/second;60/minute"  # per socket
    RATELIMIT_CALL_SIGNALS = "50/second;600/minute"  # per socket: offers, answers, ICE candidates
    RATELIMIT_CHAT_RECEIPTS = "20/second;300/minute"  # per socket: mark_delivered and mark_read
    #: Uploads: each one also spends from RATELIMIT_CHAT_MESSAGES (per user: an upload is a chat message).
    RATELIMIT_ATTACHMENTS = "30 per hour"
    #: "Describe your concern": each search asks the language model once (services/ai/matching.py).
    RATELIMIT_AI_MATCHES = "10 per hour"
    #: Every Socket.IO event counts here, before any other check: per socket and per user across their
    #: sockets (an event over either is refused with rate_limited), and a flood limit per socket counting
    #: refused events too, past which the socket is disconnected.
    RATELIMIT_SOCKET_EVENTS = "60/second;1200/minute"
    RATELIMIT_USER_SOCKET_EVENTS = "120/second;2400/minute"
    RATELIMIT_SOCKET_FLOOD = "120/second;2400/minute"
    # Past this, every socket of the user in the process is disconnected (one person, many sockets).
    RATELIMIT_USER_SOCKET_FLOOD = "240/second;4800/minute"
    # One user's socket events handled at once in a process; more are refused from memory (each holds a
    # database connection while it runs).
    SOCKET_EVENTS_IN_FLIGHT = 4
    #: Argon2id cost (argon2-cffi's RFC 9106 low-memory profile; above OWASP's minimum).
    ARGON2_TIME_COST = 3
    ARGON2_MEMORY_COST = 65536  # KiB
    ARGON2_PARALLELISM = 4

    def __init__(self, environ=None):
        env = _Env(os.environ if environ is None else environ)
        self.APP_ENV = env.choice("APP_ENV", "development", APP_ENVS)
        production = self.APP_ENV == "production"

        secret = env.str("SECRET_KEY")
        if secret is None and production:
            raise ConfigError("SECRET_KEY is required when APP_ENV=production")
        self.SECRET_KEY = secret or secrets.token_hex(32)

        self.DATABASE_URL = _database_url(env.str("DATABASE_URL"))  # None: SQLite in instance/
        self.REDIS_URL = env.str("REDIS_URL")
        self.SOCKETIO_CHANNEL = env.str("SOCKETIO_CHANNEL", "flask-socketio")  # Redis channel of the processes
        self.HOST = env.str("HOST", "127.0.0.1")
        self.PORT = env.int("PORT", 5000, minimum=1, maximum=65535)
        self.SOCKETIO_ASYNC_MODE = env.choice("SOCKETIO_ASYNC_MODE", "eventlet", ASYNC_MODES)
        self.DB_POOL_SIZE = env.int("DB_POOL_SIZE", 20, minimum=1, maximum=1000)
        self.LISTING_CACHE_SECONDS = env.int("LISTING_CACHE_SECONDS", 2, minimum=0, maximum=60)

        self.BILLING_MINUTE_SECONDS = env.int("BILLING_MINUTE_SECONDS", 60, minimum=1, maximum=3600)
        self.BILLING_POLL_SECONDS = env.int("BILLING_POLL_SECONDS", 1, minimum=1, maximum=60)
        self.RUN_BILLING_IN_PROCESS = env.bool("RUN_BILLING_IN_PROCESS", True)
        self.MIN_START_MINUTES = env.int("MIN_START_MINUTES", 5, minimum=1, maximum=120)
        self.LOW_BALANCE_MINUTES = env.int("LOW_BALANCE_MINUTES", 2, minimum=0, maximum=60)
        self.FREE_FIRST_MINUTES = env.int("FREE_FIRST_MINUTES", 0, minimum=0, maximum=60)
        self.PLATFORM_COMMISSION_PERCENT = env.int("PLATFORM_COMMISSION_PERCENT", 30, minimum=0, maximum=100)
        self.ACCEPT_TIMEOUT_SECONDS = env.int("ACCEPT_TIMEOUT_SECONDS", 300, minimum=1)
        self.NO_REPLY_SECONDS = env.int("NO_REPLY_SECONDS", 180, minimum=1)
        self.RECONNECT_GRACE_SECONDS = env.int("RECONNECT_GRACE_SECONDS", 90, minimum=1)
        self.DOWNTIME_GRACE_SECONDS = env.int("DOWNTIME_GRACE_SECONDS", 30, minimum=1)
        self.ICE_SERVERS = _ice_servers(env.str("ICE_SERVERS"))
        self._mail_and_jobs(env)
        self._ai(env)
        # A follower hears of an astrologer becoming available at most once in this long.
        self.FOLLOW_NOTIFY_DEBOUNCE_SECONDS = env.int("FOLLOW_NOTIFY_DEBOUNCE_SECONDS", 300, minimum=0, maximum=86400)
        self._attachments(env)
        self.REPORTING_TIMEZONE = _timezone("REPORTING_TIMEZONE", env.str("REPORTING_TIMEZONE", "Asia/Kolkata"))

        self.LANGUAGES = _languages(env.str("LANGUAGES", "en,hi"))
        self.CURRENCY = env.str("CURRENCY", "INR")
        if len(self.CURRENCY) != 3 or not self.CURRENCY.isalpha() or not self.CURRENCY.isupper():
            raise ConfigError(f"CURRENCY must be a 3-letter ISO 4217 code such as INR, got {self.CURRENCY!r}")
        self.TOPUP_MIN = env.decimal("TOPUP_MIN", "50", minimum=Decimal("0.01"))
        self.TOPUP_MAX = env.decimal("TOPUP_MAX", "100000", minimum=Decimal("0.01"), maximum=Decimal("99999999.99"))
        if self.TOPUP_MIN > self.TOPUP_MAX:
            raise ConfigError(f"TOPUP_MIN ({self.TOPUP_MIN}) must not exceed TOPUP_MAX ({self.TOPUP_MAX})")

        # Payouts (services/money/payouts.py): who sends them, the smallest one, and at most one request per
        # PAYOUT_INTERVAL_DAYS (0: any time).
        self.PAYOUT_PROVIDER = env.choice("PAYOUT_PROVIDER", "demo", ("demo", "manual"))
        self.PAYOUT_MINIMUM = env.decimal("PAYOUT_MINIMUM", "500", minimum=Decimal("0.01"))
        self.PAYOUT_INTERVAL_DAYS = env.int("PAYOUT_INTERVAL_DAYS", 7, minimum=0, maximum=90)
        # The periodic loop verifies the whole ledger this often (0: only `flask ledger verify`, e.g. from cron).
        self.LEDGER_VERIFY_SECONDS = env.int("LEDGER_VERIFY_SECONDS", 3600, minimum=0)
        # The demo provider's webhook secret (development only: production refuses the demo provider).
        self.PAYMENT_WEBHOOK_SECRET = env.str("PAYMENT_WEBHOOK_SECRET") or DEV_WEBHOOK_SECRET
        self.SYNC_SECRET = env.str("SYNC_SECRET")  # None: the sync API answers 503
        self.HANDOFF_JWT_SECRET = env.str("HANDOFF_JWT_SECRET")  # None: hand-off is off
        if self.HANDOFF_JWT_SECRET is not None and len(self.HANDOFF_JWT_SECRET) < 32:
            raise ConfigError("HANDOFF_JWT_SECRET must be at least 32 characters (RFC 7518 for HS256)")

        self.LOG_FORMAT = env.choice("LOG_FORMAT", "json", ("json", "text"))
        self.LOG_LEVEL = env.choice("LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR"))
        self.SLOW_REQUEST_MS = env.int("SLOW_REQUEST_MS", 1000, minimum=1)
        self.METRICS_TOKEN = env.str("METRICS_TOKEN")  # None: only METRICS_ALLOW_IPS may scrape
        self.METRICS_ALLOW_IPS = tuple(
            address.strip() for address in env.str("METRICS_ALLOW_IPS", "127.0.0.1,::1").split(",") if address.strip()
        )

        self.PROXY_HOPS = env.int("PROXY_HOPS", 0, minimum=0, maximum=5)  # reverse proxies in front (nginx: 1)
        # Where people reach the site. Its origin is the one Socket.IO accepts, and its host (with any
        # TRUSTED_HOSTS) the only Host a request may name; X-Forwarded-Host is believed only then.
        self.PUBLIC_URL = _public_url(env.str("PUBLIC_URL"))
        if self.PUBLIC_URL is None and production:
            raise ConfigError("PUBLIC_URL is required when APP_ENV=production, e.g. https://astro.example.com")
        extra_hosts = [host.strip() for host in (env.str("TRUSTED_HOSTS") or "").split(",") if host.strip()]
        self.TRUSTED_HOSTS = ([urlsplit(self.PUBLIC_URL).hostname] + extra_hosts) if self.PUBLIC_URL else extra_hosts
        self.TRUSTED_HOSTS = self.TRUSTED_HOSTS or None  # Flask: None accepts any Host
        # The web server's own debug output (tracebacks in responses): a development switch, never production.
        self.SERVER_DEBUG = env.bool("SERVER_DEBUG", False)
        if self.SERVER_DEBUG and production:
            raise ConfigError("SERVER_DEBUG must not be set when APP_ENV=production")

        # Served over HTTPS: plain HTTP redirected, HSTS sent, cookies marked Secure.
        self.FORCE_HTTPS = env.bool("FORCE_HTTPS", production)
        self.SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", self.FORCE_HTTPS)
        self.REMEMBER_COOKIE_SECURE = self.SESSION_COOKIE_SECURE
        self._accounts(env, production)
        self._payments(env, production)

    def _mail_and_jobs(self, env):
        """E-mail over SMTP (Flask-Mail's setting names; services/notifications/mail.py) and the background jobs that
        send it (services/jobs.py: RQ on REDIS_URL, else in process)."""
        self.MAIL_SERVER = env.str("MAIL_SERVER")  # None: no e-mail
        self.MAIL_PORT = env.int("MAIL_PORT", 25, minimum=1, maximum=65535)
        self.MAIL_USE_TLS = env.bool("MAIL_USE_TLS", False)
        self.MAIL_USE_SSL = env.bool("MAIL_USE_SSL", False)
        self.MAIL_USERNAME = env.str("MAIL_USERNAME")
        self.MAIL_PASSWORD = env.str("MAIL_PASSWORD")
        self.MAIL_DEFAULT_SENDER = env.str("MAIL_DEFAULT_SENDER", "AstroConsult <no-reply@astroconsult.local>")
        # Web Push (services/notifications/push.py): unset, a key pair is made in the instance folder on first use.
        self.VAPID_PRIVATE_KEY = env.str("VAPID_PRIVATE_KEY")  # PEM (newlines may be written \\n)
        self.VAPID_PUBLIC_KEY = env.str("VAPID_PUBLIC_KEY")  # base64url; derived from the private key when unset
        self.VAPID_SUBJECT = env.str("VAPID_SUBJECT", "mailto:support@astroconsult.local")
        if not self.VAPID_SUBJECT.startswith(("mailto:", "https:")):
            raise ConfigError(f"VAPID_SUBJECT must be a mailto: or https: URL, got {self.VAPID_SUBJECT!r}")
        # Where a browser's push subscription may point (scheme://host[:port], * in a host for any
        # subdomain): the browsers' own push services (Chrome, Edge, Firefox, Safari). services/notifications/push.py.
        raw = env.str("PUSH_SERVICES", ",".join(PUSH_SERVICES))
        self.PUSH_SERVICES = tuple(entry.strip().rstrip("/") for entry in raw.split(",") if entry.strip())
        if not all(entry.startswith(("https://", "http://")) for entry in self.PUSH_SERVICES):
            raise ConfigError(f"PUSH_SERVICES must be https:// origins separated by commas, got {raw!r}")
        self.PUSH_MAX_SUBSCRIPTIONS = env.int(
            "PUSH_MAX_SUBSCRIPTIONS", 10, minimum=1, maximum=100
        )  # a person's devices
        self.PUSH_TIMEOUT_SECONDS = env.int("PUSH_TIMEOUT_SECONDS", 10, minimum=1, maximum=60)  # one delivery, in all
        self.JOB_QUEUE = env.str("JOB_QUEUE", "astroconsult")
        raw = env.str("JOB_BACKOFF_SECONDS", "10,60,300")
        try:
            self.JOB_BACKOFF_SECONDS = tuple(int(part) for part in raw.split(",") if part.strip())
        except ValueError:
            raise ConfigError(f"JOB_BACKOFF_SECONDS must be whole seconds separated by commas, got {raw!r}") from None
        if any(wait < 0 for wait in self.JOB_BACKOFF_SECONDS) or len(self.JOB_BACKOFF_SECONDS) > 10:
            raise ConfigError("JOB_BACKOFF_SECONDS: at most 10 waits, none negative")

    def _accounts(self, env, production):
        """One-time codes by SMS (services/notifications/sms.py): `console` writes them to the log (development
        only), `msg91` sends them through MSG91's Flow API. Leaving (services/users/erasure.py)."""
        self.SMS_PROVIDER = env.choice("SMS_PROVIDER", "console", ("console", "msg91"))
        if self.SMS_PROVIDER == "console" and production:
            raise ConfigError(
                "SMS_PROVIDER=console writes codes to the log: set SMS_PROVIDER=msg91 when APP_ENV=production"
            )
        self.MSG91_API_BASE = env.str("MSG91_API_BASE", "https://control.msg91.com")
        if not self.MSG91_API_BASE.startswith(("https://", "http://")):
            raise ConfigError(f"MSG91_API_BASE must be an http(s) URL, got {self.MSG91_API_BASE!r}")
        self.MSG91_AUTH_KEY = env.str("MSG91_AUTH_KEY")
        self.MSG91_TEMPLATE_ID = env.str("MSG91_TEMPLATE_ID")  # the DLT-approved template with the variable ##otp##
        if self.SMS_PROVIDER == "msg91" and not (self.MSG91_AUTH_KEY and self.MSG91_TEMPLATE_ID):
            raise ConfigError("SMS_PROVIDER=msg91 needs MSG91_AUTH_KEY and MSG91_TEMPLATE_ID")
        self.SMS_TIMEOUT_SECONDS = env.int("SMS_TIMEOUT_SECONDS", 10, minimum=1, maximum=60)
        self.SMS_DAILY_PER_NUMBER = env.int("SMS_DAILY_PER_NUMBER", 10, minimum=1, maximum=1000)
        # Mobile networks in India put many people behind one address (CGNAT): this is a ceiling, not a habit.
        self.SMS_DAILY_PER_IP = env.int("SMS_DAILY_PER_IP", 50, minimum=1, maximum=100_000)
        # Leaving: the days before a deletion is carried out (signing in cancels
        # it) and what becomes of money left in the wallet: `forfeit` moves it to the platform's wallet
        # (said before confirming), `block` refuses the deletion until the wallet is empty.
        self.DELETION_GRACE_DAYS = env.int("DELETION_GRACE_DAYS", 7, minimum=0, maximum=90)
        self.DELETION_BALANCE_POLICY = env.choice("DELETION_BALANCE_POLICY", "forfeit", ("forfeit", "block"))

    def _payments(self, env, production):
        """Money in (services/money/payments.py, taxes.py, invoices.py): the gateways, the tax added to a
        top-up, and the seller named on its tax invoice."""
        self.PAYMENT_PROVIDER = env.choice("PAYMENT_PROVIDER", "demo", PAYMENT_PROVIDERS)
        # Every gateway the top-up form offers (the payer chooses when there are several); the first is the default.
        raw = env.str("PAYMENT_PROVIDERS", self.PAYMENT_PROVIDER)
        self.PAYMENT_PROVIDERS = tuple(dict.fromkeys(name.strip() for name in raw.split(",") if name.strip()))
        if not self.PAYMENT_PROVIDERS or not set(self.PAYMENT_PROVIDERS) <= set(PAYMENT_PROVIDERS):
            raise ConfigError(f"PAYMENT_PROVIDERS must name some of {', '.join(PAYMENT_PROVIDERS)}, got {raw!r}")
        self.RAZORPAY_KEY_ID = env.str("RAZORPAY_KEY_ID")
        self.RAZORPAY_KEY_SECRET = env.str("RAZORPAY_KEY_SECRET")
        self.RAZORPAY_WEBHOOK_SECRET = env.str("RAZORPAY_WEBHOOK_SECRET")
        self.RAZORPAY_API_BASE = _http_url(
            "RAZORPAY_API_BASE", env.str("RAZORPAY_API_BASE", "https://api.razorpay.com")
        )
        self.RAZORPAY_CHECKOUT_JS = _http_url(
            "RAZORPAY_CHECKOUT_JS", env.str("RAZORPAY_CHECKOUT_JS", "https://checkout.razorpay.com/v1/checkout.js")
        )
        if "razorpay" in self.PAYMENT_PROVIDERS and not (
            self.RAZORPAY_KEY_ID and self.RAZORPAY_KEY_SECRET and self.RAZORPAY_WEBHOOK_SECRET
        ):
            raise ConfigError("PAYMENT_PROVIDERS with razorpay needs RAZORPAY_KEY_ID, _KEY_SECRET and _WEBHOOK_SECRET")
        self.STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY")
        self.STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET")
        self.STRIPE_API_BASE = _http_url("STRIPE_API_BASE", env.str("STRIPE_API_BASE", "https://api.stripe.com"))
        if "stripe" in self.PAYMENT_PROVIDERS and not (self.STRIPE_SECRET_KEY and self.STRIPE_WEBHOOK_SECRET):
            raise ConfigError("PAYMENT_PROVIDERS with stripe needs STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET")
        self.PAYMENT_TIMEOUT_SECONDS = env.int("PAYMENT_TIMEOUT_SECONDS", 10, minimum=1, maximum=60)
        # The periodic loop asks the gateway about a top-up still pending after this long, and gives up on
        # an order nobody paid after PAYMENT_EXPIRY_MINUTES (the gateway is asked first).
        self.PAYMENT_RECONCILE_MINUTES = env.int("PAYMENT_RECONCILE_MINUTES", 15, minimum=1, maximum=1440)
        self.PAYMENT_EXPIRY_MINUTES = env.int("PAYMENT_EXPIRY_MINUTES", 24 * 60, minimum=30, maximum=30 * 24 * 60)
        # Tax on a top-up (GST in India): added to what the payer pays, or (TOPUP_TAX_INCLUSIVE) inside it.
        default_percent = "18" if self.CURRENCY == "INR" else "0"
        self.TOPUP_TAX_PERCENT = env.decimal(
            "TOPUP_TAX_PERCENT", default_percent, minimum=Decimal(0), maximum=Decimal(50)
        )
        self.TOPUP_TAX_NAME = env.str("TOPUP_TAX_NAME", "GST")
        self.TOPUP_TAX_INCLUSIVE = env.bool("TOPUP_TAX_INCLUSIVE", False)
        # The seller on every tax invoice; its state is the GSTIN's first two digits (CGST + SGST inside
        # it, IGST elsewhere). Development has a made-up seller; production must name the real one.
        self.SELLER_NAME = env.str("SELLER_NAME")
        self.SELLER_ADDRESS = env.str("SELLER_ADDRESS")
        self.SELLER_GSTIN = env.str("SELLER_GSTIN")
        if production:
            if "demo" in self.PAYMENT_PROVIDERS:
                raise ConfigError(
                    "PAYMENT_PROVIDERS: the demo provider credits wallets for nothing; name razorpay or stripe"
                    " when APP_ENV=production"
                )
            if self.TOPUP_TAX_PERCENT and not (self.SELLER_NAME and self.SELLER_ADDRESS and self.SELLER_GSTIN):
                raise ConfigError(
                    "tax invoices need SELLER_NAME, SELLER_ADDRESS and SELLER_GSTIN when APP_ENV=production"
                )
        self.SELLER_NAME = self.SELLER_NAME or DEMO_SELLER["name"]
        self.SELLER_ADDRESS = self.SELLER_ADDRESS or DEMO_SELLER["address"]
        self.SELLER_GSTIN = (self.SELLER_GSTIN or DEMO_SELLER["gstin"]).strip().upper()
        if not gstin.is_valid(self.SELLER_GSTIN):
            raise ConfigError(
                f"SELLER_GSTIN is not a valid GSTIN (15 characters with its check digit): {self.SELLER_GSTIN!r}"
            )
        self.INVOICE_PREFIX = env.str("INVOICE_PREFIX", "AC")
        if not re.fullmatch(r"[A-Z0-9]{1,4}", self.INVOICE_PREFIX):
            raise ConfigError(f"INVOICE_PREFIX must be 1 to 4 capital letters or digits, got {self.INVOICE_PREFIX!r}")
        # Services Accounting Code on the invoice (999799: other services not elsewhere classified).
        self.INVOICE_SAC_CODE = env.str("INVOICE_SAC_CODE", "999799")
        if not re.fullmatch(r"\d{6}", self.INVOICE_SAC_CODE):
            raise ConfigError(f"INVOICE_SAC_CODE must be 6 digits, got {self.INVOICE_SAC_CODE!r}")

    def _ai(self, env):
        """A language model behind an OpenAI-compatible API (services/ai/language_model.py): off unless AI_MODEL is set."""
        self.AI_BASE_URL = env.str("AI_BASE_URL")  # None: the hosted API; or a self-hosted server's /v1
        self.AI_API_KEY = env.str("AI_API_KEY")
        self.AI_MODEL = env.str("AI_MODEL")  # None: every AI feature is off and its controls are not shown
        if self.AI_BASE_URL and not self.AI_BASE_URL.startswith(("https://", "http://")):
            raise ConfigError(f"AI_BASE_URL must be an http(s) URL, got {self.AI_BASE_URL!r}")
        if self.AI_MODEL and not (self.AI_API_KEY or self.AI_BASE_URL):
            raise ConfigError("AI_MODEL needs AI_API_KEY (the hosted API) or AI_BASE_URL (a server of your own)")
        self.AI_TIMEOUT_SECONDS = env.int("AI_TIMEOUT_SECONDS", 30, minimum=1, maximum=600)
        # Tokens (prompt and completion) all calls may use in a day (UTC); past it calls wait for the next day.
        self.AI_DAILY_TOKENS = env.int("AI_DAILY_TOKENS", 500_000, minimum=1, maximum=10**10)
        # The longest answer a call may have (max_tokens; less when the day's tokens have less left).
        self.AI_MAX_OUTPUT_TOKENS = env.int("AI_MAX_OUTPUT_TOKENS", 1500, minimum=200, maximum=100_000)

    def _attachments(self, env):
        """Photos and documents in the chat (services/messaging/attachments.py, services/messaging/attachment_storage.py)."""
        megabyte = 1024 * 1024
        self.ATTACHMENT_MAX_BYTES = env.int("ATTACHMENT_MAX_BYTES", 10 * megabyte, minimum=1024, maximum=100 * megabyte)
        self.ATTACHMENT_SESSION_MAX_BYTES = env.int(
            "ATTACHMENT_SESSION_MAX_BYTES", 50 * megabyte, minimum=self.ATTACHMENT_MAX_BYTES, maximum=2000 * megabyte
        )
        # A photo whose header declares more pixels is refused before it is decoded (decompression bombs).
        self.ATTACHMENT_MAX_PIXELS = env.int("ATTACHMENT_MAX_PIXELS", 50_000_000, minimum=10_000, maximum=200_000_000)
        # A photo is decoded in a child process (services/messaging/_photo_decoder.py): its CPU seconds (and, plus 2,
        # its wall-clock seconds), its address space, and how many run at once in a web process.
        self.ATTACHMENT_DECODE_SECONDS = env.int("ATTACHMENT_DECODE_SECONDS", 10, minimum=1, maximum=120)
        self.ATTACHMENT_DECODE_MEMORY_MB = env.int("ATTACHMENT_DECODE_MEMORY_MB", 1536, minimum=256, maximum=16384)
        self.ATTACHMENT_DECODERS = env.int("ATTACHMENT_DECODERS", 2, minimum=1, maximum=64)
        # What one person may upload in 24 hours, all sessions together (stored bytes).
        self.ATTACHMENT_USER_DAILY_BYTES = env.int(
            "ATTACHMENT_USER_DAILY_BYTES", 200 * megabyte, minimum=self.ATTACHMENT_MAX_BYTES, maximum=100_000 * megabyte
        )
        self.ATTACHMENT_RETENTION_DAYS = env.int("ATTACHMENT_RETENTION_DAYS", 0, minimum=0, maximum=3650)  # 0: kept
        self.ATTACHMENT_STORAGE = env.choice("ATTACHMENT_STORAGE", "local", ("local", "s3"))
        self.ATTACHMENT_LOCAL_PATH = env.str("ATTACHMENT_LOCAL_PATH")  # None: the instance folder's attachments/
        self.ATTACHMENT_S3_BUCKET = env.str("ATTACHMENT_S3_BUCKET")
        if self.ATTACHMENT_STORAGE == "s3" and not self.ATTACHMENT_S3_BUCKET:
            raise ConfigError("ATTACHMENT_S3_BUCKET is required when ATTACHMENT_STORAGE=s3")
        self.ATTACHMENT_S3_PREFIX = env.str("ATTACHMENT_S3_PREFIX", "attachments")
        self.ATTACHMENT_S3_ENDPOINT_URL = env.str("ATTACHMENT_S3_ENDPOINT_URL")  # None: AWS itself
        self.ATTACHMENT_S3_REGION = env.str("ATTACHMENT_S3_REGION")


class TestConfig(Config):
    """The test suite's settings: its own database, fast clocks, cheap hashing."""

    __test__ = False  # not a pytest test class, despite the name
    TESTING = True
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST = 8192
    ARGON2_PARALLELISM = 1

    def __init__(self, database_url, environ=None, **overrides):
        super().__init__({} if environ is None else environ)
        self.SECRET_KEY = "test-secret-key"
        self.DATABASE_URL = database_url
        self.SOCKETIO_ASYNC_MODE = "threading"
        self.RUN_BILLING_IN_PROCESS = False
        self.LISTING_CACHE_SECONDS = 0  # tests see every change at once; tests/unit/test_listing.py turns it on
        # Payouts of any size, any time; tests/unit/test_payouts.py tests the product's minimum and schedule.
        self.PAYOUT_MINIMUM = Decimal("1.00")
        self.PAYOUT_INTERVAL_DAYS = 0
        self.RATELIMIT_STORAGE_URI = "memory://"  # emptied after every test (tests/conftest.py)
        self.SERVER_NAME = None
        for key, value in overrides.items():
            setattr(self, key, value)
