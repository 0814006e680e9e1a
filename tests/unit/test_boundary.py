"""The transaction boundary (webapp/boundary.py): one commit per request or socket event, on success only.

The HTTP side is shown on a small app of its own (same database, same boundary, views that write
and then answer), so each rule is seen without any route's own logic; the routes' refusals are
covered where they live. The last tests read the code: only the places named in TRANSACTION_OWNERS,
each with its reason, end a transaction anywhere in webapp/.
"""

import ast
import pathlib

import pytest
from flask import Flask, flash, get_flashed_messages

from webapp import boundary, error_pages, i18n
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
        LANGUAGES=["en"],
    )
    db.init_app(mini)
    i18n.init_app(mini)  # refusals and error pages are written in the request's language
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


# Every place in webapp/ that commits or rolls back, by module and function, and why it may. This is
# the one list: boundary.py and services/__init__.py point here. A new one must be added here, with
# its reason, or the test below fails.
TRANSACTION_OWNERS = {
    # the request boundary: one transaction per request or socket event
    "boundary:init_app.<locals>.end_transaction": "commits a request answered below 400, rolls back the rest",
    "boundary:refusal.<locals>.decorate.<locals>.wrapped": "rolls back a refusal a view answers its own way",
    "boundary:socket_transaction.<locals>.wrapped": "one transaction per socket event",
    "error_pages:abandon_transaction": "the 500 handler drops what the failed request wrote",
    "realtime.writer:ChatWriter._store": "the chat writer: a batch of messages, acknowledged after its commit",
    "services.messaging.attachments:send": "ends an upload's read-only transaction before the photo decode",
    "services.users.phone_codes:check": "a wrong code's spent try is kept though the request is refused",
    "services.users.erasure:erase_due": "the periodic pass: each account's erasure in a transaction of its own",
    "services.money.reconciliation:reconcile_due": "the periodic pass: gateways asked outside any transaction, each top-up settled in its own",
    # the periodic loop and the pass it runs: each charge and each end in a transaction of its own
    "scheduler:run_pass": "the periodic loop",
    "scheduler:verify_ledger_if_due": "the periodic loop's nightly ledger check",
    "services.periodic:run_due": "the pass's steps",
    "services.billing.due:_charge_in_batches": "a batch of minutes per transaction",
    "services.billing.due:_charge_next": "one session's minute per transaction",
    "services.consultations.end_rules:_due_to_end": "ends the read before the ends, each its own",
    "services.consultations.end_rules:end_for": "one end per transaction",
    # the job runner
    "services.jobs:perform": "a job's delivery, marked done or retried",
    # the sync API: a record per transaction, so one bad record loses none of the others
    "services.users.user_sync:sync": "the batch's own rows",
    "services.users.user_sync:_committed": "a record per transaction",
    # CLI commands and demo data
    "cli:register.<locals>.seed_demo_command": "flask seed-demo",
    "cli:register.<locals>.ledger_verify_command": "flask ledger verify stores its result",
    "services.demo_data:_past_consultations": "each step of a past consultation, as it commits live",
}


def _calls_ending_a_transaction(node, scope="", in_class=False):
    """(qualified name of the enclosing function, line) of each .commit() / .rollback() under `node`."""
    for child in ast.iter_child_nodes(node):
        inner, is_class = scope, False
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):  # named as __qualname__
            inner = f"{scope}{'.' if in_class else '.<locals>.'}{child.name}" if scope else child.name
            is_class = isinstance(child, ast.ClassDef)
        if isinstance(child, ast.Call) and isinstance(child.func, ast.Attribute):
            if child.func.attr in ("commit", "rollback"):
                yield scope, child.lineno
        yield from _calls_ending_a_transaction(child, inner, is_class)


def _transaction_ends():
    """{"module:function": [line, ...]} of every .commit() / .rollback() call in webapp/."""
    found = {}
    for path in sorted(WEBAPP.rglob("*.py")):
        module = ".".join(path.relative_to(WEBAPP).with_suffix("").parts).removesuffix(".__init__")
        for scope, line in _calls_ending_a_transaction(ast.parse(path.read_text(encoding="utf-8"))):
            found.setdefault(f"{module}:{scope}", []).append(line)
    return found


def test_only_the_named_places_end_a_transaction():
    assert sorted(_transaction_ends()) == sorted(TRANSACTION_OWNERS)


def test_the_transaction_finder_sees_a_commit_inside_a_nested_function():
    source = "class A:\n    def f(self):\n        def g():\n            db.session.commit()\n"
    assert list(_calls_ending_a_transaction(ast.parse(source))) == [("A.f.<locals>.g", 4)]
    found = _transaction_ends()
    assert "boundary:socket_transaction.<locals>.wrapped" in found  # a decorator's inner function
