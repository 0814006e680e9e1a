"""End-to-end fixtures: the real server (python wsgi.py: eventlet, in-process billing) on a fresh
database, Debian's Chromium driven by Playwright, and on failure a screenshot and the console log
of every page under test-results/e2e/<test>/.

Chromium is required with CI=true; elsewhere the browser tests skip when it is missing.
"""

import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
from playwright.sync_api import expect

from webapp import create_app
from webapp.config import TestConfig
from webapp.extensions import db as _db
from webapp.models import UserType
from webapp.services.billing import charges
from webapp.services.consultations import lifecycle
from webapp.services.messaging import chat
from webapp.services.money import topups
from webapp.services.users import accounts

from ..fake_openai import FakeOpenAI
from ..integration.live import free_port

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = ROOT / "test-results" / "e2e"
PASSWORD = "s3cret-Passw0rd"
MINUTE_SECONDS = 3


def pytest_collection_modifyitems(config, items):
    if any(item.path.parent.name == "e2e" for item in items) and not os.path.exists(CHROMIUM):
        if os.environ.get("CI") == "true":
            raise pytest.UsageError(f"CI=true requires Chromium at {CHROMIUM} for the browser tests")
        skip = pytest.mark.skip(reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)")
        for item in items:
            if item.path.parent.name == "e2e":
                item.add_marker(skip)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    setattr(item, "rep_" + outcome.get_result().when, outcome.get_result())


class LiveServer:
    """The product as `make run` serves it, on a free port and its own database; its language model is
    the suite's OpenAI-compatible stand-in (tests/fake_openai.py) when `ai_url` is given."""

    def __init__(self, database_url, log_path, ai_url=None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.env = dict(
            os.environ,
            DATABASE_URL=database_url,
            PORT=str(self.port),
            SECRET_KEY="e2e-secret-key",
            SOCKETIO_ASYNC_MODE="eventlet",
            RUN_BILLING_IN_PROCESS="1",
            BILLING_MINUTE_SECONDS=str(MINUTE_SECONDS),
            BILLING_POLL_SECONDS="1",
            NO_REPLY_SECONDS="600",
            RECONNECT_GRACE_SECONDS="60",
            DOWNTIME_GRACE_SECONDS="10",
            PYTHONWARNINGS="ignore",
            ATTACHMENT_LOCAL_PATH=str(log_path.parent / "attachments"),
        )
        if ai_url:
            self.env.update(AI_BASE_URL=ai_url, AI_API_KEY="e2e-key", AI_MODEL="e2e-model")
        self.process = None

    def start(self):
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen([sys.executable, "wsgi.py"], cwd=ROOT, env=self.env, stdout=log, stderr=log)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url + "/readyz", timeout=1).status_code == 200:
                    return
            except requests.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError(f"the server did not start; see {self.log_path}")

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@pytest.fixture(scope="session")
def e2e_database_url(tmp_path_factory):
    admin_url = os.environ.get("TEST_DATABASE_URL")
    if not admin_url:
        yield "sqlite:///" + str(tmp_path_factory.mktemp("e2e") / "e2e.db")
        return
    name = f"astro_e2e_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield sa.engine.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def ai_stand_in():
    """The language model the product asks (no provider is reachable here): deterministic answers."""
    with FakeOpenAI() as server:
        yield server


