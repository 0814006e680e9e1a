"""The astrologer listing: every filter and sort, paging, bad parameters, htmx and no-JS paths, query count."""

import re
from decimal import Decimal

import pytest

from webapp.models import Availability

HTMX = {"HX-Request": "true"}


@pytest.fixture
def catalogue(make_astrologer):
    """Five astrologers that differ in every filterable way."""
    people = {
        "Asha Vedic": dict(rate=Decimal("10.00"), specializations=["Vedic"], languages=["Hindi"], rating_average=Decimal("4.80"), rating_count=50, experience_years=20, chat_availability=Availability.AVAILABLE),
        "Bala Tarot": dict(rate=Decimal("25.00"), specializations=["Tarot"], languages=["Tamil", "English"], rating_average=Decimal("4.20"), rating_count=10, experience_years=5, chat_availability=Availability.AVAILABLE),
        "Chitra Numbers": dict(rate=Decimal("50.00"), specializations=["Numerology", "Vedic"], languages=["English"], rating_average=Decimal("3.50"), rating_count=5, experience_years=12, chat_availability=Availability.OFFLINE),
        "Dev Vastu": dict(rate=Decimal("120.00"), specializations=["Vastu"], languages=["Hindi", "English"], rating_average=Decimal("4.95"), rating_count=300, experience_years=30, chat_availability=Availability.UNAVAILABLE),
        "Esha Palm": dict(rate=Decimal("5.00"), specializations=["Palmistry"], languages=["Bengali"], rating_average=Decimal("0.00"), rating_count=0, experience_years=1, chat_availability=Availability.AVAILABLE),
    }  # fmt: skip
    return {name: make_astrologer(name=name, **fields) for name, fields in people.items()}


def names(response):
    return re.findall(r'class="astrologer-name"><a href="[^"]+">([^<]+)</a>', response.get_data(as_text=True))


@pytest.mark.parametrize(
    "query, expected",
    [
        ("", {"Asha Vedic", "Bala Tarot", "Chitra Numbers", "Dev Vastu", "Esha Palm"}),
        ("q=vedic", {"Asha Vedic", "Chitra Numbers"}),  # name or specialization, any case
        ("q=Bala", {"Bala Tarot"}),
        ("q=%25", set()),  # a LIKE wildcard is searched for literally
        ("specialization=Vedic", {"Asha Vedic", "Chitra Numbers"}),
        ("language=English", {"Bala Tarot", "Chitra Numbers", "Dev Vastu"}),
        ("min_price=20", {"Bala Tarot", "Chitra Numbers", "Dev Vastu"}),
        ("max_price=10", {"Asha Vedic", "Esha Palm"}),
        ("min_price=10&max_price=50", {"Asha Vedic", "Bala Tarot", "Chitra Numbers"}),
        ("min_rating=4.5", {"Asha Vedic", "Dev Vastu"}),
        ("available=1", {"Asha Vedic", "Bala Tarot", "Esha Palm"}),
        ("language=English&max_price=60&min_rating=4", {"Bala Tarot"}),
        ("language=Hindi&available=1&specialization=Vedic", {"Asha Vedic"}),
    ],
)
def test_filters_alone_and_combined(client, catalogue, query, expected):
    assert set(names(client.get(f"/astrologers?{query}"))) == expected


@pytest.mark.parametrize(
    "sort, expected",
    [
        ("price_asc", ["Esha Palm", "Asha Vedic", "Bala Tarot", "Chitra Numbers", "Dev Vastu"]),
        ("price_desc", ["Dev Vastu", "Chitra Numbers", "Bala Tarot", "Asha Vedic", "Esha Palm"]),
        ("rating", ["Dev Vastu", "Asha Vedic", "Bala Tarot", "Chitra Numbers", "Esha Palm"]),
        ("experience", ["Dev Vastu", "Asha Vedic", "Chitra Numbers", "Bala Tarot", "Esha Palm"]),
        # recommended: available now first (best rated first), then the rest by rating
        ("recommended", ["Asha Vedic", "Bala Tarot", "Esha Palm", "Dev Vastu", "Chitra Numbers"]),
    ],
)
def test_sorts(client, catalogue, sort, expected):
    assert names(client.get(f"/astrologers?sort={sort}")) == expected


def test_busy_astrologers_are_not_available_now(client, catalogue, make_user, make_session):
    make_session(make_user(), catalogue["Asha Vedic"])  # capacity 1, one active session
    page = client.get("/astrologers?available=1")
    assert "Asha Vedic" not in names(page)
    badge = re.search(
        r'data-availability-for="{}" data-status="(\w+)"'.format(catalogue["Asha Vedic"].id),
        client.get("/astrologers").get_data(as_text=True),
    )
    assert badge.group(1) == "busy"


def test_cards_offer_both_channels_and_say_why_one_cannot_start(client, catalogue, make_user, make_session):
    """Chat and Call buttons with their prices; a busy astrologer's card says how many wait; an
    offline channel is a disabled button; a visitor is told that starting needs a login."""
    from webapp.models import SessionStatus

    asha = catalogue["Asha Vedic"]
    make_session(make_user(), asha)  # busy: capacity 1
    make_session(make_user(), asha, status=SessionStatus.WAITING)
    make_session(make_user(), asha, status=SessionStatus.WAITING)
    page = client.get("/astrologers?q=Asha")
    html = page.get_data(as_text=True)
    assert f'href="/astrologers/{asha.id}?start=chat#start-chat">Chat <span class="channel-rate">₹10/min</span>' in html
    assert "busy, 2 waiting" in html
    assert re.search(r'<body class="[^"]*\bvisitor\b', html)  # "· log in" shows on the buttons for a visitor
    assert '<span class="channel-login"> · log in</span>' in html
    offline = client.get("/astrologers?q=Chitra").get_data(as_text=True)
    assert 'class="button button-channel button-off" aria-disabled="true">Chat' in offline and "· offline" in offline


