"""Every seed column the product maintains changes when its fact changes, through the services
(never by writing the column), in the same transaction as the change it describes."""

import json
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest
import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import (
    Availability,
    BillingKind,
    BillingTransaction,
    ConnectionStatus,
    ConsultationAvailability,
    EndReason,
    Message,
    ParticipantRole,
    SessionParticipant,
    SyncStatus,
    User,
    UserStatus,
    UserType,
    WalletStatus,
    utcnow,
)
from webapp.services import periodic, wallet
from webapp.services.admin import actions as admin
from webapp.services.astrologers import astrologer_profile, performance
from webapp.services.billing import minutes
from webapp.services.consultations import calls, lifecycle, ratings
from webapp.services.errors import AccountInactive, NotAllowed, RatingNotAllowed, ValidationFailed, WalletSuspended
from webapp.services.messaging import chat
from webapp.services.money import holds, payments, topups
from webapp.services.users import account_status, accounts, user_sync

from ..conftest import DEMO_PASSWORD, AuthActions


def _fresh(instance):
    db.session.expire_all()
    return db.session.get(type(instance), instance.id)


@pytest.fixture
def pair(consult):
    """An available astrologer (capacity 1) and a funded user."""
    return consult.astrologer(), consult.user()


def _active(consult, pair, now=None):
    astrologer, user = pair
    session = consult.request(user, astrologer, now=now)
    return consult.accept(session, now=now)


# ---------------------------------------------------------------- users


def test_consultation_availability_follows_the_channels_and_the_slots(consult, pair):
    astrologer, user = pair
    assert _fresh(astrologer).consultation_availability == ConsultationAvailability.AVAILABLE
    session = _active(consult, pair)
    assert _fresh(astrologer).consultation_availability == ConsultationAvailability.BUSY  # its one slot is taken
    lifecycle.end(session.id, by_user_id=user.id)
    db.session.commit()
    assert _fresh(astrologer).consultation_availability == ConsultationAvailability.AVAILABLE
    astrologer_profile.set_availability(astrologer.id, "chat", "unavailable")
    db.session.commit()
    assert _fresh(astrologer).consultation_availability == ConsultationAvailability.UNAVAILABLE
    astrologer_profile.set_availability(astrologer.id, "chat", "offline")
    db.session.commit()
    assert _fresh(astrologer).consultation_availability == ConsultationAvailability.OFFLINE


def test_consultation_availability_is_offline_for_an_unlisted_astrologer_and_unavailable_for_users(
    consult, make_user, make_astrologer
):
    unapproved = make_astrologer(is_approved=False, chat_availability=Availability.AVAILABLE)
    assert unapproved.consultation_availability == ConsultationAvailability.OFFLINE
    assert make_user().consultation_availability == ConsultationAvailability.UNAVAILABLE
    boss = make_user(type=UserType.ADMIN)
    admin.approve_astrologer(unapproved.id, admin_id=boss.id)
    db.session.commit()
    assert _fresh(unapproved).consultation_availability == ConsultationAvailability.AVAILABLE
    admin.set_user_status(unapproved.id, UserStatus.SUSPENDED, admin_id=boss.id)
    db.session.commit()
    assert _fresh(unapproved).consultation_availability == ConsultationAvailability.OFFLINE


def test_a_capacity_change_makes_a_full_astrologer_available(consult, pair):
    astrologer, _ = pair
    _active(consult, pair)
    profile = astrologer.astrologer_profile
    astrologer_profile.update_profile(
        astrologer.id,
        chat_rate_per_minute=profile.chat_rate_per_minute,
        call_rate_per_minute=profile.call_rate_per_minute,
        max_concurrent_sessions=2,
        languages=["Hindi"],
        specializations=["Vedic"],
        about=None,
    )
    db.session.commit()
    assert _fresh(astrologer).consultation_availability == ConsultationAvailability.AVAILABLE


SECRET = "columns-sync-secret"


