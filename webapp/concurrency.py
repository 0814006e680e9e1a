"""What depends on the async mode, in one place: CPU-bound work and the driver check.

Everything else uses `socketio.start_background_task` / `socketio.sleep`, so
eventlet stays a configuration choice (SOCKETIO_ASYNC_MODE): gevent and
threading run the same code.
"""

import sys


def green_library():
    """The green library that has patched this process's threads ("eventlet", "gevent"), or None."""
    # Never import either here: in threading mode neither is loaded, and need not be.
    eventlet = sys.modules.get("eventlet")
    if eventlet is not None and eventlet.patcher.is_monkey_patched("thread"):
        return "eventlet"
    monkey = sys.modules.get("gevent.monkey")
    if monkey is not None and monkey.is_module_patched("threading"):
        return "gevent"
    return None


def run_cpu_bound(function, *args):
    """Run `function` off the event loop under eventlet or gevent (a real OS thread), inline otherwise.

    Argon2 hashing takes tens of milliseconds of CPU; on the hub that would
    freeze every socket of the process.
    """
    library = green_library()
    if library == "eventlet":
        from eventlet import tpool

        return tpool.execute(function, *args)
    if library == "gevent":
        import gevent

        return gevent.get_hub().threadpool.apply(function, args)
    return function(*args)


def assert_cooperative_database_driver():
    """Under eventlet or gevent, psycopg2 must wait through the hub, or one query blocks every socket."""
    import psycopg2.extensions

    if psycopg2.extensions.get_wait_callback() is None:
        raise RuntimeError(
            "a green async mode is configured but psycopg2 is not cooperative: "
            "eventlet.monkey_patch() (or gevent's patch_all and psycogreen) must run before any other import "
            "(see wsgi.py)"
        )