@pytest.fixture(scope="session")
def product_server(e2e_database_url, tmp_path_factory, ai_stand_in):
    env = dict(os.environ, DATABASE_URL=e2e_database_url, PYTHONWARNINGS="ignore")
    for command in (["db", "upgrade"], ["seed-demo"]):
        subprocess.run(
            [sys.executable, "-m", "flask", "--app", "webapp", *command],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
    server = LiveServer(e2e_database_url, tmp_path_factory.mktemp("server") / "server.log", ai_stand_in.url)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def e2e_app(e2e_database_url, product_server):
    """An app on the e2e database, for making the people a journey needs."""
    return create_app(TestConfig(e2e_database_url, BILLING_MINUTE_SECONDS=MINUTE_SECONDS))


@pytest.fixture
def people(e2e_app):
    """people.user(balance) / people.astrologer(rate, capacity): fresh accounts with password PASSWORD (a
    user has named their state for invoices before, as anyone who has topped up has)."""

    class People:
        def user(self, balance="0.00", name=None):
            with e2e_app.app_context():
                email = f"u-{uuid.uuid4().hex[:8]}@example.com"
                person = accounts.create_user(name=name or "Uma Tester", email=email, password=PASSWORD,
                                              email_verified=True)  # fmt: skip
                accounts.remember_billing_state(person.id, "29")  # named at an earlier top-up
                if balance != "0.00":
                    topups.deposit(person.wallet.id, balance, idempotency_key=f"topup:e2e:{uuid.uuid4().hex}")
                _db.session.commit()
                return email

        def astrologer(self, rate="10.00", capacity=1, name=None, call_rate=None, video_rate=None):
            with e2e_app.app_context():
                email = f"a-{uuid.uuid4().hex[:8]}@example.com"
                accounts.create_user(
                    name=name or f"Astro {uuid.uuid4().hex[:4]}",
                    email=email,
                    password=PASSWORD,
                    email_verified=True,
                    type=UserType.ASTROLOGER,
                    astrologer=dict(
                        chat_rate_per_minute=rate,
                        call_rate_per_minute=call_rate or rate,
                        video_rate_per_minute=video_rate or call_rate or rate,
                        max_concurrent_sessions=capacity,
                        languages=["Hindi", "English"],
                        specializations=["Vedic"],
                        is_approved=True,
                    ),
                )
                _db.session.commit()
                return email

    return People()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            # Calls: a fake microphone (a beeping tone) and camera (a moving test picture), no permission
            # prompt, audio and video without a click.
            "--use-fake-device-for-media-stream",
            "--use-fake-ui-for-media-stream",
            "--autoplay-policy=no-user-gesture-required",
        ],
    }


@pytest.fixture
def person(browser, request, product_server):
    """person() -> a new page in its own browser context (its own cookies): one person each.
    On failure every page's screenshot and console log are saved under test-results/e2e/<test>/."""
    pages = []
    yield lambda **options: _open_page(browser, product_server, pages, **options)
    _keep_artifacts(request, pages)
    for page in pages:
        page.context.close()
    _assert_policy_kept(pages)


@pytest.fixture
def caller(launch_browser, browser_type_launch_args, request, product_server):
    """person(**context options) for the call journeys, on a Chromium of the test's own that is closed whole.

    Disposing a browser context whose page held a WebRTC call (Target.disposeBrowserContext) now and
    then never returns in headless Chromium 156; the closing browser is killed if it has not exited
    after BROWSER_CLOSE_SECONDS, so such a hang cannot stall the run.
    """
    tag = f"--astroconsult-e2e-browser={uuid.uuid4().hex}"  # finds this browser's process; Chromium ignores it
    own = launch_browser(args=[*browser_type_launch_args["args"], tag])
    pages = []
    yield lambda **options: _open_page(own, product_server, pages, **options)
    _keep_artifacts(request, pages)
    watchdog = threading.Timer(BROWSER_CLOSE_SECONDS, _kill_processes, args=(tag,))
    watchdog.start()
    try:
        own.close()
    finally:
        watchdog.cancel()
    _assert_policy_kept(pages)


BROWSER_CLOSE_SECONDS = 20


def _kill_processes(tag):
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if tag.encode() in cmdline.read_bytes():
                os.kill(int(cmdline.parent.name), signal.SIGKILL)
                print(f"Chromium {cmdline.parent.name} had not exited {BROWSER_CLOSE_SECONDS} s after closing: killed")
        except (OSError, ValueError):
            pass  # the process has exited already


def _open_page(browser, product_server, pages, **options):
    context = browser.new_context(base_url=product_server.url, **options)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.console_lines = []
    page.on("console", lambda message: page.console_lines.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: page.console_lines.append(f"pageerror: {error}"))
    pages.append(page)
    return page


def _keep_artifacts(request, pages):
    """After a failed test: each page's screenshot and console log under test-results/e2e/<test>/."""
    if getattr(request.node, "rep_call", None) is None or not request.node.rep_call.failed:
        return
    folder = ARTIFACTS / re.sub(r"[^\w.-]+", "_", request.node.nodeid)
    folder.mkdir(parents=True, exist_ok=True)
    for index, page in enumerate(pages):
        try:
            page.screenshot(path=str(folder / f"page{index}.png"), full_page=True)
        except Exception as error:  # a closed page still gets its console log saved
            page.console_lines.append(f"(no screenshot: {error})")
        (folder / f"page{index}-console.log").write_text("\n".join(page.console_lines) + f"\nurl: {page.url}\n")
    print(f"\ne2e artifacts: {folder}")