def _sync(records):
    return [result.as_dict() for result in user_sync.sync(records)]


def test_sync_status_last_sync_at_and_sync_metadata_follow_the_main_backend(app):
    first = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    user_sync.upsert({"external_id": "m-1", "email": "m1@example.com", "tier": "gold"}, now=first)
    db.session.commit()
    person = db.session.query(User).filter_by(external_id="m-1").one()
    assert (person.sync_status, person.last_sync_at, person.sync_metadata) == (
        SyncStatus.SYNCED,
        first,
        {"tier": "gold"},
    )
    refused = _sync([{"external_id": "m-1", "email": "not-an-email"}])
    assert refused[0]["sync_status"] == "failed"
    assert _fresh(person).sync_status == SyncStatus.FAILED  # and nothing else changed
    assert _fresh(person).email == "m1@example.com" and _fresh(person).last_sync_at == first
    later = first + timedelta(hours=1)
    user_sync.upsert({"external_id": "m-1", "email": "m1@example.com", "tier": "gold"}, now=later)
    db.session.commit()
    assert (_fresh(person).sync_status, _fresh(person).last_sync_at) == (SyncStatus.SYNCED, later)


def test_a_local_registration_is_pending_with_the_main_backend(app):
    person = accounts.register_user(name="Local Person", email="local@example.com", phone=None, password=DEMO_PASSWORD)
    db.session.commit()
    assert (person.sync_status, person.last_sync_at, person.sync_metadata) == (SyncStatus.PENDING, None, None)


def test_an_account_deactivated_upstream_is_inactive_its_wallet_suspended_and_its_session_ended(consult):
    astrologer = consult.astrologer()
    user_sync.upsert({"external_id": "m-2", "email": "m2@example.com"})
    db.session.commit()
    person = db.session.query(User).filter_by(external_id="m-2").one()
    topups.deposit(wallet.wallet_of(person.id).id, "200", idempotency_key="topup:test:m2")
    db.session.commit()
    session = consult.accept(consult.request(person, astrologer))
    result = _sync([{"external_id": "m-2", "email": "m2@example.com", "status": "inactive"}])[0]
    assert result["status"] == "updated", result
    assert _fresh(person).status == UserStatus.INACTIVE
    assert wallet.wallet_of(person.id).status == WalletStatus.SUSPENDED
    assert _fresh(session).end_reason == EndReason.ACCOUNT_INACTIVE


def test_an_inactive_account_cannot_log_in(make_user):
    person = make_user(email="sleepy@example.com")
    account_status.change(person, UserStatus.INACTIVE)
    db.session.commit()
    with pytest.raises(AccountInactive):
        accounts.authenticate("sleepy@example.com", DEMO_PASSWORD)


# ---------------------------------------------------------------- user_profiles


def test_total_credited_follows_the_wallets_credits(make_user, fund):
    person = make_user()
    fund(person, "120.00")
    assert _fresh(person.profile).total_credited == D("120.00")


def test_total_debited_follows_the_wallets_debits(consult, pair):
    _, user = pair
    _active(consult, pair)  # minute 1 at 10.00
    assert _fresh(user.profile).total_debited == D("10.00")


def test_balance_updated_at_is_the_last_change_of_the_balance(make_user):
    person = make_user()
    at = (utcnow() + timedelta(minutes=5)).replace(microsecond=0)
    topups.deposit(wallet.wallet_of(person.id).id, "50", idempotency_key="topup:test:at", now=at)
    db.session.commit()
    assert _fresh(person.profile).balance_updated_at == at


def test_a_hold_moves_no_balance_but_is_a_wallet_transaction(make_user, fund):
    person = make_user()
    fund(person, "100")
    changed = _fresh(person.profile).balance_updated_at
    at = utcnow() + timedelta(minutes=5)
    holds.hold(wallet.wallet_of(person.id).id, "30", idempotency_key="h:columns", now=at)
    db.session.commit()
    assert _fresh(person.profile).balance_updated_at == changed  # current did not change
    assert wallet.wallet_of(person.id).last_transaction_at == at  # but money moved (available -> held)


