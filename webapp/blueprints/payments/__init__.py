"""Payment providers over HTTP: the demo provider's checkout and every provider's webhook."""

from flask import Blueprint

bp = Blueprint("payments", __name__)

from . import routes  # noqa: E402,F401
