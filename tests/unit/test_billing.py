"""The billing engine, driven by explicit `now` (never sleeping): charges, boundaries, every end rule,
free minutes, awkward rates, retried passes. The ledger is verified after every test (conftest)."""

from datetime import timedelta
from decimal import Decimal

import pytest

from webapp.extensions import db
from webapp.models import BillingKind, BillingTransaction, EndReason, Message, SessionStatus, Wallet, utcnow
from webapp.services import locks, periodic, wallet
from webapp.services.billing import session_bar
from webapp.services.consultations import lifecycle
from webapp.services.messaging import chat
from webapp.services.money import topups

D = Decimal
MINUTE = timedelta(seconds=60)


@pytest.fixture
def run(consult, app, monkeypatch):
    """run(rate=..., balance=..., replied=True, **config) -> a Scenario with an accepted session at t0."""

    class Scenario:
        def __init__(self, rate, balance, replied, cap):
            self.astrologer = consult.astrologer(rate=D(rate))
            self.user = consult.user(balance=balance)
            self.t0 = utcnow().replace(microsecond=0) - timedelta(hours=1)
            if cap is None:
                self.session = consult.request(self.user, self.astrologer, now=self.t0)
            else:
                self.session = lifecycle.request(self.user.id, self.astrologer.id, "chat", now=self.t0, cap=cap)
                db.session.commit()
            consult.accept(self.session, now=self.t0)
            if replied:
                chat.send(self.session.id, self.astrologer.id, "hello", "Namaste", now=self.t0)
                db.session.commit()

        def at(self, offset, present=True):
            """Run a pass at t0 + offset (both participants seen just before, unless present=False)."""
            now = self.t0 + offset
            if present:
                for person in (self.user, self.astrologer):
                    chat.connected(self.session.id, person.id, now=now)
                db.session.commit()
            result = periodic.run_due(now)
            db.session.expire_all()
            return result

        def walk(self, minutes, present=True):
            """A pass at every minute boundary up to `minutes` after acceptance."""
            for k in range(1, minutes + 1):
                self.at(k * MINUTE, present)

        @property
        def balance(self):
            return wallet.wallet_of(self.user.id).current_balance

        def refresh(self):
            db.session.refresh(self.session)
            return self.session

    def make(rate="10.00", balance="500.00", replied=True, cap=None, **config):
        for key, value in config.items():
            monkeypatch.setitem(app.config, key, value)
        return Scenario(rate, balance, replied, cap)

    return make


@pytest.mark.parametrize("minutes", [1, 2, 7])
def test_exact_charges_for_n_minutes(run, minutes):
    s = run(rate="10.00")
    s.walk(minutes - 1)  # minute 1 was charged at acceptance
    session = s.refresh()
    assert session.billed_minutes == minutes and session.total_cost == D("10.00") * minutes
    assert s.balance == D("500.00") - D("10.00") * minutes
    assert wallet.wallet_of(s.astrologer.id).current_balance == D("7.00") * minutes
    assert wallet.platform_wallet().current_balance == D("3.00") * minutes
    assert session.next_charge_at == s.t0 + minutes * MINUTE
    assert session.status == SessionStatus.ACTIVE


def test_boundary_exactly_at_next_charge_at(run):
    s = run()
    assert s.at(MINUTE - timedelta(microseconds=1))["charged"] == 0
    assert s.at(MINUTE)["charged"] == 1
    assert s.refresh().billed_minutes == 2


def test_a_retried_or_duplicated_pass_charges_nothing_twice(run):
    s = run()
    s.at(MINUTE)
    s.at(MINUTE)
    s.at(MINUTE + timedelta(seconds=5))
    assert s.refresh().billed_minutes == 2
    keys = [k for (k,) in db.session.query(BillingTransaction.idempotency_key)]
    assert len(keys) == len(set(keys))


def test_ticks_and_low_balance_warnings(run, events):
    s = run(rate="10.00", balance="55.00")
    events.clear()
    s.walk(3)  # minutes 2, 3, 4 -> balance 15.00: one minute left
    ticks = [e for e in events if e.name == "billing_tick" and e.room == f"user:{s.user.id}"]
    assert [(t.payload["billed_minutes"], t.payload["balance"], t.payload["minutes_left"]) for t in ticks] == [
        (2, "35.00", 3),
        (3, "25.00", 2),
        (4, "15.00", 1),
    ]
    astro_ticks = [e for e in events if e.name == "billing_tick" and e.room == f"user:{s.astrologer.id}"]
    assert all(t.payload["balance"] is None for t in astro_ticks) and len(astro_ticks) == 3
    low = [e.payload for e in events if e.name == "balance_low"]
    assert low == [{"session_id": str(s.session.id), "minutes_left": 1, "balance": "15.00"}]
    assert any("Low balance: 1 more minute can be paid" in e.payload["content"] for e in events if e.name == "message")


