"""A stand-in for an OpenAI-compatible server, started by the tests (no provider is reachable here):
POST /v1/chat/completions answers deterministically, in the API's shape, with token counts.

It keeps every request it got (`requests`), can fail the next N calls with a 500 (`fail_next`), and
answers what `answer(request) -> str` returns as the message's content. By default that is a JSON
object of the shape each feature asks for, made from what it was sent (so the product's code sees a
model that reads its input): the safety review's flags (MODEL_RULES), a consultation's summary, or
the astrologers whose facts share a word with the concern.
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

#: What the stand-in "model" flags: (a word in a message, the rule, the reason).
MODEL_RULES = (
    ("omen", "fear_selling", "Warns of a dire omen to push a paid ritual."),
    ("donation", "payment_outside", "Asks for a donation sent directly to the astrologer."),
)


def answer_for(request):
    """The default answer, by what the instructions ask for."""
    instructions = request["messages"][0]["content"]
    if "summary of an astrology consultation" in instructions:
        return summary_for(request)
    if "choose an astrologer" in instructions:
        return matches_for(request)
    return flags_for(request)


def summary_for(request):
    sent = json.loads(request["messages"][-1]["content"])["messages"]
    asked = [m["text"].split("?")[0] + "?" for m in sent if m["from"] == "user" and "?" in m["text"]]
    said = " ".join(m["text"] for m in sent if m["from"] == "astrologer") or "Nothing was said."
    remedies = [m["text"] for m in sent if m["from"] == "astrologer" and "remedy" in m["text"].lower()]
    return json.dumps({"questions": asked, "summary": said, "remedies": remedies})


def matches_for(request):
    sent = json.loads(request["messages"][-1]["content"])
    words = {word.strip(".,?!").lower() for word in sent["concern"].split() if len(word) > 4}
    picks = []
    for astrologer in sent["astrologers"]:
        facts = " ".join([astrologer["about"], *astrologer["specializations"], *astrologer["reviews"]]).lower()
        shared = sorted(word for word in words if word in facts)
        if shared:
            picks.append({"id": astrologer["id"], "why": f"Works with {', '.join(shared)}."})
    return json.dumps({"matches": picks[:5]})


def flags_for(request):
    """A flag per MODEL_RULES word found in the messages sent."""
    sent = json.loads(request["messages"][-1]["content"])["messages"]
    flags = []
    for word, rule, reason in MODEL_RULES:
        seqs = [message["seq"] for message in sent if word in message["text"].lower()]
        if seqs:
            flags.append({"rule": rule, "seqs": seqs, "reason": reason})
    return json.dumps({"flags": flags})


class FakeOpenAI:
    def __init__(self):
        self.requests = []
        self.fail_next = 0
        self.answer = answer_for
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.requests.append({"path": self.path, "authorization": self.headers.get("Authorization"), **body})
                if fake.fail_next:
                    fake.fail_next -= 1
                    return self._reply(500, {"error": {"message": "overloaded", "type": "server_error"}})
                if self.path != "/v1/chat/completions":
                    return self._reply(404, {"error": {"message": "not found"}})
                content = fake.answer(body)
                prompt = sum(len(message["content"]) for message in body["messages"]) // 4
                self._reply(
                    200,
                    {
                        "id": "chatcmpl-test",
                        "object": "chat.completion",
                        "created": 0,
                        "model": body["model"],
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": content},
                                "finish_reason": "stop",
                            }
                        ],
                        "usage": {"prompt_tokens": prompt, "completion_tokens": 25, "total_tokens": prompt + 25},
                    },
                )

            def _reply(self, status, payload):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
