"""The Prometheus metrics of a process (prometheus-client's default registry), served at /metrics.

Defined once, at import; services and handlers count what they did after it is committed.
"""

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter(
    "astro_http_requests_total", "HTTP requests answered", ["endpoint", "method", "status"]
)  # fmt: skip
HTTP_LATENCY = Histogram(
    "astro_http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["endpoint", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
SOCKETS = Gauge("astro_socketio_connections", "Open Socket.IO connections of this process")
MESSAGES = Counter("astro_chat_messages_total", "Chat messages stored (resends not counted)")
CHARGES = Counter("astro_billing_charges_total", "Minutes charged by the billing loop")
SESSIONS_ENDED = Counter("astro_billing_sessions_ended_total", "Sessions the billing loop ended")
BILLING_PASS = Histogram(
    "astro_billing_pass_duration_seconds",
    "Time of one billing pass (expire, sweep, charge every due minute)",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
BILLING_PASS_FAILURES = Counter("astro_billing_pass_failures_total", "Billing passes that failed and were retried")
SESSIONS = Gauge("astro_sessions", "Consultation sessions by status (read at scrape time)", ["status"])
TOPUPS = Counter("astro_wallet_topups_total", "Top-ups settled by the payment provider", ["outcome"])
LEDGER_VERIFY_FAILURES = Counter("astro_ledger_verify_failures_total", "ledger verify runs that found a breach")
AI_CALLS = Counter("astro_ai_calls_total", "Calls to the language model", ["purpose", "outcome"])
AI_TOKENS = Counter("astro_ai_tokens_total", "Tokens the language model's calls used", ["purpose", "kind"])
