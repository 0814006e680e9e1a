"""The consultation lifecycle service: the transition table, every refusal, holds, the FIFO queue,
timeouts, ending, rating, history."""

import itertools
from datetime import timedelta
from decimal import Decimal

import pytest

from webapp.extensions import db
from webapp.models import (
    Availability,
    BillingKind,
    BillingTransaction,
    ConsultationSession,
    EndReason,
    Message,
    PresenceStatus,
    SessionParticipant,
    SessionStatus,
    UserStatus,
    utcnow,
)
from webapp.services import periodic, wallet
from webapp.services.consultations import lifecycle, lookup, queue, ratings
from webapp.services.consultations.lifecycle import TRANSITIONS, Transition
from webapp.services.errors import (
    AccountSuspended,
    AlreadyInSession,
    AstrologerFull,
    AstrologerNotFound,
    AstrologerUnavailable,
    IllegalTransition,
    InsufficientBalance,
    NotAllowed,
    RatingNotAllowed,
    SessionNotFound,
    ValidationFailed,
)
from webapp.services.money import refunds, topups

D = Decimal


def _balances(person):
    w = wallet.wallet_of(person.id)
    db.session.refresh(w)
    return w.current_balance, w.available_balance, w.held_balance


def _named(events, name):
    return [e for e in events if e.name == name]


# ---------------------------------------------------------------- the table


@pytest.mark.parametrize("status, transition", list(itertools.product(SessionStatus, Transition)))
def test_transition_table_is_exhaustive(status, transition):
    if (status, transition) in TRANSITIONS:
        assert lifecycle.next_status(status, transition) == TRANSITIONS[(status, transition)]
    else:
        with pytest.raises(IllegalTransition):
            lifecycle.next_status(status, transition)


def test_the_table_is_the_design():
    assert TRANSITIONS == {
        (SessionStatus.WAITING, Transition.ACCEPT): SessionStatus.ACTIVE,
        (SessionStatus.WAITING, Transition.DECLINE): SessionStatus.CANCELLED,
        (SessionStatus.WAITING, Transition.CANCEL): SessionStatus.CANCELLED,
        (SessionStatus.WAITING, Transition.TIMEOUT): SessionStatus.CANCELLED,
        (SessionStatus.ACTIVE, Transition.END): SessionStatus.COMPLETED,
    }


# ---------------------------------------------------------------- request


def test_request_holds_offers_and_announces(consult, events):
    astrologer, user = consult.astrologer(rate=D("12.50")), consult.user()
    session = consult.request(user, astrologer)
    assert session.status == SessionStatus.WAITING and session.offered_at is not None
    assert session.rate_per_minute == D("12.50")
    assert _balances(user) == (D("500.00"), D("437.50"), D("62.50"))  # 5 minutes held
    assert {
        p.participant_role.value for p in db.session.query(SessionParticipant).filter_by(session_id=session.id)
    } == {
        "user",
        "astrologer",
    }
    db.session.refresh(user)
    assert user.session_status == PresenceStatus.WAITING
    requested = _named(events, "session_requested")
    assert [(e.room, e.payload["queue_position"], e.payload["user_name"]) for e in requested] == [
        (f"user:{astrologer.id}", 0, user.name)
    ]
    assert [(e.room, e.payload["position"]) for e in _named(events, "queue_update")] == [(f"user:{user.id}", 0)]


def test_rate_change_after_request_does_not_touch_the_session(consult):
    astrologer, user = consult.astrologer(rate=D("10.00")), consult.user()
    session = consult.request(user, astrologer)
    astrologer.astrologer_profile.chat_rate_per_minute = D("99.00")
    db.session.commit()
    consult.accept(session)
    assert session.rate_per_minute == D("10.00") and session.total_cost == D("10.00")


def _nothing_written():
    assert db.session.query(ConsultationSession).count() == 0
    assert db.session.query(BillingTransaction).filter(BillingTransaction.kind == BillingKind.HOLD).count() == 0


