"""The periodic loop that drives billing and timeouts.

Runs as a background task of the web process (RUN_BILLING_IN_PROCESS=1, the
default) or alone as `flask billing run`. It uses only
socketio.start_background_task / socketio.sleep, so it works under eventlet
and threading alike. Each pass commits on its own; no transaction is held
across a sleep, and an error in one pass is logged and rolled back, never
fatal to the loop.
"""

from .extensions import db, socketio
from .models import utcnow
from .services import billing


def run_pass(app):
    """One pass, in its own app context and transaction."""
    with app.app_context():
        try:
            result = billing.run_due(utcnow())
            db.session.commit()
            return result
        except Exception:
            db.session.rollback()
            app.logger.exception("billing pass failed; the next pass retries")
            return None
        finally:
            db.session.remove()


def run_forever(app, passes=None):
    """Run a pass every BILLING_POLL_SECONDS (forever, or `passes` times)."""
    count = 0
    while passes is None or count < passes:
        run_pass(app)
        count += 1
        socketio.sleep(app.config["BILLING_POLL_SECONDS"])


def start_in_process(app):
    """Start the loop beside the web server when RUN_BILLING_IN_PROCESS is on."""
    if app.config["RUN_BILLING_IN_PROCESS"]:
        app.logger.info("billing loop running in process every %ss", app.config["BILLING_POLL_SECONDS"])
        return socketio.start_background_task(run_forever, app)
    return None