def test_total_and_completed_consultations_count_the_users_own(consult, pair):
    astrologer, user = pair
    session = consult.request(user, astrologer)
    assert _fresh(user.profile).total_consultations == 1
    lifecycle.cancel(session.id, user.id)
    db.session.commit()
    second = consult.accept(consult.request(user, astrologer))
    lifecycle.end(second.id, by_user_id=user.id)
    db.session.commit()
    profile = _fresh(user.profile)
    assert (profile.total_consultations, profile.completed_consultations) == (2, 1)


def _completed(consult, pair):
    astrologer, user = pair
    session = consult.reply(_active(consult, pair))
    lifecycle.end(session.id, by_user_id=user.id)
    db.session.commit()
    return session


def test_the_astrologers_private_rating_of_the_user_counts_in_the_users_figures(consult, pair):
    astrologer, user = pair
    ratings.rate_user(_completed(consult, pair).id, astrologer.id, 4)
    db.session.commit()
    ratings.rate_user(_completed(consult, pair).id, astrologer.id, 5)
    db.session.commit()
    profile = _fresh(user.profile)
    assert (profile.average_rating, profile.total_ratings) == (D("4.50"), 2)


def test_the_astrologers_rating_of_a_user_is_once_by_the_astrologer_of_a_completed_session(consult, pair):
    astrologer, user = pair
    session = _completed(consult, pair)
    with pytest.raises(NotAllowed):
        ratings.rate_user(session.id, user.id, 5)  # the user cannot rate themselves
    with pytest.raises(ValidationFailed):
        ratings.rate_user(session.id, astrologer.id, 6)
    ratings.rate_user(session.id, astrologer.id, 3)
    db.session.commit()
    with pytest.raises(RatingNotAllowed):
        ratings.rate_user(session.id, astrologer.id, 4)
    db.session.rollback()
    assert (_fresh(session).user_rating, _fresh(user.profile).total_ratings) == (D("3"), 1)


def test_bio_and_preferred_language_are_saved_from_the_account_page(client, make_user):
    make_user(email="writer@example.com")
    auth = AuthActions(client)
    auth.login("writer@example.com")
    token = auth.csrf_token()
    response = client.post(
        "/auth/account",
        data={"csrf_token": token, "bio": "  Career questions, Pune.  ", "language": "Marathi"},
    )
    assert response.status_code == 302
    person = db.session.query(User).filter_by(email="writer@example.com").one()
    assert (person.profile.bio, person.profile.preferences) == ("Career questions, Pune.", {"language": "Marathi"})
    refused = client.post("/auth/account", data={"csrf_token": token, "language": "Klingon", "bio": "x" * 501})
    assert refused.status_code == 422 and "Use at most 500 characters." in refused.get_data(as_text=True)


def test_the_astrologer_reads_the_users_bio_in_the_room(app, consult, pair):
    astrologer, user = pair
    accounts.update_details(
        user.id, birth_date=None, birth_time=None, birth_place=None, bio="Asking about marriage.", language="Hindi"
    )
    db.session.commit()
    session = _active(consult, pair)
    http = app.test_client()
    AuthActions(http).login(astrologer.email)
    page = http.get(f"/consultations/{session.id}").get_data(as_text=True)
    assert "Asking about marriage." in page and "Prefers Hindi." in page


def test_avatar_url_comes_from_the_main_backend(app):
    user_sync.upsert({"external_id": "m-3", "email": "m3@example.com", "avatar_url": "https://cdn.example.com/a.jpg"})
    db.session.commit()
    person = db.session.query(User).filter_by(external_id="m-3").one()
    assert person.profile.avatar_url == "https://cdn.example.com/a.jpg"


# ---------------------------------------------------------------- astrologer_profiles


