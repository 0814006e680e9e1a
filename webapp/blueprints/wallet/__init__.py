"""The user's wallet: balance, top-up, statement, and the navigation balance badge."""

from flask import Blueprint

bp = Blueprint("wallet", __name__)

from . import routes  # noqa: E402,F401
