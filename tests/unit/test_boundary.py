"""The transaction boundary (webapp/boundary.py): one commit per request or socket event, on success only.

The HTTP side is shown on a small app of its own (same database, same boundary, views that write
and then answer), so each rule is seen without any route's own logic; the routes' refusals are
covered where they live. The last test reads the code: no blueprint or socket handler ends a
transaction itself.
"""

import pathlib

import pytest
from flask import Flask, flash, get_flashed_messages

from webapp import boundary, error_pages
from webapp.extensions import db
from webapp.models import User
from webapp.services.errors import InsufficientBalance

WEBAPP = pathlib.Path(boundary.__file__).parent


@pytest.fixture
def person(make_user):
    return make_user(name="Asha").id


@pytest.fixture
def mini(app, person):
    """A Flask app on the test database whose views rename `person`, then answer as told."""
    mini = Flask("mini")
    mini.config.update(
        SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
        SECRET_KEY="mini",
        TESTING=True,
        PROPAGATE_EXCEPTIONS=False,  # as in production: an error after the view is answered by the 500 handler
    )
    db.init_app(mini)
    error_pages.register(mini)
    boundary.init_app(mini)

    def rename():
        db.session.get(User, person).name = "Renamed"
        db.session.flush()

    @mini.get("/api/ok")
    def ok():
        rename()
        return {"status": "ok"}

    @mini.get("/api/form-error")
    def form_error():
        rename()
        return {"error": "invalid"}, 422

    @mini.get("/api/refused")
    def refused():
        rename()
        raise InsufficientBalance()

    @mini.get("/api/crash")
    def crash():
        rename()
        raise RuntimeError("internal detail")

    @mini.get("/api/commit-fails")
    def commit_fails():
        rename()
        taken = db.session.get(User, person)
        db.session.add(User(name="Copy", email=taken.email, type=taken.type, status=taken.status))
        return {"status": "ok"}  # the duplicate email is refused at the boundary's commit

    @mini.get("/back")
    def back():
        return "back"

    @mini.post("/flashed")
    @boundary.refusal(boundary.flash_back("back"))
    def flashed():
        rename()
        raise InsufficientBalance("Top up first.")

    @mini.get("/messages")
    def messages():
        return {"flashed": get_flashed_messages(with_categories=True)}

    @mini.post("/flash-then-ok")
    def flash_then_ok():
        rename()
        flash("done")
        return "", 204

    return mini.test_client()


def _name(person):
    db.session.rollback()  # read what is committed
    return db.session.get(User, person).name


def test_a_response_below_400_is_committed_without_the_view_committing(mini, person):
    assert mini.get("/api/ok").status_code == 200
    assert _name(person) == "Renamed"
    assert mini.post("/flash-then-ok").status_code == 204


def test_a_response_of_400_or_more_rolls_back_what_the_view_wrote(mini, person):
    assert mini.get("/api/form-error").status_code == 422
    assert _name(person) == "Asha"


def test_a_refusal_the_view_lets_through_is_rolled_back_and_answered_with_its_code(mini, person):
    response = mini.get("/api/refused")
    assert response.status_code == InsufficientBalance.status
    assert response.get_json() == {"error": "insufficient_balance", "message": InsufficientBalance.message}
    assert _name(person) == "Asha"


def test_an_unexpected_error_is_rolled_back_and_says_nothing_internal(mini, person):
    response = mini.get("/api/crash")
    assert response.status_code == 500
    assert "internal detail" not in response.get_data(as_text=True)
    assert _name(person) == "Asha"


def test_a_commit_that_fails_is_a_500_and_nothing_is_written(mini, person):
    response = mini.get("/api/commit-fails")
    assert response.status_code == 500 and response.get_json()["error"] == "something_went_wrong"
    assert "IntegrityError" not in response.get_data(as_text=True)
    assert _name(person) == "Asha"
    assert db.session.query(User).filter_by(name="Copy").count() == 0


def test_a_view_may_answer_its_refusals_itself(mini, person):
    response = mini.post("/flashed")
    assert response.status_code == 303 and response.headers["Location"].endswith("/back")
    assert _name(person) == "Asha"  # rolled back, though the redirect is below 400
    assert mini.get("/messages").get_json() == {"flashed": [["error", "Top up first."]]}


def test_a_socket_event_commits_on_success_and_rolls_back_a_refusal_or_a_crash(app, person):
    def renaming(outcome):
        @boundary.socket_transaction
        def handler():
            db.session.get(User, person).name = f"Renamed {outcome}"
            db.session.flush()
            if outcome == "refused":
                raise InsufficientBalance()
            if outcome == "crash":
                raise RuntimeError("internal detail")
            return {"ok": True}

        return handler()

    assert renaming("refused") == {
        "ok": False,
        "error": "insufficient_balance",
        "message": InsufficientBalance.message,
    }
    assert _name(person) == "Asha"
    assert renaming("crash") == {"ok": False, "error": "internal", "message": "Something went wrong; please try again."}
    assert _name(person) == "Asha"
    assert renaming("ok") == {"ok": True}
    assert _name(person) == "Renamed ok"


@pytest.mark.parametrize("folder", ["blueprints", "realtime"])
def test_no_route_or_socket_handler_ends_a_transaction_itself(folder):
    owners = {"realtime/writer.py"}  # the chat writer owns its transactions (its docstring says so)
    found = [
        f"{path.relative_to(WEBAPP)}:{number}"
        for path in sorted((WEBAPP / folder).rglob("*.py"))
        if str(path.relative_to(WEBAPP)) not in owners
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if "session.commit(" in line or "session.rollback(" in line
    ]
    assert found == []
