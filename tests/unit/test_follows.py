"""Following astrologers and the notification centre: told once when a followed astrologer becomes
available (debounced, explicit `now`), live over Socket.IO, read and unread."""

from datetime import UTC, datetime, timedelta

import pytest

from webapp.extensions import db
from webapp.models import Availability, Follow, Notification, UserType
from webapp.services.astrologers import astrologer_profile, follows
from webapp.services.errors import NotAllowed
from webapp.services.notifications import inbox as notifications

from ..conftest import AuthActions

T0 = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


@pytest.fixture
def fan(consult, make_astrologer):
    astrologer = make_astrologer(email="star@example.com", chat_availability=Availability.OFFLINE)
    user = consult.user(email="fan@example.com")
    follows.follow(user, astrologer.id, now=T0)
    db.session.commit()
    return user, astrologer


def told(user):
    return db.session.execute(db.select(Notification).filter_by(user_id=user.id)).scalars().all()


def test_going_available_tells_each_follower_once_however_often_it_toggles(app, fan, events):
    user, astrologer = fan
    for minute in range(5):  # five toggles in five minutes
        astrologer_profile.set_availability(astrologer.id, "chat", "available", now=T0 + timedelta(minutes=minute))
        astrologer_profile.set_availability(
            astrologer.id, "chat", "offline", now=T0 + timedelta(minutes=minute, seconds=30)
        )
        db.session.commit()
    (only,) = told(user)
    assert only.kind == "followed_available" and only.url == f"/astrologers/{astrologer.id}"
    assert only.title.endswith("is available") and "taking chat now" in only.body
    live = [e for e in events if e.name == "notification"]
    assert [e.room for e in live] == [f"user:{user.id}"] and live[0].payload["id"] == str(only.id)
    assert [e.payload for e in events if e.name == "notifications_unread"][-1] == {"unread": 1}
    later = T0 + timedelta(seconds=app.config["FOLLOW_NOTIFY_DEBOUNCE_SECONDS"] + 60)
    astrologer_profile.set_availability(astrologer.id, "chat", "available", now=later)
    db.session.commit()
    assert len(told(user)) == 2  # a new availability after the window is news again


def test_only_a_channel_that_opens_is_news(app, fan):
    user, astrologer = fan
    astrologer_profile.set_availability(astrologer.id, "chat", "unavailable", now=T0)
    astrologer_profile.set_availability(astrologer.id, "call", "offline", now=T0)
    db.session.commit()
    assert told(user) == []


def test_a_happening_is_told_once_even_when_reported_twice(app, fan):
    user, astrologer = fan
    for _ in range(2):
        notifications.tell([user.id, user.id], "followed_available", "t", "b", "/x", "same-key", T0)
    db.session.commit()
    assert len(told(user)) == 1


def test_only_users_follow_and_only_astrologers_are_followed(app, fan, make_user):
    user, astrologer = fan
    with pytest.raises(NotAllowed):
        follows.follow(astrologer, user.id)
    admin = make_user(type=UserType.ADMIN)
    with pytest.raises(NotAllowed):
        follows.follow(admin, astrologer.id)
    with pytest.raises(Exception) as refused:
        follows.follow(user, user.id)
    assert refused.value.status == 404


def test_follow_unfollow_and_the_following_page(app, fan, client):
    user, astrologer = fan
    auth = AuthActions(client)
    auth.login("fan@example.com")
    page = client.get(f"/astrologers/{astrologer.id}").get_data(as_text=True)
    assert 'aria-pressed="true"' in page and "Following" in page
    token = auth.csrf_token()
    button = client.post(
        f"/astrologers/{astrologer.id}/unfollow", data={"csrf_token": token}, headers={"HX-Request": "true"}
    )
    assert button.status_code == 200 and 'aria-pressed="false"' in button.get_data(as_text=True)
    assert db.session.get(Follow, (user.id, astrologer.id)) is None
    assert "You follow nobody yet" in client.get("/following").get_data(as_text=True)
    again = client.post(f"/astrologers/{astrologer.id}/follow", data={"csrf_token": token})
    assert again.status_code == 303
    assert astrologer.name in client.get("/following").get_data(as_text=True)
    assert client.post(f"/astrologers/{user.id}/follow", data={"csrf_token": token}).status_code == 404


def test_the_notification_centre_lists_counts_and_marks_read(app, fan, client):
    user, astrologer = fan
    for n in range(25):
        notifications.tell(
            [user.id], "followed_available", f"Title {n}", "Body", "/astrologers", f"k{n}", T0 + timedelta(minutes=n)
        )
    db.session.commit()
    auth = AuthActions(client)
    auth.login("fan@example.com")
    page = client.get("/notifications").get_data(as_text=True)
    assert 'aria-label="Notifications, 25 unread"' in page
    assert page.index("Title 24") < page.index("Title 23")  # newest first
    assert "Title 4" not in page and 'hx-trigger="revealed"' in page  # 20 a page, the rest on scroll
    older = client.get("/notifications?page=2", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Title 4" in older and "<html" not in older
    newest = notifications.page_for(user.id).items[0]
    token = auth.csrf_token()
    item = client.post(
        "/notifications/read", data={"csrf_token": token, "id": str(newest.id)}, headers={"HX-Request": "true"}
    )
    assert item.status_code == 200 and "notification-unread" not in item.get_data(as_text=True)
    assert notifications.unread_count(user.id) == 24
    client.post("/notifications/read", data={"csrf_token": token, "id": "not-an-id"})
    assert client.post("/notifications/read", data={"csrf_token": token, "all": "1"}).status_code == 303
    assert notifications.unread_count(user.id) == 0


def test_nobody_reads_another_persons_notifications(app, fan, consult, client):
    user, _ = fan
    (mine,) = notifications.tell([user.id], "followed_available", "Mine", "b", "/x", "k", T0)
    db.session.commit()
    consult.user(email="other@example.com")
    auth = AuthActions(client)
    auth.login("other@example.com")
    client.post("/notifications/read", data={"csrf_token": auth.csrf_token(), "id": str(mine.id)})
    db.session.refresh(mine)
    assert mine.read_at is None
    assert "Mine" not in client.get("/notifications").get_data(as_text=True)


def test_the_listing_says_whom_the_user_follows_for_its_cached_cards(app, fan, client):
    user, astrologer = fan
    astrologer_profile.set_availability(astrologer.id, "chat", "available", now=T0)
    db.session.commit()
    AuthActions(client).login("fan@example.com")
    page = client.get("/astrologers").get_data(as_text=True)
    assert f'data-following="{astrologer.id}"' in page
    assert f'data-follow-card="{astrologer.id}"' in page  # the card's button, set by app.js from the list
    visitor = app.test_client().get("/astrologers").get_data(as_text=True)
    assert "data-following" not in visitor
