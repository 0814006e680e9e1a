"""Observability: a request id on every request (echoed in X-Request-ID), structured JSON logs
that carry it and the user id, one access line per request, a warning above SLOW_REQUEST_MS,
request counts and latency by endpoint, and /metrics for Prometheus, open to METRICS_ALLOW_IPS
or to a bearer METRICS_TOKEN only.
"""

import hmac
import logging
import re
import time
import uuid

from flask import current_app, g, has_request_context, jsonify, request
from flask.logging import default_handler
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pythonjsonlogger.json import JsonFormatter
from sqlalchemy import func
from sqlalchemy import inspect as sa_inspect

from . import metrics
from .extensions import db
from .models import ConsultationSession, SessionStatus

REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
LOG_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(user_id)s"


class RequestContextFilter(logging.Filter):
    """Adds request_id and user_id (when a request is being served) to every record."""

    def filter(self, record):
        record.request_id = getattr(g, "request_id", None) if has_request_context() else None
        record.user_id = _logged_in_user_id() if has_request_context() else None
        return True


def _logged_in_user_id():
    """The id of the request's user from its identity key, never from the database: a log line
    must not load anything (the transaction it is written beside may be broken)."""
    user = getattr(g, "_login_user", None)
    state = sa_inspect(user, raiseerr=False) if user is not None else None
    if state is None or state.identity is None:
        return None
    return str(state.identity[0])


def init_app(app):
    _configure_logging(app)
    app.before_request(_start)
    app.after_request(_finish)
    app.add_url_rule("/metrics", "metrics", _metrics_view)


def _configure_logging(app):
    handler = logging.StreamHandler()
    if app.config["LOG_FORMAT"] == "json":
        handler.setFormatter(JsonFormatter(LOG_FIELDS, rename_fields={"levelname": "level", "asctime": "time"}))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"))
    handler.addFilter(RequestContextFilter())
    handler.astro = True  # ours: replaced, never stacked, when another app is built in this process
    for logger in (app.logger, logging.getLogger("webapp.access")):
        kept = [h for h in logger.handlers if not getattr(h, "astro", False) and h is not default_handler]
        logger.handlers = [*kept, handler]
        logger.setLevel(app.config["LOG_LEVEL"])
        logger.propagate = False


def _start():
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = incoming if REQUEST_ID.match(incoming) else uuid.uuid4().hex
    g.request_started = time.perf_counter()


def _finish(response):
    started = g.pop("request_started", None)
    response.headers["X-Request-ID"] = g.get("request_id", "")
    if started is None:
        return response
    seconds = time.perf_counter() - started
    endpoint = request.url_rule.rule if request.url_rule is not None else "unmatched"
    metrics.HTTP_REQUESTS.labels(endpoint, request.method, str(response.status_code)).inc()
    metrics.HTTP_LATENCY.labels(endpoint, request.method).observe(seconds)
    line = dict(
        method=request.method,
        path=request.path,
        endpoint=endpoint,
        status=response.status_code,
        duration_ms=round(seconds * 1000, 1),
        remote_addr=request.remote_addr,
    )
    access = logging.getLogger("webapp.access")
    if seconds * 1000 >= current_app.config["SLOW_REQUEST_MS"]:
        access.warning("slow request", extra=line)
    else:
        access.info("request", extra=line)
    return response


def _metrics_view():
    config = current_app.config
    token = config.get("METRICS_TOKEN")
    sent = request.headers.get("Authorization", "")
    by_token = bool(token) and hmac.compare_digest(sent.encode(), f"Bearer {token}".encode())
    if not by_token and request.remote_addr not in config["METRICS_ALLOW_IPS"]:
        return jsonify(error="forbidden", message="Metrics are not served to this address."), 403
    _read_gauges()
    return generate_latest(), 200, {"Content-Type": CONTENT_TYPE_LATEST}


def _read_gauges():
    """Gauges that are facts of the database, read when scraped."""
    counts = dict(
        db.session.execute(
            db.select(ConsultationSession.status, func.count()).group_by(ConsultationSession.status)
        ).all()
    )
    for status in SessionStatus:
        metrics.SESSIONS.labels(status.value).set(counts.get(status, 0))
