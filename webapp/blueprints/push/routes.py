"""POST / DELETE /push/subscriptions (JSON: the browser's PushSubscription; CSRF in X-CSRFToken) and
GET /service-worker.js (from the site's root, so it may control every page)."""

import os

from flask import current_app, jsonify, request, send_from_directory
from flask_login import current_user, login_required

from ...services.notifications import push
from . import bp


@bp.post("/push/subscriptions")
@login_required
def subscribe():
    """This device wants pushes: 201 with the public key it subscribed with; 422 {error, message} for
    anything that is not a subscription (the boundary answers ValidationFailed)."""
    push.subscribe(current_user.id, request.get_json(silent=True), request.headers.get("User-Agent"))
    return jsonify(subscribed=True, public_key=push.public_key()), 201


@bp.delete("/push/subscriptions")
@login_required
def unsubscribe():
    data = request.get_json(silent=True) or {}
    push.unsubscribe(current_user.id, data.get("endpoint") if isinstance(data, dict) else None)
    return "", 204


@bp.get("/service-worker.js")
def service_worker():
    response = send_from_directory(os.path.join(current_app.static_folder, "js"), "service-worker.js", max_age=0)
    response.headers["Service-Worker-Allowed"] = "/"
    response.cache_control.no_cache = True
    return response
