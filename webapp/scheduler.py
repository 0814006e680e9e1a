"""The periodic loop that drives billing and timeouts (and starts each month's astrologer figures).

Runs as a background task of the web process (RUN_BILLING_IN_PROCESS=1, the
default; started once per process) or alone as `flask billing run`. It uses
only socketio.start_background_task / socketio.sleep, so it works under
eventlet and threading alike. Each unit of work commits on its own (see
services/periodic.py); no transaction is held across a sleep, and an error
in a pass is logged and rolled back, never fatal to the loop. Any number of
loops may run at once: sessions are claimed with FOR UPDATE SKIP LOCKED and
every charge leg has its idempotency key.
"""

import signal
import threading

from . import metrics
from .extensions import db, socketio
from .models import utcnow
from .services import periodic
from .services.astrologers import performance
from .services.money import ledger_checker

_started = set()


def run_pass(app):
    """One pass, in its own app context."""
    with app.app_context(), metrics.BILLING_PASS.time():
        try:
            now = utcnow()
            done = periodic.run_due(now)
            performance.roll_over(now)
            db.session.commit()
        except Exception:
            db.session.rollback()
            metrics.BILLING_PASS_FAILURES.inc()
            app.logger.exception("billing pass failed; the next pass retries")
            return None
        finally:
            db.session.remove()
        metrics.CHARGES.inc(done["charged"])
        metrics.SESSIONS_ENDED.inc(done["ended"])
    verify_ledger_if_due(app)
    return done


def verify_ledger_if_due(app, now=None):
    """The scheduled ledger verification (every LEDGER_VERIFY_SECONDS), stored for the admin overview;
    a failure is logged and never stops billing."""
    with app.app_context():
        try:
            now = now or utcnow()
            if not ledger_checker.due(now, app.config["LEDGER_VERIFY_SECONDS"]):
                return None
            report = ledger_checker.record("schedule", now)
            db.session.commit()
            if not report.ok:
                app.logger.error("ledger verification found %s breach(es)", report.breach_count)
            return report
        except Exception:
            db.session.rollback()
            app.logger.exception("scheduled ledger verification failed; the next pass retries")
            return None
        finally:
            db.session.remove()


def run_forever(app, stop=None, passes=None):
    """Run a pass every BILLING_POLL_SECONDS until `stop` is set (or `passes` passes ran)."""
    count = 0
    while not (stop and stop.is_set()) and (passes is None or count < passes):
        run_pass(app)
        count += 1
        socketio.sleep(app.config["BILLING_POLL_SECONDS"])


def start_in_process(app):
    """Start the loop beside the web server when RUN_BILLING_IN_PROCESS is on, once per process."""
    if not app.config["RUN_BILLING_IN_PROCESS"] or id(app) in _started:
        return None
    _started.add(id(app))
    app.logger.info("billing loop running in process every %ss", app.config["BILLING_POLL_SECONDS"])
    return socketio.start_background_task(run_forever, app)


def run_until_signalled(app):
    """`flask billing run`: the loop in the foreground; SIGTERM or SIGINT finish the current pass and stop."""
    stop = threading.Event()

    def request_stop(signum, frame):
        app.logger.info("signal %s: stopping after this pass", signum)
        stop.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, request_stop)
    run_forever(app, stop=stop)
