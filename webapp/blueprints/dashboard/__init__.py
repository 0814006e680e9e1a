"""The astrologer's dashboard: availability per channel and the profile users see."""

from flask import Blueprint

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")

from . import routes  # noqa: E402,F401
