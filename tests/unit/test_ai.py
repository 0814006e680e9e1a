"""The language model behind the AI features, against an OpenAI-compatible server the test starts
(tests/fake_openai.py: a stand-in, since no provider is reachable here): the safety review's model
pass as a job, what is sent (the astrologer's masked messages only), retries on the job queue, the
daily token cap, every call logged with its tokens, and everything off without AI_MODEL."""

import json
import re
from datetime import timedelta

import pytest

from webapp.config import ConfigError, TestConfig
from webapp.extensions import db
from webapp.models import AICall, Availability, ConsultationSummary, Delivery, SafetyFlag, User, utcnow
from webapp.services import jobs
from webapp.services.ai import language_model as ai
from webapp.services.ai import matching, safety, summaries
from webapp.services.consultations import lifecycle
from webapp.services.errors import ValidationFailed
from webapp.services.messaging import chat

from ..conftest import csrf_token_from
from ..fake_openai import FakeOpenAI


@pytest.fixture
def model(app, monkeypatch):
    with FakeOpenAI() as server:
        monkeypatch.setitem(app.config, "AI_BASE_URL", server.url)
        monkeypatch.setitem(app.config, "AI_API_KEY", "sk-test")
        monkeypatch.setitem(app.config, "AI_MODEL", "review-model-1")
        monkeypatch.setitem(app.config, "JOB_BACKOFF_SECONDS", (0, 0))
        yield server


def _ended(consult, lines):
    """A chat in which the astrologer and the user wrote `lines` ((who, text)), ended by the user."""
    astrologer = consult.astrologer(email="pandit@example.com", name="Pandit Modelcheck")
    user = consult.user(email="client@example.com")
    session = consult.accept(consult.request(user, astrologer))
    for n, (who, text) in enumerate(lines):
        sender = astrologer if who == "astrologer" else user
        chat.send(session.id, sender.id, f"m{n}", text, now=session.started_at + timedelta(seconds=5 * (n + 1)))
        db.session.commit()
    lifecycle.end(session.id, by_user_id=user.id, now=session.started_at + timedelta(minutes=1))
    db.session.commit()
    return session


def _spent_today(prompt, completion=0, purpose="summary"):
    """A call made earlier today that used these tokens (committed)."""
    db.session.add(
        AICall(purpose=purpose, model="m", prompt_tokens=prompt, completion_tokens=completion, outcome="ok",
               duration_ms=1, created_at=utcnow())
    )  # fmt: skip
    db.session.commit()


LINES = [
    ("user", "My number is 9876543210, will my business grow?"),
    ("astrologer", "I see a dark omen over your shop this month."),
    ("astrologer", "Call me on 9123456780 and send a donation for the havan."),
]


def test_without_a_model_nothing_is_asked(app, consult, queued):
    assert not ai.enabled()
    _ended(consult, LINES)
    assert db.session.execute(db.select(Delivery).filter_by(channel="ai_review")).first() is None
    assert db.session.execute(db.select(AICall)).first() is None


def test_the_model_pass_runs_as_a_job_and_sends_only_the_astrologers_masked_messages(app, consult, queued, model):
    session = _ended(consult, LINES)
    (delivery_id,) = queued
    assert db.session.get(Delivery, delivery_id).channel == "ai_review"  # not in the request: a job
    assert model.requests == []
    assert jobs.perform(delivery_id).status == "sent"

    (request,) = model.requests
    assert request["path"] == "/v1/chat/completions" and request["authorization"] == "Bearer sk-test"
    assert request["model"] == "review-model-1" and request["response_format"] == {"type": "json_object"}
    sent = json.loads(request["messages"][1]["content"])["messages"]
    assert [m["text"] for m in sent] == [
        "I see a dark omen over your shop this month.",
        "Call me on [number hidden] and send a donation for the havan.",
    ]  # the astrologer's words, masked as stored; the user's never leave
    assert "9123456780" not in json.dumps(request) and "9876543210" not in json.dumps(request)

    model_flags = {f.rule: f for f in safety.of_session(session.id) if f.source == "model"}
    assert set(model_flags) == {"fear_selling", "payment_outside"}
    assert model_flags["fear_selling"].reason == "Warns of a dire omen to push a paid ritual."
    assert [p["text"] for p in model_flags["fear_selling"].passages] == ["I see a dark omen over your shop this month."]
    rules_flags = {f.rule for f in safety.of_session(session.id) if f.source == "rules"}
    assert rules_flags == {"contact_outside"}  # the rules saw the hidden number; the model the rest

    (call,) = db.session.execute(db.select(AICall)).scalars().all()
    assert call.outcome == "ok" and call.purpose == "safety_review" and call.model == "review-model-1"
    assert call.prompt_tokens > 0 and call.completion_tokens == 25
    assert jobs.perform(delivery_id).status == "sent"  # a repeated job asks nothing more
    assert len(model.requests) == 1