@pytest.mark.parametrize(
    "case, error",
    [
        ("suspended user", AccountSuspended),
        ("astrologer asks", NotAllowed),
        ("unknown astrologer", AstrologerNotFound),
        ("not an astrologer", AstrologerNotFound),
        ("unapproved", AstrologerNotFound),
        ("suspended astrologer", AstrologerNotFound),
        ("offline", AstrologerUnavailable),
        ("unavailable", AstrologerUnavailable),
        ("call channel offline", AstrologerUnavailable),
        ("insufficient balance", InsufficientBalance),
        ("bad channel", ValidationFailed),
    ],
)
def test_request_refusals_write_nothing(consult, make_user, case, error):
    import uuid

    astrologer, user = consult.astrologer(rate=D("20.00")), consult.user(balance="99.99")
    session_type, target = "chat", astrologer.id
    if case == "suspended user":
        user.status = UserStatus.SUSPENDED
    elif case == "astrologer asks":
        user = consult.astrologer()
    elif case == "unknown astrologer":
        target = uuid.uuid4()
    elif case == "not an astrologer":
        target = make_user().id
    elif case == "unapproved":
        astrologer.astrologer_profile.is_approved = False
    elif case == "suspended astrologer":
        astrologer.status = UserStatus.SUSPENDED
    elif case == "offline":
        astrologer.astrologer_profile.chat_availability = Availability.OFFLINE
    elif case == "unavailable":
        astrologer.astrologer_profile.chat_availability = Availability.UNAVAILABLE
    elif case == "call channel offline":
        session_type = "call"
    elif case == "insufficient balance":
        pass  # 99.99 < 5 x 20.00
    elif case == "bad channel":
        session_type = "fax"
    if case != "insufficient balance":
        topups.deposit(wallet.wallet_of(user.id).id, "1000", idempotency_key=f"topup:test:{case}")
    db.session.commit()
    with pytest.raises(error):
        lifecycle.request(user.id, target, session_type)
    db.session.rollback()
    _nothing_written()


def test_own_account_is_refused(consult):
    astrologer = consult.astrologer()
    with pytest.raises(NotAllowed):
        lifecycle.request(astrologer.id, astrologer.id, "chat")


def test_one_open_session_per_user(consult):
    user, first, second = consult.user(), consult.astrologer(), consult.astrologer()
    session = consult.request(user, first)
    with pytest.raises(AlreadyInSession) as refused:
        lifecycle.request(user.id, second.id, "chat")
    assert refused.value.details["session_id"] == str(session.id)
    db.session.rollback()
    assert db.session.query(ConsultationSession).count() == 1


def test_busy_astrologer_queues_the_request(consult):
    astrologer = consult.astrologer(capacity=1)
    first, second = consult.user(), consult.user()
    consult.accept(consult.request(first, astrologer))
    queued = consult.request(second, astrologer)
    assert queued.offered_at is None and queue.queue_position(queued) == 1


# ---------------------------------------------------------------- accept


def test_accept_releases_the_hold_and_charges_minute_one(consult, events, app):
    astrologer, user = consult.astrologer(rate=D("10.00")), consult.user()
    user.profile.birth_place = "Pune, India"
    db.session.commit()
    session = consult.request(user, astrologer)
    events.clear()
    now = utcnow()
    consult.accept(session, now=now)
    assert session.status == SessionStatus.ACTIVE and session.started_at == now
    assert session.billed_minutes == 1 and session.total_cost == D("10.00")
    assert session.next_charge_at == now + timedelta(seconds=app.config["BILLING_MINUTE_SECONDS"])
    assert _balances(user) == (D("490.00"), D("490.00"), D("0.00"))  # hold released, minute 1 paid
    messages = db.session.query(Message).filter_by(session_id=session.id).order_by(Message.seq).all()
    assert [(m.seq, m.message_type.value) for m in messages] == [(1, "system"), (2, "system")]
    assert messages[0].content == "Birth details: born in Pune, India."
    db.session.refresh(user), db.session.refresh(astrologer)
    assert user.session_status == astrologer.session_status == PresenceStatus.IN_SESSION
    assert sorted(e.room for e in _named(events, "session_started")) == sorted(
        [f"user:{user.id}", f"user:{astrologer.id}"]
    )
    assert [e.payload["status"] for e in _named(events, "availability")] == ["busy"]


