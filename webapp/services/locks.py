"""Row locks (SELECT ... FOR UPDATE): the one place they are taken, in the one order every path follows.

    0. account_tokens         an e-mailed link being used, by its hash; phone_codes: the code being
       phone_codes            tried, by number (a use case proving who someone is locks the proof first,
                              and then at most its own account's rows, which hold no lock)
    1. astrologer_profiles    by astrologer id (a use case about a session takes its astrologer's
                              profile first: ending a session writes its figures, a charge or refund
                              its total_earnings)
    2. consultation_sessions  by session id
    3. wallets                in ascending wallet id
    4. user_profiles          a user's rating figures (the astrologer's private rating of a user)
    5. invoice_counters       the next number of an invoice series, taken by an upsert that holds the row
                              until the commit (services/money/invoices.py), after the top-up's wallets
    6. deliveries             one delivery a job is sending (skipped when another worker holds it; a job's
                              transaction locks nothing else)

A path may skip a rank but never go back to an earlier one in the same transaction: two
transactions then never wait on each other in a cycle. A use case that writes a row of some rank
later (a charge adds to the profile's total_earnings after the wallets) locks it in its place all
the same; otherwise it would hold a session while waiting for a profile that someone ending that
session holds (a deadlock). ORDER names the ranks; tests/conftest.py fails any test on PostgreSQL
whose transactions lock out of this order, the set-based batch charge (services/billing/_batch.py)
included, whose statements are here too.

The ORM helpers return rows reloaded under the lock (or None); the batch helpers return plain rows.
"""

from ..extensions import db
from ..models import (
    OPEN_SESSION_STATUSES,
    AccountToken,
    AstrologerProfile,
    ConsultationSession,
    Delivery,
    PhoneCode,
    SessionStatus,
    UserProfile,
    Wallet,
)

#: The tables in lock order (see the module docstring).
ORDER = (
    "account_tokens", "phone_codes", "astrologer_profiles", "consultation_sessions", "wallets", "user_profiles",
    "invoice_counters", "deliveries",
)  # fmt: skip


def _locked(query, skip_locked=False):
    query = query.with_for_update(skip_locked=skip_locked).execution_options(populate_existing=True)
    return db.session.execute(query).scalar_one_or_none()


# ---------------------------------------------------------------- 0. proofs


def account_token(token_hash):
    return _locked(db.select(AccountToken).filter_by(token_hash=token_hash))


def latest_phone_code(query):
    """The newest code `query` (a select of PhoneCode) finds, locked: two tries of one code take turns, so
    none of them is lost."""
    return _locked(query.order_by(PhoneCode.created_at.desc()).limit(1))


# ---------------------------------------------------------------- 1. astrologer profiles


def astrologer_profile(astrologer_id, skip_locked=False):
    """skip_locked: None at once when another transaction holds it."""
    return _locked(db.select(AstrologerProfile).filter_by(astrologer_id=astrologer_id), skip_locked)