def test_every_charge_tells_both_owners_their_one_balance(run, events):
    """The header badge, the wallet page and the session bar show the `balance` event's figure; it
    follows every charge, for the paying user and for the astrologer who earns it, and the wallet
    lines (low balance) reach the user only."""
    s = run(rate="10.00", balance="55.00")
    events.clear()
    s.walk(3)
    mine = [e.payload for e in events if e.name == "balance" and e.room == f"user:{s.user.id}"]
    ticks = [e.payload for e in events if e.name == "billing_tick" and e.room == f"user:{s.user.id}"]
    assert [b["available"] for b in mine] == [t["balance"] for t in ticks] == ["35.00", "25.00", "15.00"]
    earned = [e.payload for e in events if e.name == "balance" and e.room == f"user:{s.astrologer.id}"]
    astrologer_wallet = db.session.query(Wallet).filter_by(user_id=s.astrologer.id).one()
    assert len(earned) == 3 and earned[-1]["available"] == str(astrologer_wallet.available_balance)
    assert Decimal(earned[0]["available"]) < Decimal(earned[-1]["available"])
    low = [e for e in events if e.name == "message" and "Low balance" in e.payload["content"]]
    assert [e.room for e in low] == [f"user:{s.user.id}"]


def test_insufficient_balance_ends_at_the_boundary_never_negative(run, events):
    s = run(rate="10.00", balance="55.00")
    s.walk(5)  # minutes 2..5 charged; minute 6 at 5 x 60 s cannot be paid
    session = s.refresh()
    assert session.status == SessionStatus.COMPLETED and session.end_reason == EndReason.INSUFFICIENT_BALANCE
    assert session.billed_minutes == 5 and session.total_cost == D("50.00")
    assert s.balance == D("5.00") and session.ended_at == s.t0 + 5 * MINUTE
    assert session.next_charge_at is None
    ended = [e.payload for e in events if e.name == "session_ended" and e.room == f"user:{s.user.id}"]
    assert ended[-1]["reason"] == "insufficient_balance" and ended[-1]["total_cost"] == "50.00"


def test_a_top_up_mid_session_extends_it(run):
    s = run(rate="10.00", balance="55.00")
    s.walk(3)
    session = locks.active_session_of(s.user.id)  # before the wallet, as the payment webhook does
    topups.deposit(wallet.wallet_of(s.user.id).id, "100.00", idempotency_key="topup:test:mid")
    session_bar.note_topup(session, D("100.00"))
    db.session.commit()
    for k in range(4, 9):
        s.at(k * MINUTE)
    session = s.refresh()
    assert session.status == SessionStatus.ACTIVE and session.billed_minutes == 9
    assert s.balance == D("65.00")


def test_no_reply_ends_and_refunds_every_paisa(run, events):
    s = run(rate="12.34", balance="500.00", replied=False)
    s.walk(2)  # minutes 2 and 3 charged
    assert s.refresh().billed_minutes == 3
    s.at(3 * MINUTE)  # 180 s after acceptance without a word from the astrologer
    session = s.refresh()
    assert session.status == SessionStatus.COMPLETED and session.end_reason == EndReason.ASTROLOGER_NO_REPLY
    assert session.billed_minutes == 3 and session.total_cost == D("0.00")  # minute 4 never charged
    assert s.balance == D("500.00")
    assert wallet.wallet_of(s.astrologer.id).current_balance == D("0.00")
    assert wallet.platform_wallet().current_balance == D("0.00")
    types = {t for (t,) in db.session.query(BillingTransaction.kind).filter_by(session_id=session.id)}
    assert {BillingKind.REFUND, BillingKind.REVERSAL} <= types


def test_an_astrologer_who_accepts_and_never_comes_is_paid_nothing(run, events):
    """The attack pass's case: the astrologer accepts and never opens the room while the user waits in
    it. The reconnect grace (90 s) runs out before the no-reply rule (180 s); the session still ends as
    the astrologer's no reply, and both charged minutes go back to the user."""
    s = run(rate="12.00", balance="500.00", replied=False)
    for seconds in range(10, 121, 10):  # only the user is ever seen
        chat.connected(s.session.id, s.user.id, now=s.t0 + timedelta(seconds=seconds))
        db.session.commit()
        periodic.run_due(s.t0 + timedelta(seconds=seconds))
        db.session.expire_all()
    session = s.refresh()
    assert session.status == SessionStatus.COMPLETED and session.end_reason == EndReason.ASTROLOGER_NO_REPLY
    assert session.billed_minutes == 2 and s.balance == D("500.00")
    assert wallet.wallet_of(s.astrologer.id).current_balance == D("0.00")
    last_line = db.session.query(Message).filter_by(session_id=session.id).order_by(Message.seq.desc()).first()
    assert "did not reply" in last_line.content and "refunded" in last_line.content


