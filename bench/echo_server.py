"""The chat benchmark's baseline: a bare python-socketio server under eventlet with the product's
event names (join_session, send_message -> `message` to the pair's room) and nothing else: no
login, no database, no ordering. `PORT=... python -m bench.echo_server`."""

import eventlet

eventlet.monkey_patch()

import os  # noqa: E402

import socketio  # noqa: E402

server = socketio.Server(async_mode="eventlet")


@server.on("join_session")
def join_session(sid, data):
    server.enter_room(sid, data["session_id"])
    return {"ok": True, "messages": []}


@server.on("send_message")
def send_message(sid, data):
    message = {"session_id": data["session_id"], "client_id": data["client_id"], "content": data["content"]}
    server.emit("message", message, to=data["session_id"])
    return {"ok": True, "message": message}


def healthz(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]


if __name__ == "__main__":
    wsgi = socketio.WSGIApp(server, healthz)
    eventlet.wsgi.server(eventlet.listen(("127.0.0.1", int(os.environ["PORT"]))), wsgi, log_output=False)
