"""Argon2id password hashing (argon2-cffi), off the event loop under eventlet.

Never stores or logs a password; the policy for new passwords lives here too.
"""

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app
from flask_babel import gettext

from ...concurrency import run_cpu_bound

MIN_LENGTH = 8
MAX_LENGTH = 128
# A handful of the most common passwords that pass the length rule.
COMMON = frozenset(
    {"password1", "password123", "qwerty123", "12345678a", "iloveyou1", "welcome1", "admin123", "abc12345", "letmein1"}
)


def _hasher():
    config = current_app.config
    return PasswordHasher(
        time_cost=config["ARGON2_TIME_COST"],
        memory_cost=config["ARGON2_MEMORY_COST"],
        parallelism=config["ARGON2_PARALLELISM"],
        type=Type.ID,
    )


def hash_password(password):
    return run_cpu_bound(_hasher().hash, password)


def verify_password(password_hash, password):
    """True when `password` matches; False for a mismatch or an unusable hash."""
    try:
        return run_cpu_bound(_hasher().verify, password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash):
    return _hasher().check_needs_rehash(password_hash)


def burn_verification_time(password):
    """Spend the time a real verification takes, so unknown accounts cannot be told apart by timing."""
    verify_password(_dummy_hash(), password)


def _dummy_hash():
    cache = current_app.extensions.setdefault("astro_dummy_hash", {})
    if "hash" not in cache:
        cache["hash"] = hash_password("not-a-real-password-0")
    return cache["hash"]


def password_problem(password, *, email=None, name=None):
    """Why `password` is too weak, or None when it is acceptable: length, a common-password check
    and the personal-information check, and no composition rule (OWASP ASVS 2.1.9: a passphrase such
    as "correct horse battery staple" is a good password)."""
    if len(password) < MIN_LENGTH:
        return gettext("Use at least %(min_length)s characters.", min_length=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        return gettext("Use at most %(max_length)s characters.", max_length=MAX_LENGTH)
    lowered = password.lower()
    if lowered in COMMON or len(set(lowered)) < 4:
        return gettext("This password is too easy to guess.")
    for personal in (email.split("@")[0] if email else None, name):
        if personal and len(personal) >= 4 and personal.lower().replace(" ", "") in lowered:
            return gettext("Do not use your name or email in the password.")
    return None
