"""What the rate limits count by, and how much (Config.RATELIMIT_*; storage and the limiter in
extensions.py, the 429 page in errors.py). The limits are on the routes they guard."""

from flask import current_app, request
from flask_limiter.util import get_remote_address
from flask_login import current_user

from .services import accounts


def configured(name):
    """A limit read from app.config[name] at request time, so tests and operators can tune it."""
    return lambda: current_app.config[name]


def user_or_address():
    """Key: the logged-in user, else the client address."""
    return f"user:{current_user.get_id()}" if current_user.is_authenticated else get_remote_address()


def login_account():
    """Key of a login attempt: the account it names, normalized as login normalizes it, so
    "A@x.com " and "a@x.com", or "+91 98123 45678" and "9812345678", share one count."""
    identifier = request.form.get("identifier") or ""
    named = accounts.normalize_identifier(identifier)
    return "account:" + (named[1] if named else identifier.strip().lower())
