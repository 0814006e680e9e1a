"""Property-based fuzzing of the machine API from its own OpenAPI description (schemathesis):
every generated request, valid and invalid, is signed the way the main backend signs it, so the
body reaches the upsert. No request may answer 5xx, and every answer must match the description."""

import hashlib
import hmac
import json
import time

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core import NOT_SET
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from webapp.blueprints.api.openapi import SPEC

from .test_user_sync import SECRET

schema = schemathesis.openapi.from_dict(SPEC)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(autouse=True)
def sync_secret(app, monkeypatch):
    monkeypatch.setitem(app.config, "SYNC_SECRET", SECRET)
    monkeypatch.setitem(app.config, "RATELIMIT_SYNC", "100000 per minute")  # every example reaches the upsert


def signed(body):
    timestamp = str(int(time.time()))
    signature = hmac.new(SECRET.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {"X-Sync-Timestamp": timestamp, "X-Sync-Signature": signature}


@schema.parametrize()
@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_no_generated_request_fails_the_api(case, client):
    # Records accumulate across examples (and collide with each other): that must give per-record
    # errors, never a failure.
    if case.body is NOT_SET or isinstance(case.body, bytes):
        body = b"" if case.body is NOT_SET else case.body
    else:
        body = json.dumps(case.body).encode()
    headers = {"Content-Type": "application/json", **signed(body)} if case.method == "POST" else {}
    response = client.open(case.formatted_path, method=case.method, data=body or None, headers=headers)
    case.validate_response(response, checks=CHECKS)
