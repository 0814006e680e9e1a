"""Jinja helpers: money formatting, what every page's shell needs to know, and the page-or-partial
decision of the endpoints htmx asks for a part of a page."""

from zoneinfo import ZoneInfo

from flask import current_app, make_response, render_template
from flask_login import current_user

from .extensions import db, htmx
from .models import Wallet
from .services.amounts import format_money


def wants_partial():
    """An htmx request for a part of the page. A history restore after a cache miss asks for the
    whole page, though it comes from htmx."""
    return bool(htmx) and not htmx.history_restore_request


def varies_on_htmx(response):
    """Mark a response whose body depends on HX-Request, so no cache serves a partial for a page."""
    response = make_response(response)
    response.vary.add("HX-Request")
    return response


def page_or_partial(whole, partial, /, **context):
    """The `partial` template for htmx, the `whole` page's otherwise (both get `context`); Vary: HX-Request."""
    return varies_on_htmx(render_template(partial if wants_partial() else whole, **context))


def initials(name):
    parts = [part for part in (name or "").split() if part]
    return "".join(part[0] for part in parts[:2]).upper() or "?"


def local_time(moment, format="%d %b %Y, %H:%M"):
    """`moment` (UTC) as the clock reads in REPORTING_TIMEZONE (India's), formatted."""
    if moment is None:
        return ""
    return moment.astimezone(ZoneInfo(current_app.config["REPORTING_TIMEZONE"])).strftime(format)


def register(app):
    app.jinja_env.filters["money"] = format_money
    app.jinja_env.filters["local"] = local_time
    app.jinja_env.filters["initials"] = initials

    @app.context_processor
    def shell_context():
        """The wallet balance badge in the navigation, for logged-in wallet owners."""
        balance = None
        if current_user.is_authenticated and not current_user.is_admin:
            balance = db.session.query(Wallet.current_balance).filter_by(user_id=current_user.id).scalar()
        return {"nav_balance": balance, "currency": app.config["CURRENCY"]}
