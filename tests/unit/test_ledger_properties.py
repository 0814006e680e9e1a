"""Property: any sequence of wallet operations, valid or not, repeated or not, keeps every ledger invariant."""

from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from webapp.extensions import db
from webapp.models import BillingKind, BillingTransaction
from webapp.services import wallet
from webapp.services.billing import charges
from webapp.services.errors import DomainError
from webapp.services.money import holds, ledger_checker, payouts, refunds, topups
from webapp.services.users import accounts

from ..conftest import empty_database

paise = st.integers(min_value=1, max_value=30_000).map(lambda p: Decimal(p) / 100)
key = st.integers(min_value=0, max_value=4)

operations = st.one_of(
    st.tuples(st.just("deposit"), st.integers(0, 1), paise, key),
    st.tuples(st.just("hold"), st.integers(0, 1), paise, key),
    st.tuples(st.just("release"), key),
    st.tuples(st.just("charge"), st.integers(1, 8)),
    st.tuples(st.just("refund"), st.integers(1, 3), st.one_of(st.none(), paise)),
    st.tuples(st.just("payout"), paise, key),
    st.tuples(st.just("approve"), key),
    st.tuples(st.just("reject"), key),
)


def _apply(operation, people, session):
    name, *args = operation
    if name == "deposit":
        who, amount, k = args
        topups.deposit(wallet.wallet_of(people[who].id).id, amount, idempotency_key=f"topup:prop:{who}:{k}")
    elif name == "hold":
        who, amount, k = args
        holds.hold(wallet.wallet_of(people[who].id).id, amount, idempotency_key=f"hold:{who}:{k}")
    elif name == "release":
        (k,) = args
        held = (
            db.session.query(BillingTransaction)
            .filter_by(kind=BillingKind.HOLD)
            .order_by(BillingTransaction.created_at)
            .all()
        )
        if held:
            holds.release(held[k % len(held)])
    elif name == "charge":
        (minute,) = args
        charges.charge_minute(session.id, minute, commission_percent=30)
    elif name == "refund":
        number, amount = args
        refunds.refund(session.id, number=number, amount=amount, reason="property")
    elif name == "payout":
        amount, k = args
        payouts.request_payout(wallet.wallet_of(people[2].id).id, amount, payout_id=f"prop-{k}")
    elif name in ("approve", "reject"):
        (k,) = args
        payout = wallet.find_by_key(payouts.payout_key(f"prop-{k}"))
        if payout is not None:
            if name == "approve":
                payouts.approve(payout.id, actor_id=None)
            else:
                payouts.reject(payout.id, reason="property", actor_id=None)


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(operations, min_size=1, max_size=25))
def test_random_operation_sequences_keep_every_invariant(app, make_user, make_astrologer, make_session, sequence):
    empty_database()
    accounts.platform_user()
    people = [make_user(), make_user(), make_astrologer(rate=Decimal("7.77"))]
    session = make_session(people[0], people[2], rate=Decimal("7.77"))
    for operation in sequence:
        try:
            _apply(operation, people, session)
            db.session.commit()
        except DomainError:
            db.session.rollback()  # a refusal writes nothing
        report = ledger_checker.verify()
        assert report.ok, f"after {operation}:\n" + "\n".join(report.lines())
