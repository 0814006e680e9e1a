"""The OpenAPI description stays true (real responses validate against it), and `flask users import`."""

import json

import jsonschema
import pytest

from webapp.extensions import db
from webapp.models import User

from .test_user_sync import SECRET, person, push


@pytest.fixture(autouse=True)
def sync_secret(app, monkeypatch):
    monkeypatch.setitem(app.config, "SYNC_SECRET", SECRET)


def _schema(spec, path, method, status):
    return spec["paths"][path][method]["responses"][str(status)]["content"]["application/json"]["schema"]


def test_the_description_is_served_and_describes_real_responses(client, monkeypatch, app):
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.") and "/api/v1/users/sync" in spec["paths"]
    cases = [
        (push(client, {"users": [person(1), {"bad": True}]}), 200),
        (push(client, person(1), secret="wrong-secret"), 401),
        (push(client, None, raw=b"nope"), 400),
        (push(client, {"users": [person(n) for n in range(501)]}), 413),
    ]
    for response, status in cases:
        assert response.status_code == status
        jsonschema.validate(response.json, _schema(spec, "/api/v1/users/sync", "post", status))
    jsonschema.validate(client.get("/healthz").json, _schema(spec, "/healthz", "get", 200))
    jsonschema.validate(client.get("/readyz").json, _schema(spec, "/readyz", "get", 200))
    monkeypatch.setitem(app.config, "SYNC_SECRET", None)
    off = push(client, person(2))
    jsonschema.validate(off.json, _schema(spec, "/api/v1/users/sync", "post", 503))
    request_schema = spec["paths"]["/api/v1/users/sync"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    jsonschema.validate({"users": [person(1)]}, request_schema)


def test_users_import_shares_the_upsert_and_summarises(app, tmp_path):
    path = tmp_path / "users.jsonl"
    lines = [json.dumps(person(n)) for n in range(1, 4)] + ["not json", json.dumps(person(9, email="broken"))]
    path.write_text("\n".join(lines) + "\n")
    result = app.test_cli_runner().invoke(args=["users", "import", str(path)])
    assert result.exit_code == 1  # some lines failed, and they are named
    assert "3 created, 0 updated, 0 unchanged, 2 error" in result.output and "line 4" in result.output
    assert db.session.query(User).filter(User.external_id.isnot(None)).count() == 3
    good = tmp_path / "good.jsonl"
    good.write_text("\n".join(lines[:3]) + "\n")
    again = app.test_cli_runner().invoke(args=["users", "import", str(good)])
    assert again.exit_code == 0 and "0 created, 0 updated, 3 unchanged, 0 error" in again.output
