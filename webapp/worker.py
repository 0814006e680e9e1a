"""The background job worker: `flask --app webapp jobs work` runs RQ on REDIS_URL (services/jobs.py).

RQ calls `perform_job` by name; it runs in the worker's app (set by the command), in an app context
of its own per job. A job that raises RetryLater is retried by RQ after the next JOB_BACKOFF_SECONDS
(the worker runs RQ's scheduler for that); past them the delivery is marked dead and the job ends.
"""

import uuid

_app = None


def perform_job(delivery_id):
    from .extensions import db
    from .services import jobs

    with _app.app_context():
        try:
            return jobs.perform(uuid.UUID(delivery_id)).status
        finally:
            db.session.remove()


def work(app, burst=False):
    """Work the queue until stopped (or, with burst, until it is empty)."""
    global _app
    from redis import Redis
    from rq import Queue, SimpleWorker

    _app = app
    connection = Redis.from_url(app.config["REDIS_URL"])
    queue = Queue(app.config["JOB_QUEUE"], connection=connection)
    # SimpleWorker: jobs in this process (no fork), so the database pool is this process's own.
    SimpleWorker([queue], connection=connection).work(burst=burst, with_scheduler=True, logging_level="WARNING")
