"""What the lifecycle tells people through the notification centre and Web Push (services/notifications/inbox.py),
so an astrologer with no dashboard open hears of a request, and a user of its answer.

    request_incoming   to the astrologer, when a request reaches them (offered or queued); its push has
                       Accept and Decline buttons, which open the dashboard's requests
    request_answered   to the user: accepted (the room), declined or unanswered in time
    queue_offer        to the user whose queued request now reaches the astrologer
"""

from ...extensions import db
from ...models import User, utcnow
from ..notifications import inbox as notifications

DASHBOARD = "/dashboard#requests-panel"


def _name(user_id):
    return db.session.get(User, user_id).name


def request_incoming(session, position, now=None):
    who, what = _name(session.user_id), session.channel.label.lower()
    body = "Accept it from your dashboard." if position == 0 else f"Queued: number {position} in line."
    notifications.tell(
        [session.astrologer_id],
        "request_incoming",
        f"{who} asks for a {what}",
        body,
        DASHBOARD,
        f"request:{session.id}:{'offered' if position == 0 else 'queued'}",
        now or utcnow(),
        actions=[
            {"action": "accept", "title": "Accept", "url": DASHBOARD},
            {"action": "decline", "title": "Decline", "url": DASHBOARD},
        ],
    )


ANSWERS = {
    "accepted": ("{name} accepted", "Your {what} has started: open it now.", "/consultations/{id}"),
    "declined": ("{name} declined", "Nothing was charged. Other astrologers are free now.", "/astrologers"),
    "timed_out": ("{name} did not answer", "Nothing was charged. Other astrologers are free now.", "/astrologers"),
}


def request_answered(session, answer, now=None):
    title, body, url = ANSWERS[answer]
    words = {"name": _name(session.astrologer_id).split()[0], "what": session.channel.label.lower(), "id": session.id}
    notifications.tell(
        [session.user_id],
        "request_answered",
        title.format(**words),
        body.format(**words),
        url.format(**words),
        f"request:{session.id}:{answer}",
        now or utcnow(),
    )


def queue_offer(session, now=None):
    name = _name(session.astrologer_id).split()[0]
    notifications.tell(
        [session.user_id],
        "queue_offer",
        f"You are next with {name}",
        f"Your request is with {name} now; keep this page near.",
        f"/consultations/{session.id}",
        f"request:{session.id}:offered",
        now or utcnow(),
    )
