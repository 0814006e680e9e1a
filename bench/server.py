"""A real server process for a benchmark (python wsgi.py, or any command), on a free port of
127.0.0.1, with its CPU time and peak RSS read from /proc."""

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
#: Where a benchmark measures latency, the server it measures runs on SERVER_CPUS and the load
#: generator on LOAD_CPUS, so the two do not take turns on one core (PostgreSQL runs where the
#: kernel puts it). None on a machine with one core.
SERVER_CPUS, LOAD_CPUS = ({0}, {1}) if (os.cpu_count() or 1) >= 2 else (None, None)


@contextlib.contextmanager
def on_cpus(cpus):
    """This process runs on `cpus` (None: anywhere) inside the block, as it did before it after."""
    before = os.sched_getaffinity(0)
    if cpus:
        os.sched_setaffinity(0, cpus)
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


SECRET_KEY = "bench-secret-key"
TICKS = os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Process:
    """`command` started with `env` added to the environment; `wait_for` is a URL path answering 200 when ready."""

    def __init__(self, command, env=None, wait_for="/healthz", log_name="server", cpus=SERVER_CPUS):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = dict(os.environ, PORT=str(self.port), SECRET_KEY=SECRET_KEY, PYTHONWARNINGS="ignore", **(env or {}))
        self.log = open(Path("/tmp") / f"astro-bench-{log_name}-{self.port}.log", "wb")
        if cpus and shutil.which("taskset"):  # every thread it starts inherits the core
            command = ["taskset", "-c", ",".join(map(str, sorted(cpus))), *command]
        self.process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        if wait_for:
            self._wait(wait_for)

    def _wait(self, path):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.process.args} exited with {self.process.returncode}; see {self.log.name}")
            try:
                if requests.get(self.url + path, timeout=1).status_code == 200:
                    return
            except requests.ConnectionError:
                time.sleep(0.2)
        raise RuntimeError(f"{self.process.args} did not answer {path}")

    def cpu_seconds(self):
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime

    def peak_rss_mb(self):
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def web(database_url, cpus=SERVER_CPUS, **env):
    """The product's server: eventlet unless SOCKETIO_ASYNC_MODE says otherwise; billing off."""
    settings = dict(DATABASE_URL=database_url, RUN_BILLING_IN_PROCESS="0", LOG_LEVEL="WARNING", **env)
    return Process([sys.executable, "wsgi.py"], settings, log_name="web", cpus=cpus)


def session_cookie(app, user_id):
    """The signed Flask session cookie of a logged-in user, as the login form would have set it:
    with a live login session (committed), which every request and socket checks."""
    from webapp.extensions import db
    from webapp.services.users import login_sessions

    with app.app_context():
        login = login_sessions.start(user_id, user_agent="bench", ip_address="127.0.0.1")
        db.session.commit()
        login_id = str(login.id)
    serializer = app.session_interface.get_signing_serializer(app)
    return serializer.dumps({"_user_id": str(user_id), "_fresh": True, "login_id": login_id})
