"""The OpenAPI 3 description of the machine endpoints (kept true by tests/unit/test_openapi_and_import.py
and fuzzed from by tests/unit/test_api_fuzz.py)."""

from ...services.astrologers.marketplace import LANGUAGES, SPECIALIZATIONS

RATE = {
    "oneOf": [
        {"type": "string", "pattern": r"^\d{1,4}(\.\d{1,2})?$"},
        {"type": "integer", "minimum": 1, "maximum": 1000},
    ],
    "description": "INR per minute, 1..1000 with at most 2 decimals (send strings, never floats)",
}

ERROR = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
}
USER = {
    "type": "object",
    "required": ["external_id"],
    "additionalProperties": True,
    "description": "The seed's column names (users, user_profiles, astrologer_profiles); fields this schema does "
    "not know are kept in users.sync_metadata.",
    "properties": {
        "external_id": {"type": "string", "minLength": 1, "maxLength": 255},
        "name": {"type": "string", "minLength": 1, "maxLength": 255},
        "email": {"type": "string", "format": "email", "minLength": 1, "maxLength": 254},
        "phone": {
            "type": "string",
            "minLength": 1,
            "maxLength": 20,
            "description": "E.164; a bare 10-digit number is Indian (+91)",
        },
        "type": {"type": "string", "enum": ["user", "astrologer"]},
        "status": {
            "type": "string",
            "enum": ["active", "inactive", "suspended", "deleted"],
            "description": "anything but active ends the person's open sessions and suspends their wallet",
        },
        "bio": {"type": "string", "minLength": 1, "maxLength": 500},
        "avatar_url": {"type": "string", "minLength": 1, "maxLength": 2000, "pattern": "^https://"},
        "chat_rate_per_minute": RATE,
        "call_rate_per_minute": RATE,
        "video_rate_per_minute": RATE,
        "max_concurrent_sessions": {"type": "integer", "minimum": 1, "maximum": 10},
        "specializations": {"type": "array", "minItems": 1, "items": {"type": "string", "enum": list(SPECIALIZATIONS)}},
        "languages": {"type": "array", "minItems": 1, "items": {"type": "string", "enum": list(LANGUAGES)}},
        "experience_years": {"type": "integer", "minimum": 0, "maximum": 80},
    },
}
RESULTS = {
    "type": "object",
    "required": ["results"],
    "properties": {
        "results": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["external_id", "status", "sync_status", "errors"],
                "properties": {
                    "external_id": {},
                    "status": {"type": "string", "enum": ["created", "updated", "unchanged", "error"]},
                    "sync_status": {
                        "type": "string",
                        "enum": ["synced", "failed"],
                        "description": "users.sync_status after this record",
                    },
                    "errors": {"type": "object", "additionalProperties": {"type": "string"}},
                },
            },
        }
    },
}
HEALTH = {
    "type": "object",
    "required": ["status"],
    "properties": {"status": {"type": "string"}, "checks": {"type": "object"}, "reason": {"type": "string"}},
}


def _json(schema, description):
    return {"description": description, "content": {"application/json": {"schema": schema}}}


SPEC = {
    "openapi": "3.0.3",
    "info": {"title": "AstroConsult machine API", "version": "1.0.0"},
    "paths": {
        "/api/v1/users/sync": {
            "post": {
                "summary": "Upsert users by external_id (one object, or up to 500 in {users: [...]})",
                "parameters": [
                    {"name": "X-Sync-Timestamp", "in": "header", "required": True, "schema": {"type": "string"}, "description": "unix seconds, within 300 s of the server clock"},
                    {"name": "X-Sync-Signature", "in": "header", "required": True, "schema": {"type": "string"}, "description": "hex HMAC-SHA256(SYNC_SECRET, timestamp + '.' + body)"},
                ],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {"oneOf": [USER, {"type": "object", "required": ["users"], "properties": {"users": {"type": "array", "maxItems": 500, "items": USER}}}]}}}},
                "responses": {
                    "200": _json(RESULTS, "A result per record, in order"),
                    "400": _json(ERROR, "Not JSON, nested more than 32 deep, or users is not a list"),
                    "401": _json(ERROR, "Missing, wrong or stale signature"),
                    "413": _json(ERROR, "More than 500 users or a body over 2 MB"),
                    "429": _json(ERROR, "Rate limited"),
                    "503": _json(ERROR, "SYNC_SECRET is not configured"),
                },
            }
        },
        "/healthz": {"get": {"summary": "The process answers", "responses": {"200": _json(HEALTH, "Alive")}}},
        "/readyz": {"get": {"summary": "Database (and Redis when configured) reachable", "responses": {"200": _json(HEALTH, "Ready"), "503": _json(HEALTH, "Not ready, with a reason")}}},
    },
}  # fmt: skip
