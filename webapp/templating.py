"""Jinja helpers: money formatting, what every page's shell needs to know, and the page-or-partial
decision of the endpoints htmx asks for a part of a page."""

import zlib

from flask import g, has_request_context, render_template
from flask_babel import gettext
from flask_login import current_user

from . import i18n
from .extensions import htmx
from .models import Channel
from .models.enums import label_of
from .services.ai import safety
from .services.astrologers import marketplace
from .services.astrology import birth_chart, chart_drawing, kundli
from .services.messaging import attachments, system_lines
from .services.money.amounts import format_money
from .services.notifications import mail, push
from .services.users import accounts, languages, login_sessions, time_zones


def wants_partial():
    """An htmx request for a part of the page. A history restore after a cache miss asks for the
    whole page, though it comes from htmx."""
    return bool(htmx) and not htmx.history_restore_request


def vary_on_htmx(response):
    """Every HTML answer says Vary: HX-Request (an after_request hook of the app): any route may answer
    htmx with a partial or a redirect and a page load with the page, and no cache may serve one for
    the other. Set for all, so no route can forget it."""
    if response.mimetype == "text/html":
        response.vary.add("HX-Request")
    return response


def page_or_partial(whole, partial, /, **context):
    """The `partial` template for htmx, the `whole` page's otherwise (both get `context`)."""
    return render_template(partial if wants_partial() else whole, **context)


def initials(name):
    parts = [part for part in (name or "").split() if part]
    return "".join(part[0] for part in parts[:2]).upper() or "?"


AVATAR_TONES = 6


def avatar_tone(name):
    """A stable colour (0..5) for a person's initials avatar: the same name, the same colour, anywhere."""
    return zlib.crc32((name or "").encode()) % AVATAR_TONES


def viewer_zone_name():
    """The zone the signed-in person reads times in (services/users/time_zones.py); once per request."""
    if not has_request_context():
        return time_zones.default_name()
    if "viewer_zone" not in g:
        profile = current_user.profile if current_user.is_authenticated else None
        g.viewer_zone = time_zones.name_of(profile)
    return g.viewer_zone


def local_time(moment, format="%d %b %Y, %H:%M %Z"):
    """`moment` (UTC) as the viewer's clock reads it, in their language ("%Z": the zone's
    abbreviation, IST; i18n.format_moment)."""
    if moment is None:
        return ""
    return i18n.format_moment(moment.astimezone(time_zones.zone(viewer_zone_name())), format)


def local_in(moment, zone_name, format="%d %b %Y, %H:%M %Z"):
    """`moment` in a named zone (an e-mail is written for its reader, outside any request)."""
    return "" if moment is None else i18n.format_moment(moment.astimezone(time_zones.zone(zone_name)), format)


def day(value, format="%d %b %Y"):
    """A calendar date (a birth date, a week's first day) in the reader's language."""
    return "" if value is None else i18n.format_moment(value, format)


def register(app):
    app.after_request(vary_on_htmx)
    app.jinja_env.filters["money"] = format_money
    app.jinja_env.filters["channel_label"] = lambda channel: Channel(channel).label
    app.jinja_env.filters["label"] = label_of
    app.jinja_env.filters["local"] = local_time
    app.jinja_env.filters["local_in"] = local_in
    app.jinja_env.filters["initials"] = initials
    app.jinja_env.filters["avatar_tone"] = avatar_tone
    app.jinja_env.filters["file_facts"] = attachments.facts
    app.jinja_env.filters["size_words"] = attachments.size_words
    app.jinja_env.filters["dms"] = kundli.dms
    app.jinja_env.filters["sign_of"] = kundli.sign_of
    app.jinja_env.filters["day"] = day
    app.jinja_env.filters["translated"] = gettext  # a message key kept in data (N_), said in the reader's language
    app.jinja_env.filters["flag_reason"] = safety.reason_of
    app.jinja_env.filters["flag_title"] = safety.title_of
    app.jinja_env.filters["message_text"] = system_lines.text_of  # a platform line in the reader's language
    app.jinja_env.filters["language_name"] = i18n.language_name
    app.jinja_env.filters["specialization"] = marketplace.specialization_name
    app.jinja_env.globals.update(
        channels=list(Channel),  # chat, call, video: the order every page lists them in
        kundli=kundli,
        drawing=chart_drawing,
        birth_chart=birth_chart,
        mail_categories_for=mail.categories_for,
        device_name=login_sessions.device_name,
        push_public_key=push.public_key,
        js_catalog=i18n.js_catalog,
    )

    @app.context_processor
    def language_context():
        """The language this page or message is written in (<html lang>, the JS catalog)."""
        offered = languages.offered()
        return {
            "lang": i18n.current_language(),
            "offered_languages": [(code, languages.native_name(code)) for code in offered],
        }

    @app.context_processor
    def shell_context():
        """What the page shell (base.html) shows: for a signed-in person the wallet badge (the available
        balance), the bell's unread count and their zone, in one query per full page; none for an htmx
        partial (it has no shell) or an e-mail rendered by a job (no viewer)."""
        bare = {"currency": app.config["CURRENCY"], "nav_balance": None, "nav_unread": 0}
        if not has_request_context() or wants_partial():
            return bare
        if not current_user.is_authenticated:
            return {**bare, "viewer_zone": viewer_zone_name()}
        shell = accounts.shell_of(current_user)
        g.viewer_zone = shell.time_zone or time_zones.default_name()  # the filters' zone, without another query
        return {
            **bare,
            "nav_balance": shell.balance,
            "nav_unread": shell.unread,
            "viewer_zone": g.viewer_zone,
            "zone_unset": shell.time_zone is None,  # the browser's zone is asked for once, until one is stored
        }
