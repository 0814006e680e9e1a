"""What the rate limits count by, and how much (Config.RATELIMIT_*; storage and the limiter in
extensions.py, the 429 page in error_pages.py). The limits are on the routes they guard."""

import bisect
import secrets

from flask import current_app, request
from flask_limiter.util import get_remote_address
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeTimedSerializer

from .services.users import accounts


def configured(name):
    """A limit read from app.config[name] at request time, so tests and operators can tune it."""
    return lambda: current_app.config[name]


def user_or_address():
    """Key: the logged-in user, else the client address."""
    return f"user:{current_user.get_id()}" if current_user.is_authenticated else get_remote_address()


def chat_sender():
    """Key of an upload's share of RATELIMIT_CHAT_MESSAGES: its sender (a file is a chat message; the
    sockets' own messages count per socket, in process: webapp/realtime/events.py)."""
    return f"chat:{current_user.get_id()}"


NAMED = "astro.login_named"  # request.environ key: the id of the account the login form names


def _named_account_id():
    """The id (text) of the account the login form names, or None; looked up once per request, for
    every limit and check of the login asks."""
    if NAMED not in request.environ:
        account = accounts.find_by_identifier(request.form.get("identifier") or "")
        request.environ[NAMED] = str(account.id) if account is not None else None
    return request.environ[NAMED]


def login_account():
    """Key of a login attempt: the account it names, whether by e-mail or by phone (one count for
    both, or an attacker gets twice the guesses), else the identifier normalized as login
    normalizes it, so "A@x.com " and "a@x.com", or "+91 98123 45678" and "9812345678", share one."""
    account_id = _named_account_id()
    if account_id is not None:
        return f"account:{account_id}"
    identifier = request.form.get("identifier") or ""
    named = accounts.normalize_identifier(identifier)
    return "account:" + (named[1] if named else identifier.strip().lower())


def registration_taken(response):
    """Whether a sign-up was refused because the e-mail or phone has an account (RATELIMIT_REGISTER_TAKEN)."""
    return response.status_code == 409


# ---------------------------------------------------------------- known devices (OWASP's device cookies)
#
# A lockout per account lets anyone lock anyone out: a hundred wrong passwords from five addresses
# locked the owner out for an hour. A browser that has signed in to an account before carries a
# signed device cookie for it; its attempts at that account are counted per device
# (RATELIMIT_LOGIN_FAILURES_PER_DEVICE) instead of in the account's shared count, so the owner on
# their own phone is never locked out by a stranger, while an attacker's new browsers still share
# the account's count.

DEVICE_COOKIE = "device"
DEVICE_MAX_AGE = 365 * 24 * 3600


def _devices():
    return URLSafeTimedSerializer(current_app.secret_key, salt="known-device")


def device_cookie_for(user_id):
    """The cookie value that marks this browser as one that has signed in as `user_id`."""
    return _devices().dumps({"user": str(user_id), "nonce": secrets.token_hex(8)})


def _device_user():
    """The user id the request's device cookie vouches for, or None."""
    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw:
        return None
    try:
        return _devices().loads(raw, max_age=DEVICE_MAX_AGE).get("user")
    except (BadSignature, AttributeError):
        return None


def known_device():
    """Whether this login attempt comes from a browser that has signed in to the account it names."""
    vouched = _device_user()
    if vouched is None:
        return False
    return _named_account_id() == vouched


def login_device():
    """Key of a login attempt from a known device: that device's own count for the account."""
    return f"device:{request.cookies.get(DEVICE_COOKIE, '')[-32:]}:{login_account()}"


class SocketWindows:
    """A moving window of recent sends per socket of this process, for RATELIMIT_CHAT_MESSAGES.

    A socket lives in one process, so its count needs no shared storage. It is kept here rather
    than in the limiter's storage because limits' MemoryStorage rescans every key every 10 ms:
    with 1,000 sockets that took 45% of a server process's CPU (py-spy under bench/chat.py).
    """

    def __init__(self):
        self._sent = {}  # sid -> monotonic times of accepted sends, oldest first

    def allow(self, sid, limits, now):
        """True (and counted) when one more send from `sid` at `now` stays within every limit."""
        sent = self._sent.setdefault(sid, [])
        del sent[: bisect.bisect_right(sent, now - max(limit.get_expiry() for limit in limits))]
        for limit in limits:
            if len(sent) - bisect.bisect_right(sent, now - limit.get_expiry()) >= limit.amount:
                return False
        sent.append(now)
        return True

    def forget(self, sid):
        self._sent.pop(sid, None)


def forgot_address():
    """Key of a password-reset request: the address asked for, normalized (so case and spaces share a count)."""
    return "forgot:" + (accounts.normalize_email(request.form.get("email") or "") or "")


def phone_number():
    """Key of a code asked for or tried: the number, as typed with its spaces and dashes removed."""
    return "phone:" + "".join(ch for ch in (request.form.get("phone") or "")[:40] if ch.isdigit())
