"""Matching a concern to astrologers (issue 29): a user describes their concern in their own words,
and a language model picks, among the astrologers available now, those whose specializations, about
text and reviews fit best, with one line each saying why.

The user consents once before their words are sent (the same consent as for summaries:
ai.require_consent). The concern is trimmed to CONCERN_MAX characters and
masked (numbers, addresses, links) before it is stored or sent; the candidates are public facts of
the listing (name, specializations, languages, experience, rating, about, a few review texts). The
model is asked in a job (channel ai_match); the listing polls for the answer. Only astrologers that
were candidates, and so available, can come back; anything else the model names is dropped.
"""

import json
import uuid

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from ...extensions import db
from ...models import ConcernMatch, utcnow
from .. import jobs
from ..astrologers import marketplace
from ..errors import DomainError, ValidationFailed
from ..messaging import message_text
from . import language_model as ai

CONCERN_MIN, CONCERN_MAX = 10, 500
CANDIDATES_MAX = 30  # astrologers available now that the model chooses among
MATCHES_MAX = 5
ABOUT_MAX, REVIEWS_PER_ASTROLOGER, REVIEW_MAX, WHY_MAX = 400, 3, 200, 200

INSTRUCTIONS = """You help a person choose an astrologer on an Indian consultation platform. You get their
concern, in their own words (English, Hindi or Hinglish; numbers, e-mail addresses and links hidden),
and the astrologers available now, each with an id. Choose at most five whose specializations, about
text, languages and reviews fit the concern best, best first, and say in one short sentence, in the
language of the concern, why each fits. Choose only from the ids given. Answer with one JSON object and
nothing else: {"matches": [{"id": "<an id given>", "why": "<one sentence>"}]}, or {"matches": []}
when nobody fits."""


class MatchNotFound(DomainError):
    code = "not_found"
    status = 404
    message = _l("There is no such match.")


def _candidates():
    """The astrologers available now, as the model reads them (public facts of the listing)."""
    listing = marketplace.list_astrologers(marketplace.ListingQuery(available=True), per_page=CANDIDATES_MAX)
    candidates = []
    for item in listing.items:
        reviews = [review.text[:REVIEW_MAX] for review in marketplace.reviews(item.user.id).items if review.text]
        profile = item.profile
        candidates.append(
            {
                "id": str(item.user.id),
                "name": item.user.name,
                "specializations": profile.specializations,
                "languages": profile.languages,
                "experience_years": profile.experience_years,
                "rating": str(profile.rating_average) if profile.rating_count else None,
                "about": (profile.about or "")[:ABOUT_MAX],
                "reviews": reviews[:REVIEWS_PER_ASTROLOGER],
            }
        )
    return candidates


def request(user_id, concern, *, consent=False, now=None):
    """A user asks for astrologers fitting `concern`: stored (masked) and matched by a job."""
    now = now or utcnow()
    if not ai.enabled():
        raise MatchNotFound()
    concern = message_text.mask(" ".join((concern or "").split()))
    if not CONCERN_MIN <= len(concern) <= CONCERN_MAX:
        raise ValidationFailed(
            "concern",
            gettext(
                "Describe your concern in %(concern_min)s to %(concern_max)s characters.",
                concern_min=CONCERN_MIN,
                concern_max=CONCERN_MAX,
            ),
        )
    ai.require_consent(
        user_id, consent, now, gettext("Agree to send your words to the AI to find astrologers for you.")
    )
    match = ConcernMatch(user_id=user_id, concern=concern, status="pending", created_at=now)
    db.session.add(match)
    db.session.flush()
    jobs.deliver("ai_match", _key(match.id), {"match_id": str(match.id)}, now)
    return match


def of(match_id, user_id):
    """The user's match (failed once its job is dead); MatchNotFound for anyone else, or with AI off."""
    if not ai.enabled():
        raise MatchNotFound()
    match = db.session.get(ConcernMatch, match_id)
    if match is None or match.user_id != user_id:
        raise MatchNotFound()
    return ai.settled(match, _key(match.id))


def _key(match_id):
    return f"ai:match:{match_id}"


def astrologers_of(match):
    """[(marketplace.Profile, why)] of a ready match, best first; astrologers no longer listed are left out."""
    found = []
    for result in match.results or []:
        listed = marketplace.listed_astrologer(uuid.UUID(result["astrologer_id"]))
        if listed is not None:
            found.append((listed, result["why"]))
    return found


def make(match_id, now=None):
    """The ai_match job: ask the model, keep what it chose among the candidates. Raises ai.AIError
    (retried) or ai.AICapped."""
    now = now or utcnow()
    match = db.session.get(ConcernMatch, match_id)
    if match is None or match.status != "pending":
        return None
    ai.still_consents(match.user_id)  # withdrawn since asking: nothing is sent
    candidates = _candidates()
    results = []
    if candidates:
        content = json.dumps({"concern": match.concern, "astrologers": candidates}, ensure_ascii=False)
        answer = ai.complete_json("matching", INSTRUCTIONS, content, now)
        known, chosen = {c["id"] for c in candidates}, set()
        items = answer.get("matches") if isinstance(answer.get("matches"), list) else []
        for item in items:
            if not isinstance(item, dict):
                continue
            astrologer_id, why = item.get("id"), item.get("why")
            if astrologer_id in known and astrologer_id not in chosen and isinstance(why, str) and why.strip():
                chosen.add(astrologer_id)
                results.append({"astrologer_id": astrologer_id, "why": message_text.mask(why.strip())[:WHY_MAX]})
            if len(results) == MATCHES_MAX:
                break
    db.session.execute(
        db.update(ConcernMatch)
        .where(ConcernMatch.id == match.id, ConcernMatch.status == "pending")
        .values(status="ready", results=results, ready_at=now)
        .execution_options(synchronize_session=False)
    )
    return results


@jobs.channel("ai_match")
def make_delivery(payload):
    """The ai_match job: False (and the match failed) when the day's tokens are spent."""
    match_id = uuid.UUID(payload["match_id"])
    return ai.job(lambda: make(match_id), ConcernMatch, ConcernMatch.id == match_id)
