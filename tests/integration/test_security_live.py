"""Attacks against the real server (python wsgi.py under eventlet, as deployed): what a client sees."""

import threading

import pytest

from .live import csrf_token, logged_in

pytestmark = pytest.mark.postgres

TRACE_MARKERS = ("Traceback", 'File "/', "sqlalchemy", "psycopg2", "IntegrityError")


def _no_internals(body):
    leaked = [marker for marker in TRACE_MARKERS if marker in body]
    assert not leaked, f"the response shows internals: {leaked}"


def test_a_burst_of_requests_from_one_user_opens_one_session_and_refuses_the_rest_cleanly(server, consult):
    user = consult.user(email="burst@example.com", balance="1000.00")
    astrologers = [str(consult.astrologer().id) for _ in range(10)]
    http = logged_in(server, user.email)
    token = csrf_token(http, f"{server.url}/astrologers/{astrologers[0]}")
    start, answers = threading.Barrier(len(astrologers)), [None] * len(astrologers)

    def request(index, astrologer):
        start.wait()
        try:
            answers[index] = http.post(
                f"{server.url}/consultations",
                data={"astrologer_id": astrologer, "session_type": "chat", "csrf_token": token},
                allow_redirects=False,
            )
        except Exception as error:  # the server dropped the connection: shown as what it was
            answers[index] = error

    threads = [threading.Thread(target=request, args=(i, a)) for i, a in enumerate(astrologers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    statuses = sorted(getattr(answer, "status_code", 0) for answer in answers)
    assert all(hasattr(answer, "status_code") for answer in answers), answers
    assert statuses == [303] + [409] * 9, statuses
    for answer in answers:
        _no_internals(answer.text)
    assert all("already have an open consultation" in a.text for a in answers if a.status_code == 409)
