"""/healthz: the process answers. /readyz: its database (and Redis, when configured) answer too."""

from flask import current_app, jsonify

from ...extensions import db
from . import bp


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    checks, problems = {}, []
    try:
        db.session.execute(db.text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as error:  # any driver error means "not ready" (the boundary rolls the 503 back)
        checks["database"] = "unavailable"
        problems.append(f"database: {type(error).__name__}")
    redis_url = current_app.config.get("REDIS_URL")
    if redis_url:
        try:
            import redis

            redis.Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2).ping()
            checks["redis"] = "ok"
        except Exception as error:
            checks["redis"] = "unavailable"
            problems.append(f"redis: {type(error).__name__}")
    if problems:
        return jsonify(status="unavailable", checks=checks, reason="; ".join(problems)), 503
    return jsonify(status="ok", checks=checks)
