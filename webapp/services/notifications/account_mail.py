"""E-mail about the account itself: the links that reset a password, prove an address, tell the old
address of a change, and fetch one's data; and the notice of a deletion. The job channel
"account_email" (services/jobs.py), asked for in the transaction that made the link.

These cannot be turned off and carry no unsubscribe link. A job is given the link's row id, never its
token (services/users/account_tokens.py derives it when the mail is written). Without MAIL_SERVER a
development site writes the message to its log (`make run`: the link to click is there); a production
site without one sends nothing, and its pages say the same as when it does.
"""

import uuid

from flask import current_app
from flask_babel import force_locale, gettext

from ...extensions import db
from ...models import User
from .. import jobs
from ..users import account_tokens, languages
from . import mail


def ask(kind, user, *, token_id=None, to=None, now=None, **args):
    """Send the message `kind` (MESSAGES) to `user` (at `to`, their address by default) after the commit."""
    key = f"account_email:{kind}:{token_id or uuid.uuid4()}"
    payload = {"kind": kind, "user_id": str(user.id), "token_id": str(token_id) if token_id else None,
               "to": to or user.email, "args": args}  # fmt: skip
    jobs.deliver("account_email", key, payload, now)


def _link(path):
    return mail.site_url(path)


def _reset(token, args):
    return {
        "subject": gettext("Reset your AstroConsult password"),
        "paragraphs": [
            gettext("Someone, we hope you, asked to reset the password of your AstroConsult account."),
            gettext("The link works once, within 30 minutes. Using it signs you out on every device."),
        ],
        "button": (gettext("Choose a new password"), _link(f"/auth/reset/{token}")),
        "after": gettext("If it was not you, ignore this e-mail: your password stays as it is."),
    }


def _verify(token, args):
    return {
        "subject": gettext("Confirm your e-mail address"),
        "paragraphs": [
            gettext("Confirm that this address is yours, so that your receipts and invoices can be sent here."),
        ],
        "button": (gettext("Confirm my address"), _link(f"/auth/email/confirm/{token}")),
        "after": gettext("If you did not sign up for AstroConsult, ignore this e-mail: nothing will be sent here."),
    }


def _change(token, args):
    return {
        "subject": gettext("Confirm your new e-mail address"),
        "paragraphs": [gettext("You asked to use this address for your AstroConsult account.")],
        "button": (gettext("Use this address"), _link(f"/auth/email/confirm/{token}")),
        "after": gettext("The link works for 24 hours. If it was not you, ignore this e-mail."),
    }


def _changing(token, args):
    return {
        "subject": gettext("Your AstroConsult e-mail address is changing"),
        "paragraphs": [
            gettext(
                "Someone signed in to your account asked to change its e-mail address to %(address)s.",
                address=args["new_address"],
            ),  # fmt: skip
            gettext("If it was you, there is nothing to do."),
        ],
        "button": (gettext("It wasn't me: lock my account"), _link(f"/auth/not-me/{token}")),
        "after": gettext("Locking signs everyone out, keeps this address on the account, and asks for a new password."),
    }


def _export(token, args):
    return {
        "subject": gettext("Your AstroConsult data is ready"),
        "paragraphs": [
            gettext("The copy of your data you asked for is ready: a ZIP file of JSON and CSV files."),
            gettext("The link works for 24 hours, and only when you are signed in to your account."),
        ],
        "button": (gettext("Download my data"), _link(f"/auth/account/export/{token}")),
        "after": gettext("If you did not ask for it, change your password."),
    }


def _deletion(token, args):
    return {
        "subject": gettext("Your AstroConsult account will be deleted"),
        "paragraphs": [
            gettext(
                "You asked us to delete your account. On %(day)s we erase your personal details.", day=args["day"]
            ),  # fmt: skip
            gettext("Changed your mind? Sign in before then and nothing is deleted."),
        ],
        "button": (gettext("Sign in"), _link("/auth/login")),
        "after": gettext("If it was not you, sign in and change your password."),
    }


def _released(token, args):
    return {
        "subject": gettext("Your mobile number was removed from your AstroConsult account"),
        "paragraphs": [
            gettext(
                "The mobile number on your account had not been confirmed, and someone has now proved with a code that it is theirs. It is no longer on your account."
            ),
            gettext("Your wallet and consultations are safe. You can sign in with your e-mail address."),
        ],
        "button": (gettext("Add a mobile number"), _link("/auth/account/security")),
        "after": gettext("If the number is yours, add it again: we will text it a code."),
    }


MESSAGES = {
    "reset_password": _reset,
    "verify_email": _verify,
    "change_email": _change,
    "email_changing": _changing,
    "export": _export,
    "deletion": _deletion,
    "phone_released": _released,
}


@jobs.channel("account_email")
def send_delivery(payload):
    """Written in the person's language now; False when there is nowhere to send it."""
    user = db.session.get(User, uuid.UUID(payload["user_id"]))
    if user is None or not payload.get("to"):
        return False
    token = account_tokens.token_of(payload["token_id"]) if payload.get("token_id") else None
    with force_locale(languages.of(user.profile)):
        contents = MESSAGES[payload["kind"]](token, payload.get("args") or {})
    if mail.enabled():
        mail.send(user, None, "account", contents, to=payload["to"])
        return True
    if current_app.config["APP_ENV"] == "development":
        label, url = contents["button"]
        current_app.logger.info("e-mail to %s: %s: %s", payload["to"], contents["subject"], url)
        return True
    return False
