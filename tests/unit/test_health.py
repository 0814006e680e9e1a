"""Liveness and readiness probes."""

from webapp.extensions import db


def test_healthz_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_readyz_checks_the_database(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json["checks"] == {"database": "ok"}


def test_readyz_is_503_with_a_reason_when_the_database_is_down(client, monkeypatch):
    def broken(*args, **kwargs):
        raise ConnectionRefusedError("database is down")

    with monkeypatch.context() as patch:
        patch.setattr(db.session, "execute", broken)
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["status"] == "unavailable"
    assert "database" in response.json["reason"]


def test_readyz_checks_redis_when_configured(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")  # nothing listens on port 1
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["redis"] == "unavailable"
    assert "redis" in response.json["reason"]
