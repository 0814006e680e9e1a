"""Web Push over HTTP: a device's subscription, and the service worker that shows what is pushed."""

from flask import Blueprint

bp = Blueprint("push", __name__)

from . import routes  # noqa: E402,F401
