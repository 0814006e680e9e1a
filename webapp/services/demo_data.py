"""Demo data for development and demos (`flask seed-demo`); idempotent.

Creates the platform account, three known logins (user, astrologer, admin,
password `demo12345`) and at least 40 approved astrologers with unique names and
varied specializations, languages, experience and rates. The demo user's
wallet is funded through the ledger (a completed top-up under a fixed
idempotency key), so `flask ledger verify` holds on demo data.

Ratings are never typed in: most astrologers have a few real past consultations
with demo reviewers (requested, accepted, billed minute by minute, ended and
rated through the same services as a live one, at times in the past), most with a
written review in a language the astrologer offers. The rating count, the
average and the star breakdown are all read from those rows.
"""

import random
from dataclasses import dataclass
from datetime import date, time, timedelta
from decimal import Decimal

from flask import current_app

from ..extensions import db
from ..models import Availability, User, UserType, utcnow
from .astrologers.marketplace import LANGUAGES, SPECIALIZATIONS
from .astrology import birth_chart
from .billing import charges, minutes
from .consultations import lifecycle, ratings
from .messaging import chat
from .money import topups
from .users import accounts

DEMO_PASSWORD = "demo12345"
DEMO_USER_EMAIL = "user@example.com"
DEMO_ASTROLOGER_EMAIL = "astro@example.com"
DEMO_ADMIN_EMAIL = "admin@example.com"
DEMO_USER_FUNDS = Decimal("1000.00")  # a ₹500 top-up paid with GST a week ago, and ₹500 of demo funds
DEMO_USER_PAID = Decimal("500.00")
DEMO_LOGINS = tuple((email, DEMO_PASSWORD) for email in (DEMO_USER_EMAIL, DEMO_ASTROLOGER_EMAIL, DEMO_ADMIN_EMAIL))
ASTROLOGER_COUNT = 48
DEMO_ASTROLOGER_MINUTES = (6, 8)  # six past chats of 6-8 minutes at ₹20, 70% to the astrologer: over ₹500

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
REVIEWERS = [
    "Anjali K.", "Rahul M.", "Sneha P.", "Vikram S.", "Pooja R.", "Arvind N.", "Neha G.", "Suresh B.",
    "Divya T.", "Manoj L.", "Kavitha V.", "Imran A.", "Shreya D.", "Gaurav J.", "Fatima Z.", "Harpreet K.",
]  # fmt: skip
#: Written reviews by language (English where a language has none of its own here).
REVIEWS = {
    "English": [
        "Very patient and precise. The timing she gave for my job change matched what happened.",
        "Explained my chart clearly and did not rush me. Remedies were simple to follow.",
        "Good reading, though I wanted more detail on marriage timing.",
        "Calm, honest and practical. I came back for a second session.",
        "Answered every question without asking for my number or pushing expensive remedies.",
        "Helpful about my business, a little general about health.",
    ],
    "Hindi": [
        "बहुत अच्छी सलाह मिली, करियर के बारे में सब साफ़ बताया।",
        "शांति से बात की और उपाय भी आसान बताए। धन्यवाद!",
        "शादी के समय के बारे में सटीक जानकारी दी।",
    ],
    "Tamil": ["மிகவும் தெளிவாக விளக்கினார். நன்றி!", "என் வேலை பற்றிய கேள்விகளுக்கு பொறுமையாக பதில் சொன்னார்."],
    "Telugu": ["చాలా స్పష్టంగా చెప్పారు, ధన్యవాదాలు.", "నా ఉద్యోగ ప్రశ్నలకు ఓపికగా సమాధానం ఇచ్చారు."],
    "Bengali": ["খুব ধৈর্য ধরে সব বুঝিয়ে বললেন। ধন্যবাদ!", "বিয়ের সময় নিয়ে পরিষ্কার ধারণা দিলেন।"],
    "Marathi": ["खूप छान मार्गदर्शन केले, धन्यवाद!", "नोकरीबद्दल स्पष्ट आणि प्रामाणिक सल्ला मिळाला."],
    "Gujarati": ["ખૂબ સરસ માર્ગદર્શન આપ્યું, આભાર!"],
    "Kannada": ["ತುಂಬಾ ಸ್ಪಷ್ಟವಾಗಿ ವಿವರಿಸಿದರು, ಧನ್ಯವಾದಗಳು."],
    "Malayalam": ["വളരെ വ്യക്തമായി പറഞ്ഞു തന്നു, നന്ദി."],
    "Punjabi": ["ਬਹੁਤ ਵਧੀਆ ਸਲਾਹ ਦਿੱਤੀ, ਧੰਨਵਾਦ!"],
}
#: Stars of past consultations, most of them good, as on every consultation marketplace.
STARS = (5, 5, 5, 5, 4, 4, 4, 3, 2)
REVIEWER_FUNDS = Decimal("20000.00")

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
    """Create whatever demo data is missing; return what exists now. Commits as it goes: every past
    consultation is a transaction of its own (the caller commits the rest)."""
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
        birth_chart.share(demo_user.id, now)  # the demo astrologers see her chart in the room
    _paid_demo_topup(demo_user, now - timedelta(days=7))
    topups.deposit(
        demo_user.wallet.id,
        DEMO_USER_FUNDS - DEMO_USER_PAID,
        idempotency_key="topup:demo:seed-demo-user",
        external_transaction_id="seed-demo-user",
        description="Demo funds",
        now=now,
    )
    known = db.session.execute(db.select(User.id).filter_by(email=DEMO_ASTROLOGER_EMAIL)).first()
    demo_astrologer = _ensure(
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
            video_rate_per_minute=Decimal("40.00"),
            max_concurrent_sessions=2,
            is_approved=True,
        ),
    )
    if known is None:
        # Enough past chats that what the demo astrologer earned clears PAYOUT_MINIMUM (₹500): the payout
        # journey can be tried at once.
        _past_consultations(demo_astrologer, random.Random("demo"), 6, now, lengths=DEMO_ASTROLOGER_MINUTES)
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
            name=name,
            email=email,
            phone=phone,
            password=password,
            type=type,
            now=now,
            astrologer=astrologer,
            email_verified=True,
            phone_verified=True,  # demo people: their numbers are theirs
        )
    return user


