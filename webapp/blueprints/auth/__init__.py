"""Accounts over HTTP: register, log in by email or phone, log out."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from . import account_settings, phone, recovery, routes  # noqa: E402,F401
