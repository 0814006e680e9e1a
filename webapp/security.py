"""Security headers, configured in one place (Flask-Talisman).

A strict Content-Security-Policy: only this origin (htmx and the Socket.IO client are vendored),
no inline script or style, no plugins, never framed; nosniff; a referrer policy that sends no
path to other sites. With FORCE_HTTPS: plain HTTP is redirected, HSTS is sent, cookies are
Secure. The session and remember-me cookies are HttpOnly and SameSite=Lax in any case. A path
carrying a NUL character is a 404, query and form values carrying one a 400. Behind PROXY_HOPS proxies the
client address (rate limits, /metrics allowlist, logs) is read from X-Forwarded-For; X-Forwarded-Host
only when TRUSTED_HOSTS (PUBLIC_URL's host) lists what it may say.

Request bodies: at most MAX_CONTENT_LENGTH (2 MB), except for a view marked `@body_limit(allowance)`,
whose allowance(**view_args) -> (bytes, refusal) is applied before any hook reads the body (the NUL
check and CSRF read the form): Werkzeug then stops reading at that many bytes, and the 413 says the
allowance's refusal. An uploaded file is served with `@uploaded_file`: a CSP that lets it run
nothing (default-src 'none'; sandbox) instead of the pages' policy.
"""

from urllib.parse import urlsplit

from flask import abort, current_app, g, request
from flask_babel import gettext
from flask_talisman import Talisman
from werkzeug.middleware.proxy_fix import ProxyFix

CSP = {
    "default-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
#: What an uploaded file is served with: nothing in it may load, run or submit anything.
UPLOADED_FILE_CSP = {"default-src": "'none'", "sandbox": "", "frame-ancestors": "'none'"}
# The microphone for calls and the camera for video calls, on this origin only.
PERMISSIONS = {"camera": "(self)", "geolocation": "()", "microphone": "(self)", "payment": "()"}


def _origin(url):
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy(config):
    """CSP, opened for Razorpay's Standard Checkout only while Razorpay is on: its script (from
    RAZORPAY_CHECKOUT_JS's origin) and its payment window (a frame from its API's origin and the
    checkout's), as Razorpay's integration guide lists them."""
    policy = dict(CSP)
    if "razorpay" in config["PAYMENT_PROVIDERS"]:
        checkout, api = _origin(config["RAZORPAY_CHECKOUT_JS"]), _origin(config["RAZORPAY_API_BASE"])
        origins = " ".join(dict.fromkeys((checkout, api)))
        policy["script-src"] = f"'self' {checkout}"
        policy["frame-src"] = f"'self' {origins}"
        policy["connect-src"] = f"'self' {origins}"
        policy["img-src"] = f"{CSP['img-src']} {origins}"
    return policy


def init_app(app):
    """Call before any extension whose hooks read the request body (CSRFProtect)."""
    app.before_request(apply_body_limit)
    # One Talisman per app: it keeps its settings on itself, so a shared instance would let the
    # last app built decide for every other.
    app.extensions["talisman"] = Talisman(
        app,
        content_security_policy=content_security_policy(app.config),
        permissions_policy=PERMISSIONS,
        frame_options="DENY",
        referrer_policy="strict-origin-when-cross-origin",
        x_content_type_options=True,
        force_https=app.config["FORCE_HTTPS"],
        strict_transport_security=app.config["FORCE_HTTPS"],
        session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
        session_cookie_http_only=True,
        session_cookie_samesite="Lax",
    )
    app.before_request(refuse_nul_characters)
    hops = app.config["PROXY_HOPS"]
    if hops:  # behind nginx: the client's address and scheme come from X-Forwarded-* of that many proxies
        # X-Forwarded-Host only with a trusted host list (Flask then refuses any other host with a 400):
        # otherwise a client could name any host and have redirects point there.
        forwarded_host = hops if app.config["TRUSTED_HOSTS"] else 0
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=forwarded_host)


def refuse_nul_characters():
    """A NUL character has no place in any text this site takes (and PostgreSQL refuses to store
    one): a path carrying one names nothing (404), a query or form value carrying one is a 400,
    before any view sees it."""
    if "\x00" in request.path:
        abort(404)
    for source in (request.args, request.form):
        for key, values in source.lists():
            if "\x00" in key or any("\x00" in value for value in values):
                abort(400, gettext("Text must not contain NUL characters."))


def body_limit(allowance):
    """Mark a view whose request body may exceed MAX_CONTENT_LENGTH: allowance(**view_args) ->
    (the most bytes, what the 413 says past them). Put it right under the route decorator."""

    def decorate(view):
        view.body_limit = allowance
        return view

    return decorate


def apply_body_limit():
    view = current_app.view_functions.get(request.endpoint)
    allowance = getattr(view, "body_limit", None)
    if allowance is not None and request.method == "POST":
        request.max_content_length, g.too_large_message = allowance(**(request.view_args or {}))


def uploaded_file(view):
    """Mark a view that sends an uploaded file: UPLOADED_FILE_CSP instead of the pages' policy."""
    view.talisman_view_options = {"content_security_policy": UPLOADED_FILE_CSP}
    return view