def test_accept_refusals(consult):
    astrologer, other = consult.astrologer(), consult.astrologer()
    user = consult.user()
    session = consult.request(user, astrologer)
    with pytest.raises(SessionNotFound):
        lifecycle.accept(session.id, other.id)
    consult.accept(session)
    with pytest.raises(IllegalTransition, match="already started"):  # a double-clicked accept
        lifecycle.accept(session.id, astrologer.id)
    db.session.rollback()
    assert db.session.query(BillingTransaction).filter_by(kind=BillingKind.CHARGE).count() == 1


def test_accepting_a_cancelled_request_is_refused(consult):
    astrologer, user = consult.astrologer(), consult.user()
    session = consult.request(user, astrologer)
    lifecycle.cancel(session.id, user.id)
    db.session.commit()
    with pytest.raises(IllegalTransition, match="already cancelled"):
        lifecycle.accept(session.id, astrologer.id)


def test_a_queued_request_cannot_be_accepted_before_it_is_offered(consult):
    astrologer = consult.astrologer(capacity=1)
    consult.accept(consult.request(consult.user(), astrologer))
    queued = consult.request(consult.user(), astrologer)
    with pytest.raises(IllegalTransition, match="still in the queue"):
        lifecycle.accept(queued.id, astrologer.id)


def test_accept_beyond_capacity_is_refused(consult):
    astrologer = consult.astrologer(capacity=2)
    first, second = consult.request(consult.user(), astrologer), consult.request(consult.user(), astrologer)
    astrologer.astrologer_profile.max_concurrent_sessions = 1
    db.session.commit()
    consult.accept(first)
    with pytest.raises(AstrologerFull):
        lifecycle.accept(second.id, astrologer.id)


# ---------------------------------------------------------------- decline, cancel, timeout


def test_decline_releases_and_tells_the_user(consult, events):
    astrologer, user = consult.astrologer(), consult.user()
    session = consult.request(user, astrologer)
    lifecycle.decline(session.id, astrologer.id)
    db.session.commit()
    assert session.status == SessionStatus.CANCELLED and session.end_reason == EndReason.DECLINED
    assert _balances(user) == (D("500.00"), D("500.00"), D("0.00"))
    ended = _named(events, "session_ended")
    assert [(e.room, e.payload["reason"]) for e in ended if e.room.startswith("user:")] == [
        (f"user:{user.id}", "declined")
    ]
    db.session.refresh(user)
    assert user.session_status == PresenceStatus.IDLE


def test_cancel_while_queued_and_someone_elses_cancel(consult, events):
    astrologer = consult.astrologer(capacity=1)
    consult.accept(consult.request(consult.user(), astrologer))
    user = consult.user()
    queued = consult.request(user, astrologer)
    with pytest.raises(SessionNotFound):
        lifecycle.cancel(queued.id, astrologer.id)
    lifecycle.cancel(queued.id, user.id)
    db.session.commit()
    assert queued.status == SessionStatus.CANCELLED and _balances(user)[2] == D("0.00")
    assert [e.payload["reason"] for e in _named(events, "request_withdrawn")] == ["cancelled"]


@pytest.mark.parametrize("capacity", [1, 2])
def test_fifo_queue_with_three_users(consult, capacity):
    astrologer = consult.astrologer(capacity=capacity)
    users = [consult.user() for _ in range(3)]
    sessions = [consult.request(u, astrologer) for u in users]
    offered = [s.offered_at is not None for s in sessions]
    assert offered == [True] * capacity + [False] * (3 - capacity)
    assert [queue.queue_position(s) for s in sessions] == [0] * capacity + list(range(1, 4 - capacity))
    # The first is accepted and ends: its slot goes to the head of the queue.
    consult.accept(sessions[0])
    lifecycle.end(sessions[0].id, by_user_id=users[0].id)
    db.session.commit()
    for s in sessions:
        db.session.refresh(s)
    assert sessions[capacity].offered_at is not None
    if capacity == 1:
        assert queue.queue_position(sessions[2]) == 1


