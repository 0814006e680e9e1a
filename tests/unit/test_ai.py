"""The language model behind the AI features, against an OpenAI-compatible server the test starts
(tests/fake_openai.py: a stand-in, since no provider is reachable here): the safety review's model
pass as a job, what is sent (the astrologer's masked messages only), retries on the job queue, the
daily token cap, every call logged with its tokens, and everything off without AI_MODEL."""

import json
from datetime import timedelta

import pytest

from webapp.config import ConfigError, TestConfig
from webapp.extensions import db
from webapp.models import AICall, Delivery, SafetyFlag, utcnow
from webapp.services import ai, chat, jobs, safety
from webapp.services.consultations import lifecycle

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
    db.session.add(
        AICall(purpose="safety_review", model="m", prompt_tokens=900, completion_tokens=100, outcome="ok",
               duration_ms=1, created_at=utcnow())
    )  # fmt: skip
    db.session.commit()
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
