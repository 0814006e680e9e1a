"""The language model behind the AI features (issue 29): one small interface, an OpenAI-compatible
implementation on the official `openai` client.

Configured by AI_BASE_URL (unset: the hosted API; a self-hosted OpenAI-compatible server's /v1 works
the same), AI_API_KEY and AI_MODEL. With no AI_MODEL every AI feature is off and shows nothing; the
rest of the product never depends on it.

Calls never run in a request: they run in background jobs (services/jobs.py), whose retries with
JOB_BACKOFF_SECONDS are the retries (the client's own are off, so a failing provider is retried on
the job queue's clock, not by a thread sleeping) and whose dead letters are the calls that kept
failing. Each call has AI_TIMEOUT_SECONDS, is written to ai_calls with its tokens and outcome, counted
in astro_ai_calls_total and astro_ai_tokens_total, and logged. Before each call the day's tokens (UTC)
are summed: a call is made only when its prompt (bounded from above by its bytes) and an answer of
at least MIN_ANSWER_TOKENS fit in what is left of AI_DAILY_TOKENS, and the answer is capped there
(max_tokens, at most AI_MAX_OUTPUT_TOKENS), so a day never ends far past its cap.

What leaves the server is the caller's business and is masked before it gets here (services/ai/safety.py
sends an astrologer's stored messages, already masked); this module sends what it is given.
"""

import json
import time
from datetime import UTC, datetime

from flask import current_app

from ... import metrics
from ...extensions import db
from ...models import AICall, Delivery, UserProfile, utcnow
from ..errors import ValidationFailed

CONSENT = "ai_consent_at"  # user_profiles.preferences key: when the person agreed to send their words here
CLIENT = "astro_ai_client"  # app.extensions key: (settings, the openai client made for them)
ERROR_MAX = 300


class AIError(Exception):
    """The model could not be asked, or did not answer usefully: the job is retried."""


class AICapped(Exception):
    """The day's tokens are spent (or would be by this call): nothing was asked."""


class ConsentWithdrawn(Exception):
    """The person took their consent back after asking: nothing of theirs was sent."""


def enabled():
    return bool(current_app.config.get("AI_MODEL"))


# ---------------------------------------------------------------- consent: a person's words go out only with it


def consented_at(profile):
    """When the person agreed to send their words to the AI provider (ISO text), or None."""
    return (profile.preferences or {}).get(CONSENT)


def _profile(user_id):
    return db.session.execute(db.select(UserProfile).filter_by(user_id=user_id)).scalar_one()


def require_consent(user_id, given, now, refusal):
    """The person's consent, given with this request (`given`) or before: stored the first time;
    ValidationFailed("consent", `refusal`) without it. Returns their profile."""
    profile = _profile(user_id)
    if not consented_at(profile):
        if not given:
            raise ValidationFailed("consent", refusal)
        profile.preferences = {**(profile.preferences or {}), CONSENT: now.isoformat()}
    return profile


def still_consents(user_id):
    """ConsentWithdrawn unless the person consents now (a job checks just before it sends their words)."""
    if not consented_at(_profile(user_id)):
        raise ConsentWithdrawn()


def withdraw_consent(user_id):
    """The person takes their consent back: nothing of theirs is sent again until they give it anew."""
    profile = _profile(user_id)
    if consented_at(profile):
        profile.preferences = {key: value for key, value in profile.preferences.items() if key != CONSENT}


# ---------------------------------------------------------------- the client and its calls


def _client():
    import openai  # only deployments that use the AI features pay for importing it

    config = current_app.config
    settings = (config["AI_BASE_URL"], config["AI_API_KEY"], config["AI_TIMEOUT_SECONDS"])
    made = current_app.extensions.get(CLIENT)
    if made is None or made[0] != settings:
        client = openai.OpenAI(
            base_url=config["AI_BASE_URL"],
            api_key=config["AI_API_KEY"] or "none",  # a server of one's own may want none
            timeout=config["AI_TIMEOUT_SECONDS"],
            max_retries=0,  # the job queue retries, with its backoff
        )
        made = current_app.extensions[CLIENT] = (settings, client)
    return made[1]


