"""Background jobs: what a happening asks to send outside the site, done after its commit, once, with retries.

A use case calls `deliver(channel, key, payload)` in its transaction: a `deliveries` row keyed by the
happening (the same key again asks for nothing more). After the commit the delivery's job is queued:

- With REDIS_URL: on RQ (queue JOB_QUEUE), done by `flask --app webapp jobs work`, a process of its
  own beside the web processes and the billing loop (any number of them).
- Without (`make run`): in this process, in a background task (socketio.start_background_task).

Each channel registers its sender where it is defined (`@jobs.channel("push")`); this module imports
none of them (webapp/__init__.py imports the channels' modules, so every process that runs jobs has
them all). `perform(delivery_id)` takes the row under a lock (a second worker skips it), sends it
(services/notifications/mail.py for e-mail) and marks it sent; a retried job finds it sent and sends nothing.
A failure is kept as last_error and retried after JOB_BACKOFF_SECONDS (one wait per retry);
past them the delivery is dead, with its reason, on the admin overview.
"""

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from ..extensions import db, socketio
from ..models import Delivery, utcnow
from . import locks

PENDING = "astro_pending_jobs"
ERROR_MAX = 500
#: Jobs on Redis are JSON and name this one function (webapp/worker.py): a job is a delivery id, and
#: the worker runs nothing else (RQ's default, pickle, would run whatever a job written to Redis names).
JOB_FUNCTION = "webapp.worker.perform_job"
SERIALIZER = "json"  # RQ's name for its JSONSerializer

_channels = {}  # channel name -> sender(payload) -> bool


class RetryLater(Exception):
    """The delivery failed and will be tried again (RQ's Retry, or the in-process loop)."""


def channel(name):
    """Register the decorated `sender(payload) -> bool` as the channel `name`: True sent, False skipped,
    an exception a failure (retried)."""

    def register(sender):
        _channels[name] = sender
        return sender

    return register


def channels():
    """The registered channels' names."""
    return set(_channels)


class UnknownChannel(Exception):
    """No sender is registered for the delivery's channel (its module was never imported)."""


def deliver(channel, key, payload, now=None):
    """Ask for a delivery in the current transaction; queued after the commit. Returns the row
    (the existing one when `key` was asked for before)."""
    found = db.session.execute(db.select(Delivery).filter_by(key=key)).scalar_one_or_none()
    if found is not None:
        return found
    delivery = Delivery(
        key=key, channel=channel, payload=payload, status="pending", attempts=0, created_at=now or utcnow()
    )
    db.session.add(delivery)
    db.session.flush()
    db.session().info.setdefault(PENDING, []).append(delivery.id)
    return delivery


@dataclass(frozen=True)
class Outcome:
    status: str
    attempts: int


def perform(delivery_id, now=None):
    """Send one delivery (its own transactions). Returns its Outcome; raises RetryLater when it failed
    and has retries left."""
    delivery = locks.delivery(delivery_id)
    if delivery is None:
        db.session.rollback()
        return Outcome("locked", 0)  # another worker has it, or it is gone
    if delivery.status != "pending":
        db.session.rollback()
        return Outcome(delivery.status, delivery.attempts)
    delivery.attempts += 1
    try:
        sender = _channels.get(delivery.channel)
        if sender is None:
            raise UnknownChannel(f"no sender is registered for the channel {delivery.channel!r}")
        sent = sender(delivery.payload)
    except Exception as error:  # any failure of the channel: kept, retried, then dead
        delivery.last_error = f"{type(error).__name__}: {error}"[:ERROR_MAX]
        if delivery.attempts > len(current_app.config["JOB_BACKOFF_SECONDS"]):
            delivery.status, delivery.finished_at = "dead", now or utcnow()
            current_app.logger.error(
                "delivery %s is dead after %d attempts: %s", delivery.key, delivery.attempts, delivery.last_error
            )
            db.session.commit()
            return Outcome("dead", delivery.attempts)
        attempts = delivery.attempts
        db.session.commit()
        raise RetryLater(f"attempt {attempts} failed") from error
    delivery.status = "sent" if sent else "skipped"  # skipped: the person turned this kind of mail off
    delivery.finished_at = now or utcnow()
    db.session.commit()
    return Outcome(delivery.status, delivery.attempts)


def dead(limit=50):
    """Deliveries that failed past their retries, newest first (the admin overview)."""
    return (
        db.session.execute(
            db.select(Delivery).filter_by(status="dead").order_by(Delivery.finished_at.desc()).limit(limit)
        )
        .scalars()
        .all()
    )


# ---------------------------------------------------------------- queueing after commit


def _queue(app):
    from redis import Redis
    from rq import Queue

    return Queue(app.config["JOB_QUEUE"], connection=Redis.from_url(app.config["REDIS_URL"]), serializer=SERIALIZER)


def dispatch(app, delivery_ids):
    """Queue the jobs of committed deliveries: on RQ with Redis, else in this process."""
    if not delivery_ids:
        return
    if app.config.get("REDIS_URL"):
        from rq import Retry

        queue = _queue(app)
        backoff = list(app.config["JOB_BACKOFF_SECONDS"])
        for delivery_id in delivery_ids:
            queue.enqueue(
                JOB_FUNCTION,
                str(delivery_id),
                job_id=f"delivery-{delivery_id}",
                retry=Retry(max=len(backoff), interval=backoff) if backoff else None,
                failure_ttl=7 * 24 * 3600,
            )
    else:
        socketio.start_background_task(run_here, app, list(delivery_ids))


def run_here(app, delivery_ids):
    """The in-process worker: each delivery with its retries (socketio.sleep between them)."""
    for delivery_id in delivery_ids:
        for wait in [*app.config["JOB_BACKOFF_SECONDS"], None]:
            with app.app_context():
                try:
                    perform(delivery_id)
                    break
                except RetryLater:
                    pass
                except Exception:
                    app.logger.exception("delivery %s failed unexpectedly", delivery_id)
                    break
                finally:
                    db.session.remove()
            if wait is None:
                break
            socketio.sleep(wait)


@event.listens_for(Session, "after_commit")
def _committed(session):
    ids = session.info.pop(PENDING, None)
    if ids:
        dispatch(current_app._get_current_object(), ids)


@event.listens_for(Session, "after_rollback")
def _rolled_back(session):
    session.info.pop(PENDING, None)
