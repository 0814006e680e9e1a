"""The signed user sync API: signatures and replays, batches with bad records, idempotence,
validation of every field, collisions, deleted users."""

import hashlib
import hmac
import json
import time
import uuid
from decimal import Decimal
from pathlib import Path

import pytest

from webapp.extensions import db
from webapp.models import AstrologerProfile, SessionStatus, SyncStatus, User, UserProfile, UserStatus, Wallet
from webapp.services.money import topups

SECRET = "sync-secret-for-tests"


@pytest.fixture(autouse=True)
def sync_secret(app, monkeypatch):
    monkeypatch.setitem(app.config, "SYNC_SECRET", SECRET)


def push(client, payload, *, secret=SECRET, at=None, skew=0, raw=None, headers=None):
    body = raw if raw is not None else json.dumps(payload).encode()
    timestamp = str(int(at if at is not None else time.time() + skew))
    signature = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    sent = {"X-Sync-Timestamp": timestamp, "X-Sync-Signature": signature, "Content-Type": "application/json"}
    sent.update(headers or {})
    return client.post("/api/v1/users/sync", data=body, headers=sent)


def person(n, **fields):
    record = {
        "external_id": f"ext-{n}",
        "name": f"Synced Person {n}",
        "email": f"synced{n}@example.com",
        "phone": f"+91981000{n:04d}",
    }
    record.update(fields)
    return record


def statuses(response):
    return [r["status"] for r in response.json["results"]]


def test_a_new_user_is_created_with_profile_and_wallet(client):
    response = push(client, person(1, favourite_colour="indigo", bio="Asks about career.\nPune."))
    assert response.status_code == 200 and statuses(response) == ["created"]
    assert response.json["results"][0]["sync_status"] == "synced"  # the seed's word, returned
    user = db.session.query(User).filter_by(external_id="ext-1").one()
    assert user.email == "synced1@example.com" and user.phone == "+919810000001"
    assert db.session.query(Wallet).filter_by(user_id=user.id).one().current_balance == 0
    assert user.sync_status == SyncStatus.SYNCED and user.last_sync_at is not None  # on users, as in the seed
    assert user.sync_metadata == {"favourite_colour": "indigo"}  # unknown fields kept
    profile = db.session.query(UserProfile).filter_by(user_id=user.id).one()
    assert profile.bio == "Asks about career.\nPune."


def test_an_astrologer_gets_an_astrologer_profile(client):
    record = person(2, type="astrologer", chat_rate_per_minute="25.50", call_rate_per_minute=40, max_concurrent_sessions=3,
                    specializations=["Vedic", "KP"], languages=["Hindi"], experience_years=12)  # fmt: skip
    assert statuses(push(client, record)) == ["created"]
    profile = db.session.query(AstrologerProfile).join(User).filter(User.external_id == "ext-2").one()
    assert profile.chat_rate_per_minute == Decimal("25.50") and profile.call_rate_per_minute == Decimal("40.00")
    assert profile.specializations == ["Vedic", "KP"] and profile.is_approved is False
    assert profile.video_rate_per_minute == Decimal("40.00")  # no video rate sent: the call rate


def test_the_main_backend_may_price_video(client):
    record = person(3, type="astrologer", chat_rate_per_minute="20", call_rate_per_minute="30")
    assert statuses(push(client, {**record, "video_rate_per_minute": "45.00"})) == ["created"]
    profile = db.session.query(AstrologerProfile).join(User).filter(User.external_id == "ext-3").one()
    assert profile.video_rate_per_minute == Decimal("45.00")
    assert statuses(push(client, {**record, "video_rate_per_minute": "60"})) == ["updated"]
    db.session.refresh(profile)
    assert profile.video_rate_per_minute == Decimal("60.00")
    (refused,) = push(client, {**record, "video_rate_per_minute": "-1"}).json["results"]
    assert refused["status"] == "error" and set(refused["errors"]) == {"video_rate_per_minute"}
    db.session.refresh(profile)
    assert profile.video_rate_per_minute == Decimal("60.00")


def test_the_same_batch_twice_is_all_unchanged_and_writes_nothing(client):
    batch = {"users": [person(n) for n in range(1, 6)]}
    assert statuses(push(client, batch)) == ["created"] * 5
    synced = User.external_id.is_not(None)
    synced_at = [u.last_sync_at for u in db.session.query(User).filter(synced).order_by(User.id)]
    assert statuses(push(client, batch)) == ["unchanged"] * 5
    db.session.expire_all()
    assert [u.last_sync_at for u in db.session.query(User).filter(synced).order_by(User.id)] == synced_at


