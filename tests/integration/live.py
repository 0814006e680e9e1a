"""The real server for live tests: `python wsgi.py` (eventlet) on a free port against the test
database, and a logged-in HTTP session for it."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from ..conftest import DEMO_PASSWORD

ROOT = Path(__file__).resolve().parents[2]
CSRF_IN_PAGE = re.compile(r'"X-CSRFToken": "([^"]+)"')  # every page carries it in <body hx-headers>


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """`python wsgi.py` on a port, against the test database."""

    def __init__(self, database_url, log_path, **environ):
        self.log_path = log_path
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = dict(
            os.environ,
            DATABASE_URL=database_url,
            PORT=str(self.port),
            SECRET_KEY="live-test-secret",
            SOCKETIO_ASYNC_MODE="eventlet",
            RUN_BILLING_IN_PROCESS="0",
            PYTHONWARNINGS="ignore",
            ATTACHMENT_LOCAL_PATH=str(log_path.parent / "attachments"),
        )
        self.env.update(environ)  # may set SOCKETIO_ASYNC_MODE
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            [sys.executable, "wsgi.py"],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=open(self.log_path, "ab"),
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except requests.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError("the server did not start")

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)


def csrf_token(http, url):
    return CSRF_IN_PAGE.search(http.get(url).text).group(1)


def logged_in(server, email, password=DEMO_PASSWORD):
    """A requests.Session logged in as `email` through the real form."""
    http = requests.Session()
    token = csrf_token(http, server.url + "/auth/login")
    response = http.post(
        server.url + "/auth/login", data={"identifier": email, "password": password, "csrf_token": token}
    )
    assert response.ok, response.status_code
    return http


def cookie_header(http):
    return "; ".join(f"{c.name}={c.value}" for c in http.cookies)


def socket_connects(server, headers):
    """Whether a Socket.IO client with these headers is let in. Polling: websocket-client would add
    an Origin of its own beside the one given."""
    import socketio as socketio_client

    client = socketio_client.Client(reconnection=False)
    try:
        client.connect(server.url, headers=headers, transports=["polling"], wait_timeout=10)
    except socketio_client.exceptions.ConnectionError:
        return False
    client.disconnect()
    return True
