"""Socket.IO: connection checks and event handlers, registered on import.

Handlers are thin: they authenticate, check participation, call a service
and emit. Rooms are named in services/notifications/rooms.py. The /marketplace namespace broadcasts public availability.
"""

from . import auth, broadcast, events  # noqa: F401
