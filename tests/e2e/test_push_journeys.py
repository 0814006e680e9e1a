"""A request reaches an astrologer whose dashboard tab is closed, through the service worker.

Headless Chromium here has no push service to subscribe with (pushManager.subscribe needs the
vendor's, which this machine cannot reach), so the browser half is driven through the DevTools
protocol: ServiceWorker.deliverPushMessage hands the worker the very message the server composed for
the request (what services/notifications/push.py encrypts and posts; tests/unit/test_push.py decrypts that half
from a real push endpoint), and the worker must show it, with its Accept and Decline buttons."""

import json

from playwright.sync_api import expect

from webapp.extensions import db
from webapp.models import Notification, User

from .conftest import audit, log_in
from .test_journeys import go_available, start_chat


def test_a_request_is_shown_by_the_service_worker_with_the_dashboard_closed(person, people, e2e_app):
    astro_email = people.astrologer(name="Tara Awaytab", rate="10.00")
    user_email = people.user(balance="200.00")
    astro, user = person(), person()
    astro.context.grant_permissions(["notifications"])
    log_in(astro, astro_email)
    go_available(astro)
    expect(astro.locator("[data-push-state]")).not_to_have_text("")  # the worker is registered from the root
    audit(astro)
    scope = astro.evaluate("navigator.serviceWorker.ready.then((registration) => registration.scope)")
    assert scope.endswith("/")

    cdp = astro.context.new_cdp_session(astro)
    registrations = []
    cdp.on("ServiceWorker.workerRegistrationUpdated", lambda event: registrations.extend(event["registrations"]))
    cdp.send("ServiceWorker.enable")
    astro.goto("/auth/account")  # the dashboard is closed; the worker stays
    log_in(user, user_email)
    start_chat(user, "Tara Awaytab")

    with e2e_app.app_context():
        astrologer = db.session.execute(db.select(User).filter_by(email=astro_email)).scalar_one()
        told = db.session.execute(
            db.select(Notification).filter_by(user_id=astrologer.id, kind="request_incoming")
        ).scalar_one()
        message = {
            "id": str(told.id),
            "kind": told.kind,
            "title": told.title,
            "body": told.body,
            "url": told.url,
            "actions": [
                {"action": "accept", "title": "Accept", "url": told.url},
                {"action": "decline", "title": "Decline", "url": told.url},
            ],
        }
    registration = next(r for r in registrations if r["scopeURL"].endswith("/") and not r.get("isDeleted"))
    origin = scope.rstrip("/")
    cdp.send(
        "ServiceWorker.deliverPushMessage",
        {"origin": origin, "registrationId": registration["registrationId"], "data": json.dumps(message)},
    )
    shown = astro.wait_for_function(
        """() => navigator.serviceWorker.ready
             .then((registration) => registration.getNotifications())
             .then((all) => all.map((n) => [n.title, n.body, n.actions.map((a) => a.action), n.data.url]))
             .then((found) => (found.length ? found : null))"""
    ).json_value()
    assert shown == [
        [
            "Uma Tester asks for a chat",
            "Accept it from your dashboard.",
            ["accept", "decline"],
            "/dashboard#requests-panel",
        ]
    ]
