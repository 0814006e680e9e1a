"""Browsing astrologers: anyone may look."""

from flask import redirect, render_template, request, url_for

from ...services import marketplace
from . import bp


@bp.get("/")
def home():
    return redirect(url_for("astrologers.index"))


@bp.get("/astrologers")
def index():
    page = request.args.get("page", 1, type=int)
    listing = marketplace.list_astrologers(page=max(page, 1))
    return render_template("astrologers/index.html", listing=listing)
