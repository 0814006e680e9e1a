"""The admin console: overview, ledgers, sessions and refunds, people, approvals, payouts."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from . import routes  # noqa: E402,F401
