"""Socket.IO connections: refused without a logged-in user, personal room for a logged-in one."""

from webapp.extensions import socketio


def test_anonymous_socket_is_refused(app, client):
    socket = socketio.test_client(app, flask_test_client=client)
    assert not socket.is_connected()


def test_logged_in_socket_connects_and_receives_personal_events(app, client, auth, make_user):
    user = make_user(email="ravi@example.com")
    auth.login("ravi@example.com")
    socket = socketio.test_client(app, flask_test_client=client)
    assert socket.is_connected()
    socketio.emit("ping_personal", {"hello": "you"}, to=f"user:{user.id}")
    received = socket.get_received()
    assert {"name": "ping_personal", "args": [{"hello": "you"}], "namespace": "/"} in received
    socket.disconnect()
