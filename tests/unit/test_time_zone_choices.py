"""The time zone list a person chooses from: canonical zones only, by place and offset in their language,
grouped by region with their country first; a browser's legacy name stored as its canonical zone."""

from webapp.extensions import db
from webapp.models import UserProfile
from webapp.services.users import time_zones

from ..conftest import AuthActions


def test_links_are_stored_as_their_canonical_zone(app, make_user):
    user = make_user()
    time_zones.set_zone(user.id, "Asia/Calcutta")
    assert (
        db.session.execute(db.select(UserProfile.preferences).filter_by(user_id=user.id)).scalar_one()["time_zone"]
        == "Asia/Kolkata"
    )
    assert [time_zones.canonical(n) for n in ("W-SU", "US/Eastern", "Zulu", "Europe/Kiev")] == [
        "Europe/Moscow", "America/New_York", "UTC", "Europe/Kyiv",
    ]  # fmt: skip


def test_india_comes_first_for_en_in_and_the_uk_for_en_gb(app):
    with app.test_request_context(headers={"Accept-Language": "en-IN,en;q=0.8"}):
        first_group, first_zones = time_zones.grouped_choices()[0]
        assert first_group == "Your country" and first_zones == [("Asia/Kolkata", "India Time (UTC+05:30)")]
    with app.test_request_context(headers={"Accept-Language": "en-GB"}):
        assert time_zones.grouped_choices()[0][1][0][0] == "Europe/London"


def test_the_account_page_offers_grouped_canonical_zones_with_the_stored_one_chosen(app, make_user, auth):
    user = make_user(email="zones@example.com")
    time_zones.set_zone(user.id, "America/Sao_Paulo")
    db.session.commit()
    auth.login("zones@example.com")
    page = auth.client.get("/auth/account", headers={"Accept-Language": "en-IN"}).get_data(as_text=True)
    assert '<optgroup label="Your country">' in page and '<optgroup label="Europe">' in page
    assert 'value="Asia/Kolkata">India Time (UTC+05:30)' in page
    assert 'selected value="America/Sao_Paulo"' in page or 'value="America/Sao_Paulo" selected' in page
    for alias in ("Zulu", "W-SU", "Asia/Calcutta", "US/Eastern"):
        assert f'value="{alias}"' not in page
    assert 400 < page.count("<option") < 500


def test_zone_names_read_in_hindi(app, make_user):
    user = make_user(email="hindi-zones@example.com")
    from webapp.services.users import languages

    languages.store(user.id, "hi")
    db.session.commit()
    client = app.test_client()
    AuthActions(client).login("hindi-zones@example.com")
    page = client.get("/auth/account").get_data(as_text=True)
    assert "भारत समय (UTC+05:30)" in page