def test_queue_updates_carry_position_and_eta(consult, events):
    astrologer = consult.astrologer(capacity=1)
    consult.accept(consult.request(consult.user(), astrologer))
    user = consult.user()
    events.clear()
    consult.request(user, astrologer)
    update = [e for e in _named(events, "queue_update") if e.room == f"user:{user.id}"][-1]
    assert update.payload["position"] == 1
    assert update.payload["eta_seconds"] == queue.DEFAULT_SESSION_SECONDS  # no history yet


def test_unanswered_request_times_out_and_releases_the_hold(consult, events, app):
    astrologer = consult.astrologer(capacity=1)
    first, second = consult.user(), consult.user()
    start = utcnow()
    offered = consult.request(first, astrologer, now=start)
    queued = consult.request(second, astrologer, now=start)
    timeout = app.config["ACCEPT_TIMEOUT_SECONDS"]
    assert periodic.run_due(start + timedelta(seconds=timeout - 1))["expired_requests"] == 0
    result = periodic.run_due(start + timedelta(seconds=timeout))
    db.session.commit()
    assert result["expired_requests"] == 1
    db.session.refresh(offered), db.session.refresh(queued)
    assert offered.status == SessionStatus.CANCELLED and offered.end_reason == EndReason.ACCEPT_TIMEOUT
    assert _balances(first) == (D("500.00"), D("500.00"), D("0.00"))
    assert queued.status == SessionStatus.WAITING and queued.offered_at is not None  # the next one is offered
    assert [e.payload["reason"] for e in _named(events, "session_ended") if e.room == f"user:{first.id}"] == [
        "accept_timeout"
    ]


def test_queued_requests_do_not_time_out(consult, app):
    astrologer = consult.astrologer(capacity=1)
    consult.accept(consult.request(consult.user(), astrologer))
    start = utcnow()
    queued = consult.request(consult.user(), astrologer, now=start)
    periodic.run_due(start + timedelta(seconds=app.config["ACCEPT_TIMEOUT_SECONDS"] * 3))
    db.session.commit()
    db.session.refresh(queued)
    assert queued.status == SessionStatus.WAITING


def test_a_channel_taken_offline_keeps_its_queue(consult):
    astrologer = consult.astrologer(capacity=1)
    first = consult.request(consult.user(), astrologer)
    queued = consult.request(consult.user(), astrologer)
    astrologer.astrologer_profile.chat_availability = Availability.OFFLINE
    db.session.commit()
    lifecycle.decline(first.id, astrologer.id)
    db.session.commit()
    db.session.refresh(queued)
    assert queued.status == SessionStatus.WAITING and queued.offered_at is None


# ---------------------------------------------------------------- end


@pytest.mark.parametrize("who, reason", [("user", EndReason.USER_ENDED), ("astrologer", EndReason.ASTROLOGER_ENDED)])
def test_either_side_ends(consult, events, who, reason):
    astrologer, user = consult.astrologer(), consult.user()
    session = consult.reply(consult.accept(consult.request(user, astrologer)))
    later = session.started_at + timedelta(seconds=95)
    lifecycle.end(session.id, by_user_id=(user if who == "user" else astrologer).id, now=later)
    db.session.commit()
    assert session.status == SessionStatus.COMPLETED and session.end_reason == reason
    assert session.duration_minutes == 1 and session.next_charge_at is None  # one started minute
    assert session.session_metadata["end"] == {"reason": reason.value, "by": who}
    db.session.refresh(user), db.session.refresh(astrologer)
    assert user.session_status == astrologer.session_status == PresenceStatus.IDLE
    profile = astrologer.astrologer_profile
    assert profile.total_sessions == 1 and profile.total_minutes == 1
    ended = [e for e in _named(events, "session_ended") if e.room == f"user:{user.id}"][-1]
    assert ended.payload == {
        "session_id": str(session.id),
        "reason": reason.value,
        "billed_minutes": 1,
        "total_cost": "10.00",
    }
    assert [e.payload["status"] for e in _named(events, "availability")] == ["busy", "available"]


