"""Attachments over HTTP: a consultation's photos and documents, for its participants and admins."""

from flask import Blueprint

bp = Blueprint("attachments", __name__, url_prefix="/attachments")

from . import routes  # noqa: E402,F401