@pytest.mark.parametrize("who", ["user", "astrologer"])
def test_a_session_ended_by_either_side_before_any_reply_is_refunded(run, who):
    s = run(rate="10.00", balance="500.00", replied=False)
    s.walk(1)  # minute 2 charged
    person = s.user if who == "user" else s.astrologer
    lifecycle.end(s.session.id, by_user_id=person.id, now=s.t0 + MINUTE + timedelta(seconds=20))
    db.session.commit()
    session = s.refresh()
    assert session.end_reason.value == f"{who}_ended" and session.session_metadata["end"]["refunded"] == "20.00"
    assert s.balance == D("500.00") and wallet.wallet_of(s.astrologer.id).current_balance == D("0.00")
    last_line = db.session.query(Message).filter_by(session_id=session.id).order_by(Message.seq.desc()).first()
    assert "never replied, so every charge (₹20) is refunded" in last_line.content


def test_a_reply_keeps_the_session_going(run):
    s = run(replied=False)
    s.at(MINUTE)
    chat.send(s.session.id, s.astrologer.id, "late", "Sorry, here now", now=s.t0 + MINUTE + timedelta(seconds=10))
    db.session.commit()
    s.walk(5)
    assert s.refresh().status == SessionStatus.ACTIVE


def test_downtime_charges_nothing_more(run, events):
    s = run(rate="10.00")
    s.at(10 * MINUTE)  # the engine was down: minute 2 is 9 minutes overdue
    session = s.refresh()
    assert session.status == SessionStatus.COMPLETED and session.end_reason == EndReason.SERVICE_INTERRUPTION
    assert session.billed_minutes == 1 and s.balance == D("490.00")
    assert session.ended_at == s.t0 + MINUTE  # closed at the last paid minute


def test_a_short_delay_within_grace_is_still_billed(run):
    s = run(rate="10.00")
    s.at(MINUTE + timedelta(seconds=25))  # 25 s late, grace is 30 s
    assert s.refresh().billed_minutes == 2


def test_disconnect_grace(run):
    s = run(rate="10.00")
    s.at(MINUTE)  # both present at 60 s
    s.at(2 * MINUTE, present=False)  # gone for 60 s: still within the 90 s grace, minute 3 charged
    assert s.refresh().billed_minutes == 3
    s.at(2 * MINUTE + timedelta(seconds=30), present=False)  # gone for 90 s
    session = s.refresh()
    assert session.status == SessionStatus.COMPLETED and session.end_reason == EndReason.PARTICIPANT_DISCONNECTED
    assert session.billed_minutes == 3


def test_rate_change_mid_session_is_ignored(run):
    s = run(rate="10.00")
    s.astrologer.astrologer_profile.chat_rate_per_minute = D("99.00")
    db.session.commit()
    s.walk(2)
    assert s.refresh().total_cost == D("30.00")


def test_free_first_minutes_once_per_user(run, consult):
    s = run(rate="10.00", FREE_FIRST_MINUTES=2)
    assert s.refresh().billed_minutes == 0 and s.session.free_minutes == 1  # minute 1 free at acceptance
    s.walk(3)  # minute 2 free, minutes 3 and 4 charged
    session = s.refresh()
    assert (session.free_minutes, session.billed_minutes, session.total_cost) == (2, 2, D("20.00"))
    lifecycle.end(session.id, by_user_id=s.user.id, now=s.t0 + 4 * MINUTE)
    db.session.commit()
    again = consult.accept(consult.request(s.user, s.astrologer, now=s.t0 + 5 * MINUTE), now=s.t0 + 5 * MINUTE)
    assert (again.free_minutes, again.billed_minutes) == (0, 1)  # free minutes are once per user


@pytest.mark.parametrize("rate", ["7.77", "0.01", "999.99", "0.05", "13.33"])
def test_awkward_rates_split_exactly(run, rate):
    s = run(rate=rate, balance="99000.00")
    s.walk(2)
    rows = (
        db.session.query(BillingTransaction)
        .filter(BillingTransaction.session_id == s.session.id, BillingTransaction.minute.is_not(None))
        .all()
    )
    by_minute = {}
    for row in rows:
        by_minute.setdefault(row.minute, {})[row.kind] = row.amount
    for legs in by_minute.values():
        debit = legs[BillingKind.CHARGE]
        assert debit == D(rate)
        assert legs.get(BillingKind.EARNING, D("0")) + legs.get(BillingKind.COMMISSION, D("0")) == debit