def test_a_failing_provider_is_retried_on_the_job_queue(app, consult, queued, model):
    model.fail_next = 2
    session = _ended(consult, LINES)
    (delivery_id,) = queued
    for attempt in (1, 2):
        with pytest.raises(jobs.RetryLater):
            jobs.perform(delivery_id)
        delivery = db.session.get(Delivery, delivery_id)
        assert delivery.attempts == attempt and "AIError" in delivery.last_error
    assert jobs.perform(delivery_id).status == "sent"
    assert {f.rule for f in safety.of_session(session.id) if f.source == "model"} == {"fear_selling", "payment_outside"}
    outcomes = [c.outcome for c in db.session.execute(db.select(AICall).order_by(AICall.created_at)).scalars()]
    assert sorted(outcomes) == ["failed", "failed", "ok"]


def test_an_answer_that_is_not_json_is_retried_then_dead(app, consult, queued, model):
    model.answer = lambda request: "I think the astrologer is fine."
    _ended(consult, LINES)
    (delivery_id,) = queued
    for _ in range(2):
        with pytest.raises(jobs.RetryLater):
            jobs.perform(delivery_id)
    assert jobs.perform(delivery_id).status == "dead"
    assert db.session.execute(db.select(SafetyFlag).filter_by(source="model")).first() is None


def test_nonsense_from_the_model_adds_nothing(app, consult, queued, model):
    model.answer = lambda request: json.dumps(
        {
            "flags": [
                {"rule": "rudeness", "seqs": [2], "reason": "Not a rule of ours."},
                {"rule": "fear_selling", "seqs": [999], "reason": "No such message."},
                {"rule": "guaranteed_results", "seqs": [2], "reason": ""},
                "not an object",
            ]
        }
    )
    _ended(consult, LINES)
    (delivery_id,) = queued
    assert jobs.perform(delivery_id).status == "sent"
    assert db.session.execute(db.select(SafetyFlag).filter_by(source="model")).first() is None


def test_the_daily_token_cap_stops_calls_until_the_next_day(app, consult, queued, model, monkeypatch):
    monkeypatch.setitem(app.config, "AI_DAILY_TOKENS", 1000)
    _spent_today(900, completion=100, purpose="safety_review")
    _ended(consult, LINES)
    (delivery_id,) = queued
    assert jobs.perform(delivery_id).status == "skipped"
    assert model.requests == []  # nothing was asked
    assert [c.outcome for c in db.session.execute(db.select(AICall).order_by(AICall.created_at)).scalars()][-1] == (
        "capped"
    )
    tomorrow = utcnow() + timedelta(days=1)
    assert ai.tokens_used(tomorrow) == 0


@pytest.mark.parametrize(
    "environ, problem",
    [
        ({"AI_MODEL": "gpt-test"}, "AI_MODEL needs AI_API_KEY"),
        ({"AI_MODEL": "m", "AI_BASE_URL": "ftp://models.example"}, "AI_BASE_URL must be an http"),
        ({"AI_DAILY_TOKENS": "0"}, "AI_DAILY_TOKENS"),
    ],
)
def test_bad_ai_settings_stop_the_start(environ, problem):
    with pytest.raises(ConfigError, match=problem):
        TestConfig("sqlite://", environ=environ)


def test_a_self_hosted_server_needs_no_key():
    config = TestConfig("sqlite://", environ={"AI_MODEL": "llama", "AI_BASE_URL": "http://10.0.0.5:8000/v1"})
    assert config.AI_MODEL == "llama" and config.AI_API_KEY is None


# ---------------------------------------------------------------- the summary the user keeps

SUMMARY = {
    "questions": ["Will my business grow?"],
    "summary": "The astrologer spoke of a hard month for the shop.",
    "remedies": ["A havan"],
}


def _summary_url(session):
    return f"/consultations/{session.id}/summary"


def _jobs_of(queued, channel):
    return [i for i in queued if db.session.get(Delivery, i).channel == channel]


@pytest.fixture
def ended(consult):
    return _ended(consult, LINES)


def test_without_a_model_there_is_no_summary(client, auth, ended):
    auth.login("client@example.com")
    assert "Your summary of this reading" not in client.get(f"/consultations/{ended.id}").get_data(as_text=True)
    token = csrf_token_from(client.get(f"/consultations/{ended.id}").get_data(as_text=True))
    assert client.post(_summary_url(ended), data={"consent": "y", "csrf_token": token}).status_code == 404


