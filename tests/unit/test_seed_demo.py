"""`flask seed-demo`: the demo data of CONTRACT.md, idempotent."""

from decimal import ROUND_HALF_UP, Decimal

from webapp.extensions import db
from webapp.models import (
    AstrologerProfile,
    BillingTransaction,
    ConsultationSession,
    TaxInvoice,
    User,
    UserType,
    Wallet,
    WalletTransaction,
)
from webapp.services.astrologers import marketplace
from webapp.services.money import ledger_checker


def _seed(app):
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    return result.output


def test_seed_demo_creates_the_contract_data(app, auth):
    output = _seed(app)
    for email in ("user@example.com", "astro@example.com", "admin@example.com"):
        assert email in output
    approved = db.session.query(AstrologerProfile).filter_by(is_approved=True).all()
    assert len(approved) >= 40
    specializations = {s for profile in approved for s in profile.specializations}
    assert {"Vedic", "Tarot", "Numerology", "Vastu", "KP", "Palmistry"} <= specializations
    assert len({language for profile in approved for language in profile.languages}) >= 5
    rates = [profile.chat_rate_per_minute for profile in approved]
    assert min(rates) >= Decimal("5") and max(rates) <= Decimal("150") and len(set(rates)) >= 8
    # A believable marketplace: unique names, most astrologers reviewed in words, and every figure
    # of a profile (count, average, the star breakdown) read from the same rated consultations.
    names = [name for (name,) in db.session.query(User.name).filter_by(type=UserType.ASTROLOGER)]
    assert len(names) == len(set(names))
    reviewed = 0
    for profile in approved:
        rows = (
            db.session.query(ConsultationSession)
            .filter(
                ConsultationSession.astrologer_id == profile.astrologer_id,
                ConsultationSession.astrologer_rating.is_not(None),
            )
            .all()
        )
        breakdown = marketplace.rating_distribution(profile.astrologer_id)
        assert sum(breakdown.values()) == profile.rating_count == len(rows)
        if rows:
            mean = sum(r.astrologer_rating for r in rows) / len(rows)
            assert profile.rating_average == mean.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        reviewed += any(r.review_text for r in rows)
    assert reviewed >= len(approved) * 2 // 3
    assert ledger_checker.verify().ok
    user = db.session.query(User).filter_by(email="user@example.com").one()
    assert user.wallet.current_balance == Decimal("1000.00") == user.profile.current_balance
    types = {u.email: u.type for u in db.session.query(User).filter(User.email.like("%@example.com"))}
    assert types["astro@example.com"] == UserType.ASTROLOGER and types["admin@example.com"] == UserType.ADMIN
    for email in ("user@example.com", "astro@example.com", "admin@example.com"):
        assert auth.login(email, "demo12345").status_code == 302
        auth.logout()


def test_seed_demo_is_idempotent(app):
    _seed(app)

    def counts():
        return tuple(db.session.query(model).count() for model in (User, Wallet, BillingTransaction, WalletTransaction))

    first = counts()
    output = _seed(app)
    assert counts() == first
    assert "(0 records created)" in output
    user = db.session.query(User).filter_by(email="user@example.com").one()
    db.session.refresh(user.wallet)
    assert user.wallet.current_balance == Decimal("1000.00")  # funded once, not twice


def test_seed_funds_the_demo_wallet_through_the_ledger(app):
    _seed(app)
    user = db.session.query(User).filter_by(email="user@example.com").one()
    entries = db.session.query(WalletTransaction).filter_by(wallet_id=user.wallet.id).all()
    assert [(e.seq, e.balance_before, e.amount, e.balance_after) for e in entries] == [
        (1, Decimal("0.00"), Decimal("500.00"), Decimal("500.00")),
        (2, Decimal("500.00"), Decimal("500.00"), Decimal("1000.00")),
    ]
    paid, funds = (entry.billing_transaction for entry in entries)
    assert paid.idempotency_key == "topup:demo:order_demo_seed_priya" and paid.details["total"] == "590.00"
    assert db.session.query(TaxInvoice).filter_by(billing_transaction_id=paid.id).one().total == Decimal("590.00")
    assert funds.idempotency_key.startswith("topup:") and funds.status == "completed"


def test_seed_demo_if_empty_leaves_a_used_database_alone(app, make_user):
    make_user(email="someone@example.com")
    result = app.test_cli_runner().invoke(args=["seed-demo", "--if-empty"])
    assert result.exit_code == 0 and "not loaded" in result.output
    assert "user@example.com" in result.output  # the logins are still printed
    assert db.session.query(User).count() == 1


def test_seed_demo_if_empty_loads_an_empty_database(app):
    result = app.test_cli_runner().invoke(args=["seed-demo", "--if-empty"])
    assert result.exit_code == 0 and "Demo data ready" in result.output
    assert db.session.query(User).filter_by(email="user@example.com").count() == 1


def test_demo_people_have_proven_addresses_and_numbers(app):
    """No demo login meets the "confirm your address" banner or an unproven number."""
    from webapp.models import User
    from webapp.services import demo_data

    demo_data.seed_demo()
    db.session.commit()
    demo = db.session.execute(db.select(User).filter_by(email=demo_data.DEMO_USER_EMAIL)).scalar_one()
    assert demo.email_verified_at is not None and demo.phone_verified_at is not None


def test_the_demo_astrologer_can_try_a_payout_and_every_demo_astrologer_can_sign_in(app, auth):
    _seed(app)
    from webapp.services import wallet
    from webapp.services.money import earnings

    astrologer = db.session.query(User).filter_by(email="astro@example.com").one()
    withdrawable = earnings.position(wallet.wallet_of(astrologer.id)).withdrawable
    assert withdrawable >= app.config["PAYOUT_MINIMUM"], withdrawable  # the payout journey can be tried at once
    assert auth.login("astrologer07@example.com", "demo12345").status_code == 302
