"""Which language a request is answered in (Flask-Babel's locale selector): the signed-in person's
stored choice, else the browser's Accept-Language, else the default (services/users/languages.py).
With one language offered the answer needs no database. Outside a request (a job's e-mail) it is the
default."""

from flask import has_request_context, request
from flask_login import current_user

from .extensions import babel
from .services.users import languages


def select_locale():
    if len(languages.offered()) == 1 or not has_request_context():  # a job renders for its receiver
        return languages.offered()[0]
    stored = None
    if current_user and current_user.is_authenticated and current_user.profile is not None:
        stored = languages.stored_in(current_user.profile.preferences)
    return languages.choose(stored, request.accept_languages)


def init_app(app):
    babel.init_app(app, default_locale=app.config["LANGUAGES"][0], locale_selector=select_locale)