def test_a_user_consents_once_gets_a_summary_in_their_language_and_deletes_it(client, auth, consult, queued, model):
    session = _ended(consult, LINES)
    user = db.session.get(User, session.user_id)
    user.profile.preferences = {**(user.profile.preferences or {}), "language": "Hindi"}
    db.session.commit()
    model.answer = lambda request: json.dumps(SUMMARY)
    auth.login("client@example.com")
    page = client.get(f"/consultations/{session.id}").get_data(as_text=True)
    assert "Your summary of this reading" in page and 'name="consent"' in page and "in Hindi" in page
    token = csrf_token_from(page)
    htmx = {"HX-Request": "true"}

    refused = client.post(_summary_url(session), data={"csrf_token": token}, headers=htmx)
    assert refused.status_code == 422 and "Agree to send" in refused.get_data(as_text=True)
    assert _jobs_of(queued, "ai_summary") == []

    pending = client.post(_summary_url(session), data={"consent": "y", "csrf_token": token}, headers=htmx)
    assert pending.status_code == 200 and 'hx-trigger="every 3s"' in pending.get_data(as_text=True)
    (job,) = _jobs_of(queued, "ai_summary")
    assert jobs.perform(job).status == "sent"
    request = model.requests[-1]
    assert re.search(r"Write in\s+Hindi\.", request["messages"][0]["content"])  # the user's language
    sent = json.loads(request["messages"][1]["content"])["messages"]
    assert [m["from"] for m in sent] == ["user", "astrologer", "astrologer"]
    assert "9876543210" not in json.dumps(request) and "Pandit" not in json.dumps(request)  # masked, no names

    ready = client.get(_summary_url(session), headers=htmx).get_data(as_text=True)
    assert "The astrologer spoke of a hard month for the shop." in ready and "A havan" in ready
    again = client.post(_summary_url(session), data={"csrf_token": token})
    assert again.status_code == 303  # one summary at a time: refused with a flash
    assert "delete it to ask for a new one" in client.get(f"/consultations/{session.id}").get_data(as_text=True)

    deleted = client.post(f"{_summary_url(session)}/delete", data={"csrf_token": token}, headers=htmx)
    assert deleted.status_code == 200 and 'name="consent"' not in deleted.get_data(as_text=True)  # asked once
    assert db.session.execute(db.select(ConsultationSummary)).first() is None


def test_only_the_user_sees_their_summary(app, client, auth, consult, queued, model):
    session = _ended(consult, LINES)
    model.answer = lambda request: json.dumps(SUMMARY)
    summaries.request(session.id, session.user_id, consent=True)
    db.session.commit()
    jobs.perform(_jobs_of(queued, "ai_summary")[0])
    auth.login("pandit@example.com")  # the astrologer of the session
    page = client.get(f"/consultations/{session.id}").get_data(as_text=True)
    assert "hard month" not in page and "Your summary of this reading" not in page
    assert client.get(_summary_url(session), headers={"HX-Request": "true"}).status_code == 404
    token = csrf_token_from(page)
    assert client.post(f"{_summary_url(session)}/delete", data={"csrf_token": token}).status_code == 404
    assert db.session.execute(db.select(ConsultationSummary.status)).scalar_one() == "ready"


