"""Safety review of what astrologers write in consultations, for admins: asking for payment or contact
outside the platform, and selling remedies with fear or guarantees.

Users' top complaints about consultation apps are astrologers who frighten them into paid remedies
("your family is in danger unless...") and who move them off the platform to pay or talk. Masking
(services/messaging/message_text.py) hides numbers, e-mail addresses and links as they are sent; it cannot see
"send ₹5,100 by UPI to my assistant" spelled out. This module flags such passages to admins with the
passages and the reason. It never blocks, edits or hides a message: an admin decides (confirm or
dismiss, with a note), and the decision is in the audit trail.

The rule-based pass (RULES: English, Hindi in Devanagari, and Hinglish) needs no provider, so every
deployment has it. It reads the astrologer's messages of a session, as stored, when the session
ends, in the end's own transaction (a few regular expressions over one session's messages).

With a language model configured (services/ai/language_model.py), the end also asks for the model's pass, as a job
(channel ai_review): the astrologer's messages, as stored (masked: numbers, addresses and links are
already hidden), go to the model with the four rules in words; what it flags, with its one-line
reason, is stored as flags of source "model" beside the rules' (the model may catch what no pattern
does, like a threat spelled out in a new way). The user's messages are never sent. A model that
answers nonsense (an unknown rule, a message that does not exist) adds nothing.

The astrologer's counts in performance_metrics (safety_flags, safety_flags_confirmed) are recomputed
from the flags at each session end and each decision, with the profile locked (services/astrologers/performance.py);
a model's flags, stored by a job that locks nothing, are counted at the next of those.
"""

import json
import re
import uuid
from dataclasses import dataclass

from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l

from ...extensions import db
from ...models import ConsultationSession, Message, MessageType, SafetyFlag, User, utcnow
from .. import jobs, locks, paging, signals
from ..admin import reports
from ..astrologers import performance
from ..errors import DomainError, ValidationFailed
from . import language_model as ai

PASSAGES_MAX = 10  # passages kept per flag
EXCERPT = 240  # characters of a passage shown around its match
NOTE_MAX = 500
ACTIONS = {"confirm": "confirmed", "dismiss": "dismissed"}
VIEWS = ("open", "confirmed", "dismissed", "all")


@dataclass(frozen=True)
class Rule:
    name: str
    title: str  #: what the admin's filter calls it (lazy: in the reader's language)
    reason: str  #: why a passage was flagged (lazy; stored in English, shown in the reader's)
    patterns: tuple

    def match(self, text):
        """The first match of any pattern in `text`, or None."""
        for pattern in self.patterns:
            found = pattern.search(text)
            if found:
                return found
        return None


def _any(*expressions, flags=re.IGNORECASE):
    return tuple(re.compile(expression, flags) for expression in expressions)


