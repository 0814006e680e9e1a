"""Races on PostgreSQL: two users for an astrologer's last slot, one user requesting twice at once."""

import threading

import pytest

from webapp.extensions import db
from webapp.models import ConsultationSession
from webapp.services.consultations import lifecycle, queue
from webapp.services.errors import AlreadyInSession

pytestmark = pytest.mark.postgres


def _race(app, calls):
    """Run the calls at the same instant, each in its own app context and transaction."""
    start = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def run(index, call):
        with app.app_context():
            start.wait()
            try:
                call()
                db.session.commit()
                outcomes[index] = "ok"
            except AlreadyInSession:
                db.session.rollback()
                outcomes[index] = "already_in_session"
            except Exception as error:
                db.session.rollback()
                outcomes[index] = repr(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


@pytest.mark.parametrize("attempt", range(5))
def test_two_users_race_for_the_last_slot(app, consult, attempt):
    astrologer = consult.astrologer(capacity=1)
    first, second = consult.user(), consult.user()
    ids = astrologer.id, first.id, second.id
    outcomes = _race(
        app,
        [lambda: lifecycle.request(ids[1], ids[0], "chat"), lambda: lifecycle.request(ids[2], ids[0], "chat")],
    )
    assert outcomes == ["ok", "ok"]
    sessions = db.session.query(ConsultationSession).filter_by(astrologer_id=ids[0]).all()
    offered = [s for s in sessions if s.offered_at is not None]
    assert len(sessions) == 2 and len(offered) == 1  # exactly one wins the slot; the other queues
    queued = next(s for s in sessions if s.offered_at is None)
    assert queue.queue_position(queued) == 1


def test_one_user_requesting_twice_at_once_gets_one_session(app, consult):
    user, a, b = consult.user(), consult.astrologer(), consult.astrologer()
    ids = user.id, a.id, b.id
    outcomes = _race(
        app,
        [lambda: lifecycle.request(ids[0], ids[1], "chat"), lambda: lifecycle.request(ids[0], ids[2], "chat")],
    )
    assert sorted(outcomes) == ["already_in_session", "ok"]
    assert db.session.query(ConsultationSession).filter_by(user_id=ids[0]).count() == 1
