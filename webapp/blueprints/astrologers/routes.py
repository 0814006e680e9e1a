"""Browsing astrologers: anyone may look. htmx requests get the list partial, people the page."""

import time
import uuid

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from markupsafe import Markup

from ...boundary import refusal
from ...extensions import limiter
from ...models import Channel, UserType
from ...ratelimits import configured, user_or_address
from ...services import wallet
from ...services.ai import language_model as ai
from ...services.ai import matching
from ...services.astrologers import follows, marketplace
from ...services.astrologers.marketplace import LANGUAGES, SPECIALIZATIONS
from ...services.users import onboarding
from ...templating import wants_partial
from . import bp
from .forms import listing_query

LISTING_CACHE_ENTRIES = 512
SORT_LABELS = {
    "recommended": _l("Recommended"),
    "price_asc": _l("Price: low to high"),
    "price_desc": _l("Price: high to low"),
    "rating": _l("Rating"),
    "experience": _l("Experience"),
}


@bp.get("/")
def home():
    return redirect(url_for("astrologers.index"))


@bp.get("/astrologers")
def index():
    query = listing_query(request.args)
    results = _results(query)
    if wants_partial():  # the rendered results are cached as they are (_results)
        return results
    first_run = onboarding.first_run(current_user) if current_user.is_authenticated else None
    is_user = current_user.is_authenticated and current_user.type == UserType.USER
    context = dict(
        query=query,
        results=results,
        specializations=SPECIALIZATIONS,
        languages=LANGUAGES,
        first_run=first_run,
        # The cards are the same cached HTML for everyone: whom this user follows marks them (static/js/app.js).
        following=[str(person.id) for person, _ in follows.followed(current_user.id)] if is_user else None,
        # "Describe your concern": with AI on, for users (visitors are asked to log in).
        match_form=_match_form() if ai.enabled() and (is_user or not current_user.is_authenticated) else None,
    )
    return render_template("astrologers/index.html", sort_labels=SORT_LABELS, **context)


def _results(query):
    """The rendered results for `query` (the same for every visitor), kept LISTING_CACHE_SECONDS in this
    process: under load the same filters are asked for again and again, and availability changes
    reach open pages through the /marketplace broadcasts anyway. 0 turns the cache off."""
    seconds = current_app.config["LISTING_CACHE_SECONDS"]
    cache = current_app.extensions.setdefault("listing_results", {})
    now = time.monotonic()
    cached = cache.get(query)
    if seconds and cached:
        if cached[0] > now:
            return cached[1]
        # Expired: this request refreshes it; the others keep getting the last results meanwhile
        # instead of all recomputing at once.
        cache[query] = (now + seconds, cached[1])
    listing = marketplace.list_astrologers(query)
    results = Markup(render_template("astrologers/_list.html", listing=listing, sort_labels=SORT_LABELS))
    if seconds:
        if len(cache) >= LISTING_CACHE_ENTRIES:
            cache.clear()
        cache[query] = (now + seconds, results)
    return results


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
    if wants_partial() and request.args.get("reviews_page"):
        return render_template("astrologers/_reviews.html", astrologer=found, reviews=reviews)
    minutes = current_app.config["MIN_START_MINUTES"]
    needed = {channel.value: marketplace.minimum_start_balance(found.profile, minutes, channel) for channel in Channel}
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
        following=available is not None and follows.is_following(current_user.id, found.user.id),
    )


def _followed(astrologer_id, following):
    """The follow button again (htmx), or back to the profile."""
    if wants_partial():
        return render_template("astrologers/_follow.html", astrologer_id=astrologer_id, following=following)
    flash(
        gettext("You will hear when they are available.") if following else gettext("You no longer follow them."),
        "success",
    )
    return redirect(url_for("astrologers.profile", astrologer_id=astrologer_id), code=303)


@bp.post("/astrologers/<uuid:astrologer_id>/follow")
@login_required
def follow(astrologer_id):
    """Follow an astrologer: told when they become available (htmx: the button)."""
    return _followed(astrologer_id, follows.follow(current_user, astrologer_id))


@bp.post("/astrologers/<uuid:astrologer_id>/unfollow")
@login_required
def unfollow(astrologer_id):
    return _followed(astrologer_id, follows.unfollow(current_user, astrologer_id))


@bp.get("/following")
@login_required
def following():
    """The astrologers the signed-in user follows, with their status now."""
    return render_template("astrologers/following.html", followed=follows.followed(current_user.id))


# ---------------------------------------------------------------- "describe your concern" (services/ai/matching.py)


def _match_form(concern="", message=None):
    signed_in = current_user.is_authenticated
    return dict(
        signed_in=signed_in,
        needs_consent=signed_in and not ai.consented_at(current_user.profile),
        concern=concern,
        message=message,
        concern_max=matching.CONCERN_MAX,
    )


def _match_refused(error, **_):
    """No matching here (AI off, not yours): 404. A bad concern or no consent: the form again (422)."""
    if isinstance(error, matching.MatchNotFound):
        abort(404)
    form = _match_form(request.form.get("concern", "")[: matching.CONCERN_MAX], error.message)
    if wants_partial():
        return render_template("astrologers/_match_form.html", match_form=form), 422
    flash(error.message, "error")
    return redirect(url_for("astrologers.index", _anchor="concern-match"), code=303)


def _users_only():
    if not ai.enabled():
        abort(404)
    if current_user.type != UserType.USER:
        abort(403, gettext("Matching is for users looking for an astrologer."))


@bp.post("/astrologers/match")
@login_required
@limiter.limit(
    configured("RATELIMIT_AI_MATCHES"), key_func=user_or_address, error_message=lambda: gettext("Too many searches.")
)
@refusal(_match_refused)
def match():
    """A user's concern in their own words -> the available astrologers that fit (written by a job)."""
    _users_only()
    found = matching.request(current_user.id, request.form.get("concern"), consent=request.form.get("consent") == "y")
    if wants_partial():
        return _match_page(found)
    return redirect(url_for("astrologers.match_result", match_id=found.id), code=303)


@bp.get("/astrologers/match/<uuid:match_id>")
@login_required
@refusal(_match_refused)
def match_result(match_id):
    """A match: htmx polls it while the model chooses; a reload shows it as a page."""
    _users_only()
    return _match_page(matching.of(match_id, current_user.id))


def _match_page(found):
    context = dict(match=found, astrologers=matching.astrologers_of(found) if found.status == "ready" else [])
    return render_template("astrologers/_match.html" if wants_partial() else "astrologers/match.html", **context)