def test_a_summary_the_model_cannot_write_fails_and_may_be_asked_again(client, auth, consult, queued, model):
    session = _ended(consult, LINES)
    model.answer = lambda request: json.dumps({"questions": []})  # no summary in it
    summaries.request(session.id, session.user_id, consent=True)
    db.session.commit()
    (job,) = _jobs_of(queued, "ai_summary")
    for _ in range(2):
        with pytest.raises(jobs.RetryLater):
            jobs.perform(job)
    assert jobs.perform(job).status == "dead"
    auth.login("client@example.com")
    panel = client.get(_summary_url(session), headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "could not be written this time" in panel
    model.answer = lambda request: json.dumps(SUMMARY)
    token = csrf_token_from(client.get(f"/consultations/{session.id}").get_data(as_text=True))
    client.post(_summary_url(session), data={"csrf_token": token}, headers={"HX-Request": "true"})
    (first, second) = _jobs_of(queued, "ai_summary")
    assert db.session.get(Delivery, second).key.endswith(":2")
    assert jobs.perform(second).status == "sent"
    assert "hard month" in client.get(_summary_url(session), headers={"HX-Request": "true"}).get_data(as_text=True)


# ---------------------------------------------------------------- describe your concern -> matching


def _choose(wanted_name, why, extra_ids=()):
    """A stand-in model that picks the candidate named `wanted_name`, plus ids it makes up."""

    def answer(request):
        sent = json.loads(request["messages"][1]["content"])
        picks = [{"id": a["id"], "why": why} for a in sent["astrologers"] if a["name"] == wanted_name]
        return json.dumps({"matches": picks + [{"id": i, "why": "Invented."} for i in extra_ids]})

    return answer


def test_without_a_model_there_is_no_matching(client, auth, consult):
    consult.user(email="seeker@example.com")
    auth.login("seeker@example.com")
    page = client.get("/astrologers").get_data(as_text=True)
    assert "Describe your concern" not in page
    assert (
        client.post("/astrologers/match", data={"concern": "x" * 20, "csrf_token": csrf_token_from(page)}).status_code
        == 404
    )


def test_a_concern_finds_available_astrologers_that_fit(client, auth, consult, queued, model):
    fit = consult.astrologer(email="marriage@example.com", name="Meena Vivah", specializations=["Vedic"],
                             about="Marriage timing and matching of horoscopes.")  # fmt: skip
    away = consult.astrologer(email="away@example.com", name="Ravi Away", chat_availability=Availability.OFFLINE)
    consult.user(email="seeker@example.com")
    model.answer = _choose("Meena Vivah", "She reads marriage timing.", extra_ids=[str(away.id), "not-an-id"])
    auth.login("seeker@example.com")
    page = client.get("/astrologers").get_data(as_text=True)
    assert "Not sure whom to ask? Describe your concern" in page and 'name="consent"' in page
    token, htmx = csrf_token_from(page), {"HX-Request": "true"}

    short = client.post(
        "/astrologers/match", data={"concern": "help", "consent": "y", "csrf_token": token}, headers=htmx
    )
    assert short.status_code == 422 and "10 to 500 characters" in short.get_data(as_text=True)
    unconsented = client.post(
        "/astrologers/match", data={"concern": "My marriage keeps getting delayed", "csrf_token": token}, headers=htmx
    )
    assert unconsented.status_code == 422 and "Agree to send your words" in unconsented.get_data(as_text=True)
    assert _jobs_of(queued, "ai_match") == []

    concern = "My marriage keeps getting delayed, call me on 9876543210"
    pending = client.post(
        "/astrologers/match", data={"concern": concern, "consent": "y", "csrf_token": token}, headers=htmx
    )
    assert pending.status_code == 200 and 'hx-trigger="every 2s"' in pending.get_data(as_text=True)
    (job,) = _jobs_of(queued, "ai_match")
    assert jobs.perform(job).status == "sent"
    sent = json.loads(model.requests[-1]["messages"][1]["content"])
    assert sent["concern"] == "My marriage keeps getting delayed, call me on [number hidden]"
    assert {a["name"] for a in sent["astrologers"]} == {"Meena Vivah"}  # only those available now
    assert sent["astrologers"][0]["about"] == "Marriage timing and matching of horoscopes."

    match_url = re.search(r'hx-get="(/astrologers/match/[0-9a-f-]+)"', pending.get_data(as_text=True)).group(1)
    ready = client.get(match_url, headers=htmx).get_data(as_text=True)
    assert "Meena Vivah" in ready and "She reads marriage timing." in ready
    assert "Ravi Away" not in ready and "Invented." not in ready  # nothing the model made up
    assert f"/astrologers/{fit.id}" in ready
    assert "Meena Vivah" in client.get(match_url).get_data(as_text=True)  # a reload shows it as a page

    auth.logout()
    consult.user(email="other@example.com")
    auth.login("other@example.com")
    assert client.get(match_url, headers=htmx).status_code == 404  # only its user sees it


def test_matching_is_for_users_and_limited(app, client, auth, consult, model, queued, monkeypatch):
    consult.astrologer(email="astro-asks@example.com")
    auth.login("astro-asks@example.com")
    token = csrf_token_from(client.get("/astrologers").get_data(as_text=True))
    data = {"concern": "Which gemstone suits me?", "consent": "y", "csrf_token": token}
    assert client.post("/astrologers/match", data=data).status_code == 403
    auth.logout()
    monkeypatch.setitem(app.config, "RATELIMIT_AI_MATCHES", "2 per hour")
    consult.user(email="eager@example.com")
    auth.login("eager@example.com")
    data["csrf_token"] = csrf_token_from(client.get("/astrologers").get_data(as_text=True))
    assert [client.post("/astrologers/match", data=data).status_code for _ in range(3)] == [303, 303, 429]


def test_a_summary_or_match_past_the_days_tokens_fails_without_asking(app, consult, queued, model, monkeypatch):
    monkeypatch.setitem(app.config, "AI_DAILY_TOKENS", 10)
    _spent_today(10)
    session = _ended(consult, LINES)
    summaries.request(session.id, session.user_id, consent=True)
    db.session.commit()
    (job,) = _jobs_of(queued, "ai_summary")
    assert jobs.perform(job).status == "skipped"
    assert summaries.of(session.id, session.user_id).status == "failed"  # the page offers to ask again
    found = matching.request(session.user_id, "Is this a good year for my shop?", consent=True)
    db.session.commit()
    (match_job,) = _jobs_of(queued, "ai_match")
    assert jobs.perform(match_job).status == "skipped"
    assert matching.of(found.id, session.user_id).status == "failed"
    assert model.requests == []


def test_a_user_withdraws_consent_and_is_asked_again(client, auth, consult, queued, model):
    session = _ended(consult, LINES)
    summaries.request(session.id, session.user_id, consent=True)
    db.session.commit()
    auth.login("client@example.com")
    account = client.get("/auth/account").get_data(as_text=True)
    assert "you agreed to send your words to our AI provider" in account
    response = client.post("/auth/account/ai-consent", data={"csrf_token": csrf_token_from(account)})
    assert response.status_code == 303
    db.session.expire_all()
    assert ai.consented_at(db.session.get(User, session.user_id).profile) is None
    assert "Withdraw my consent" not in client.get("/auth/account").get_data(as_text=True)
    with pytest.raises(ValidationFailed):  # nothing is sent until they agree again
        matching.request(session.user_id, "Is this a good year for my shop?")


# ---------------------------------------------------------------- attack round three


def test_a_summary_or_match_asked_for_before_consent_was_withdrawn_sends_nothing(client, auth, consult, queued, model):
    session = _ended(consult, LINES)
    summaries.request(session.id, session.user_id, consent=True)
    found = matching.request(session.user_id, "Is this a good year for my shop?", consent=True)
    db.session.commit()
    auth.login("client@example.com")
    account = client.get("/auth/account").get_data(as_text=True)
    assert client.post("/auth/account/ai-consent", data={"csrf_token": csrf_token_from(account)}).status_code == 303
    for job in _jobs_of(queued, "ai_summary") + _jobs_of(queued, "ai_match"):
        assert jobs.perform(job).status == "skipped"
    assert model.requests == []  # neither the conversation nor the concern went out
    assert summaries.of(session.id, session.user_id).status == "failed"
    assert matching.of(found.id, session.user_id).status == "failed"


def test_what_the_model_writes_is_masked_like_a_message(app, consult, queued, model):
    session = _ended(consult, LINES)
    model.answer = lambda request: json.dumps(
        {
            "questions": ["Can I call you on 98765 43210?"],
            "summary": "The astrologer gave his number, 9123456780, and asked for money.",
            "remedies": ["Write to pandit@example.com"],
        }
    )
    summaries.request(session.id, session.user_id, consent=True)
    db.session.commit()
    jobs.perform(_jobs_of(queued, "ai_summary")[0])
    stored = json.dumps(summaries.of(session.id, session.user_id).content)
    assert "9123456780" not in stored and "98765 43210" not in stored and "pandit@example.com" not in stored
    assert "[number hidden]" in stored and "[email hidden]" in stored


def test_a_call_never_goes_far_past_the_days_tokens(app, consult, queued, model, monkeypatch):
    """With 48 tokens left a match used 2,137: now the answer is capped with max_tokens, and a call whose
    prompt and a useful answer cannot fit in what is left is not made."""
    monkeypatch.setitem(app.config, "AI_DAILY_TOKENS", 20_000)
    _spent_today(17_000)
    session = _ended(consult, LINES)
    summaries.request(session.id, session.user_id, consent=True)
    db.session.commit()
    jobs.perform(_jobs_of(queued, "ai_summary")[0])
    (request,) = model.requests
    prompt_bound = ai.prompt_tokens_at_most(*(m["content"] for m in request["messages"]))
    assert 200 <= request["max_tokens"] <= min(app.config["AI_MAX_OUTPUT_TOKENS"], 3_000 - prompt_bound)
    monkeypatch.setitem(app.config, "AI_DAILY_TOKENS", ai.tokens_used() + 48)  # the attack pass's 48 left
    matching.request(session.user_id, "Is this a good year for my shop?")
    db.session.commit()
    assert jobs.perform(_jobs_of(queued, "ai_match")[0]).status == "skipped"
    assert len(model.requests) == 1  # the match was not asked
