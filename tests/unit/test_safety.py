"""The safety review: the rule-based pass on fixed examples in English, Hindi and Hinglish (its precision
and recall printed), flags written when a session ends (never a change to a message), the admins'
queue and their decisions, and the astrologer's counts in performance_metrics."""

import uuid
from datetime import timedelta

import pytest

from webapp.extensions import db
from webapp.models import AuditEntry, Message, SafetyFlag
from webapp.services.ai import safety
from webapp.services.consultations import lifecycle
from webapp.services.messaging import chat

from ..conftest import csrf_token_from

#: (text, the rules it should trip): what astrologers write, as stored (masking has run).
EXAMPLES = [
    # asking for payment outside the platform
    ("Send ₹5,100 by UPI to my assistant, ramesh.guru@okaxis, and I will do the puja.", {"payment_outside"}),
    ("Pay me directly on GPay, the app takes too much.", {"payment_outside"}),
    ("Do a bank transfer, account number [number hidden], IFSC SBIN0001234.", {"payment_outside", "contact_outside"}),
    ("For the remedy, transfer 2100 to my account and send a screenshot.", {"payment_outside"}),
    ("Dakshina ke liye paise bhejo PhonePe pe.", {"payment_outside"}),
    ("पूजा के लिए 3100 रुपये मेरे खाते में भेज दीजिए।", {"payment_outside"}),
    ("यूपीआई से पेमेंट कर दो, फिर उपाय शुरू करेंगे।", {"payment_outside"}),
    # moving the user off the platform
    ("WhatsApp me, we can talk longer there.", {"contact_outside"}),
    ("Call me on [number hidden] after 8 pm.", {"contact_outside"}),
    ("Message me on Telegram for the full report.", {"contact_outside"}),
    ("Mera number le lo, whatsapp karo.", {"contact_outside"}),
    ("मेरे नंबर पर व्हाट्सएप कीजिए।", {"contact_outside"}),
    ("Visit my office in Varanasi and we will do it in person.", {"contact_outside"}),
    # fear used to sell remedies
    ("Your family is in danger unless you do this puja within a week.", {"fear_selling"}),
    ("Something terrible will happen to your husband if you ignore this.", {"fear_selling"}),
    ("Someone has done black magic on you; only my special ritual can remove it.", {"fear_selling"}),
    ("Aapke bete ki jaan khatre mein hai, abhi upay karwao.", {"fear_selling"}),
    ("आपके परिवार पर काला जादू है, तुरंत पूजा करवाइए।", {"fear_selling"}),
    ("अगर उपाय नहीं किया तो अनहोनी हो सकती है।", {"fear_selling"}),
    # guarantees
    ("100% guarantee, your marriage will happen in 3 months with this yantra.", {"guaranteed_results"}),
    ("I guarantee the job if you wear this ruby I send you.", {"guaranteed_results"}),
    ("Yeh upay karo, pakka hoga, guarantee deta hoon.", {"guaranteed_results"}),
    ("इस उपाय से 100% गारंटी है, काम पक्का होगा।", {"guaranteed_results"}),
    # what astrologers rightly write: nothing to flag
    ("Namaste! Please share your date, time and place of birth.", set()),
    ("Saturn is transiting your tenth house, so work feels heavy this year.", set()),
    ("Chanting the Hanuman Chalisa on Tuesdays may bring you some peace.", set()),
    ("You can top up your wallet here and continue the consultation.", set()),
    ("There is no danger in your chart; the coming months look stable.", set()),
    ("I cannot promise outcomes; astrology shows tendencies, not certainties.", set()),
    ("Your Venus is strong, marriage prospects look good after June.", set()),
    ("Wear a white cloth on Mondays if you like; it is optional.", set()),
    ("Please call your mother today, she will be happy to hear from you.", set()),
    ("Aapki kundli mein Guru accha hai, naukri ke yog ban rahe hain.", set()),
    ("आपकी कुंडली में शनि की साढ़ेसाती चल रही है, धैर्य रखें।", set()),
    ("आप चाहें तो सोमवार को शिवजी को जल चढ़ा सकते हैं।", set()),
    ("Career mein thoda samay lagega, mehnat jaari rakhiye.", set()),
    ("Your account of the dream is interesting; it reflects anxiety.", set()),
    ("Accidents are not predicted here; drive carefully as everyone should.", set()),
]


