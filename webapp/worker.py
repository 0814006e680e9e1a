"""The background job worker: `flask --app webapp jobs work` runs RQ on REDIS_URL (services/jobs.py).

RQ calls `perform_job` by name; it runs in the worker's app (set by the command), in an app context
of its own per job. A job that raises RetryLater is retried by RQ after the next JOB_BACKOFF_SECONDS
(the worker runs RQ's scheduler for that); past them the delivery is marked dead and the job ends.

A job in Redis names the function to run, and RQ's default format is pickle: anyone who could write
to the queue would run code here. So jobs are JSON (SERIALIZER: a job is a delivery id, nothing
more; services/jobs.py), and the worker runs only JOB_FUNCTION; any other job is failed unread, and logged. Redis must
still be private and authenticated (docs/operations.md): whoever writes to it can fill the queue.
"""

import logging
import uuid

from .extensions import db
from .services import jobs
from .services.jobs import JOB_FUNCTION, SERIALIZER

_app = None
log = logging.getLogger(__name__)


def perform_job(delivery_id):
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

    class RegisteredJobsWorker(SimpleWorker):
        """SimpleWorker (jobs in this process, no fork, so the database pool is this process's own) that
        runs nothing but JOB_FUNCTION."""

        def perform_job(self, job, queue):
            if job.func_name != JOB_FUNCTION:
                log.error("refused job %s: it names %r, not a registered job", job.id, job.func_name)
                self.handle_job_failure(job, queue=queue, exc_string=f"refused: {job.func_name!r} is not a job")
                return False
            return super().perform_job(job, queue)

    _app = app
    connection = Redis.from_url(app.config["REDIS_URL"])
    queue = Queue(app.config["JOB_QUEUE"], connection=connection, serializer=SERIALIZER)
    RegisteredJobsWorker([queue], connection=connection, serializer=SERIALIZER).work(
        burst=burst, with_scheduler=True, logging_level="WARNING"
    )