def test_last_active_at_moves_with_the_astrologers_actions(consult, pair):
    astrologer, user = pair
    at = (utcnow() + timedelta(minutes=5)).replace(microsecond=0)
    session = consult.request(user, astrologer, now=at)
    lifecycle.accept(session.id, astrologer.id, now=at + timedelta(seconds=40))
    db.session.commit()
    assert _fresh(astrologer.astrologer_profile).last_active_at == at + timedelta(seconds=40)


def test_last_active_at_moves_when_the_astrologer_opens_the_dashboard(app, consult, pair):
    astrologer, _ = pair
    assert _fresh(astrologer.astrologer_profile).last_active_at is None
    http = app.test_client()
    AuthActions(http).login(astrologer.email)
    assert http.get("/dashboard").status_code == 200
    assert _fresh(astrologer.astrologer_profile).last_active_at is not None


def test_performance_metrics_count_answers_replies_completions_and_repeat_users(consult, make_user, fund):
    astrologer = consult.astrologer(capacity=2)
    regular, newcomer = consult.user(), consult.user()
    t0 = (utcnow() + timedelta(minutes=5)).replace(microsecond=0)
    first = consult.accept(consult.request(regular, astrologer, now=t0), now=t0)
    chat.send(first.id, astrologer.id, "c1", "Namaste", now=t0 + timedelta(seconds=30))
    db.session.commit()  # each use case its own transaction, as in production
    lifecycle.end(first.id, by_user_id=regular.id, now=t0 + timedelta(minutes=2))
    declined = consult.request(newcomer, astrologer, now=t0 + timedelta(minutes=3))
    lifecycle.decline(declined.id, astrologer.id, now=t0 + timedelta(minutes=4))
    second = consult.accept(
        consult.request(regular, astrologer, now=t0 + timedelta(minutes=5)), now=t0 + timedelta(minutes=5)
    )
    chat.send(second.id, astrologer.id, "c2", "Welcome back", now=t0 + timedelta(minutes=5, seconds=10))
    db.session.commit()
    lifecycle.end(second.id, by_user_id=regular.id, now=t0 + timedelta(minutes=7))
    db.session.commit()
    assert _fresh(astrologer.astrologer_profile).performance_metrics == {
        "offered": 3,
        "accepted": 2,
        "acceptance_rate": 0.6667,
        "replies": 2,
        "response_seconds": 40,
        "average_response_seconds": 20,
        "completed_sessions": 2,
        "users": 1,
        "repeat_users": 1,
        "repeat_user_share": 1.0,
        "safety_flags": 0,
        "safety_flags_confirmed": 0,
    }


def test_an_accept_timeout_counts_as_an_unanswered_offer(consult, pair):
    astrologer, user = pair
    at = (utcnow() + timedelta(minutes=5)).replace(microsecond=0)
    consult.request(user, astrologer, now=at)
    lifecycle.expire_requests(now=at + timedelta(hours=1))
    db.session.commit()
    metrics = _fresh(astrologer.astrologer_profile).performance_metrics
    assert (metrics["offered"], metrics["accepted"], metrics["acceptance_rate"]) == (1, 0, 0.0)


def test_monthly_sessions_count_this_months_completed_sessions(consult, pair):
    astrologer, user = pair
    at = datetime(2026, 12, 15, 10, 0, tzinfo=UTC)
    session = consult.reply(consult.accept(consult.request(user, astrologer, now=at), now=at), now=at)
    lifecycle.end(session.id, by_user_id=user.id, now=at + timedelta(minutes=3))
    db.session.commit()
    profile = _fresh(astrologer.astrologer_profile)
    assert (profile.monthly_sessions, profile.monthly_period.isoformat()) == (1, "2026-12-01")


