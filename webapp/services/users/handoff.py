"""Hand-off from the main backend: a short-lived HS256 JWT names a user by external_id; its jti is
accepted once. Returns the user to log in, or HandoffRefused with the reason."""

import jwt
from flask import current_app
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from ...extensions import db
from ...models import UsedHandoffToken, User, UserStatus, utcnow
from ..errors import DomainError

MAX_LIFETIME_SECONDS = 300


class HandoffRefused(DomainError):
    code = "handoff_refused"
    status = 403
    message = _l("This sign-in link is not valid. Open AstroConsult again from the app you came from.")


def redeem(token, now=None):
    """The user the token hands over; the jti is spent in the caller's transaction."""
    now = now or utcnow()
    secret = current_app.config.get("HANDOFF_JWT_SECRET")
    if not secret:
        raise HandoffRefused(gettext("Sign-in from the main app is not enabled here."))
    try:
        claims = jwt.decode(
            token or "",
            secret,
            algorithms=["HS256"],
            options={"require": ["sub", "exp", "jti", "iat"]},
            leeway=5,
        )
    except jwt.ExpiredSignatureError:
        raise HandoffRefused(
            gettext("This sign-in link has expired. Open AstroConsult again from the app you came from.")
        ) from None
    except jwt.InvalidTokenError:
        raise HandoffRefused() from None
    if claims["exp"] - claims["iat"] > MAX_LIFETIME_SECONDS:
        raise HandoffRefused(gettext("This sign-in link lives too long to be accepted."))
    if not all(
        isinstance(claims[c], str) and 0 < len(claims[c]) <= 128 and "\x00" not in claims[c] for c in ("sub", "jti")
    ):
        raise HandoffRefused()
    user = db.session.execute(db.select(User).filter_by(external_id=claims["sub"])).scalar_one_or_none()
    if user is None or user.status != UserStatus.ACTIVE:
        raise HandoffRefused(gettext("This account cannot sign in here."))
    db.session.add(UsedHandoffToken(jti=claims["jti"], external_id=user.external_id, used_at=now))
    try:
        db.session.flush()
    except IntegrityError:
        raise HandoffRefused(gettext("This sign-in link was already used.")) from None
    return user