def test_ended_sessions_are_never_charged(run):
    s = run()
    lifecycle.end(s.session.id, by_user_id=s.user.id, now=s.t0 + timedelta(seconds=30))
    db.session.commit()
    s.walk(3)
    assert s.refresh().billed_minutes == 1


def test_earnings_reach_the_dashboard_at_once(run):
    s = run(rate="10.00")
    s.walk(2)
    db.session.refresh(s.astrologer.astrologer_profile)
    assert s.astrologer.astrologer_profile.total_earnings == D("21.00")


# ---------------------------------------------------------------- the user's spending cap


@pytest.mark.parametrize("cap, minutes", [(("minutes", "3"), 3), (("amount", "45.00"), 4), (("amount", "40"), 4)])
def test_a_cap_ends_the_session_at_its_boundary_with_nothing_charged_past_it(run, events, cap, minutes):
    """Stop at 3 minutes, or at ₹45 (four whole minutes at ₹10): the last minute is warned of when
    it starts, and the session ends when it ends, whatever the balance could still pay."""
    s = run(rate="10.00", balance="500.00", cap=cap)
    assert s.refresh().cap_minutes == minutes
    events.clear()
    s.walk(minutes + 3)
    session = s.refresh()
    assert session.status == SessionStatus.COMPLETED and session.end_reason == EndReason.CAP_REACHED
    assert session.billed_minutes == minutes and session.total_cost == D("10.00") * minutes
    assert session.ended_at == s.t0 + minutes * MINUTE  # at the boundary of the last allowed minute
    charges = db.session.query(BillingTransaction).filter_by(session_id=session.id, kind=BillingKind.CHARGE).count()
    assert charges == minutes and s.balance == D("500.00") - D("10.00") * minutes
    lines = [(e.room, e.payload["content"]) for e in events if e.name == "message"]
    warned = [room for room, line in lines if "One minute left" in line]
    assert len(warned) == len(set(warned)) == 2  # once to each participant, in their own language
    lines = [line for _, line in lines]
    assert any("ended at the limit set for it" in line for line in lines)
    assert session.session_metadata["end"]["cap_minutes"] == minutes


def test_a_cap_shorter_than_the_start_minutes_holds_only_what_it_allows(run):
    s = run(rate="10.00", balance="25.00", cap=("minutes", "2"))  # 5 minutes' worth (50.00) is not needed
    s.walk(4)
    session = s.refresh()
    assert session.billed_minutes == 2 and session.end_reason == EndReason.CAP_REACHED and s.balance == D("5.00")


@pytest.mark.parametrize(
    "cap, message",
    [
        (("minutes", "0"), "whole minutes from 1 to 600"),
        (("minutes", "2.5"), "whole minutes from 1 to 600"),
        (("minutes", "601"), "whole minutes from 1 to 600"),
        (("amount", "9.99"), "does not pay for one minute at ₹10"),
        (("amount", "-5"), "more than zero"),
        (("amount", "abc"), "such as 500"),
        (("forever", "1"), "Choose no limit"),
    ],
)
def test_a_cap_that_means_nothing_is_refused_and_nothing_is_held(consult, cap, message):
    from webapp.services.errors import ValidationFailed

    astrologer = consult.astrologer(rate=D("10.00"))
    user = consult.user(balance="500.00")
    with pytest.raises(ValidationFailed, match=message):
        lifecycle.request(user.id, astrologer.id, "chat", cap=cap)
    db.session.rollback()
    assert wallet.wallet_of(user.id).held_balance == 0


def test_the_cap_changes_in_the_room_and_cannot_go_below_the_minute_under_way(run):
    from webapp.services.consultations import caps
    from webapp.services.errors import ValidationFailed

    s = run(rate="10.00", cap=("minutes", "2"))
    s.at(MINUTE)  # minute 2 starts: the last one
    with pytest.raises(ValidationFailed, match="2 minutes have started already"):
        caps.change(s.session.id, s.user.id, "minutes", "2", now=s.t0 + MINUTE)
    db.session.rollback()
    caps.change(s.session.id, s.user.id, "minutes", "4", now=s.t0 + MINUTE)
    db.session.commit()
    s.walk(6)
    session = s.refresh()
    assert session.billed_minutes == 4 and session.end_reason == EndReason.CAP_REACHED
    s2 = run(rate="10.00", cap=("amount", "20"))
    caps.change(s2.session.id, s2.user.id, "none", None, now=s2.t0)
    db.session.commit()
    s2.walk(4)
    assert s2.refresh().status == SessionStatus.ACTIVE and s2.refresh().billed_minutes == 5