def test_monthly_rating_is_the_mean_of_this_months_ratings(consult, pair):
    astrologer, user = pair
    at = datetime(2026, 12, 15, 10, 0, tzinfo=UTC)
    session = consult.reply(consult.accept(consult.request(user, astrologer, now=at), now=at), now=at)
    lifecycle.end(session.id, by_user_id=user.id, now=at + timedelta(minutes=3))
    ratings.rate(session.id, user.id, 4, now=at + timedelta(minutes=4))
    db.session.commit()
    assert _fresh(astrologer.astrologer_profile).monthly_rating == D("4.00")


def test_a_new_month_starts_the_monthly_figures_from_its_own_sessions(app, consult, pair):
    astrologer, user = pair
    # 31 Dec 2026 20:00 UTC is 1 Jan 2027 01:30 in Asia/Kolkata: January there, already.
    late = datetime(2026, 12, 31, 18, 0, tzinfo=UTC)
    session = consult.reply(consult.accept(consult.request(user, astrologer, now=late), now=late), now=late)
    lifecycle.end(session.id, by_user_id=user.id, now=late + timedelta(minutes=3))
    ratings.rate(session.id, user.id, 5, now=late + timedelta(minutes=4))
    db.session.commit()
    assert _fresh(astrologer.astrologer_profile).monthly_sessions == 1
    app.extensions.pop(performance.ROLLED_OVER, None)
    assert performance.roll_over(datetime(2026, 12, 31, 20, 0, tzinfo=UTC)) >= 1
    db.session.commit()
    profile = _fresh(astrologer.astrologer_profile)
    assert (profile.monthly_sessions, profile.monthly_rating, profile.monthly_period.isoformat()) == (
        0,
        D("0.00"),
        "2027-01-01",
    )
    assert performance.roll_over(datetime(2026, 12, 31, 20, 1, tzinfo=UTC)) == 0  # nothing left, then nothing asked


# ---------------------------------------------------------------- consultation_sessions


def test_duration_minutes_is_the_started_minutes_at_the_end(consult, pair):
    astrologer, user = pair
    session = _active(consult, pair, now=utcnow().replace(microsecond=0) - timedelta(hours=1))
    assert session.duration_minutes is None
    periodic.run_due(now=session.started_at + minutes.minute_length())  # minute 2
    lifecycle.end(session.id, by_user_id=user.id, now=session.started_at + minutes.minute_length() * 1.5)
    db.session.commit()
    assert _fresh(session).duration_minutes == 2


def test_astrologer_rating_is_the_users_rating(consult, pair):
    astrologer, user = pair
    session = _completed(consult, pair)
    ratings.rate(session.id, user.id, 3)
    db.session.commit()
    assert _fresh(session).astrologer_rating == D("3.00")


def test_session_metadata_says_how_a_session_ended(consult, pair):
    astrologer, user = pair
    session = consult.reply(_active(consult, pair))
    lifecycle.end(session.id, by_user_id=astrologer.id)
    db.session.commit()
    assert _fresh(session).session_metadata == {"end": {"reason": "astrologer_ended", "by": "astrologer"}}


def test_session_metadata_keeps_the_balance_left_when_it_ran_out(consult):
    astrologer, user = consult.astrologer(), consult.user(balance="50.00")
    t0 = utcnow().replace(microsecond=0) - timedelta(hours=1)
    session = consult.accept(consult.request(user, astrologer, now=t0), now=t0)
    chat.send(session.id, astrologer.id, "hello", "Namaste", now=t0)
    db.session.commit()
    for minute in range(1, 6):  # 50.00 pays five minutes of 10.00; the sixth cannot be paid
        now = t0 + minutes.minute_length() * minute
        for person in (user, astrologer):
            chat.connected(session.id, person.id, now=now)
        db.session.commit()
        periodic.run_due(now=now)
    assert _fresh(session).session_metadata["end"] == {
        "reason": "insufficient_balance",
        "by": "system",
        "balance_left": "0.00",
    }


