"""Jinja helpers: money formatting and what every page's shell needs to know."""

from decimal import Decimal

from flask import current_app
from flask_login import current_user

from .extensions import db
from .models import Wallet


def format_money(amount, currency=None):
    """'₹1,234.50' for INR, 'USD 1,234.50' otherwise; Decimal in, text out."""
    if amount is None:
        return ""
    currency = currency or current_app.config["CURRENCY"]
    text = f"{Decimal(amount):,.2f}"
    return f"₹{text}" if currency == "INR" else f"{currency} {text}"


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