def test_the_rule_based_pass_on_english_hindi_and_hinglish_examples(capsys):
    true_positive = false_positive = false_negative = 0
    wrong = []
    for text, expected in EXAMPLES:
        found = {rule.name for rule, _ in safety.findings(text)}
        true_positive += len(found & expected)
        false_positive += len(found - expected)
        false_negative += len(expected - found)
        if found != expected:
            wrong.append(f"{text!r}: found {sorted(found)}, expected {sorted(expected)}")
    precision = true_positive / (true_positive + false_positive)
    recall = true_positive / (true_positive + false_negative)
    with capsys.disabled():
        print(
            f"\nsafety rules on {len(EXAMPLES)} examples ({sum(1 for _, e in EXAMPLES if e)} to flag): "
            f"precision {precision:.2f}, recall {recall:.2f}"
        )
    assert wrong == []  # every example as expected: precision and recall 1.00 on this set
    assert precision == recall == 1.0


@pytest.fixture
def pair(consult):
    astrologer = consult.astrologer(email="guru@example.com", name="Guru Flagged")
    user = consult.user(email="seeker@example.com", name="Seeker One")
    return astrologer, user


def _session_with(consult, pair, *lines):
    """An accepted chat in which (sender, text) lines were written, then ended by the user."""
    astrologer, user = pair
    session = consult.accept(consult.request(user, astrologer))
    t = session.started_at
    for n, (who, text) in enumerate(lines):
        sender = astrologer if who == "astrologer" else user
        chat.send(session.id, sender.id, f"c{n}", text, now=t + timedelta(seconds=10 * (n + 1)))
        db.session.commit()
    lifecycle.end(session.id, by_user_id=user.id, now=t + timedelta(seconds=10 * (len(lines) + 1)))
    db.session.commit()
    return session


def test_a_session_that_asks_for_upi_is_flagged_with_its_passages_when_it_ends(consult, pair):
    session = _session_with(
        consult,
        pair,
        ("user", "My UPI is not working, can I pay by card?"),  # the user's words are never reviewed
        ("astrologer", "Namaste. Your Saturn needs a remedy."),
        ("astrologer", "Send ₹5,100 by UPI to ramesh.guru@okaxis and I will do the puja."),
        ("astrologer", "Or WhatsApp me for details."),
    )
    flags = {flag.rule: flag for flag in safety.of_session(session.id)}
    assert set(flags) == {"payment_outside", "contact_outside"}
    payment = flags["payment_outside"]
    assert payment.status == "open" and payment.source == "rules" and payment.astrologer_id == session.astrologer_id
    assert [p["text"] for p in payment.passages] == ["Send ₹5,100 by UPI to ramesh.guru@okaxis and I will do the puja."]
    assert payment.reason.startswith("Asks for payment outside the platform")
    # Never blocks or edits: the message is stored and delivered as written.
    stored = db.session.execute(db.select(Message.content).filter_by(session_id=session.id)).scalars().all()
    assert "Send ₹5,100 by UPI to ramesh.guru@okaxis and I will do the puja." in stored
    profile = pair[0].astrologer_profile
    db.session.refresh(profile)
    assert (
        profile.performance_metrics["safety_flags"] == 2 and profile.performance_metrics["safety_flags_confirmed"] == 0
    )


def test_a_clean_session_has_no_flags_and_a_second_review_writes_nothing(consult, pair):
    clean = _session_with(consult, pair, ("astrologer", "Please share your birth details."))
    assert safety.of_session(clean.id) == []
    flagged = _session_with(consult, pair, ("astrologer", "100% guarantee, the marriage will happen."))
    assert len(safety.review(flagged)) == 0  # already reviewed when it ended
    assert len(safety.of_session(flagged.id)) == 1


@pytest.fixture
def flagged(consult, pair):
    session = _session_with(consult, pair, ("astrologer", "Your family is in danger unless you do my puja."))
    (flag,) = safety.of_session(session.id)
    return flag