def astrologer_profiles_where(condition, limit):
    """Up to `limit` profiles matching `condition`, in astrologer-id order, skipping those another
    transaction holds (the month's roll-over: any pass may take the rest)."""
    query = (
        db.select(AstrologerProfile)
        .where(condition)
        .order_by(AstrologerProfile.astrologer_id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return db.session.execute(query).scalars().all()


def _astrologer_of(session_id):
    return db.session.execute(
        db.select(ConsultationSession.astrologer_id).filter_by(id=session_id)
    ).scalar_one_or_none()


def profile_of_session(session_id, skip_locked=False):
    """The profile of the session's astrologer, locked; None if there is no such session (or it was skipped)."""
    astrologer_id = _astrologer_of(session_id)
    return None if astrologer_id is None else astrologer_profile(astrologer_id, skip_locked)


# ---------------------------------------------------------------- 2. consultation sessions


def session(session_id):
    return _locked(db.select(ConsultationSession).filter_by(id=session_id))


def session_rows(session_ids):
    """Several sessions locked in id order, as rows of the columns the chat writer reads (no ORM
    objects: it is the busiest path of the product); {id: row}."""
    s = ConsultationSession
    query = (
        db.select(s.id, s.user_id, s.astrologer_id, s.status, s.astrologer_replied_at)
        .where(s.id.in_(sorted(session_ids)))
        .order_by(s.id)
        .with_for_update()
    )
    return {row.id: row for row in db.session.execute(query)}


def session_and_profile(session_id):
    """(astrologer profile, session), locked in the order: profile first; (None, None) if there is no such session."""
    astrologer_id = _astrologer_of(session_id)
    if astrologer_id is None:
        return None, None
    return astrologer_profile(astrologer_id), session(session_id)


def due_session(session_id, now):
    """An active session whose next minute is due by `now`, locked after its astrologer's profile;
    None when another transaction holds either (skipped, not waited for) or it is no longer due."""
    if profile_of_session(session_id, skip_locked=True) is None:
        return None
    return _locked(
        db.select(ConsultationSession).where(
            ConsultationSession.id == session_id,
            ConsultationSession.status == SessionStatus.ACTIVE,
            ConsultationSession.next_charge_at <= now,
        ),
        skip_locked=True,
    )


def active_session_of(user_id):
    """The user's active session, locked in the order (its astrologer's profile, then the session), or None.

    A top-up takes it before the wallet it credits, as a charge does: otherwise the top-up would hold
    the wallet while its chat line waits for the session that a billing pass holds while it waits for
    the wallet (a deadlock), and the chat line's seq would be read without the session's lock.
    """
    session_id = db.session.execute(
        db.select(ConsultationSession.id).where(
            ConsultationSession.user_id == user_id, ConsultationSession.status.in_(OPEN_SESSION_STATUSES)
        )
    ).scalar_one_or_none()
    if session_id is None:
        return None
    _, found = session_and_profile(session_id)
    return found if found is not None and found.status == SessionStatus.ACTIVE else None


# ---------------------------------------------------------------- 3. wallets


def wallets(*wallet_ids):
    """The wallets, locked in id order; a dict by id. LookupError names one that does not exist."""
    ids = sorted(set(wallet_ids))
    rows = db.session.execute(
        db.select(Wallet)
        .where(Wallet.id.in_(ids))
        .order_by(Wallet.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalars()
    found = {wallet.id: wallet for wallet in rows}
    missing = set(ids) - set(found)
    if missing:
        raise LookupError(f"no wallet {sorted(missing)[0]}")
    return found


def wallet(wallet_id):
    return wallets(wallet_id)[wallet_id]


# ---------------------------------------------------------------- 4. user profiles


def user_profile(user_id):
    return _locked(db.select(UserProfile).filter_by(user_id=user_id))


# ---------------------------------------------------------------- 5. deliveries


def delivery(delivery_id):
    """The delivery, locked; None when another transaction holds it (or there is none)."""
    return _locked(db.select(Delivery).filter_by(id=delivery_id), skip_locked=True)


# ---------------------------------------------------------------- the set-based batch (PostgreSQL)


def batch_profiles(candidates, params):
    """Rank 1 for a batch: the profiles of the astrologers of the sessions `candidates` (SQL selecting
    astrologer_id) names, in id order, skipping those someone holds (a session being ended); the ids
    locked, as text."""
    return (
        db.session.execute(
            db.text(
                "SELECT a.astrologer_id::text FROM astrologer_profiles a"
                f" WHERE a.astrologer_id IN (SELECT d.astrologer_id FROM ({candidates}) d)"
                " ORDER BY a.astrologer_id FOR UPDATE OF a SKIP LOCKED"
            ),
            params,
        )
        .scalars()
        .all()
    )


def batch_sessions(claim, columns, condition, params):
    """Rank 2 for a batch: the sessions matching `condition` (SQL over consultation_sessions s; it
    binds :astrologers, the profiles locked), skipping those someone holds, their `columns` copied
    into the temporary table `claim` in the database (nothing comes back); how many were claimed."""
    return db.session.execute(
        db.text(
            f"INSERT INTO {claim} SELECT {columns} FROM consultation_sessions s"
            f" WHERE s.astrologer_id = ANY(CAST(:astrologers AS uuid[])) AND {condition}"
            " ORDER BY s.next_charge_at LIMIT :limit FOR UPDATE OF s SKIP LOCKED"
        ),
        params,
    ).rowcount


def batch_wallets(claim, house):
    """Rank 3 for a batch: the wallets of every user and astrologer in `claim`, and the platform's
    (user `house`), in id order, waited for."""
    db.session.execute(
        db.text(
            "SELECT count(*) FROM (SELECT w.id FROM wallets w WHERE w.user_id = ANY(ARRAY("
            f"SELECT user_id FROM {claim} UNION SELECT astrologer_id FROM {claim} UNION SELECT CAST(:house AS uuid)))"
            " ORDER BY w.id FOR UPDATE OF w) locked"
        ),
        {"house": house},
    )
