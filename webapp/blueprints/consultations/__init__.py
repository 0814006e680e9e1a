"""Consultations over HTTP: request, the waiting room, the room, the summary, rating, history."""

from flask import Blueprint

bp = Blueprint("consultations", __name__, url_prefix="/consultations")

from . import routes  # noqa: E402,F401
