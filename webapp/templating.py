"""Jinja helpers: money formatting, what every page's shell needs to know, and the page-or-partial
decision of the endpoints htmx asks for a part of a page."""

from decimal import Decimal

from flask import current_app, make_response, render_template
from flask_login import current_user

from .extensions import db, htmx
from .models import Wallet


def format_money(amount, currency=None):
    """'₹1,234.50' for INR, 'USD 1,234.50' otherwise; Decimal in, text out."""
    if amount is None:
        return ""
    currency = currency or current_app.config["CURRENCY"]
    text = f"{Decimal(amount):,.2f}"
    return f"₹{text}" if currency == "INR" else f"{currency} {text}"


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


def register(app):
    app.jinja_env.filters["money"] = format_money
    app.jinja_env.filters["initials"] = initials

    @app.context_processor
    def shell_context():
        """The wallet balance badge in the navigation, for logged-in wallet owners."""
        balance = None
        if current_user.is_authenticated and not current_user.is_admin:
            balance = db.session.query(Wallet.current_balance).filter_by(user_id=current_user.id).scalar()
        return {"nav_balance": balance, "currency": app.config["CURRENCY"]}