def test_the_queue_lists_open_flags_with_their_passages_and_filters(admin_client, flagged):
    page = admin_client.get("/admin/flags").get_data(as_text=True)
    assert "Fear selling" in page and "Your family is in danger unless you do my puja." in page
    assert "Guru Flagged" in page and f"/admin/sessions/{flagged.session_id}" in page
    assert "Nothing to decide." in admin_client.get("/admin/flags?rule=payment_outside").get_data(as_text=True)
    assert "Nothing to decide." in admin_client.get("/admin/flags?astrologer=nobody").get_data(as_text=True)
    assert "danger" in admin_client.get("/admin/flags?astrologer=guru&source=rules").get_data(as_text=True)
    partial = admin_client.get("/admin/flags?status=all", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert partial.startswith('<div id="flag-list">') and "<html" not in partial
    for bad in ("status=evil", "rule=<script>", "page=-3", "source=x"):
        assert admin_client.get(f"/admin/flags?{bad}").status_code == 200
    assert "1 flag to decide" in admin_client.get("/admin").get_data(as_text=True)
    session_page = admin_client.get(f"/admin/sessions/{flagged.session_id}").get_data(as_text=True)
    assert f'id="flag-{flagged.id}"' in session_page and '<a href="#flags">1</a>' in session_page


def test_an_admin_confirms_then_dismisses_a_flag_and_it_is_audited(admin_client, flagged, pair):
    token = csrf_token_from(admin_client.get("/admin/flags").get_data(as_text=True))
    response = admin_client.post(
        f"/admin/flags/{flagged.id}",
        data={"action": "confirm", "note": "Clear fear selling.", "csrf_token": token},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200 and 'id="flag-' in response.get_data(as_text=True)
    db.session.refresh(flagged)
    assert flagged.status == "confirmed" and flagged.note == "Clear fear selling." and flagged.decided_at
    profile = pair[0].astrologer_profile
    db.session.refresh(profile)
    assert profile.performance_metrics["safety_flags_confirmed"] == 1
    response = admin_client.post(f"/admin/flags/{flagged.id}", data={"action": "dismiss", "csrf_token": token})
    assert response.status_code == 303 and response.headers["Location"].endswith("/admin/flags")
    db.session.refresh(flagged), db.session.refresh(profile)
    assert flagged.status == "dismissed" and flagged.note is None
    assert profile.performance_metrics["safety_flags_confirmed"] == 0
    entries = db.session.execute(db.select(AuditEntry).filter_by(action="flag.decide")).scalars().all()
    assert [(e.before["status"], e.after["status"]) for e in entries] == [
        ("open", "confirmed"),
        ("confirmed", "dismissed"),
    ]
    assert "Decided on a safety flag" in admin_client.get(f"/admin/audit?target={flagged.id}").get_data(as_text=True)


def test_bad_decisions_are_refused_and_change_nothing(admin_client, flagged):
    token = csrf_token_from(admin_client.get("/admin/flags").get_data(as_text=True))
    url = f"/admin/flags/{flagged.id}"
    refused = admin_client.post(url, data={"action": "delete", "csrf_token": token}, headers={"HX-Request": "true"})
    assert refused.status_code == 422 and "Choose confirm or dismiss." in refused.get_data(as_text=True)
    too_long = admin_client.post(url, data={"action": "confirm", "note": "x" * 501, "csrf_token": token})
    assert too_long.status_code == 303
    assert admin_client.post(url, data={"action": "confirm"}).status_code == 400  # no CSRF token
    assert (
        admin_client.post(f"/admin/flags/{uuid.uuid4()}", data={"action": "confirm", "csrf_token": token}).status_code
        == 404
    )
    db.session.refresh(flagged)
    assert flagged.status == "open" and flagged.decided_at is None
    assert db.session.execute(db.select(db.func.count(AuditEntry.id)).filter_by(action="flag.decide")).scalar() == 0


def test_only_admins_see_the_queue(client, auth, flagged, pair):
    assert client.get("/admin/flags").status_code == 302  # to the login
    auth.login("guru@example.com")
    assert client.get("/admin/flags").status_code == 403
    assert db.session.execute(db.select(db.func.count(SafetyFlag.id))).scalar() == 1
