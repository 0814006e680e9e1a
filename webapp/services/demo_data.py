"""Demo data for development and demos (`flask seed-demo`); idempotent.

Creates the platform account, three known logins (user, astrologer, admin,
password `demo12345`) and at least 40 approved astrologers with varied
specializations, languages, experience, rates and ratings. The demo user's
wallet is funded through the ledger (a completed top-up under a fixed
idempotency key), so `flask ledger verify` holds on demo data.
"""

import random
from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal

from ..extensions import db
from ..models import Availability, User, UserType, utcnow
from . import accounts, topups
from .marketplace import LANGUAGES, SPECIALIZATIONS

DEMO_PASSWORD = "demo12345"
DEMO_USER_EMAIL = "user@example.com"
DEMO_ASTROLOGER_EMAIL = "astro@example.com"
DEMO_ADMIN_EMAIL = "admin@example.com"
DEMO_USER_FUNDS = Decimal("1000.00")
DEMO_LOGINS = tuple((email, DEMO_PASSWORD) for email in (DEMO_USER_EMAIL, DEMO_ASTROLOGER_EMAIL, DEMO_ADMIN_EMAIL))
ASTROLOGER_COUNT = 48

FIRST_NAMES = [
    "Aarav",
    "Ananya",
    "Vihaan",
    "Diya",
    "Arjun",
    "Ishita",
    "Kabir",
    "Meera",
    "Rohan",
    "Saanvi",
    "Aditya",
    "Kavya",
    "Dev",
    "Nisha",
    "Pranav",
    "Riya",
    "Siddharth",
    "Tara",
    "Varun",
    "Zoya",
    "Harish",
    "Lakshmi",
    "Gopal",
    "Radha",
]
LAST_NAMES = [
    "Sharma",
    "Iyer",
    "Banerjee",
    "Reddy",
    "Patel",
    "Nair",
    "Joshi",
    "Menon",
    "Gupta",
    "Rao",
    "Kulkarni",
    "Singh",
]
RATES = [
    Decimal(r)
    for r in ("5", "8", "10", "12", "15", "18", "20", "25", "30", "35", "40", "50", "60", "75", "99", "120", "150")
]


@dataclass(frozen=True)
class SeedSummary:
    created: int
    astrologers: int
    logins: tuple


def seed_demo(now=None):
    """Create whatever demo data is missing; return what exists now."""
    now = now or utcnow()
    before = db.session.execute(db.select(db.func.count(User.id))).scalar_one()
    accounts.platform_user(now=now)
    demo_user = _ensure(DEMO_USER_EMAIL, "Priya Demo", "+919800000001", UserType.USER, DEMO_PASSWORD, now)
    if demo_user.profile.birth_date is None:
        accounts.update_details(
            demo_user.id,
            birth_date=date(1994, 8, 17),
            birth_time=time(6, 45),
            birth_place="Pune, India",
            bio="Software engineer; questions about a job change this year and about marriage.",
            language="Hindi",
            now=now,
        )
    topups.deposit(
        demo_user.wallet.id,
        DEMO_USER_FUNDS,
        idempotency_key="topup:demo:seed-demo-user",
        external_transaction_id="seed-demo-user",
        description="Demo funds",
        now=now,
    )
    _ensure(
        DEMO_ASTROLOGER_EMAIL,
        "Acharya Demo",
        "+919800000002",
        UserType.ASTROLOGER,
        DEMO_PASSWORD,
        now,
        astrologer=dict(
            specializations=["Vedic", "Tarot"],
            languages=["English", "Hindi"],
            experience_years=12,
            about="Vedic astrologer and tarot reader. Career, marriage and timing questions.",
            chat_rate_per_minute=Decimal("20.00"),
            call_rate_per_minute=Decimal("30.00"),
            max_concurrent_sessions=2,
            is_approved=True,
            rating_average=Decimal("4.70"),
            rating_count=128,
        ),
    )
    _ensure(DEMO_ADMIN_EMAIL, "Admin Demo", "+919800000003", UserType.ADMIN, DEMO_PASSWORD, now)
    for index in range(ASTROLOGER_COUNT):
        _ensure_catalogue_astrologer(index, now)
    db.session.flush()
    after = db.session.execute(db.select(db.func.count(User.id))).scalar_one()
    astrologers = db.session.execute(db.select(db.func.count(User.id)).filter_by(type=UserType.ASTROLOGER)).scalar_one()
    return SeedSummary(created=after - before, astrologers=astrologers, logins=DEMO_LOGINS)


def _ensure(email, name, phone, type, password, now, astrologer=None):
    user = db.session.execute(db.select(User).filter_by(email=email)).scalar_one_or_none()
    if user is None:
        user = accounts.create_user(
            name=name, email=email, phone=phone, password=password, type=type, now=now, astrologer=astrologer
        )
    return user


def _ensure_catalogue_astrologer(index, now):
    """Astrologer number `index` of the catalogue; the same data on every run."""
    rng = random.Random(index)
    email = f"astrologer{index + 1:02d}@example.com"
    if db.session.execute(db.select(User.id).filter_by(email=email)).first():
        return
    name = f"{FIRST_NAMES[index % len(FIRST_NAMES)]} {LAST_NAMES[(index * 7) % len(LAST_NAMES)]}"
    specializations = rng.sample(SPECIALIZATIONS, rng.randint(1, 3))
    languages = rng.sample(LANGUAGES, rng.randint(1, 3))
    chat_rate = rng.choice(RATES)
    rating_count = rng.randint(0, 900)
    accounts.create_user(
        name=name,
        email=email,
        type=UserType.ASTROLOGER,
        now=now,
        astrologer=dict(
            specializations=specializations,
            languages=languages,
            experience_years=rng.randint(1, 35),
            about=f"{name} practises {', '.join(specializations)} and consults in {', '.join(languages)}.",
            chat_rate_per_minute=chat_rate,
            call_rate_per_minute=min(chat_rate + rng.choice(RATES[:6]), Decimal("150")),
            max_concurrent_sessions=rng.randint(1, 3),
            chat_availability=rng.choice(list(Availability)),
            call_availability=rng.choice(list(Availability)),
            is_approved=True,
            rating_average=Decimal(rng.randint(300, 500)) / 100 if rating_count else Decimal("0.00"),
            rating_count=rating_count,
            total_sessions=rating_count + rng.randint(0, 300),
        ),
    )
