"""The job queue as deployed: the web server (eventlet) queues on the real Redis, a `flask jobs work`
process does the jobs, a real SMTP server (aiosmtpd) started here receives. The worker runs in burst
mode (it stops when the queue is empty, retries included: JOB_BACKOFF_SECONDS 0,0 requeues at once),
so the test waits for the process, not on a clock."""

import subprocess
import sys
import uuid

import pytest
import redis

from webapp.extensions import db
from webapp.models import Delivery

from ..unit.test_receipts import Controller, Inbox
from .live import ROOT, Server, csrf_token, free_port, logged_in

pytestmark = pytest.mark.postgres
REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def inbox():
    handler, port = Inbox(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    handler.port = port
    yield handler
    controller.stop()


@pytest.fixture
def deployment(database_url, tmp_path, inbox):
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.ConnectionError:
        pytest.skip("needs Redis on 127.0.0.1:6379")
    queue = f"test-jobs-{uuid.uuid4().hex[:8]}"
    environ = dict(
        REDIS_URL=REDIS_URL,
        SOCKETIO_CHANNEL=queue,
        JOB_QUEUE=queue,
        JOB_BACKOFF_SECONDS="0,0",
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=str(inbox.port),
    )
    web = Server(database_url, tmp_path / "web.log", **environ)
    web.start()
    web.worker_log = tmp_path / "worker.log"
    yield web
    web.kill()


def work_the_queue(web):
    """`flask jobs work --burst`: the worker does every queued job, retries included, and exits; the delivery."""
    run_the_worker(web)
    db.session.rollback()  # what the worker committed, not this session's snapshot
    return db.session.execute(db.select(Delivery)).scalar_one()


def run_the_worker(web):
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "webapp", "jobs", "work", "--burst"],
        cwd=ROOT,
        env=web.env,
        stdout=subprocess.DEVNULL,
        stderr=open(web.worker_log, "ab"),
        timeout=120,
        check=True,
    )


def test_a_top_up_paid_over_http_is_receipted_by_the_worker_once(deployment, consult, inbox, app):
    user = consult.user(balance=None, email="worker-receipt@example.com")
    http = logged_in(deployment, user.email)
    token = csrf_token(http, f"{deployment.url}/wallet")
    inbox.refuse = 1  # the worker's first attempt is refused; its retry sends it
    checkout = http.post(
        f"{deployment.url}/wallet/topups",
        data={"amount": "250", "state": "29", "csrf_token": token},
        allow_redirects=False,
    )
    order = checkout.headers["Location"]
    paid = http.post(
        deployment.url + order, data={"outcome": "pay", "method": "upi", "csrf_token": token}, allow_redirects=False
    )
    assert paid.status_code == 303

    delivery = work_the_queue(deployment)
    assert (delivery.status, delivery.attempts) == ("sent", 2)
    ((to, message),) = inbox.messages  # sent means sent once: a retried job finds it sent
    assert to == ["worker-receipt@example.com"]
    assert message["Subject"] == "Receipt: ₹250 added to your AstroConsult wallet"


def test_a_delivery_that_always_fails_ends_dead_with_its_reason(deployment, consult, inbox):
    user = consult.user(balance=None, email="worker-poison@example.com")
    http = logged_in(deployment, user.email)
    token = csrf_token(http, f"{deployment.url}/wallet")
    inbox.reject = True  # every attempt refused for good
    checkout = http.post(
        f"{deployment.url}/wallet/topups",
        data={"amount": "120", "state": "29", "csrf_token": token},
        allow_redirects=False,
    )
    http.post(
        deployment.url + checkout.headers["Location"],
        data={"outcome": "pay", "method": "upi", "csrf_token": token},
        allow_redirects=False,
    )

    delivery = work_the_queue(deployment)
    assert (delivery.status, delivery.attempts) == ("dead", 3)  # the first try and JOB_BACKOFF_SECONDS' two retries
    assert "550" in delivery.last_error and inbox.messages == []


@pytest.mark.parametrize("serializer", ["json", "pickle"])
def test_a_job_naming_any_other_function_is_never_run(deployment, tmp_path, serializer):
    """Someone who can write to Redis queues os.system (attack round three): the worker fails the job
    unrun, whether it comes as JSON or as the pickle RQ writes by default."""
    from rq import Queue
    from rq.serializers import resolve_serializer

    marker = tmp_path / "ran"
    queue = Queue(deployment.env["JOB_QUEUE"], connection=redis.Redis.from_url(REDIS_URL),
                  serializer=resolve_serializer(serializer))  # fmt: skip
    queue.enqueue("os.system", f"touch {marker}")
    run_the_worker(deployment)
    assert not marker.exists(), "the worker ran a function no job may name"