def test_only_approved_active_astrologers_are_listed(client, make_astrologer, catalogue):
    from webapp.extensions import db
    from webapp.models import UserStatus

    make_astrologer(name="Pending Person", is_approved=False)
    catalogue["Bala Tarot"].status = UserStatus.SUSPENDED
    db.session.commit()
    listed = names(client.get("/astrologers"))
    assert "Pending Person" not in listed and "Bala Tarot" not in listed and len(listed) == 4


@pytest.mark.parametrize(
    "query",
    [
        "min_price=abc",
        "max_price=-5",
        "min_rating=9",
        "min_rating=NaN",
        "page=-1",
        "page=abc",
        "sort=evil",
        "language=Klingon",
        "min_price=1e400",
        "q=" + "x" * 500,
    ],
)
def test_invalid_parameters_fall_back_safely(client, catalogue, query):
    response = client.get(f"/astrologers?{query}")
    assert response.status_code == 200
    assert len(names(response)) in (0, 5)


def test_a_nul_character_in_a_filter_is_a_clear_400(client, catalogue):
    response = client.get("/astrologers?specialization=%00")
    assert response.status_code == 400 and "NUL" in response.get_data(as_text=True)


def test_swapped_price_bounds_are_understood(client, catalogue):
    assert set(names(client.get("/astrologers?min_price=50&max_price=10"))) == {
        "Asha Vedic",
        "Bala Tarot",
        "Chitra Numbers",
    }


def test_pagination_edges(client, make_astrologer):
    for n in range(30):
        make_astrologer(name=f"Person {n:02d}", experience_years=n)
    first = client.get("/astrologers?sort=experience")
    assert len(names(first)) == 24 and "Page 1 of 2" in first.get_data(as_text=True)
    last = client.get("/astrologers?sort=experience&page=2")
    assert names(last) == [f"Person {n:02d}" for n in range(5, -1, -1)]
    assert "← Previous" in last.get_data(as_text=True) and "Next →" not in last.get_data(as_text=True)
    beyond = client.get("/astrologers?sort=experience&page=99")
    assert names(beyond) == names(last)  # past the end: the last page


def test_empty_results_say_so(client, catalogue):
    page = client.get("/astrologers?q=nobody-at-all").get_data(as_text=True)
    assert "No astrologers match these filters." in page and "Clear the filters" in page


def test_htmx_gets_the_list_partial_and_people_get_the_page(client, catalogue):
    partial = client.get("/astrologers?language=Hindi", headers=HTMX)
    html = partial.get_data(as_text=True)
    assert html.startswith('<div id="astrologer-list"') and "<html" not in html
    assert set(names(partial)) == {"Asha Vedic", "Dev Vastu"}
    assert "HX-Request" in partial.headers["Vary"]
    page = client.get("/astrologers?language=Hindi").get_data(as_text=True)
    assert "<html" in page and 'option value="Hindi" selected' in page  # the no-JS form keeps its state


def test_history_restore_gets_the_whole_page(client, catalogue):
    response = client.get("/astrologers?language=Hindi", headers={**HTMX, "HX-History-Restore-Request": "true"})
    assert "<html" in response.get_data(as_text=True)


def test_filter_form_pushes_the_url_and_paging_keeps_filters(client, make_astrologer):
    for n in range(30):
        make_astrologer(name=f"Person {n:02d}", languages=["Tamil"])
    page = client.get("/astrologers?language=Tamil&sort=price_asc").get_data(as_text=True)
    assert 'hx-push-url="true"' in page and 'hx-get="/astrologers"' in page
    assert 'href="/astrologers?language=Tamil&amp;sort=price_asc&amp;page=2"' in page
    assert 'hx-trigger="input delay:300ms, submit"' in page  # every change, debounced (typing in search and price)


def test_listing_runs_a_fixed_number_of_queries(client, make_astrologer, count_queries):
    for n in range(3):
        make_astrologer(name=f"Few {n}")
    with count_queries() as few:
        client.get("/astrologers", headers=HTMX)
    for n in range(40):
        make_astrologer(name=f"Many {n}")
    with count_queries() as many:
        client.get("/astrologers", headers=HTMX)
    assert few.n == many.n <= 3


def test_results_are_kept_listing_cache_seconds_per_query(app, client, catalogue, make_astrologer, monkeypatch):
    monkeypatch.setitem(app.config, "LISTING_CACHE_SECONDS", 60)
    monkeypatch.setitem(app.extensions, "listing_results", {})
    first = names(client.get("/astrologers?language=Hindi"))
    make_astrologer(name="Zara Newcomer", languages=["Hindi"])
    assert names(client.get("/astrologers?language=Hindi")) == first  # the same query: the kept results
    assert names(client.get("/astrologers?language=Hindi", headers={"HX-Request": "true"})) == first
    assert "Zara Newcomer" in names(client.get("/astrologers?language=Hindi&sort=price_asc"))  # another query
    monkeypatch.setitem(app.config, "LISTING_CACHE_SECONDS", 0)
    assert "Zara Newcomer" in names(client.get("/astrologers?language=Hindi"))  # off: always fresh
