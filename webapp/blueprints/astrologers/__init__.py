"""The marketplace: the astrologer listing (and, with its feature, profiles)."""

from flask import Blueprint

bp = Blueprint("astrologers", __name__)

from . import routes  # noqa: E402,F401
