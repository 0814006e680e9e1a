"""Browsing astrologers: anyone may look. htmx requests get the list partial, people the page."""

import uuid

from flask import abort, current_app, make_response, redirect, render_template, request, url_for
from flask_login import current_user

from ...extensions import htmx
from ...models import UserType
from ...services import marketplace, wallet
from ...services.marketplace import LANGUAGES, SPECIALIZATIONS
from . import bp
from .forms import listing_query

SORT_LABELS = {
    "recommended": "Recommended",
    "price_asc": "Price: low to high",
    "price_desc": "Price: high to low",
    "rating": "Rating",
    "experience": "Experience",
}


@bp.get("/")
def home():
    return redirect(url_for("astrologers.index"))


@bp.get("/astrologers")
def index():
    listing = marketplace.list_astrologers(listing_query(request.args))
    context = dict(listing=listing, specializations=SPECIALIZATIONS, languages=LANGUAGES, sort_labels=SORT_LABELS)
    # A history restore after a cache miss asks for the whole page, even though it comes from htmx.
    template = "astrologers/_list.html" if htmx and not htmx.history_restore_request else "astrologers/index.html"
    response = make_response(render_template(template, **context))
    response.vary.add("HX-Request")
    return response


@bp.get("/astrologers/<astrologer_id>")
def profile(astrologer_id):
    try:
        found = marketplace.listed_astrologer(uuid.UUID(astrologer_id))
    except ValueError:
        found = None
    if found is None:
        abort(404)
    page = max(request.args.get("reviews_page", 1, type=int) or 1, 1)
    reviews = marketplace.reviews(found.user.id, page=page)
    if htmx and request.args.get("reviews_page"):
        return render_template("astrologers/_reviews.html", astrologer=found, reviews=reviews)
    minutes = current_app.config["MIN_START_MINUTES"]
    needed = marketplace.minimum_start_balance(found.profile, minutes)
    available = None
    if current_user.is_authenticated and current_user.type == UserType.USER:
        available = wallet.wallet_of(current_user.id).available_balance
    return render_template(
        "astrologers/profile.html",
        astrologer=found,
        reviews=reviews,
        distribution=marketplace.rating_distribution(found.user.id),
        start_minutes=minutes,
        needed=needed,
        available=available,
    )
