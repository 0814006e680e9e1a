"""E-mail: receipts people keep, sent by the background jobs (services/jobs.py) over SMTP.

Settings use Flask-Mail's names (the standard library's smtplib does the sending): MAIL_SERVER
(unset: no e-mail at all), MAIL_PORT, MAIL_USE_TLS (STARTTLS), MAIL_USE_SSL, MAIL_USERNAME,
MAIL_PASSWORD, MAIL_DEFAULT_SENDER.

A message is rendered when its job runs, from the database as it is then (a refund made in the
same transaction as the session's end is on the receipt): a plain-text and an HTML part from
templates/email/<template>.txt and .html, times in the person's zone, money as the site writes it.
Each category can be turned off: by a signed link in every message (no login needed; List-Unsubscribe
says the same to mail clients) or on the account page. A person who turned a category off is
skipped, not failed.

    category   what it covers
    receipts   a completed top-up; a completed consultation (minutes, rate, total, refunds)
    payouts    each step of an astrologer's payout (requested, approved, paid, rejected, failed)
    earnings   an astrologer's weekly summary (minutes, gross, commission, refunds, net), each Monday

By documented key of user_profiles.preferences: email_off, the list of categories turned off.
"""

import smtplib
import uuid
from email.message import EmailMessage
from email.utils import make_msgid

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer

from ...extensions import db
from ...models import UserProfile
from ..users import languages, time_zones

CATEGORIES = {
    "receipts": _l("Receipts for top-ups and consultations"),
    "payouts": _l("Your payouts: requested, approved, paid or refused"),
    "earnings": _l("A weekly summary of your earnings"),
}
OFF = "email_off"


def categories_for(user):
    """The categories a person can receive: an astrologer's money, a user's receipts."""
    names = ("payouts", "earnings") if user.type.value == "astrologer" else ("receipts",)
    return {name: CATEGORIES[name] for name in names}


def enabled():
    return bool(current_app.config.get("MAIL_SERVER"))


def site_url(path):
    """An absolute link for a message (PUBLIC_URL, or where this process serves in development)."""
    config = current_app.config
    return (config.get("PUBLIC_URL") or f"http://{config['HOST']}:{config['PORT']}") + path


def _tokens():
    return URLSafeSerializer(current_app.secret_key, salt="email-unsubscribe")


def unsubscribe_token(user_id, category):
    return _tokens().dumps({"user": str(user_id), "category": category})


def read_unsubscribe_token(token):
    """(user id text, category) from a link, or None for anything not ours."""
    try:
        data = _tokens().loads(token)
    except BadSignature:
        return None
    if not isinstance(data, dict) or data.get("category") not in CATEGORIES:
        return None
    try:
        return uuid.UUID(str(data.get("user"))), data["category"]
    except ValueError:
        return None


def turned_off(profile):
    return set((profile.preferences or {}).get(OFF) or ()) & set(CATEGORIES)


def set_categories(user_id, wanted):
    """The categories the person receives (the rest turned off)."""
    profile = db.session.execute(db.select(UserProfile).filter_by(user_id=user_id)).scalar_one()
    off = sorted(set(CATEGORIES) - set(wanted))
    profile.preferences = {**(profile.preferences or {}), OFF: off}
    db.session.flush()
    return profile


def unsubscribe(user_id, category):
    profile = db.session.execute(db.select(UserProfile).filter_by(user_id=user_id)).scalar_one_or_none()
    if profile is None:
        return None
    return set_categories(user_id, set(CATEGORIES) - turned_off(profile) - {category})


def wanted_by(user, category):
    """Whether `user` has a proven address and receives `category` (an address nobody proved gets
    nothing but the link that proves it: services/users/email_addresses.py)."""
    return (
        user is not None
        and bool(user.email)
        and user.email_verified_at is not None
        and category not in turned_off(user.profile)
    )


def send(user, category, template, contents, *, to=None, attachments=None):
    """Render templates/email/<template>.* for `user` with `contents` (what the message reports) and
    send it over SMTP to `to` (the account's address by default); SMTP errors propagate (the job
    retries). `category` None is a message about the account itself (services/notifications/account_mail.py):
    it cannot be turned off and carries no unsubscribe link. `attachments`: a function giving
    [(filename, bytes, MIME type)], made in the receiver's language too (a tax invoice's PDF)."""
    with force_locale(languages.of(user.profile)):  # written in the receiver's language, not the job's
        message = _message(user, category, template, contents, to or user.email)
        for filename, data, mime in attachments() if attachments else ():
            maintype, _, subtype = mime.partition("/")
            message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    _smtp_send(message)


def _message(user, category, template, contents, to):
    context = {**contents, "person": user, "zone": time_zones.name_of(user.profile), "site_url": site_url}
    if category is not None:
        context["unsubscribe_url"] = site_url(f"/auth/email/unsubscribe/{unsubscribe_token(user.id, category)}")
        context["category_name"] = str(CATEGORIES[category])
    subject, text, html = render(template, context)
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
    message["To"] = to
    message["Message-ID"] = make_msgid(domain="astroconsult")
    if category is not None:
        message["List-Unsubscribe"] = f"<{context['unsubscribe_url']}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"  # RFC 8058: the link takes a POST
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def render(template, context):
    """(subject, text, html) of templates/email/<template>.*; the subject is the text part's first line."""
    text = render_template(f"email/{template}.txt", **context)
    subject, _, body = text.partition("\n")
    subject = " ".join(subject.split())  # one header line whatever a name in it holds (U+2028, U+0085)
    return subject, body.lstrip("\n"), render_template(f"email/{template}.html", **context)


def _smtp_send(message):
    config = current_app.config
    kind = smtplib.SMTP_SSL if config["MAIL_USE_SSL"] else smtplib.SMTP
    with kind(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=30) as smtp:
        if config["MAIL_USE_TLS"] and not config["MAIL_USE_SSL"]:
            smtp.starttls()
        if config["MAIL_USERNAME"]:
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
        smtp.send_message(message)
