"""HTTP error pages: HTML for people, JSON for machine clients; never a bare 500."""

import time

from flask import jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from .extensions import db, limiter

MESSAGES = {
    400: ("Bad request", "The request could not be understood. Check what you entered and try again."),
    403: ("Not allowed", "Your account does not have access to this page."),
    404: ("Not found", "There is nothing here. The link may be old or mistyped."),
    405: ("Method not allowed", "This address does not accept that kind of request."),
    413: ("Too large", "What you sent is larger than this site accepts."),
    429: ("Too many requests", "You are going a little fast. Please wait a moment and try again."),
    500: ("Something went wrong", "An unexpected error happened on our side. Nothing was charged; please try again."),
    503: ("Temporarily unavailable", "The service is briefly unavailable. Please try again shortly."),
}


def wants_json():
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def error_response(status, description=None, headers=None):
    """The one place an error becomes a response, as JSON or as the error page."""
    title, default_message = MESSAGES.get(status, ("Error", "The request failed."))
    message = description or default_message
    if wants_json():
        response = jsonify({"error": title.lower().replace(" ", "_"), "message": message})
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
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = -(-seconds // 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def register(app):
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return error_response(
            400, "Your form expired or was sent without its security token. Reload the page and try again."
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
                description = f"{description or MESSAGES[429][1]} Please try again in {_in_words(wait)}."
        if error.code == 405 and error.valid_methods:
            headers["Allow"] = ", ".join(error.valid_methods)
        return error_response(error.code, description, headers)

    @app.errorhandler(InternalServerError)
    def internal_error(error):
        db.session.rollback()
        return error_response(500)

    @app.errorhandler(Exception)
    def unhandled_error(error):
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        db.session.rollback()
        return error_response(500)
