"""What depends on the async mode, in one place: CPU-bound work and the driver check.

Everything else uses `socketio.start_background_task` / `socketio.sleep`, so
eventlet stays a configuration choice (SOCKETIO_ASYNC_MODE).
"""

import sys


def eventlet_is_patched():
    # Never import eventlet here: in threading mode it is not loaded, and need not be.
    eventlet = sys.modules.get("eventlet")
    return eventlet is not None and eventlet.patcher.is_monkey_patched("thread")


def run_cpu_bound(function, *args):
    """Run `function` off the event loop under eventlet (a real OS thread), inline otherwise.

    Argon2 hashing takes tens of milliseconds of CPU; on the eventlet hub that
    would freeze every socket of the process.
    """
    if eventlet_is_patched():
        from eventlet import tpool

        return tpool.execute(function, *args)
    return function(*args)


def assert_cooperative_database_driver():
    """Under eventlet, psycopg2 must wait through the hub, or one query blocks every socket."""
    import psycopg2.extensions

    if psycopg2.extensions.get_wait_callback() is None:
        raise RuntimeError(
            "eventlet is the async mode but psycopg2 is not cooperative: "
            "eventlet.monkey_patch() must run before any other import (see wsgi.py)"
        )
