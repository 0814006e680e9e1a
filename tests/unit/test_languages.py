"""The product's language (issue 41): chosen from the account, a visitor's switch, the browser's
Accept-Language, else the default; Hindi pages, refusals, money and dates; English unchanged."""

import json
import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from flask_babel import force_locale, get_locale, refresh
from flask_login import login_user

from webapp import i18n
from webapp.config import Config, ConfigError
from webapp.extensions import db
from webapp.models import UserProfile
from webapp.services.money.amounts import format_money
from webapp.services.users import languages

from ..conftest import DEMO_PASSWORD, AuthActions, csrf_token_from

HINDI = {"Accept-Language": "hi-IN,hi;q=0.9,en;q=0.8"}
ENGLISH = {"Accept-Language": "en-IN,en;q=0.9"}


def locale_for(app, accept=None, person=None, cookie=None):
    headers = {"Accept-Language": accept} if accept else {}
    if cookie:
        headers["Cookie"] = f"{i18n.COOKIE}={cookie}"
    with app.test_request_context("/", headers=headers):
        if person is not None:
            login_user(person)
        refresh()  # the test's app context outlives each request: forget the last one's choice
        return str(get_locale())


def stored_language(user):
    profile = db.session.query(UserProfile).filter_by(user_id=user.id).one()
    db.session.refresh(profile)
    return (profile.preferences or {}).get(languages.PREFERENCE)


def test_hindi_is_offered_beside_english_by_default(app):
    assert app.config["LANGUAGES"] == ["en", "hi"]


def test_a_visitor_gets_the_best_offered_language_their_browser_asks_for(app):
    assert locale_for(app, "hi-IN,hi;q=0.9,en;q=0.8") == "hi"
    assert locale_for(app, "ta-IN,en;q=0.5") == "en"  # Tamil is not offered: the next choice
    assert locale_for(app, "fr") == "en"  # nothing offered: the default
    assert locale_for(app, "en-IN,hi;q=0.9") == "en"  # as Chromium asks in India: English first
    assert locale_for(app, "hi;q=0.5,en-GB;q=0.8") == "en"  # by quality, not by the order written
    assert locale_for(app) == "en"


def test_the_account_wins_over_a_switch_and_the_browser(app, make_user):
    person = make_user(email="asha@example.com")
    assert locale_for(app, "hi", cookie="en") == "en"  # a visitor's switch wins over the browser
    languages.store(person.id, "en")
    db.session.commit()
    assert locale_for(app, "hi", person, cookie="hi") == "en"
    person.profile.preferences = {**person.profile.preferences, languages.PREFERENCE: "xx"}  # no longer offered
    db.session.commit()
    assert locale_for(app, "hi", person) == "hi"


def test_with_one_language_offered_every_request_gets_it_and_there_is_no_switcher(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "LANGUAGES", ["en"])
    assert locale_for(app, "hi-IN,hi") == "en"
    page = client.get("/astrologers", headers=HINDI).get_data(as_text=True)
    assert '<html lang="en">' in page and "nav-language" not in page


def test_only_english_and_languages_with_a_catalog_may_be_offered(monkeypatch, tmp_path, app):
    with pytest.raises(ConfigError, match="LANGUAGES"):
        Config({"SECRET_KEY": "x" * 32, "LANGUAGES": "en,xx"})
    monkeypatch.setattr(i18n, "TRANSLATIONS", tmp_path)  # as on a checkout where `make translations` never ran
    with pytest.raises(ConfigError, match="make translations"):
        i18n.init_app(app)


def test_a_hindi_browser_gets_hindi_pages_and_an_english_one_sees_no_change_but_the_switcher(client, make_astrologer):
    make_astrologer(name="Acharya Dev", rate=Decimal("50.00"), languages=["Hindi", "Tamil"])
    hindi = client.get("/astrologers", headers=HINDI).get_data(as_text=True)
    assert '<html lang="hi">' in hindi
    assert "ज्योतिषी से बात करें" in hindi and "लॉग इन करें" in hindi  # the heading and the header
    assert "₹50/मिनट" in hindi and "हिन्दी, तमिल" in hindi  # whole rupees; languages by their Hindi names
    assert (
        '<button type="submit" class="button-link nav-language-button" name="language" value="en" lang="en">English</button>'
        in hindi
    )
    english = client.get("/astrologers", headers=ENGLISH).get_data(as_text=True)
    assert '<html lang="en">' in english and "Talk to an astrologer" in english and "₹50/min" in english
    assert "Hindi, Tamil" in english and 'value="hi" lang="hi">हिन्दी</button>' in english


def test_the_switcher_keeps_a_visitors_choice_and_comes_back_to_the_page(client):
    token = csrf_token_from(client.get("/astrologers", headers=ENGLISH).get_data(as_text=True))
    answer = client.post("/auth/language", data={"language": "hi", "next": "/astrologers?q=dev", "csrf_token": token})
    assert answer.status_code == 302 and answer.headers["Location"] == "/astrologers?q=dev"
    assert re.search(r"language=hi;.*HttpOnly", answer.headers["Set-Cookie"])
    page = client.get("/astrologers", headers=ENGLISH).get_data(as_text=True)
    assert '<html lang="hi">' in page  # the choice, not the browser


