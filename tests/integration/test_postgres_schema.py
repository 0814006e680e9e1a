"""PostgreSQL specifics: native column types, and the one-open-session rule under concurrency."""

import threading
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from webapp.extensions import db
from webapp.models import ConsultationSession, SessionStatus

pytestmark = pytest.mark.postgres


def test_native_types_on_postgresql(app):
    rows = db.session.execute(
        sa.text(
            "SELECT table_name, column_name, data_type, numeric_precision, numeric_scale FROM information_schema.columns"
            " WHERE table_schema = 'public'"
        )
    ).all()
    types = {(r.table_name, r.column_name): r for r in rows}
    assert types[("wallets", "current_balance")].data_type == "numeric"
    assert (
        types[("wallets", "current_balance")].numeric_precision,
        types[("wallets", "current_balance")].numeric_scale,
    ) == (10, 2)
    assert types[("users", "id")].data_type == "uuid"
    assert types[("astrologer_profiles", "languages")].data_type == "jsonb"
    assert types[("consultation_sessions", "next_charge_at")].data_type == "timestamp with time zone"


def _insert_open_session(connection, user_id, astrologer_id):
    connection.execute(
        sa.insert(ConsultationSession).values(
            user_id=user_id, astrologer_id=astrologer_id, status=SessionStatus.WAITING, rate_per_minute=Decimal("10.00")
        )
    )


def test_two_concurrent_requests_cannot_both_open_a_session(make_user, make_astrologer):
    user_id, first_id, second_id = make_user().id, make_astrologer().id, make_astrologer().id
    outcome, engine = {}, db.engine
    with engine.connect() as one:
        one.begin()
        _insert_open_session(one, user_id, first_id)

        def other_request():
            with engine.connect() as two:
                try:
                    with two.begin():
                        _insert_open_session(two, user_id, second_id)  # waits for `one` to decide
                    outcome["two"] = "committed"
                except IntegrityError:
                    outcome["two"] = "refused"

        thread = threading.Thread(target=other_request)
        thread.start()
        thread.join(timeout=0.5)
        assert thread.is_alive(), "the second insert must wait on the first one's uncommitted row"
        one.commit()
    thread.join(timeout=10)
    assert outcome == {"two": "refused"}
    assert db.session.query(ConsultationSession).filter_by(user_id=user_id).count() == 1