def test_an_update_is_applied(client):
    push(client, person(1))
    response = push(client, person(1, name="Renamed Person", status="suspended"))
    assert statuses(response) == ["updated"]
    user = db.session.query(User).filter_by(external_id="ext-1").one()
    assert user.name == "Renamed Person" and user.status == UserStatus.SUSPENDED


def test_a_mixed_batch_answers_per_record(client):
    batch = {"users": [person(1), {"name": "no id"}, person(3, email="not-an-email"), person(4), "not an object"]}
    response = push(client, batch)
    assert statuses(response) == ["created", "error", "error", "created", "error"]
    errors = [r["errors"] for r in response.json["results"]]
    assert errors[1] == {"external_id": "required"} and "email" in errors[2] and "record" in errors[4]
    assert db.session.query(User).filter(User.external_id.isnot(None)).count() == 2


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"external_id": ""}, "external_id"),
        ({"external_id": "x" * 256}, "external_id"),
        ({"name": 42}, "name"),
        ({"name": "x" * 256}, "name"),
        ({"bio": "x" * 501}, "bio"),
        ({"bio": "bell\x07"}, "bio"),
        ({"avatar_url": "http://example.com/a.jpg"}, "avatar_url"),
        ({"avatar_url": "javascript:alert(1)"}, "avatar_url"),
        ({"email": "nope"}, "email"),
        ({"phone": "12"}, "phone"),
        ({"type": "admin"}, "type"),
        ({"status": "banned"}, "status"),
        ({"type": "astrologer", "chat_rate_per_minute": 0.5}, "chat_rate_per_minute"),
        ({"type": "astrologer", "chat_rate_per_minute": "1000.01"}, "chat_rate_per_minute"),
        ({"type": "astrologer", "call_rate_per_minute": "abc"}, "call_rate_per_minute"),
        ({"type": "astrologer", "max_concurrent_sessions": 0}, "max_concurrent_sessions"),
        ({"type": "astrologer", "max_concurrent_sessions": True}, "max_concurrent_sessions"),
        ({"type": "astrologer", "experience_years": 99}, "experience_years"),
        ({"type": "astrologer", "specializations": ["Alchemy"]}, "specializations"),
        ({"type": "astrologer", "languages": "Hindi"}, "languages"),
        ({"name": "Nul\x00Byte"}, "name"),
        ({"name": "Next\x85Line"}, "name"),  # C1 controls, U+2028 and the bidi overrides too (attack round three)
        ({"name": "Line\u2028Separator"}, "name"),
        ({"name": "Asha\u202eahsA"}, "name"),
        ({"bio": "para\u2029graph"}, "bio"),
        ({"external_id": "ext\x00"}, "external_id"),
        ({"email": "lone\udc00@example.com"}, "email"),
        ({"horoscope": {"sign\x00": "Leo"}}, "record"),
        ({"horoscope": ["\ud800"]}, "record"),
    ],
)
def test_every_field_is_validated(client, fields, field):
    response = push(client, person(7, **fields))
    assert statuses(response) == ["error"] and field in response.json["results"][0]["errors"]
    assert db.session.query(User).filter(User.external_id.isnot(None)).count() == 0


def test_email_or_phone_of_another_account_is_never_merged(client, make_user):
    make_user(email="taken@example.com", phone="+919800000009")
    response = push(client, {"users": [person(1, email="taken@example.com"), person(2, phone="+919800000009")]})
    assert statuses(response) == ["error", "error"]
    assert "email" in response.json["results"][0]["errors"] and "phone" in response.json["results"][1]["errors"]


def test_a_user_deleted_upstream_is_soft_deleted_and_their_session_ended(client, consult):
    push(client, person(1))
    user = db.session.query(User).filter_by(external_id="ext-1").one()
    from webapp.services import wallet

    topups.deposit(wallet.wallet_of(user.id).id, "500", idempotency_key="topup:test:synced")
    db.session.commit()
    session = consult.reply(consult.accept(consult.request(user, consult.astrologer())))
    assert statuses(push(client, person(1, status="deleted"))) == ["updated"]
    db.session.expire_all()
    user = db.session.query(User).filter_by(external_id="ext-1").one()
    assert user.status == UserStatus.DELETED and user.deleted_at is not None
    assert db.session.get(type(session), session.id).status == SessionStatus.COMPLETED
    assert wallet.wallet_of(user.id).current_balance == Decimal("490.00")  # money untouched (minute 1 was paid)