def test_session_metadata_keeps_the_refund_of_a_silent_astrologer(app, consult, pair):
    astrologer, user = pair
    session = _active(consult, pair)
    periodic.run_due(now=session.started_at + timedelta(seconds=app.config["NO_REPLY_SECONDS"] + 1))
    end = _fresh(session).session_metadata["end"]
    assert (end["reason"], end["refunded"]) == ("astrologer_no_reply", "10.00")


def test_session_metadata_records_a_calls_media(consult):
    astrologer = consult.astrologer(call_availability=Availability.AVAILABLE)
    user = consult.user()
    session = consult.accept(consult.request(user, astrologer, session_type="call"))
    at = utcnow()
    calls.media_state(session, user.id, "connected", now=at)
    calls.media_state(session, user.id, "failed", now=at + timedelta(seconds=5))
    calls.media_state(session, user.id, "connected", now=at + timedelta(seconds=8))
    db.session.commit()
    lifecycle.end(session.id, by_user_id=user.id)
    db.session.commit()
    assert _fresh(session).session_metadata["call"] == {
        "first_connected_at": at.isoformat(),
        "failures": 1,
        "media": "connected",
    }


def test_cancelled_at_is_set_when_a_request_is_cancelled(consult, pair):
    astrologer, user = pair
    session = consult.request(user, astrologer)
    at = utcnow()
    lifecycle.cancel(session.id, user.id, now=at)
    db.session.commit()
    assert _fresh(session).cancelled_at == at


# ---------------------------------------------------------------- session_participants and messages


def test_participant_role_names_each_side(consult, pair):
    astrologer, user = pair
    session = consult.request(user, astrologer)
    roles = {
        p.user_id: p.participant_role for p in db.session.query(SessionParticipant).filter_by(session_id=session.id)
    }
    assert roles == {user.id: ParticipantRole.USER, astrologer.id: ParticipantRole.ASTROLOGER}


def test_connection_status_is_reconnecting_during_the_grace_and_disconnected_after_the_end(consult, pair):
    astrologer, user = pair
    session = _active(consult, pair)
    chat.connected(session.id, user.id)
    chat.disconnected(session.id, user.id)
    db.session.commit()
    participant = chat.participant_of(session.id, user.id)
    assert participant.connection_status == ConnectionStatus.RECONNECTING
    lifecycle.end(session.id, by_user_id=astrologer.id)
    db.session.commit()
    assert _fresh(participant).connection_status == ConnectionStatus.DISCONNECTED


def test_delivered_at_is_set_when_the_other_client_acknowledges(consult, pair, events):
    astrologer, user = pair
    session = _active(consult, pair)
    message, _ = chat.send(session.id, user.id, "m1", "Hello")
    db.session.commit()
    assert message.delivered_at is None
    at = utcnow()
    chat.mark_delivered(session.id, astrologer.id, message.seq, now=at)
    db.session.commit()
    assert _fresh(message).delivered_at == at
    delivered = [e for e in events if e.name == "delivered"]
    assert delivered[-1].payload["up_to_seq"] == message.seq and delivered[-1].payload["user_id"] == str(astrologer.id)


def test_own_messages_are_not_delivered_by_ones_own_acknowledgement(consult, pair):
    astrologer, user = pair
    session = _active(consult, pair)
    message, _ = chat.send(session.id, user.id, "m1", "Hello")
    chat.mark_delivered(session.id, user.id, message.seq)
    db.session.commit()
    assert _fresh(message).delivered_at is None


def test_reading_delivers_too(consult, pair):
    astrologer, user = pair
    session = _active(consult, pair)
    message, _ = chat.send(session.id, astrologer.id, "m1", "Namaste")
    chat.mark_read(session.id, user.id, message.seq)
    db.session.commit()
    fresh = _fresh(message)
    assert fresh.delivered_at is not None and fresh.read_at is not None


@pytest.mark.parametrize("up_to_seq", [-1, "3", True, None, 1.5])
def test_a_bad_delivery_receipt_is_refused(consult, pair, up_to_seq):
    _, user = pair
    session = _active(consult, pair)
    with pytest.raises(ValidationFailed):
        chat.mark_delivered(session.id, user.id, up_to_seq)