#: What the rule-based pass looks for. Hindi is matched in Devanagari and in the Latin spelling
#: people type (Hinglish). Each rule's examples, positive and negative, are in tests/unit/test_safety.py.
RULES = (
    Rule(
        "payment_outside",
        _l("Payment outside"),
        _l("Asks for payment outside the platform (UPI, bank transfer or another app)."),
        _any(
            r"\b[\w.\-]{2,64}@(?:upi|ybl|ibl|axl|paytm|apl|okaxis|oksbi|okhdfcbank|okicici|ptyes|ptsbi|icici|sbi"
            r"|hdfcbank|axisbank|kotak|yesbank|freecharge|airtel|jio)\b",  # a UPI id (no dot: not masked as e-mail)
            r"\b(?:upi|g\s?pay|google\s*pay|phone\s?pe|paytm|bhim)\b",
            r"\b(?:neft|imps|rtgs|ifsc)\b",
            r"\b(?:bank|account)\s*(?:no\.?|number|details|transfer)\b",
            r"\bpay(?:ment)?\s+(?:me\s+|it\s+)?(?:directly|personally|outside|separately|privately)\b",
            r"\bsend\s+(?:me\s+)?(?:the\s+)?(?:money|payment|amount|fees?|dakshina|rs\.?|inr|₹)",
            r"\b(?:transfer|deposit)\s+(?:₹|rs\.?\s*|inr\s*)?\d",
            r"पैसे\s*भेज|पेमेंट|भुगतान\s*(?:कर|भेज)|खाते\s*में|अकाउंट\s*(?:नंबर|में)|यूपीआई|फ़?फोन\s*पे|गूगल\s*पे",
            r"\b(?:paise|paisa|payment|rupay?e?)\s+(?:bhej|bhejo|bhejiye|kar\s*do|karo|transfer)",
            r"\b(?:account|khate)\s+(?:me|mein)\s+(?:daal|dal|bhej|jama)",
        ),
    ),
    Rule(
        "contact_outside",
        _l("Contact outside"),
        _l("Moves the user to contact outside the platform (a number, WhatsApp, another app, a meeting)."),
        _any(
            r"\bwhats\s?app\b|\btelegram\b|\binstagram\b|\binsta\s+id\b|\bsnapchat\b",
            r"\b(?:call|message|text|ping|dm|contact)\s+me\s+(?:on|at|directly|personally|outside|privately)\b",
            r"\bmy\s+(?:personal\s+|private\s+|direct\s+)?(?:number|mobile|phone\s+number|contact\s+number)\b",
            r"\[(?:number|email|link) hidden\]",  # masking hid a number, an address or a link they sent
            r"\bmeet\s+me\s+(?:in\s+person|at|outside)\b|\bvisit\s+my\s+(?:office|ashram|temple|home)\b",
            r"व्हाट्स\s*[एऐ]प|मेरा\s*(?:नंबर|नम्बर|मोबाइल)|मेरे\s*(?:नंबर|नम्बर)\s*पर|मुझे\s*(?:कॉल|फ़?फोन)\s*कर",
            r"\bmera\s+(?:number|no\.?|mobile)\b|\bmere\s+number\s+pe?r?\b|\bwhatsapp\s+kar",
            r"\b(?:call|phone)\s+karo\b|\bcall\s+kijiye\b",
        ),
    ),
    Rule(
        "fear_selling",
        _l("Fear selling"),
        _l("Uses fear (danger, death, black magic, ruin) where remedies are sold."),
        _any(
            r"\b(?:your|the|ur)\s+(?:family|husband|wife|son|daughter|child|children|kids|life|marriage|business"
            r"|career|health|parents?)\s+(?:is|are|will\s+be)\s+(?:in\s+(?:great\s+|grave\s+)?danger|ruined"
            r"|destroyed|at\s+risk)",
            r"\bsomething\s+(?:very\s+)?(?:terrible|bad|horrible|tragic)\s+will\s+happen\b",
            r"\b(?:you|he|she|they|someone)\s+(?:will|may|could)\s+die\b|\bdeath\s+(?:is\s+)?(?:near|coming|in\s+your)",
            r"\bblack\s+magic\b|\bkala\s+jadu\b|\bcursed?\s+(?:on|by)\b",
            r"\byou\s+will\s+lose\s+everything\b|\bwill\s+be\s+ruined\b",
            r"खतरे\s*में|अनहोनी|मृत्यु\s*(?:योग|का\s*खतरा|हो)|मौत|काला\s*जादू|बर्बाद\s*हो|सब\s*कुछ\s*खो",
            r"\bkhatre\s+(?:me|mein)\b|\banhoni\b|\bbarbaad?\s+ho\b|\bmaut\b",
        ),
    ),
    Rule(
        "guaranteed_results",
        _l("Guaranteed results"),
        _l("Promises guaranteed results to sell a remedy."),
        _any(
            r"\b100\s*%\s*(?:guarantee|guaranteed|result|sure|success|cure)",
            r"\bhundred\s+percent\s+(?:guarantee|sure|result)",
            r"\b(?:i|we)\s+guarantee\b|\bguaranteed\s+(?:results?|success|cure|marriage|job|relief|solution)\b",
            r"\bresults?\s+(?:are\s+|is\s+)?guaranteed\b|\bmoney[-\s]back\b",
            r"गारंटी\s*(?:देत|है|से)|पक्का\s*(?:होगा|हो\s*जाएगा)|100\s*%\s*गारंटी",
            r"\bguarantee\s+(?:deta|deti|dete|hai)\b|\bpakka\s+(?:hoga|ho\s+jayega)\b",
        ),
    ),
)
RULES_BY_NAME = {rule.name: rule for rule in RULES}
RULE_NAMES = tuple(rule.name for rule in RULES)


def findings(text):
    """[(rule, match)] of every rule `text` trips (the rule-based pass on one message)."""
    found = []
    for rule in RULES:
        match = rule.match(text or "")
        if match:
            found.append((rule, match))
    return found