def test_a_language_that_is_not_offered_or_an_outside_page_changes_nothing(client):
    token = csrf_token_from(client.get("/astrologers").get_data(as_text=True))
    answer = client.post("/auth/language", data={"language": "xx", "csrf_token": token})
    assert answer.status_code == 302 and not any(
        cookie.startswith(f"{i18n.COOKIE}=") for cookie in answer.headers.getlist("Set-Cookie")
    )
    answer = client.post("/auth/language", data={"language": "hi", "next": "//evil.example", "csrf_token": token})
    assert answer.headers["Location"] == "/astrologers"


def test_a_signed_in_persons_switch_is_kept_on_the_account_for_every_browser(app, client, make_user):
    person = make_user(email="meera@example.com")
    AuthActions(client).login("meera@example.com")
    token = csrf_token_from(client.get("/astrologers").get_data(as_text=True))
    client.post("/auth/language", data={"language": "hi", "csrf_token": token})
    assert stored_language(person) == "hi"
    with app.test_client() as elsewhere:  # another browser, asking for English
        AuthActions(elsewhere).login("meera@example.com")
        page = elsewhere.get("/wallet", headers=ENGLISH).get_data(as_text=True)
        assert '<html lang="hi">' in page and "वॉलेट" in page


def register(client, headers, **extra):
    page = client.get("/auth/register", headers=headers).get_data(as_text=True)
    fields = {
        "name": "Kavita Sharma", "email": "kavita@example.com", "phone": "+91 98123 45670",
        "password": "mera-pasword-77", "csrf_token": csrf_token_from(page), **extra,
    }  # fmt: skip
    return page, client.post("/auth/register", data=fields, headers=headers)


def test_signing_up_from_a_hindi_browser_stores_hindi_and_keeps_it_on_an_english_one(app, client):
    page, answer = register(client, HINDI)
    assert "इस साइट की भाषा" in page and '<option selected value="hi">हिन्दी</option>' in page
    assert answer.status_code == 302, answer.get_data(as_text=True)
    user = db.session.execute(db.select(UserProfile).join(UserProfile.user).filter_by(email="kavita@example.com"))
    profile = user.scalar_one()
    assert (profile.preferences or {})[languages.PREFERENCE] == "hi"
    with app.test_client() as elsewhere:
        AuthActions(elsewhere).login("kavita@example.com", password="mera-pasword-77")
        assert '<html lang="hi">' in elsewhere.get("/astrologers", headers=ENGLISH).get_data(as_text=True)


def test_the_sign_up_form_may_choose_another_language_than_the_browsers(client):
    _, answer = register(client, HINDI, locale="en")
    assert answer.status_code == 302
    profile = db.session.execute(
        db.select(UserProfile).join(UserProfile.user).filter_by(email="kavita@example.com")
    ).scalar_one()
    assert profile.preferences[languages.PREFERENCE] == "en"


def test_refusals_and_form_errors_come_in_hindi(client):
    page, answer = register(client, HINDI, email="not-an-address", password="")
    assert answer.status_code == 422
    html = answer.get_data(as_text=True)
    assert "सही ई-मेल पता डालें" in html and "पासवर्ड चुनें।" in html
    token = csrf_token_from(page)
    refused = client.post(
        "/auth/login", data={"identifier": "nobody@example.com", "password": DEMO_PASSWORD, "csrf_token": token},
        headers=HINDI,
    )  # fmt: skip
    assert "यह ई-मेल या फ़ोन और पासवर्ड किसी खाते से मेल नहीं खाते।" in refused.get_data(as_text=True)
    assert "कुछ नहीं है" in client.get("/no-such-page", headers=HINDI).get_data(as_text=True)


@pytest.mark.parametrize(
    "amount, english, hindi",
    [
        ("50", "₹50", "₹50"),
        ("12.5", "₹12.50", "₹12.50"),
        ("100000", "₹1,00,000", "₹1,00,000"),
        ("0.05", "₹0.05", "₹0.05"),
    ],
)
def test_money_is_whole_without_paise_and_grouped_as_india_does_in_both_languages(app, amount, english, hindi):
    with app.test_request_context():
        with force_locale("en"):
            assert format_money(Decimal(amount)) == english
        with force_locale("hi"):
            assert format_money(Decimal(amount)) == hindi


def test_dates_have_hindi_month_and_weekday_names(app):
    moment = datetime(2026, 12, 7, 14, 5, tzinfo=UTC)
    with app.test_request_context():
        with force_locale("hi"):
            assert i18n.format_moment(moment, "%a %d %B %Y, %H:%M %Z") == "सोम 07 दिसंबर 2026, 14:05 UTC"
            assert i18n.format_moment(date(2026, 3, 1), "%d %b") == "01 मार्च"
        with force_locale("en"):
            assert i18n.format_moment(moment, "%d %b %Y, %H:%M %Z") == "07 Dec 2026, 14:05 UTC"


def test_a_hindi_page_carries_the_scripts_sentences_and_an_english_one_none(client):
    hindi = client.get("/astrologers", headers=HINDI).get_data(as_text=True)
    catalog = re.search(r'<script type="application/json" id="i18n-catalog">(.*?)</script>', hindi).group(1)
    sentences = json.loads(catalog)
    assert sentences["Connection lost; reconnecting…"] == "कनेक्शन टूट गया; फिर से जुड़ रहे हैं…"
    assert sentences["Stops after %(minutes)s min: at most %(most)s."].startswith("%(minutes)s मिनट")
    assert "i18n-catalog" not in client.get("/astrologers", headers=ENGLISH).get_data(as_text=True)
