"""The page shell, the listing and the error pages a person sees."""

import re

from webapp.extensions import db
from webapp.models import UserType

from ..conftest import AuthActions, csrf_token_from


def test_home_goes_to_the_astrologer_listing(client):
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/astrologers")


def test_listing_shows_approved_astrologers_only(client, make_astrologer):
    make_astrologer(name="Listed Person", specializations=["Tarot"], languages=["Tamil"])
    make_astrologer(name="Pending Person", is_approved=False)
    page = client.get("/astrologers").get_data(as_text=True)
    assert "Listed Person" in page and "Tarot" in page and "Tamil" in page and "₹20/min" in page
    assert "Pending Person" not in page


def test_shell_has_csrf_for_htmx_vendored_scripts_and_no_cdn(client):
    page = client.get("/astrologers").get_data(as_text=True)
    assert csrf_token_from(page)
    assert "/static/vendor/htmx-2.0.11.min.js" in page
    assert not re.search(r'(src|href)="(https?:)?//', page)  # nothing from another origin


def test_vendored_files_are_served_with_their_license_headers(client):
    htmx = client.get("/static/vendor/htmx-2.0.11.min.js")
    assert htmx.status_code == 200 and b"htmx.org 2.0.11" in htmx.data[:200] and b"BSD" in htmx.data[:200]
    socketio_client = client.get("/static/vendor/socket.io-4.8.4.min.js")
    assert socketio_client.status_code == 200 and b"Socket.IO v4.8.4" in socketio_client.data[:200]
    assert b"MIT License" in socketio_client.data[:200]


def test_404_page_is_friendly(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "There is nothing here" in response.get_data(as_text=True)


def test_404_is_json_for_machine_clients(client):
    response = client.get("/api/v1/nothing")
    assert response.status_code == 404
    assert response.json["error"] == "not_found"


def test_405_says_which_methods_are_allowed(client):
    response = client.get("/auth/logout")
    assert response.status_code == 405 and "POST" in response.headers["Allow"]


def test_unexpected_errors_render_the_500_page(app, client, monkeypatch):
    from webapp.blueprints.astrologers import routes

    def explode(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(routes.marketplace, "list_astrologers", explode)
    response = client.get("/astrologers")
    assert response.status_code == 500
    assert "Something went wrong" in response.get_data(as_text=True)


def test_oversized_page_number_shows_the_last_page(client, make_astrologer):
    make_astrologer(name="Only One")
    response = client.get("/astrologers?page=999")
    assert response.status_code == 200 and "Only One" in response.get_data(as_text=True)


def test_every_endpoint_that_answers_page_or_partial_varies_on_hx_request(app, make_user, make_astrologer):
    """A cache (the browser's back button, a proxy) must never serve the partial for the page."""
    astrologer = make_astrologer(email="stars@example.com")
    make_user(email="asha@example.com")
    make_user(email="boss@example.com", type=UserType.ADMIN)
    asked = {
        None: ["/astrologers", f"/astrologers/{astrologer.id}?reviews_page=1"],
        "asha@example.com": ["/consultations", "/wallet/transactions"],
        "stars@example.com": ["/dashboard/sessions"],
        "boss@example.com": ["/admin/ledger/billing", "/admin/ledger/wallet", "/admin/users"],
    }
    for who, urls in asked.items():
        client = app.test_client()
        if who:
            AuthActions(client).login(who)
        for url in urls:
            response = client.get(url, headers={"HX-Request": "true"})
            assert response.status_code == 200, url
            assert "HX-Request" in response.headers.get("Vary", ""), url


def test_every_html_answer_of_every_get_route_varies_on_hx_request(app, make_user):
    """Not only the routes known to answer a partial: every GET route of app.url_map without arguments,
    for a visitor and a signed-in user, with and without HX-Request (a page, a partial, a redirect)."""
    make_user(email="asha@example.com")
    routes = sorted(
        rule.rule
        for rule in app.url_map.iter_rules()
        if "GET" in rule.methods and not rule.arguments and not rule.rule.startswith("/static")
    )
    visitor, person = app.test_client(), app.test_client()
    AuthActions(person).login("asha@example.com")
    checked = 0
    for client in (visitor, person):
        for url in routes:
            for headers in ({}, {"HX-Request": "true"}):
                response = client.get(url, headers=headers)
                if response.mimetype == "text/html":
                    assert "HX-Request" in response.headers.get("Vary", ""), (url, headers, response.status_code)
                    checked += 1
    assert checked > 50


def test_the_page_shell_costs_one_query_for_a_page_and_none_for_a_partial(app, make_user, fund, count_queries):
    """The navigation's wallet badge, bell and zone come from one query on a full page; an htmx partial
    has no shell and runs none for it."""
    from flask_login import login_user

    from webapp.services.notifications import inbox

    person = make_user(email="asha@example.com")
    fund(person, "250.00")
    inbox.tell([person.id], "welcome", "Welcome", "Glad you are here.", "/", key="welcome")
    db.session.commit()
    shell = next(p for p in app.template_context_processors[None] if p.__name__ == "shell_context")
    with app.test_request_context("/wallet"):
        login_user(person)
        with count_queries() as page:
            context = shell()
    assert page.n == 1
    assert (str(context["nav_balance"]), context["nav_unread"], context["zone_unset"]) == ("250.00", 1, True)
    with app.test_request_context("/wallet/transactions", headers={"HX-Request": "true"}):
        login_user(person)
        with count_queries() as partial:
            context = shell()
    assert partial.n == 0 and context["nav_balance"] is None


def test_one_helper_decides_page_or_partial():
    """Every view asks templating.wants_partial() (a history restore wants the page, though htmx asks);
    none reads the htmx request itself."""
    import ast
    import pathlib

    import webapp.blueprints

    readers = [
        f"{path.name}:{node.lineno}"
        for path in pathlib.Path(webapp.blueprints.__file__).parent.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Name) and node.id == "htmx"
    ]
    assert readers == []
