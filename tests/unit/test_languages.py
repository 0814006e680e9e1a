"""The language a request is answered in (Flask-Babel's locale selector, webapp/i18n.py): the account's
stored choice, else the browser's Accept-Language, else the default; only offered languages."""

import pytest
from flask_babel import get_locale, refresh
from flask_login import login_user

from webapp.config import Config, ConfigError
from webapp.extensions import db
from webapp.services.users import languages


@pytest.fixture
def bilingual(app, monkeypatch):
    """As if a second catalog were complete: English first, Hindi offered."""
    monkeypatch.setitem(app.config, "LANGUAGES", ["en", "hi"])
    return app


def locale_for(app, accept=None, person=None):
    headers = {"Accept-Language": accept} if accept else {}
    with app.test_request_context("/", headers=headers):
        if person is not None:
            login_user(person)
        refresh()  # the test's app context outlives each request: forget the last one's choice
        return str(get_locale())


def test_a_visitor_gets_the_best_offered_language_their_browser_asks_for(bilingual):
    assert locale_for(bilingual, "hi-IN,hi;q=0.9,en;q=0.8") == "hi"
    assert locale_for(bilingual, "ta-IN,en;q=0.5") == "en"  # Tamil is not offered: the next choice
    assert locale_for(bilingual, "fr") == "en"  # nothing offered: the default
    assert locale_for(bilingual) == "en"


def test_the_choice_stored_on_the_account_wins_over_the_browser(bilingual, make_user):
    person = make_user(email="asha@example.com")
    person.profile.preferences = {**(person.profile.preferences or {}), languages.PREFERENCE: "en"}
    db.session.commit()
    assert locale_for(bilingual, "hi", person) == "en"
    person.profile.preferences = {**person.profile.preferences, languages.PREFERENCE: "xx"}  # no longer offered
    db.session.commit()
    assert locale_for(bilingual, "hi", person) == "hi"


def test_with_one_language_offered_every_request_gets_it(app):
    assert app.config["LANGUAGES"] == ["en"]
    assert locale_for(app, "hi-IN,hi") == "en"


def test_only_languages_with_a_catalog_may_be_offered():
    with pytest.raises(ConfigError, match="LANGUAGES"):
        Config({"SECRET_KEY": "x" * 32, "LANGUAGES": "en,xx"})