def _ensure_catalogue_astrologer(index, now):
    """Astrologer number `index` of the catalogue; the same data on every run."""
    rng = random.Random(index)
    email = f"astrologer{index + 1:02d}@example.com"
    if db.session.execute(db.select(User.id).filter_by(email=email)).first():
        return
    name = catalogue_name(index)
    specializations = rng.sample(SPECIALIZATIONS, rng.randint(1, 3))
    languages = rng.sample(LANGUAGES, rng.randint(1, 3))
    chat_rate = rng.choice(RATES)
    experience_years = rng.randint(1, 35)
    call_rate = min(chat_rate + rng.choice(RATES[:6]), Decimal("150"))
    video = random.Random(f"video {index}")  # its own draws: the rest of the catalogue is as it was before video
    astrologer = accounts.create_user(
        name=name,
        email=email,
        password=DEMO_PASSWORD,  # every demo astrologer can be signed in as (astrologer01..48@example.com)
        type=UserType.ASTROLOGER,
        now=now,
        email_verified=True,
        astrologer=dict(
            specializations=specializations,
            languages=languages,
            experience_years=experience_years,
            about=f"{name} practises {', '.join(specializations)} and consults in {', '.join(languages)}.",
            chat_rate_per_minute=chat_rate,
            call_rate_per_minute=call_rate,
            video_rate_per_minute=min(call_rate + video.choice(RATES[:4]), Decimal("200")),
            max_concurrent_sessions=rng.randint(1, 3),
            chat_availability=rng.choice(list(Availability)),
            call_availability=rng.choice(list(Availability)),
            video_availability=video.choice(list(Availability)),
            is_approved=True,
        ),
    )
    if index % 6 != 5:  # most astrologers have a track record; a few are new
        _past_consultations(astrologer, rng, rng.randint(2, 4), now)