def _assert_policy_kept(pages):
    blocked = [line for page in pages for line in page.console_lines if "Content Security Policy" in line]
    assert blocked == [], "the page broke the Content-Security-Policy (the browser blocked it)"


# ---------------------------------------------------------------- accessibility and phones

AXE = (Path(__file__).parent / "vendor" / "axe-4.14.1.min.js").read_text(encoding="utf-8")  # axe-core from npm
AXE_RUN = """async () => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.slice(0, 5).map((n) => n.target.join(" ")).join(", ")})`);
}"""
PHONE = dict(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True, device_scale_factor=2)


def audit(page):
    """axe-core on the page as it is now: fails on any serious or critical violation. Injected through
    the DevTools protocol, which the page's Content-Security-Policy does not govern."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE + "\n;0")
    problems = page.evaluate(AXE_RUN)
    assert problems == [], f"axe on {page.url}:\n" + "\n".join(problems)


def in_viewport(locator):
    """The element is wholly inside the page's viewport (seen without scrolling)."""
    box = locator.bounding_box()
    size = locator.page.viewport_size
    return box is not None and box["y"] >= 0 and box["x"] >= 0 and box["y"] + box["height"] <= size["height"] + 0.5


@pytest.fixture
def phone(browser, request, product_server):
    """person() on a phone: 390x844, touch, in `zone` (a browser zone; India's by default), asking for
    `locale`'s language (en-IN by default; hi-IN asks for Hindi)."""
    pages = []

    def open_phone(zone="Asia/Kolkata", locale="en-IN"):
        return _open_page(browser, product_server, pages, **PHONE, timezone_id=zone, locale=locale)

    yield open_phone
    _keep_artifacts(request, pages)
    for page in pages:
        page.context.close()
    _assert_policy_kept(pages)


def composer_ready(page):
    """The room's script has taken the composer (Enter sends): typing before it would only add a line."""
    expect(page.locator("[data-live-page=room][data-composer-ready]")).to_be_attached()


def log_in(page, email, password=PASSWORD):
    page.goto("/auth/login")
    page.fill("#identifier", email)
    page.fill("#password", password)
    page.click("main button[type=submit]")  # not the header's language switcher
    page.wait_for_load_state()


@pytest.fixture
def yesterdays_session(e2e_app, people):
    """A user's completed 4-minute chat of yesterday at 10.00/min: (user email, user name)."""
    from datetime import timedelta

    from webapp.models import User, utcnow

    astro_email = people.astrologer(name="Kiran Yesterday", rate="10.00")
    user_email = people.user(balance="300.00", name="Lata Refundme")
    with e2e_app.app_context():
        user = _db.session.execute(_db.select(User).filter_by(email=user_email)).scalar_one()
        astrologer = _db.session.execute(_db.select(User).filter_by(email=astro_email)).scalar_one()
        astrologer.astrologer_profile.chat_availability = "available"
        _db.session.commit()
        t0 = utcnow().replace(hour=10, minute=0, second=0, microsecond=0) - timedelta(days=1)
        session = lifecycle.request(user.id, astrologer.id, "chat", now=t0)
        lifecycle.accept(session.id, astrologer.id, now=t0)
        chat.send(
            session.id, user.id, "u1", "Will my career change? Call me on 9876543210", now=t0 + timedelta(seconds=10)
        )
        chat.send(
            session.id, astrologer.id, "a1", "Saturn is strong in your chart this year.", now=t0 + timedelta(seconds=30)
        )
        for minute in (2, 3, 4):
            charges.charge_minute(session.id, minute, commission_percent=30, now=t0 + timedelta(minutes=minute - 1))
        lifecycle.end(session.id, by_user_id=user.id, now=t0 + timedelta(minutes=4))
        astrologer.astrologer_profile.chat_availability = "offline"
        _db.session.commit()
    return user_email, "Lata Refundme"
