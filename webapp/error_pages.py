"""HTTP error pages (the pages; services/errors.py names the refusals): HTML for people, JSON for machine clients; never a bare 500, never internals.

Every exception a view raises ends in `error_response`. Should an error handler itself fail, the
outermost WSGI layer (LastResort) answers a plain 500 instead of letting the server print the
traceback to the client.
"""

import time

from flask import current_app, g, jsonify, render_template, request
from flask.globals import request_ctx
from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from .extensions import db, limiter

MESSAGES = {
    400: (_l("Bad request"), _l("The request could not be understood. Check what you entered and try again.")),
    403: (_l("Not allowed"), _l("Your account does not have access to this page.")),
    404: (_l("Not found"), _l("There is nothing here. The link may be old or mistyped.")),
    405: (_l("Method not allowed"), _l("This address does not accept that kind of request.")),
    410: (_l("Removed"), _l("What was here has been removed.")),
    413: (_l("Too large"), _l("What you sent is larger than this site accepts.")),
    415: (_l("Not accepted"), _l("This kind of file is not accepted here.")),
    429: (_l("Too many requests"), _l("You are going a little fast. Please wait a moment and try again.")),
    500: (
        _l("Something went wrong"),
        _l("An unexpected error happened on our side. Nothing was charged; please try again."),
    ),
    503: (_l("Temporarily unavailable"), _l("The service is briefly unavailable. Please try again shortly.")),
}


#: Machine clients only: the sync API and the providers' webhooks always get JSON.
JSON_PATHS = ("/api/", "/payments/webhook/")


def wants_json():
    if request.path.startswith(JSON_PATHS):
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def error_response(status, description=None, headers=None, code=None):
    """The one place an error becomes a response, as JSON or as the error page. `code`: the JSON
    error's name (a DomainError's; default: from the status's title)."""
    title, default_message = MESSAGES.get(status, (gettext("Error"), gettext("The request failed.")))
    message = description or default_message
    if wants_json():
        response = jsonify({"error": code or title.lower().replace(" ", "_"), "message": message})
    elif request_ctx.url_adapter is None:  # no site to link to (an untrusted Host): the words alone
        response = current_app.response_class(f"{title}: {message}\n", mimetype="text/plain")
    else:
        response = render_template("errors/error.html", status=status, title=title, message=message)
    return response, status, headers or {}


def _seconds_until_reset(error):
    """Seconds until requests are let through again: the error's own Retry-After, or the reset of
    the rate limit this request broke."""
    retry_after = getattr(error, "retry_after", None)
    if isinstance(retry_after, int):
        return retry_after
    limit = limiter.current_limit
    return None if limit is None else max(1, int(limit.reset_at - time.time()))


def _in_words(seconds):
    if seconds < 60:
        return ngettext("%(num)d second", "%(num)d seconds", seconds)
    return ngettext("%(num)d minute", "%(num)d minutes", -(-seconds // 60))


LAST_RESORT_BODY = b"Something went wrong on our side. Nothing was charged; please try again.\n"


class LastResort:
    """The outermost WSGI layer: an exception that escaped every handler becomes a plain 500 with no
    detail (and a log line), whatever server runs the app."""

    def __init__(self, wsgi_app, logger):
        self.wsgi_app, self.logger = wsgi_app, logger

    def __call__(self, environ, start_response):
        started = []

        def tracking_start_response(status, headers, exc_info=None):
            started.append(status)
            return start_response(status, headers, exc_info)

        try:
            return self.wsgi_app(environ, tracking_start_response)
        except HTTPException as refusal:  # raised before Flask could route (an untrusted Host: 400)
            if started:
                raise
            return refusal(environ, start_response)
        except Exception:
            self.logger.exception("an error escaped every handler on %s", environ.get("PATH_INFO"))
            if started:  # a response had begun: only the server can end it (without detail: SERVER_DEBUG off)
                raise
            headers = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(LAST_RESORT_BODY)))]
            start_response("500 Internal Server Error", headers)
            return [LAST_RESORT_BODY]


def register(app):
    app.wsgi_app = LastResort(app.wsgi_app, app.logger)

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return error_response(
            400, gettext("Your form expired or was sent without its security token. Reload the page and try again.")
        )

    @app.errorhandler(HTTPException)
    def http_error(error):
        # Werkzeug's default descriptions speak to developers; ours speak to users,
        # except where a route gave its own description.
        description = error.description if error.description != type(error).description else None
        headers = {}
        if error.code == 429:
            wait = _seconds_until_reset(error)
            if wait is not None:
                headers["Retry-After"] = str(wait)
                description = gettext(
                    "%(refusal)s Please try again in %(wait)s.",
                    refusal=description or MESSAGES[429][1],
                    wait=_in_words(wait),
                )
        code = None
        if error.code == 413 and description is None and g.get("too_large_message"):
            description, code = g.too_large_message, "file_too_large"  # an upload's own limit (security.body_limit)
        if error.code == 405 and error.valid_methods:
            headers["Allow"] = ", ".join(error.valid_methods)
        return error_response(error.code, description, headers, code)

    @app.errorhandler(InternalServerError)
    def internal_error(error):
        abandon_transaction()
        return error_response(500)

    @app.errorhandler(Exception)
    def unhandled_error(error):
        # The transaction may be broken (the error may be the database's): end it before anything
        # else, so neither the log line nor the error page touches it.
        abandon_transaction()
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500)


def abandon_transaction():
    """Roll the request's transaction back, whatever state it is in; the error page may then load
    what it shows (the user's name) in a fresh one."""
    try:
        db.session.rollback()
    except Exception:  # the connection itself may be gone; the page renders without it
        current_app.logger.warning("rolling back after an error failed", exc_info=True)
