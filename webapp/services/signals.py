"""What happened, announced to whoever reacts (blinker, Flask's own dependency): the feature that
makes a thing happen sends its signal; the features that react subscribe where they are defined,
so a new reaction adds a receiver and edits no sender.

Every receiver runs at once, inside the sender's transaction, in the order the subscribing modules
were imported (webapp.register_features imports them all): what it writes commits or rolls back with
what happened, and a receiver that fails undoes the whole. Work outside the site (an e-mail, a push,
a language model's pass) is never done in a receiver: it asks for a job (services/jobs.py), which
runs after the commit. DESIGN.md lists each signal's receivers.

    session_started     sender: the ConsultationSession just accepted; profile (locked), now
    session_ended       sender: the ConsultationSession just ended; profile (locked), reason, now
    minute_charged      sender: the ConsultationSession whose next minute the pass charged; minute,
                        due_at, now
    minutes_charged     sender: the set-based batch's BatchCharges (no ORM objects: it is the fast
                        path, announced in bulk); now
    payment_settled     sender: the completed top-up BillingTransaction; now
    refund_made         sender: the ConsultationSession refunded; refund (its legs: refunds.Refund), reason,
                        by_admin (False: the automatic refund as a session ends), now
    availability_changed sender: the astrologer's id; before, after (channel statuses), opened, now
"""

from blinker import Namespace

_signals = Namespace()

session_started = _signals.signal("session-started")
session_ended = _signals.signal("session-ended")
minute_charged = _signals.signal("minute-charged")
minutes_charged = _signals.signal("minutes-charged")
payment_settled = _signals.signal("payment-settled")
refund_made = _signals.signal("refund-made")
availability_changed = _signals.signal("availability-changed")
