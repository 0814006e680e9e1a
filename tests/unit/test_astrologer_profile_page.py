"""The public profile: details, ratings and reviews, and what starting a chat needs."""

from datetime import timedelta
from decimal import Decimal

import pytest

from webapp.models import Availability, SessionStatus, UserType, utcnow

HTMX = {"HX-Request": "true"}


@pytest.fixture
def astrologer(make_astrologer):
    return make_astrologer(
        name="Asha Verma",
        rate=Decimal("20.00"),
        call_rate=Decimal("30.00"),
        specializations=["Vedic", "Tarot"],
        languages=["Hindi", "English"],
        experience_years=12,
        about="Career and marriage questions.",
        chat_availability=Availability.AVAILABLE,
        rating_average=Decimal("4.50"),
        rating_count=2,
    )


def _rate(make_user, make_session, astrologer, stars, text, days_ago):
    make_session(
        make_user(name=f"Reviewer{stars}{days_ago} Lastname"),
        astrologer,
        status=SessionStatus.COMPLETED,
        astrologer_rating=Decimal(stars),
        review_text=text,
        rated_at=utcnow() - timedelta(days=days_ago),
        ended_at=utcnow(),
    )


def test_profile_shows_the_astrologer(client, astrologer):
    page = client.get(f"/astrologers/{astrologer.id}").get_data(as_text=True)
    for text in (
        "Asha Verma",
        "Vedic, Tarot",
        "Hindi, English",
        "12 years",
        "Career and marriage",
        "₹20 per minute",
        "₹30 per minute",
        "★ 4.50",
    ):
        assert text in page
    assert f'data-availability-for="{astrologer.id}"' in page and "Available" in page


@pytest.mark.parametrize("bad", ["not-a-uuid", "0bbc0824-b512-4265-aab5-e71cc3305273"])
def test_unknown_profile_is_404(client, bad):
    assert client.get(f"/astrologers/{bad}").status_code == 404


def test_unapproved_and_non_astrologer_profiles_are_404(client, make_astrologer, make_user):
    assert client.get(f"/astrologers/{make_astrologer(is_approved=False).id}").status_code == 404
    assert client.get(f"/astrologers/{make_user().id}").status_code == 404


def test_rating_distribution_and_reviews_newest_first_paged(client, astrologer, make_user, make_session):
    for n in range(7):
        _rate(make_user, make_session, astrologer, 5 if n % 2 else 4, f"Review number {n}", days_ago=n)
    page = client.get(f"/astrologers/{astrologer.id}").get_data(as_text=True)
    assert 'aria-label="3 ratings of 5 stars"' in page and 'aria-label="4 ratings of 4 stars"' in page
    assert page.index("Review number 0") < page.index("Review number 4")
    assert "Review number 5" not in page and "More reviews" in page
    assert "Lastname" not in page  # reviewers by first name only
    more = client.get(f"/astrologers/{astrologer.id}?reviews_page=2", headers=HTMX).get_data(as_text=True)
    assert (
        "<html" not in more and "Review number 5" in more and "Review number 6" in more and "More reviews" not in more
    )


def test_anonymous_visitor_is_asked_to_log_in(client, astrologer):
    page = client.get(f"/astrologers/{astrologer.id}").get_data(as_text=True)
    assert "Minimum balance for 5 minutes: <strong>₹100</strong>" in page
    assert f"/auth/login?next=/astrologers/{astrologer.id}" in page


def test_short_balance_gets_a_recharge_link(client, auth, astrologer, make_user, fund):
    user = make_user(email="u@example.com")
    fund(user, "60.00")
    auth.login("u@example.com")
    page = client.get(f"/astrologers/{astrologer.id}").get_data(as_text=True)
    assert "Recharge" in page and "add ₹40 or more" in page
    assert 'action="/consultations"' not in page


def test_enough_balance_gets_the_chat_button(client, auth, astrologer, make_user, fund):
    user = make_user(email="u@example.com")
    fund(user, "100.00")
    auth.login("u@example.com")
    page = client.get(f"/astrologers/{astrologer.id}").get_data(as_text=True)
    assert 'action="/consultations"' in page and "Start chat" in page
    assert f'name="astrologer_id" value="{astrologer.id}"' in page and 'name="session_type" value="chat"' in page


def test_busy_astrologer_offers_the_queue(client, auth, astrologer, make_user, fund, make_session):
    make_session(make_user(), astrologer)
    user = make_user(email="u@example.com")
    fund(user, "100.00")
    auth.login("u@example.com")
    assert "Join the queue" in client.get(f"/astrologers/{astrologer.id}").get_data(as_text=True)


def test_offline_astrologer_cannot_be_started(client, auth, make_astrologer, make_user, fund):
    offline = make_astrologer(chat_availability=Availability.OFFLINE)
    user = make_user(email="u@example.com")
    fund(user, "1000.00")
    auth.login("u@example.com")
    page = client.get(f"/astrologers/{offline.id}").get_data(as_text=True)
    assert "Chat (offline)" in page and "disabled" in page and 'action="/consultations"' not in page


def test_astrologers_and_admins_see_no_chat_button(client, auth, astrologer, make_user):
    make_user(email="admin@example.com", type=UserType.ADMIN)
    auth.login("admin@example.com")
    page = client.get(f"/astrologers/{astrologer.id}").get_data(as_text=True)
    assert "started from a user account" in page and 'action="/consultations"' not in page