def catalogue_name(index):
    """The catalogue's `index`th name; unique for every index below len(FIRST_NAMES) * len(LAST_NAMES)."""
    first = FIRST_NAMES[index % len(FIRST_NAMES)]
    return f"{first} {LAST_NAMES[(index * 7 + index // len(FIRST_NAMES)) % len(LAST_NAMES)]}"


def _paid_demo_topup(user, at):
    """A top-up Priya paid a week ago through the demo gateway, by the steps a real one takes (the order
    with GST on top, the capture, the tax leg, the tax invoice): once, whatever the runs of seed-demo."""
    accounts.remember_billing_state(user.id, "27")  # Pune: Maharashtra, the place of supply
    order_id = "order_demo_seed_priya"
    order = topups.create_topup(
        user.wallet.id, DEMO_USER_PAID, provider="demo", order_id=order_id, buyer_state="27", now=at
    )
    total, _ = topups.price_of(order)
    topups.complete_topup("demo", order_id, payment_id="pay_demo_seed_priya", amount=total, method="upi", now=at)


def _reviewers(now):
    """The demo reviewers, created and funded through the ledger once."""
    people = []
    for number, name in enumerate(REVIEWERS, start=1):
        person = _ensure(f"reviewer{number:02d}@example.com", name, None, UserType.USER, None, now)
        topups.deposit(
            person.wallet.id,
            REVIEWER_FUNDS,
            idempotency_key=f"topup:demo:seed-reviewer-{number:02d}",
            external_transaction_id=f"seed-reviewer-{number:02d}",
            description="Demo funds",
            now=now - timedelta(days=120),
        )
        people.append(person)
    return people


def _past_consultations(astrologer, rng, count, now, lengths=(2, 4)):
    """`count` finished, billed and rated chats with `astrologer` in the last 90 days, through the
    services a live consultation uses (so the ledger, the figures and the breakdown agree). Each step
    commits, as the request, the pass or the click that takes it does live: the lock order (profile,
    session, wallets) is kept per transaction, and the ORM session stays small."""
    profile = astrologer.astrologer_profile
    channel, profile.chat_availability = profile.chat_availability, Availability.AVAILABLE
    minute = minutes.minute_length()
    commission = current_app.config["PLATFORM_COMMISSION_PERCENT"]
    reviewers = [person.id for person in rng.sample(_reviewers(now), count)]
    languages = [language for language in profile.languages if language in REVIEWS] or ["English"]
    astrologer_id = astrologer.id
    db.session.commit()
    for n, reviewer_id in enumerate(reviewers):
        start = (now - timedelta(days=rng.randint(2, 90), hours=rng.randint(0, 12))).replace(microsecond=0)
        length = rng.randint(*lengths)
        session_id = lifecycle.request(reviewer_id, astrologer_id, now=start).id
        db.session.commit()
        lifecycle.accept(session_id, astrologer_id, now=start)
        db.session.commit()
        greeting = "Namaste! Tell me what you would like to ask."
        chat.send(session_id, astrologer_id, f"demo-{n}", greeting, now=start + timedelta(seconds=20))
        db.session.commit()
        for number in range(2, length + 1):
            charges.charge_minute(session_id, number, commission_percent=commission, now=start + minute * (number - 1))
            db.session.commit()
        lifecycle.end(session_id, by_user_id=reviewer_id, now=start + minute * (length - 1) + timedelta(seconds=30))
        db.session.commit()
        ratings.rate(session_id, reviewer_id, rng.choice(STARS), _review(rng, languages), now=start + minute * length)
        db.session.commit()
    profile = db.session.execute(db.select(User).filter_by(id=astrologer_id)).scalar_one().astrologer_profile
    profile.chat_availability = channel
    db.session.commit()


def _review(rng, languages):
    """Most reviews are written, in a language the astrologer offers."""
    return rng.choice(REVIEWS[rng.choice(languages)]) if rng.random() < 0.8 else None
