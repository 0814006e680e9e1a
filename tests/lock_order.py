"""A watch on every row lock the code takes, against the order of webapp/services/locks.py.

It listens to the engine's statements: each SELECT ... FOR UPDATE names the table it locks (its
first FROM) and the rows by the ids among its parameters. Within one database transaction (per
DBAPI connection, reset on commit, rollback and check-in) the rank of the table in locks.ORDER
may never go down, except to take again rows the transaction already holds (accepting a session
charges its first minute, which locks the profile and session that accept holds: waiting on
nothing, that cannot deadlock). The ORM helpers and the set-based batch's raw SQL are seen alike,
in any thread. tests/conftest.py turns it on for every
test on PostgreSQL (SQLite has no row locks) and fails a test that took a lock out of order.
"""

import re
import threading
import traceback

import sqlalchemy as sa

from webapp.services import locks

FOR_UPDATE = re.compile(r"\bFOR\s+UPDATE\b", re.IGNORECASE)
FIRST_FROM = re.compile(r"\bFROM\s+\"?(\w+)\"?", re.IGNORECASE)
UUID = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}", re.IGNORECASE)
RANK = {table: rank for rank, table in enumerate(locks.ORDER)}
_KEY = "lock_order.taken"  # connection.info: (the watch, [(table, row ids)] locked so far in this transaction)


def locked_table(statement):
    """The table a SELECT ... FOR UPDATE locks, or None for any other statement."""
    if not FOR_UPDATE.search(statement):
        return None
    found = FIRST_FROM.search(statement)
    return found.group(1) if found else None


def _where_in_webapp():
    frames = [frame for frame in traceback.extract_stack() if "/webapp/" in frame.filename]
    return " <- ".join(
        f"{frame.filename.split('/webapp/')[-1]}:{frame.lineno} {frame.name}" for frame in frames[::-1][:12]
    )


class LockOrderWatch:
    """Records, per transaction, the tables locked; `violations` lists each lock taken out of order."""

    def __init__(self, engine):
        self.engine = engine
        self.violations = []
        self.transactions = []  # the sequence of tables each finished transaction locked (when it locked any)
        self._mutex = threading.Lock()

    def start(self):
        sa.event.listen(self.engine, "before_cursor_execute", self._statement)
        sa.event.listen(self.engine, "commit", self._end)
        sa.event.listen(self.engine, "rollback", self._end)
        sa.event.listen(self.engine.pool, "checkin", self._checkin)
        return self

    def stop(self):
        sa.event.remove(self.engine, "before_cursor_execute", self._statement)
        sa.event.remove(self.engine, "commit", self._end)
        sa.event.remove(self.engine, "rollback", self._end)
        sa.event.remove(self.engine.pool, "checkin", self._checkin)

    def _statement(self, conn, cursor, statement, parameters, context, executemany):
        table = locked_table(statement)
        if table is None:
            return
        rows = frozenset(found.replace("-", "").lower() for found in UUID.findall(str(parameters)))
        owner, taken = conn.info.get(_KEY, (None, None))
        if owner is not self:  # none yet, or left by an earlier test's watch (its transaction ended unseen)
            taken = []
            conn.info[_KEY] = (self, taken)
        tables = [earlier for earlier, _ in taken]
        held = frozenset().union(*(ids for earlier, ids in taken if earlier == table))
        if table not in RANK:
            self._record(f"a lock on {table}, which locks.ORDER does not rank", tables + [table])
        elif tables and RANK[table] < max(RANK.get(earlier, -1) for earlier in tables) and not (rows and rows <= held):
            self._record(f"{table} locked after {', '.join(tables)}", tables + [table])
        taken.append((table, rows))

    def _record(self, what, sequence):
        with self._mutex:
            self.violations.append(f"{what} (transaction: {' -> '.join(sequence)}; at {_where_in_webapp()})")

    def _finish(self, info):
        owner, taken = info.pop(_KEY, (None, None))
        if owner is self and taken:
            with self._mutex:
                self.transactions.append(tuple(table for table, _ in taken))

    def _end(self, conn):
        self._finish(conn.info)

    def _checkin(self, dbapi_connection, connection_record):
        self._finish(connection_record.info)
