"""Side effects on signals (services/signals.py): what a session's end, a minute's charge, a settled
payment and an availability change set off is subscribed where it is defined, runs inside the
sender's transaction, and a new reaction needs no edit of the sender."""

from datetime import UTC, datetime, timedelta

import pytest

from webapp.extensions import db
from webapp.models import ConsultationSession, Notification, SessionStatus
from webapp.services import signals
from webapp.services.astrologers import follows
from webapp.services.consultations import lifecycle

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def receivers(signal):
    return {f"{r.__module__}.{r.__qualname__}" for r in signal.receivers_for(object())}


def test_every_signal_has_the_receivers_the_design_names(app):
    assert receivers(signals.session_started) == {"webapp.services.astrologers.marketplace._session_started"}
    assert receivers(signals.session_ended) == {
        "webapp.services.consultations.queue._offer_the_freed_slot",
        "webapp.services.astrologers.marketplace._session_ended",
        "webapp.services.astrologers.performance._count_the_session",
        "webapp.services.ai.safety.session_ended",
        "webapp.services.notifications.receipts.consultation_ended",
    }
    assert receivers(signals.minute_charged) == {
        "webapp.services.billing.session_bar._minute_charged",
        "webapp.services.consultations.caps.warn_last_minute",
    }
    assert receivers(signals.minutes_charged) == {"webapp.services.billing.session_bar._minutes_charged"}
    assert receivers(signals.payment_settled) == {"webapp.services.notifications.receipts.topup_completed"}
    assert receivers(signals.availability_changed) == {"webapp.services.astrologers.follows._tell_followers"}


@pytest.fixture
def busy(consult):
    """A full astrologer (one slot, taken by an answered chat) and a user who follows them."""
    astrologer = consult.astrologer(capacity=1)
    fan = consult.user(email="fan@example.com")
    follows.follow(fan, astrologer.id, now=T0)
    session = consult.reply(consult.accept(consult.request(consult.user(), astrologer, now=T0), now=T0), now=T0)
    db.session.commit()
    return astrologer, fan, session


def availability_broadcasts(events, astrologer):
    return [
        e.payload["channels"]["chat"]
        for e in events
        if e.name == "availability" and e.payload["astrologer_id"] == str(astrologer.id)
    ]


def test_the_end_that_frees_a_full_astrologer_is_heard_by_the_marketplace_and_the_followers(busy, events):
    astrologer, fan, session = busy
    lifecycle.end(session.id, by_user_id=session.user_id, now=T0 + timedelta(minutes=3))
    db.session.commit()
    assert availability_broadcasts(events, astrologer) == ["available"]  # was busy: the slot is free again
    (told,) = db.session.execute(db.select(Notification).filter_by(user_id=fan.id)).scalars().all()
    assert told.kind == "followed_available"


def test_accepting_the_last_slot_makes_the_astrologer_busy_on_the_listing(consult, events):
    astrologer = consult.astrologer(capacity=1)
    consult.accept(consult.request(consult.user(), astrologer, now=T0), now=T0)
    assert availability_broadcasts(events, astrologer) == ["busy"]


def test_a_new_reaction_subscribes_and_sees_the_end_inside_its_transaction(busy):
    astrologer, fan, session = busy
    seen = []

    def reaction(ended, *, reason, now, **_):
        seen.append((ended.id, ended.status, reason.value, now))

    with signals.session_ended.connected_to(reaction):
        lifecycle.end(session.id, by_user_id=astrologer.id, now=T0 + timedelta(minutes=2))
        db.session.commit()
    assert seen == [(session.id, SessionStatus.COMPLETED, "astrologer_ended", T0 + timedelta(minutes=2))]


def test_a_reaction_that_fails_undoes_the_whole_end(busy, events):
    astrologer, fan, session = busy

    def broken(ended, **_):
        raise RuntimeError("a subscriber's bug")

    with signals.session_ended.connected_to(broken), pytest.raises(RuntimeError):
        lifecycle.end(session.id, by_user_id=session.user_id, now=T0 + timedelta(minutes=3))
    db.session.rollback()
    assert db.session.get(ConsultationSession, session.id).status == SessionStatus.ACTIVE
    assert availability_broadcasts(events, astrologer) == []  # nothing announced: nothing committed
    assert db.session.execute(db.select(Notification).filter_by(user_id=fan.id)).scalars().all() == []
