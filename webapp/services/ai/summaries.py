"""A summary the user keeps of a consultation (issue 29): on request, a language model writes the
questions asked, what was said and the remedies suggested, in the user's language; it is saved with
the session for that user alone, and the user may delete it.

The user consents once, before any of their messages are sent to a provider (ai.require_consent);
without it nothing is sent. What is sent: the conversation's text
messages as stored (numbers, addresses and links already masked), each marked "user" or
"astrologer", never a name, birth details (the platform's own lines are left out) or a payment. The
model is asked in a job (channel ai_summary); the summary page shows it when it is ready.
"""

import json
import uuid

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from ...extensions import db
from ...models import ConsultationSession, ConsultationSummary, Message, MessageType, SessionStatus, utcnow
from .. import jobs
from ..errors import DomainError
from ..messaging.message_text import mask
from . import language_model as ai

ITEMS_MAX, ITEM_MAX, SUMMARY_MAX = 10, 300, 2000

INSTRUCTIONS = """You write a short summary of an astrology consultation for the client who paid for it, to
keep. The conversation is given as messages from "user" (the client) and "astrologer"; phone numbers,
e-mail addresses and links were replaced by [number hidden], [email hidden] and [link hidden]. Write in
{language}. Answer with one JSON object and nothing else:
{{"questions": ["<each question the client asked, briefly>"],
"summary": "<what the astrologer said, in a few sentences>",
"remedies": ["<each remedy or practice the astrologer suggested>"]}}.
Use empty lists when there were none. Add nothing that was not said."""


class SummaryNotAvailable(DomainError):
    """AI is off, the session is not the user's, or it has not ended: as if there were no such page."""

    code = "not_found"
    status = 404
    message = _l("There is no such summary.")


class SummaryExists(DomainError):
    code = "summary_exists"
    status = 409
    message = _l("You already have a summary of this consultation; delete it to ask for a new one.")


def language_of(profile):
    """The language a summary is written in: the person's preferred one, else English."""
    return (profile.preferences or {}).get("language") or "English"


def _session_of(session_id, user_id):
    if not ai.enabled():
        raise SummaryNotAvailable()
    session = db.session.get(ConsultationSession, session_id)
    if session is None or session.user_id != user_id or session.status != SessionStatus.COMPLETED:
        raise SummaryNotAvailable()
    return session


def of(session_id, user_id):
    """The user's summary of the session (ConsultationSummary or None); SummaryNotAvailable otherwise.
    A summary whose job died is reported failed."""
    _session_of(session_id, user_id)
    summary = db.session.execute(db.select(ConsultationSummary).filter_by(session_id=session_id)).scalar_one_or_none()
    return ai.settled(summary, _key(summary) if summary is not None else None)


def _key(summary):
    return f"ai:summary:{summary.session_id}:{summary.attempt}"


def request(session_id, user_id, *, consent=False, now=None):
    """The user asks for a summary (again, after a failure): with their consent given now or before.
    Queues the job; returns the pending summary."""
    now = now or utcnow()
    session = _session_of(session_id, user_id)
    profile = ai.require_consent(
        user_id, consent, now, gettext("Agree to send this conversation's messages to the AI to get a summary.")
    )
    summary = db.session.execute(db.select(ConsultationSummary).filter_by(session_id=session.id)).scalar_one_or_none()
    if summary is not None and summary.status != "failed":
        if summary.status == "ready":
            raise SummaryExists()
        return summary  # already being written: the same request again asks nothing more
    language = language_of(profile)
    if summary is None:
        summary = ConsultationSummary(session_id=session.id, user_id=user_id, language=language, attempt=0)
        try:
            with db.session.begin_nested():  # a double submit: the unique session_id lets one row in
                db.session.add(summary)
        except IntegrityError:
            return db.session.execute(db.select(ConsultationSummary).filter_by(session_id=session.id)).scalar_one()
    summary.status, summary.content, summary.language = "pending", None, language
    summary.attempt += 1  # a new job key: asking again after a failure asks the model again
    summary.requested_at = now
    db.session.flush()
    jobs.deliver("ai_summary", _key(summary), {"session_id": str(session.id)}, now)
    return summary


def delete(session_id, user_id):
    """The user deletes their summary (nothing is kept)."""
    summary = of(session_id, user_id)
    if summary is not None:
        db.session.delete(summary)
        db.session.flush()


def make(session_id, now=None):
    """Write the summary (the ai_summary job). Raises ai.AIError (retried) or ai.AICapped."""
    now = now or utcnow()
    summary = db.session.execute(db.select(ConsultationSummary).filter_by(session_id=session_id)).scalar_one_or_none()
    if summary is None or summary.status != "pending":
        return None  # deleted meanwhile, or already written
    ai.still_consents(summary.user_id)  # withdrawn since asking: nothing is sent
    session = db.session.get(ConsultationSession, session_id)
    lines = db.session.execute(
        db.select(Message.sender_id, Message.content)
        .where(Message.session_id == session_id, Message.message_type == MessageType.TEXT)
        .order_by(Message.seq)
    ).all()
    conversation = [
        {"from": "astrologer" if sender == session.astrologer_id else "user", "text": text} for sender, text in lines
    ]
    answer = ai.complete_json(
        "summary",
        INSTRUCTIONS.format(language=summary.language),
        json.dumps({"messages": conversation}, ensure_ascii=False),
        now,
    )
    content = _clean(answer)
    # Written only if it is still wanted: the user may have deleted it while the model wrote (no row lock:
    # a job's transaction locks nothing but its delivery).
    db.session.execute(
        db.update(ConsultationSummary)
        .where(ConsultationSummary.id == summary.id, ConsultationSummary.status == "pending")
        .values(content=content, status="ready", ready_at=now)
        .execution_options(synchronize_session=False)
    )
    return summary


def _texts(value):
    items = value if isinstance(value, list) else []
    return [mask(item.strip())[:ITEM_MAX] for item in items if isinstance(item, str) and item.strip()][:ITEMS_MAX]


def _clean(answer):
    """Only the three expected parts, as text, bounded and masked like a message (a number the
    astrologer spelled out comes back from the model as digits); anything else it said is dropped."""
    summary = answer.get("summary")
    if not isinstance(summary, str) or not summary.strip():
        raise ai.AIError("the answer has no summary")
    return {
        "questions": _texts(answer.get("questions")),
        "summary": mask(summary.strip())[:SUMMARY_MAX],
        "remedies": _texts(answer.get("remedies")),
    }


@jobs.channel("ai_summary")
def make_delivery(payload):
    """The ai_summary job: False (and the summary failed) when the day's tokens are spent."""
    session_id = uuid.UUID(payload["session_id"])
    return ai.job(lambda: make(session_id), ConsultationSummary, ConsultationSummary.session_id == session_id)
