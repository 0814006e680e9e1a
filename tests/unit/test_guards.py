"""The role guard: anonymous -> login page, wrong role -> 403, right role -> the view."""

import pytest
from flask_login import login_required
from werkzeug.exceptions import TooManyRequests

from webapp import create_app
from webapp.blueprints.auth.guards import role_required
from webapp.config import TestConfig
from webapp.models import UserType

from ..conftest import AuthActions


@pytest.fixture
def guarded_client(database_url):
    app = create_app(TestConfig(database_url))

    @app.get("/only-admins")
    @role_required(UserType.ADMIN)
    def only_admins():
        return "admin area"

    @app.get("/astrologers-and-admins")
    @role_required(UserType.ASTROLOGER, UserType.ADMIN)
    def astrologers_and_admins():
        return "staff area"

    @app.get("/anyone-logged-in")
    @login_required
    def anyone():
        return "members"

    @app.get("/too-fast")
    def too_fast():
        raise TooManyRequests(retry_after=42)

    return app.test_client()


@pytest.mark.parametrize(
    "role, path, status",
    [
        (None, "/only-admins", 302),
        (UserType.USER, "/only-admins", 403),
        (UserType.ASTROLOGER, "/only-admins", 403),
        (UserType.ADMIN, "/only-admins", 200),
        (UserType.USER, "/astrologers-and-admins", 403),
        (UserType.ASTROLOGER, "/astrologers-and-admins", 200),
        (UserType.USER, "/anyone-logged-in", 200),
    ],
)
def test_role_guard(guarded_client, make_user, role, path, status):
    if role is not None:
        user = make_user(
            type=role,
            **({"chat_rate_per_minute": "10", "call_rate_per_minute": "10"} if role == UserType.ASTROLOGER else {}),
        )
        AuthActions(guarded_client).login(user.email)
    response = guarded_client.get(path)
    assert response.status_code == status
    if status == 302:
        assert "/auth/login?next=" in response.headers["Location"]
    if status == 403:
        assert "Not allowed" in response.get_data(as_text=True)


def test_429_page_is_friendly_and_says_when_to_retry(guarded_client):
    response = guarded_client.get("/too-fast")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "42"
    assert "Please wait a moment" in response.get_data(as_text=True)
