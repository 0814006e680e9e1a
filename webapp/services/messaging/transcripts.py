"""A consultation's transcript as its participant downloads it: plain text, a line a message, in
their own time zone and language (GET /consultations/<id>/transcript.txt)."""

from flask_babel import gettext, ngettext

from ...models import MessageType
from ..users import time_zones
from . import chat, system_lines


def plain_text(session, names, viewer_id, zone_name):
    """The conversation as `viewer_id` saw it, as plain text, one line per message (for download),
    times in the zone `zone_name`, which the first lines state."""
    zone = time_zones.zone(zone_name)
    lines = [
        gettext("Consultation %(id)s", id=session.id),
        gettext("Times in %(zone)s", zone=time_zones.label(zone_name, session.started_at)),
        "",
    ]
    for message in chat.history(session.id, limit=None, viewer_id=viewer_id):
        who = names.get(message.sender_id, "AstroConsult") if message.sender_id else "AstroConsult"
        lines.append(f"[{message.sent_at.astimezone(zone):%Y-%m-%d %H:%M:%S %Z}] {who}: {_as_text(message)}")
    return "\n".join(lines) + "\n"


def _as_text(message):
    """A message as a transcript line says it: a file by what it is and its name."""
    meta = message.message_metadata or {}
    if message.message_type == MessageType.IMAGE and not meta.get("removed"):
        return gettext("[photo] %(name)s", name=message.content)
    if message.message_type == MessageType.FILE and not meta.get("removed"):
        pages = meta.get("pages")
        if pages:
            return ngettext(
                "[document] %(name)s (%(num)d page)", "[document] %(name)s (%(num)d pages)", pages, name=message.content
            )
        return gettext("[document] %(name)s", name=message.content)
    if message.message_type == MessageType.SYSTEM:
        return system_lines.text_of(message)
    return message.content