def test_end_refusals(consult, make_user):
    astrologer, user = consult.astrologer(), consult.user()
    session = consult.request(user, astrologer)
    with pytest.raises(IllegalTransition):
        lifecycle.end(session.id, by_user_id=user.id)  # still waiting
    db.session.rollback()
    consult.accept(session)
    with pytest.raises(SessionNotFound):
        lifecycle.end(session.id, by_user_id=make_user().id)
    db.session.rollback()
    lifecycle.end(session.id, by_user_id=user.id)
    db.session.commit()
    with pytest.raises(IllegalTransition, match="already ended"):
        lifecycle.end(session.id, by_user_id=user.id)


# ---------------------------------------------------------------- rating


def _finished(consult, **astrologer_fields):
    astrologer, user = consult.astrologer(**astrologer_fields), consult.user()
    session = consult.reply(consult.accept(consult.request(user, astrologer)))
    lifecycle.end(session.id, by_user_id=user.id)
    db.session.commit()
    return astrologer, user, session


def test_rating_updates_the_profile_aggregates(consult):
    astrologer, user, session = _finished(consult, rating_average=D("4.00"), rating_count=3)
    ratings.rate(session.id, user.id, 5, "  Very clear answers.  ")
    db.session.commit()
    assert (session.astrologer_rating, session.review_text) == (D("5"), "Very clear answers.")
    profile = astrologer.astrologer_profile
    db.session.refresh(profile)
    assert (profile.rating_average, profile.rating_count) == (D("4.25"), 4)


def test_rating_rules(consult, make_user):
    astrologer, user, session = _finished(consult)
    with pytest.raises(NotAllowed):
        ratings.rate(session.id, astrologer.id, 5)
    with pytest.raises(SessionNotFound):
        ratings.rate(session.id, make_user().id, 5)
    for bad in (0, 6, "5"):
        with pytest.raises(ValidationFailed):
            ratings.rate(session.id, user.id, bad)
    with pytest.raises(ValidationFailed):
        ratings.rate(session.id, user.id, 4, "x" * 1001)
    ratings.rate(session.id, user.id, 4)
    with pytest.raises(RatingNotAllowed, match="already rated"):
        ratings.rate(session.id, user.id, 5)


def test_only_paid_finished_sessions_can_be_rated(consult):
    astrologer, user = consult.astrologer(), consult.user()
    waiting = consult.request(user, astrologer)
    with pytest.raises(RatingNotAllowed):
        ratings.rate(waiting.id, user.id, 5)
    lifecycle.cancel(waiting.id, user.id)
    db.session.commit()
    with pytest.raises(RatingNotAllowed):
        ratings.rate(waiting.id, user.id, 5)
    db.session.rollback()
    _, other_user, refunded = _finished(consult)
    refunds.refund(refunded.id, number=1, reason="no reply")
    db.session.commit()
    with pytest.raises(RatingNotAllowed, match="paid minute"):
        ratings.rate(refunded.id, other_user.id, 1)


# ---------------------------------------------------------------- history


def test_history_pages_newest_first(consult):
    astrologer, user = consult.astrologer(), consult.user(balance="2000.00")
    start = utcnow() - timedelta(hours=1)
    for n in range(12):
        session = consult.request(user, astrologer, now=start + timedelta(minutes=n))
        lifecycle.cancel(session.id, user.id, now=start + timedelta(minutes=n, seconds=1))
        db.session.commit()
    first = lookup.history(user.id)
    assert len(first.items) == 10 and first.has_more
    assert first.items[0].requested_at > first.items[-1].requested_at
    second = lookup.history(user.id, page=2)
    assert len(second.items) == 2 and not second.has_more
    assert len(lookup.history(astrologer.id, as_astrologer=True, page=1).items) == 10
