"""What the lifecycle tells people through the notification centre and Web Push (services/notifications/inbox.py),
so an astrologer with no dashboard open hears of a request, and a user of its answer.

    request_incoming   to the astrologer, when a request reaches them (offered or queued); its push has
                       Accept and Decline buttons, which open the dashboard's requests
    request_answered   to the user: accepted (the room), declined or unanswered in time
    queue_offer        to the user whose queued request now reaches the astrologer
    refund_made        to the user, what came back and why (the session's page); to the astrologer, what
                       of their earnings was reversed and why (the earnings page)
"""

from ...extensions import db
from ...models import User, utcnow
from .. import signals
from ..messaging.system_lines import N_, line
from ..notifications import inbox as notifications

DASHBOARD = "/dashboard#requests-panel"


def _name(user_id):
    return db.session.get(User, user_id).name


def request_incoming(session, position, now=None):
    who, channel = _name(session.user_id), session.channel.value
    body = (
        line(N_("Accept it from your dashboard."))
        if position == 0
        else line(N_("Queued: number %(position)s in line."), position=position)
    )
    notifications.tell(
        [session.astrologer_id],
        "request_incoming",
        line(N_("%(name)s asks for a %(channel)s"), name=who, channel=channel),
        body,
        DASHBOARD,
        f"request:{session.id}:{'offered' if position == 0 else 'queued'}",
        now or utcnow(),
        actions=[
            {"action": "accept", "title": N_("Accept"), "url": DASHBOARD},
            {"action": "decline", "title": N_("Decline"), "url": DASHBOARD},
        ],
    )


ANSWERS = {
    "accepted": (N_("%(name)s accepted"), N_("Your %(channel)s has started: open it now."), "/consultations/{id}"),
    "declined": (N_("%(name)s declined"), N_("Nothing was charged. Other astrologers are free now."), "/astrologers"),
    "timed_out": (
        N_("%(name)s did not answer"),
        N_("Nothing was charged. Other astrologers are free now."),
        "/astrologers",
    ),
}


def request_answered(session, answer, now=None):
    title, body, url = ANSWERS[answer]
    name = _name(session.astrologer_id).split()[0]
    notifications.tell(
        [session.user_id],
        "request_answered",
        line(title, name=name),
        line(body, channel=session.channel.value) if "%(channel)s" in body else line(body),
        url.format(id=session.id),
        f"request:{session.id}:{answer}",
        now or utcnow(),
    )


def queue_offer(session, now=None):
    name = _name(session.astrologer_id).split()[0]
    notifications.tell(
        [session.user_id],
        "queue_offer",
        line(N_("You are next with %(name)s"), name=name),
        line(N_("Your request is with %(name)s now; keep this page near."), name=name),
        f"/consultations/{session.id}",
        f"request:{session.id}:offered",
        now or utcnow(),
    )


@signals.refund_made.connect
def refund_made(session, *, refund, reason, now=None, **_):
    """A refund of a session (an admin's, or the automatic one when the astrologer never replied)."""
    channel = session.channel.value
    notifications.tell(
        [session.user_id],
        "refund",
        line(N_("%(amount)s refunded to your wallet"), amount=refund.refund.amount),
        line(N_("For your %(channel)s with %(name)s: %(reason)s"), channel=channel,
             name=_name(session.astrologer_id), reason=reason),
        f"/consultations/{session.id}",
        f"refund:{refund.refund.id}",
        now,
    )  # fmt: skip
    if refund.astrologer_reversal is not None:
        notifications.tell(
            [session.astrologer_id],
            "reversal",
            line(N_("%(amount)s of your earnings reversed"), amount=refund.astrologer_reversal.amount),
            line(N_("A refund to %(name)s for a %(channel)s: %(reason)s"), channel=channel,
                 name=_name(session.user_id).split()[0], reason=reason),
            "/dashboard/earnings",
            f"reversal:{refund.astrologer_reversal.id}",
            now,
        )  # fmt: skip