def test_a_user_deleted_upstream_loses_the_files_they_sent(app, client, consult):
    from werkzeug.datastructures import FileStorage

    from webapp.models import Attachment, utcnow
    from webapp.services import wallet
    from webapp.services.messaging import attachment_storage, attachments

    push(client, person(1))
    user = db.session.query(User).filter_by(external_id="ext-1").one()
    topups.deposit(wallet.wallet_of(user.id).id, "500", idempotency_key="topup:test:synced")
    db.session.commit()
    session = consult.accept(consult.request(user, consult.astrologer()))
    with open(Path(__file__).parent.parent / "fixtures" / "palm.heic", "rb") as photo:
        message, _ = attachments.send(session.id, user.id, None, FileStorage(photo, "palm.heic"), utcnow())
    db.session.commit()
    sent = db.session.get(Attachment, uuid.UUID(message.message_metadata["attachment_id"]))
    keys = [sent.storage_key, sent.thumbnail_key]
    assert all(attachment_storage.storage().exists(key) for key in keys)
    assert statuses(push(client, person(1, status="deleted"))) == ["updated"]
    db.session.expire_all()
    assert db.session.get(Attachment, sent.id).removed_reason == "account_deleted"
    assert not any(attachment_storage.storage().exists(key) for key in keys)


@pytest.mark.parametrize(
    "kwargs, status, error",
    [
        ({"secret": "wrong"}, 401, "invalid_signature"),
        ({"skew": -310}, 401, "invalid_signature"),
        ({"skew": 310}, 401, "invalid_signature"),
        ({"headers": {"X-Sync-Signature": ""}}, 401, "invalid_signature"),
        ({"headers": {"X-Sync-Timestamp": "soon"}}, 401, "invalid_signature"),
        ({"raw": b"{not json"}, 400, "bad_json"),
    ],
)
def test_unsigned_forged_stale_or_malformed_requests_are_refused(client, kwargs, status, error):
    response = push(client, person(1), **kwargs)
    assert response.status_code == status and response.json["error"] == error
    assert db.session.query(User).filter(User.external_id.isnot(None)).count() == 0


def test_a_replayed_request_within_the_window_changes_nothing(client):
    at = time.time()
    push(client, person(1), at=at)
    again = push(client, person(1), at=at)
    assert again.status_code == 200 and statuses(again) == ["unchanged"]


def test_batches_over_500_and_bodies_over_2_mb_are_413(client):
    assert push(client, {"users": [person(n) for n in range(501)]}).status_code == 413
    assert push(client, None, raw=b"{" + b" " * (2 * 1024 * 1024) + b"}").status_code == 413


def test_without_a_secret_the_api_is_off(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "SYNC_SECRET", None)
    response = push(client, person(1))
    assert response.status_code == 503 and response.json["error"] == "sync_disabled"


def test_duplicates_inside_one_batch(client):
    batch = {"users": [person(1), person(1, name="Same id again"), person(2, email="synced1@example.com")]}
    response = push(client, batch)
    assert statuses(response) == ["created", "updated", "error"]
    assert "email" in response.json["results"][2]["errors"]
    assert db.session.query(User).filter_by(external_id="ext-1").one().name == "Same id again"


@pytest.mark.postgres
def test_an_identifier_taken_after_the_batch_looked_it_up_fails_that_record_only(client, make_user, monkeypatch):
    # The batch inserts its new accounts together; when a concurrent writer has meanwhile taken
    # one's email (simulated: the batch's lookup does not see it), the insert fails and the batch
    # falls back to one SAVEPOINT per record.
    make_user(email="synced2@example.com")
    monkeypatch.setattr("webapp.services.users.user_sync.Index.owner", lambda self, name, value: None)
    response = push(client, {"users": [person(1), person(2), person(3)]})
    assert statuses(response) == ["created", "error", "created"]
    assert db.session.query(User).filter(User.external_id.in_(["ext-1", "ext-2", "ext-3"])).count() == 2


def test_a_signed_body_nested_too_deeply_is_a_400(client):
    response = push(client, None, raw=b"[" * 5000 + b"]" * 5000)
    assert response.status_code == 400 and response.json["error"] == "bad_json"


def _nested(levels):
    deep = cursor = {}
    for _ in range(levels):
        cursor["x"] = {}
        cursor = cursor["x"]
    return deep


def test_extra_fields_nested_past_the_limit_are_a_400_and_a_little_nesting_is_kept(client):
    response = push(client, {"users": [person(1, horoscope=_nested(400)), person(2)]})
    assert response.status_code == 400 and response.json["error"] == "bad_json"
    assert db.session.query(User).filter(User.external_id.isnot(None)).count() == 0
    assert statuses(push(client, {"users": [person(1, chart=_nested(8))]})) == ["created"]
    assert db.session.query(User).filter_by(external_id="ext-1").one().sync_metadata == {"chart": _nested(8)}
