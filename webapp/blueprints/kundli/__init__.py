"""The birth chart over HTTP: "My kundli" (page, JSON, settings) and the birth place autocomplete."""

from flask import Blueprint

bp = Blueprint("kundli", __name__, url_prefix="/account")

from . import routes  # noqa: E402,F401
