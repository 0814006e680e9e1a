"""Process entry point: `python wsgi.py` serves the app as the environment configures it.

Under eventlet (the default SOCKETIO_ASYNC_MODE) monkey-patching must come
before any other import: it makes sockets, threads and psycopg2 cooperative,
and a single blocking call would freeze every socket of the process. gevent
(measured beside eventlet in bench/RESULTS.md; gevent and psycogreen are in
requirements-dev.txt) is patched the same way, psycopg2 through psycogreen.
"""

import os
import warnings

# Eventlet is the product owner's choice; its maintainers' deprecation notice is known (DESIGN.md).
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

ASYNC_MODE = os.environ.get("SOCKETIO_ASYNC_MODE", "eventlet")
if ASYNC_MODE == "eventlet":
    import eventlet

    eventlet.monkey_patch()
    import eventlet.green.socket  # noqa: E402
    import eventlet.wsgi  # noqa: E402
elif ASYNC_MODE == "gevent":
    from gevent import monkey

    monkey.patch_all()
    from psycogreen.gevent import patch_psycopg  # noqa: E402

    patch_psycopg()
    from gevent import pywsgi  # noqa: E402

from webapp import create_app  # noqa: E402
from webapp.concurrency import assert_cooperative_database_driver  # noqa: E402
from webapp.extensions import socketio  # noqa: E402
from webapp.scheduler import start_in_process  # noqa: E402

app = create_app()
if app.config["SOCKETIO_ASYNC_MODE"] in ("eventlet", "gevent"):
    assert_cooperative_database_driver()


def main():
    host, port = app.config["HOST"], app.config["PORT"]
    start_in_process(app)
    app.logger.info("serving on http://%s:%s (%s)", host, port, app.config["SOCKETIO_ASYNC_MODE"])
    if app.config["SOCKETIO_ASYNC_MODE"] == "eventlet":
        # eventlet's server, started here rather than by socketio.run, which cannot pass it debug=False:
        # with its default it writes the traceback of any error that reaches it into the response.
        family, _, _, _, address = eventlet.green.socket.getaddrinfo(host, port)[0]
        eventlet.wsgi.server(
            eventlet.listen(address, family),
            app,
            log_output=False,  # the app logs one structured access line per request (webapp/observability.py)
            debug=app.config["SERVER_DEBUG"],
        )
        return
    if app.config["SOCKETIO_ASYNC_MODE"] == "gevent":
        # WebSocket through simple-websocket (engineio's gevent driver); pywsgi answers a plain 500, no traceback.
        pywsgi.WSGIServer((host, port), app, log=None).serve_forever()
        return
    socketio.run(
        app,
        host=host,
        port=port,
        use_reloader=False,
        log_output=False,
        allow_unsafe_werkzeug=True,  # threading mode serves through Werkzeug; it is for development and tests
    )


if __name__ == "__main__":
    main()