def tokens_used(now=None):
    """Prompt and completion tokens of today's calls (UTC)."""
    now = (now or utcnow()).astimezone(UTC)
    since = datetime(now.year, now.month, now.day, tzinfo=UTC)
    return db.session.execute(
        db.select(db.func.coalesce(db.func.sum(AICall.prompt_tokens + AICall.completion_tokens), 0)).where(
            AICall.created_at >= since
        )
    ).scalar_one()


def _record(purpose, outcome, started, now, prompt=0, completion=0, error=None):
    call = AICall(
        purpose=purpose,
        model=current_app.config["AI_MODEL"][:100],
        prompt_tokens=prompt,
        completion_tokens=completion,
        outcome=outcome,
        error=error[:ERROR_MAX] if error else None,
        duration_ms=int((time.monotonic() - started) * 1000),
        created_at=now,
    )
    db.session.add(call)
    db.session.flush()
    metrics.AI_CALLS.labels(purpose, outcome).inc()
    metrics.AI_TOKENS.labels(purpose, "prompt").inc(prompt)
    metrics.AI_TOKENS.labels(purpose, "completion").inc(completion)
    current_app.logger.info(
        "ai call",
        extra={
            "purpose": purpose,
            "outcome": outcome,
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "duration_ms": call.duration_ms,
        },
    )
    return call


#: An answer shorter than this is no use (a summary or five matches with a line each take more).
MIN_ANSWER_TOKENS = 200


def prompt_tokens_at_most(*texts):
    """An upper bound on the tokens `texts` take as a prompt, without the model's tokenizer: a token
    is at least two bytes of UTF-8 in practice (about four in English, three in Devanagari), so half
    the bytes, plus a few for the messages' framing, is never below the count the provider reports."""
    return sum(len(text.encode()) for text in texts) // 2 + 16


def complete_json(purpose, instructions, content, now=None):
    """Ask the model (`instructions` as the system message, `content` as the user's) for a JSON object,
    and return it parsed. AICapped when the day's tokens are spent; AIError when the provider fails or
    answers with anything but a JSON object."""
    now = now or utcnow()
    started = time.monotonic()
    left = current_app.config["AI_DAILY_TOKENS"] - tokens_used(now)
    prompt_at_most = prompt_tokens_at_most(instructions, content)
    answer_at_most = min(current_app.config["AI_MAX_OUTPUT_TOKENS"], left - prompt_at_most)
    if answer_at_most < MIN_ANSWER_TOKENS:  # the call could pass the day's cap: it is not made
        _record(purpose, "capped", started, now)
        raise AICapped()
    import openai

    try:
        response = _client().chat.completions.create(
            model=current_app.config["AI_MODEL"],
            messages=[{"role": "system", "content": instructions}, {"role": "user", "content": content}],
            response_format={"type": "json_object"},
            temperature=0,
            max_tokens=answer_at_most,
        )
    except openai.OpenAIError as error:
        _record(purpose, "failed", started, now, error=f"{type(error).__name__}: {error}")
        raise AIError(f"the model was not reached: {type(error).__name__}") from error
    usage = response.usage
    prompt, completion = (usage.prompt_tokens, usage.completion_tokens) if usage else (0, 0)
    text = response.choices[0].message.content if response.choices else None
    try:
        answer = json.loads(text or "")
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        _record(purpose, "failed", started, now, prompt, completion, error="the answer is not a JSON object")
        raise AIError("the model's answer is not a JSON object")
    _record(purpose, "ok", started, now, prompt, completion)
    return answer


def settled(row, key):
    """`row` (a summary or a match) as its reader sees it: still pending while its job (delivery `key`)
    may run, failed once the job is dead."""
    if row is not None and row.status == "pending":
        if db.session.execute(db.select(Delivery.status).filter_by(key=key)).scalar_one_or_none() == "dead":
            row.status = "failed"
            db.session.flush()
    return row


def job(make, model, *row):
    """Run an AI feature's job (`make`); when the day's tokens are spent, or the person withdrew their
    consent since asking, its `model` row (`row`: the WHERE that finds it), if still pending, is marked
    failed and the job answers False (skipped)."""
    try:
        make()
    except (AICapped, ConsentWithdrawn):
        db.session.execute(
            db.update(model)
            .where(*row, model.status == "pending")
            .values(status="failed")
            .execution_options(synchronize_session=False)
        )
        return False
    return True