def test_message_metadata_says_what_the_masking_hid(consult, pair):
    _, user = pair
    session = _active(consult, pair)
    message, _ = chat.send(session.id, user.id, "m1", "call me on +91 98123 45678 or a@b.com")
    db.session.commit()
    assert _fresh(message).message_metadata == {"masked": ["email", "phone"]}


def test_message_metadata_names_a_platform_lines_kind(consult, pair):
    session = _active(consult, pair)
    first = db.session.query(Message).filter_by(session_id=session.id).order_by(Message.seq).first()
    assert first.message_metadata["kind"] == "started"
    assert first.message_metadata["text"] == {
        "key": "Session started at %(rate)s per minute.",
        "args": {"rate": "10.00"},
    }


def test_a_messages_updated_at_moves_with_its_receipts(consult, pair):
    astrologer, user = pair
    session = _active(consult, pair)
    sent = (utcnow() + timedelta(minutes=5)).replace(microsecond=0)
    message, _ = chat.send(session.id, user.id, "m1", "Hello", now=sent)
    db.session.commit()
    assert (message.created_at, message.updated_at) == (sent, sent)
    chat.mark_read(session.id, astrologer.id, message.seq, now=sent + timedelta(seconds=9))
    db.session.commit()
    assert _fresh(message).updated_at == sent + timedelta(seconds=9)


def test_the_room_and_its_history_carry_the_delivery_state(app, consult, pair):
    astrologer, user = pair
    session = _active(consult, pair)
    message, _ = chat.send(session.id, user.id, "m1", "Hello")
    chat.mark_delivered(session.id, astrologer.id, message.seq)
    db.session.commit()
    assert chat.delivery_state(session.id) == {str(astrologer.id): message.seq}
    http = app.test_client()
    AuthActions(http).login(user.email)
    page = http.get(f"/consultations/{session.id}").get_data(as_text=True)
    assert f'data-other-delivered-seq="{message.seq}"' in page and 'data-state="delivered"' in page


# ---------------------------------------------------------------- wallets and the ledgers


def test_last_transaction_at_moves_with_any_money_movement(make_user, fund):
    person = make_user()
    at = (utcnow() + timedelta(minutes=5)).replace(
        microsecond=0
    )  # after the wallet was opened, whatever the clock says
    topups.deposit(wallet.wallet_of(person.id).id, "10", idempotency_key="topup:test:lt", now=at)
    db.session.commit()
    assert wallet.wallet_of(person.id).last_transaction_at == at


def test_a_suspended_accounts_wallet_is_suspended_and_pays_nothing(make_user, make_astrologer, fund):
    person, boss = make_user(), make_user(type=UserType.ADMIN)
    fund(person, "100")
    admin.set_user_status(person.id, UserStatus.SUSPENDED, admin_id=boss.id)
    db.session.commit()
    assert wallet.wallet_of(person.id).status == WalletStatus.SUSPENDED
    with pytest.raises(WalletSuspended):
        holds.hold(wallet.wallet_of(person.id).id, "10", idempotency_key="h:suspended")
    db.session.rollback()
    admin.set_user_status(person.id, UserStatus.ACTIVE, admin_id=boss.id)
    db.session.commit()
    assert wallet.wallet_of(person.id).status == WalletStatus.ACTIVE


def _demo_payment(user, outcome="pay", method="upi"):
    transaction, checkout = payments.start_topup(user.id, "100")
    db.session.commit()
    payments.demo_checkout(checkout.order_id, outcome, user.id, method=method)
    db.session.commit()
    return _fresh(transaction)


def test_payment_method_and_external_transaction_id_come_from_the_provider(make_user):
    topup = _demo_payment(make_user(), method="card")
    assert topup.payment_method == "card" and topup.external_transaction_id.startswith("pay_demo_")