def _excerpt(text, match):
    """The passage around the match (or its start), at most EXCERPT characters, marked where it was cut."""
    if len(text) <= EXCERPT:
        return text
    start = max(0, min((match.start() if match else 0) - EXCERPT // 3, len(text) - EXCERPT))
    piece = text[start : start + EXCERPT]
    return ("…" if start else "") + piece + ("…" if start + EXCERPT < len(text) else "")


# ---------------------------------------------------------------- the review of a session


def review(session, now=None):
    """The rule-based pass over `session`'s astrologer messages: a flag per rule tripped (one per session
    and rule: a second review writes nothing). Call in the session end's transaction, with the
    astrologer's profile locked (the counts in performance_metrics are recomputed). Returns the new flags."""
    now = now or utcnow()
    passages = {}
    for message in _astrologer_messages(session):
        for rule, match in findings(message.content):
            passages.setdefault(rule, [])
            if len(passages[rule]) < PASSAGES_MAX:
                passages[rule].append(
                    {"message_id": str(message.id), "seq": message.seq, "text": _excerpt(message.content, match)}
                )
    if not passages:
        return []
    known = set(
        db.session.execute(db.select(SafetyFlag.rule).filter_by(session_id=session.id, source="rules")).scalars()
    )
    flags = [
        SafetyFlag(
            session_id=session.id,
            astrologer_id=session.astrologer_id,
            source="rules",
            rule=rule.name,
            reason=english(rule.reason),
            passages=found,
            status="open",
            created_at=now,
        )
        for rule, found in passages.items()
        if rule.name not in known
    ]
    db.session.add_all(flags)
    db.session.flush()
    return flags


def _astrologer_messages(session):
    """(id, seq, content) of what the astrologer wrote in `session`, as stored (masked), in order."""
    return db.session.execute(
        db.select(Message.id, Message.seq, Message.content)
        .where(
            Message.session_id == session.id,
            Message.sender_id == session.astrologer_id,
            Message.message_type.in_((MessageType.TEXT, MessageType.FILE, MessageType.IMAGE)),
        )
        .order_by(Message.seq)
    ).all()


def _rules_flagged(session_id, source):
    return set(db.session.execute(db.select(SafetyFlag.rule).filter_by(session_id=session_id, source=source)).scalars())


# ---------------------------------------------------------------- the language model's pass

#: What the model is told: the rules in words, and the one answer it may give.
INSTRUCTIONS = """You review what an astrologer wrote to a paying client during a consultation on an Indian
astrology platform, for the platform's safety team. Messages may be in English, Hindi or Hinglish;
phone numbers, e-mail addresses and links were already replaced by [number hidden], [email hidden] and
[link hidden]. Flag a message when it:
- payment_outside: asks the client to pay outside the platform (UPI, bank transfer, another app, cash,
  a "donation" or dakshina sent directly);
- contact_outside: moves the client to contact outside the platform (a number, WhatsApp, Telegram,
  social media, a meeting in person);
- fear_selling: uses fear (danger, death, illness, black magic, curses, ruin) to push a paid remedy;
- guaranteed_results: promises certain results to sell a remedy, gemstone, puja or ritual.
Do not flag ordinary readings, remedies suggested without pressure or payment, or the platform's own
wallet and top-up. Answer with one JSON object and nothing else:
{"flags": [{"rule": "<one of the four names>", "seqs": [<the numbers of the messages>],
"reason": "<one sentence in English>"}]}, or {"flags": []} when nothing should be flagged."""


def model_review(session_id, now=None):
    """The language model's pass over a session's astrologer messages: flags of source "model" (one per
    rule; a second pass adds nothing). Raises ai.AIError (retried by the job) or ai.AICapped."""
    now = now or utcnow()
    session = db.session.get(ConsultationSession, session_id)
    messages = _astrologer_messages(session) if session is not None else []
    if not messages:
        return []
    content = json.dumps({"messages": [{"seq": m.seq, "text": m.content} for m in messages]}, ensure_ascii=False)
    answer = ai.complete_json("safety_review", INSTRUCTIONS, content, now)
    by_seq = {message.seq: message for message in messages}
    known, flags = _rules_flagged(session.id, "model"), []
    for item in answer.get("flags") if isinstance(answer.get("flags"), list) else []:
        if not isinstance(item, dict):
            continue
        rule, reason = item.get("rule"), item.get("reason")
        seqs = [seq for seq in item.get("seqs") or [] if isinstance(seq, int) and seq in by_seq]
        if rule not in RULE_NAMES or rule in known or not seqs or not isinstance(reason, str) or not reason.strip():
            continue  # nonsense adds nothing
        known.add(rule)
        passages = [
            {"message_id": str(by_seq[seq].id), "seq": seq, "text": _excerpt(by_seq[seq].content, None)}
            for seq in sorted(set(seqs))[:PASSAGES_MAX]
        ]
        flags.append(
            SafetyFlag(
                session_id=session.id,
                astrologer_id=session.astrologer_id,
                source="model",
                rule=rule,
                reason=reason.strip()[:300],
                passages=passages,
                status="open",
                created_at=now,
            )
        )
    db.session.add_all(flags)
    db.session.flush()
    return flags


@jobs.channel("ai_review")
def model_review_delivery(payload):
    """The ai_review job (services/jobs.py): False when the day's tokens are spent (nothing asked)."""
    try:
        model_review(uuid.UUID(payload["session_id"]))
    except ai.AICapped:
        return False
    return True


def counts(astrologer_id):
    """(flags raised, flags confirmed) about an astrologer, all time."""
    raised, confirmed = db.session.execute(
        db.select(
            db.func.count(SafetyFlag.id),
            db.func.count(SafetyFlag.id).filter(SafetyFlag.status == "confirmed"),
        ).where(SafetyFlag.astrologer_id == astrologer_id)
    ).one()
    return raised, confirmed


def of_session(session_id):
    """A session's flags, oldest first (the admin session page)."""
    return (
        db.session.execute(
            db.select(SafetyFlag).filter_by(session_id=session_id).order_by(SafetyFlag.created_at, SafetyFlag.rule)
        )
        .scalars()
        .all()
    )


# ---------------------------------------------------------------- the admins' queue


def english(text):
    with force_locale("en"):
        return str(text)


def reason_of(flag):
    """Why `flag` was raised, in the reader's language (a rule's reason; a model's as it wrote it)."""
    rule = RULES_BY_NAME.get(flag.rule) if flag.source == "rules" else None
    return str(rule.reason) if rule is not None else flag.reason


def title_of(flag):
    """What kind of flag it is, in the reader's language."""
    rule = RULES_BY_NAME.get(flag.rule)
    return str(rule.title) if rule is not None else flag.rule.replace("_", " ").capitalize()


class FlagNotFound(DomainError):
    code = "flag_not_found"
    status = 404
    message = _l("There is no such flag.")


@dataclass(frozen=True)
class FlagFilter:
    """The queue's filters, each already checked (anything unknown became its default)."""

    status: str = "open"
    rule: str | None = None
    source: str | None = None
    astrologer: str = ""  #: part of the astrologer's name, e-mail or phone

    @classmethod
    def from_args(cls, args):
        status = args.get("status", "open")
        rule, source = args.get("rule") or None, args.get("source") or None
        return cls(
            status=status if status in VIEWS else "open",
            rule=rule if rule in RULE_NAMES else None,
            source=source if source in ("rules", "model") else None,
            astrologer=(args.get("astrologer") or "").strip()[:100],
        )

    def params(self, **changes):
        values = {"status": self.status, "rule": self.rule, "source": self.source, "astrologer": self.astrologer}
        values.update(changes)
        return {key: value for key, value in values.items() if value}


def queue(f, page=1, per_page=20):
    """A paging.Page of flags matching `f`, open ones oldest first (the queue is worked in order),
    decided ones newest first."""
    query = db.select(SafetyFlag).join(User, User.id == SafetyFlag.astrologer_id)
    if f.status != "all":
        query = query.where(SafetyFlag.status == f.status)
    if f.rule:
        query = query.where(SafetyFlag.rule == f.rule)
    if f.source:
        query = query.where(SafetyFlag.source == f.source)
    if f.astrologer:
        query = query.where(reports.user_match(f.astrologer))
    order = (
        (SafetyFlag.created_at, SafetyFlag.id) if f.status == "open" else (SafetyFlag.created_at.desc(), SafetyFlag.id)
    )
    return paging.page_of(query.order_by(*order), page, per_page, scalars=True)


def open_count():
    return db.session.execute(db.select(db.func.count(SafetyFlag.id)).filter_by(status="open")).scalar_one()


def decide(flag_id, *, admin_id, action, note=None, now=None):
    """An admin confirms or dismisses a flag (again: a decision may be changed), with an optional note.
    Returns (flag, before) for the audit trail. The astrologer's counts are recomputed."""
    now = now or utcnow()
    if action not in ACTIONS:
        raise ValidationFailed("action", gettext("Choose confirm or dismiss."))
    note = (note or "").strip() or None
    if note and len(note) > NOTE_MAX:
        raise ValidationFailed("note", gettext("Use at most %(note_max)s characters.", note_max=NOTE_MAX))
    astrologer_id = db.session.execute(db.select(SafetyFlag.astrologer_id).filter_by(id=flag_id)).scalar_one_or_none()
    if astrologer_id is None:
        raise FlagNotFound()
    profile = locks.astrologer_profile(astrologer_id)  # rank 1 first: the counts are written below
    flag = db.session.get(SafetyFlag, flag_id, populate_existing=True)
    before = {"status": flag.status, "note": flag.note}
    flag.status, flag.note, flag.decided_by, flag.decided_at = ACTIONS[action], note, admin_id, now
    db.session.flush()
    if profile is not None:
        performance.safety_counted(profile, *counts(astrologer_id))
    return flag, before


@signals.session_ended.connect
def session_ended(session, *, profile, now, **_):
    """The end of an accepted session: the rules' review, the astrologer's counts (profile locked), and
    with a language model configured its pass, asked as a job after the commit."""
    if review(session, now):
        performance.safety_counted(profile, *counts(session.astrologer_id))
    if ai.enabled():
        jobs.deliver("ai_review", f"ai:review:{session.id}", {"session_id": str(session.id)}, now)