def test_processed_at_is_set_when_a_top_up_fails(make_user):
    failed = _demo_payment(make_user(), outcome="fail")
    assert failed.processed_at is not None and failed.status.value == "failed"


def test_a_minutes_legs_carry_the_seeds_transaction_types(consult, pair):
    session = _active(consult, pair)
    legs = db.session.query(BillingTransaction).filter_by(session_id=session.id, minute=1).all()
    assert {(leg.kind, leg.transaction_type.value) for leg in legs} == {
        (BillingKind.CHARGE, "debit"),
        (BillingKind.EARNING, "credit"),
        (BillingKind.COMMISSION, "credit"),
    }


def test_a_wallet_entrys_reference_is_the_providers_payment_id(make_user):
    topup = _demo_payment(make_user())
    assert topup.entries[0].reference_id == topup.external_transaction_id


def test_a_wallet_entrys_updated_at_is_its_created_at(make_user, fund):
    entry = fund(make_user(), "10").entries[0]
    assert entry.updated_at == entry.created_at


def test_the_sync_answer_uses_the_seeds_names(client, app, monkeypatch):
    import hashlib
    import hmac
    import time

    monkeypatch.setitem(app.config, "SYNC_SECRET", SECRET)
    body = json.dumps({"external_id": f"m-{uuid.uuid4().hex[:6]}", "email": "answer@example.com"}).encode()
    stamp = str(int(time.time()))
    signature = hmac.new(SECRET.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    response = client.post(
        "/api/v1/users/sync",
        data=body,
        headers={"X-Sync-Timestamp": stamp, "X-Sync-Signature": signature, "Content-Type": "application/json"},
    )
    assert set(response.json["results"][0]) == {"external_id", "status", "sync_status", "errors"}


def test_the_astrologer_rates_the_user_from_the_summary_page(app, consult, pair):
    astrologer, user = pair
    session = _completed(consult, pair)
    http = app.test_client()
    auth = AuthActions(http)
    auth.login(astrologer.email)
    page = http.get(f"/consultations/{session.id}").get_data(as_text=True)
    assert "How was this user?" in page and "Private: only the support team sees it." in page
    url = f"/consultations/{session.id}/user-rating"
    assert http.post(url, data={"csrf_token": auth.csrf_token(), "rating": "9"}).status_code == 422
    assert http.post(url, data={"csrf_token": auth.csrf_token(), "rating": "2"}).status_code == 303
    assert "You rated this user 2 of 5" in http.get(f"/consultations/{session.id}").get_data(as_text=True)
    assert _fresh(session).user_rating == D("2")
    again = http.post(url, data={"csrf_token": auth.csrf_token(), "rating": "5"})
    assert again.status_code == 422 and "already rated this user" in again.get_data(as_text=True)
    viewer = app.test_client()
    AuthActions(viewer).login(user.email)
    summary = viewer.get(f"/consultations/{session.id}").get_data(as_text=True)
    assert "rated this user" not in summary and "How was this user?" not in summary  # never shown to the user


def test_a_json_column_with_nothing_to_say_is_sql_null(make_user, make_astrologer):
    person = make_user()
    accounts.update_details(person.id, birth_date=None, birth_time=None, birth_place=None, bio=None, language=None)
    db.session.commit()
    astrologer = make_astrologer()
    nulls = db.session.execute(
        sa.text(
            "SELECT (SELECT count(*) FROM users WHERE id IN (:p, :a) AND sync_metadata IS NULL),"
            " (SELECT count(*) FROM user_profiles WHERE user_id = :p AND preferences IS NULL),"
            " (SELECT count(*) FROM astrologer_profiles WHERE astrologer_id = :a AND performance_metrics IS NULL)"
        ),
        {"p": _raw_id(person.id), "a": _raw_id(astrologer.id)},
    ).one()
    assert tuple(nulls) == (2, 1, 1)  # SQL NULL, not the JSON value null


def _raw_id(value):
    return value.hex if db.engine.dialect.name == "sqlite" else value
