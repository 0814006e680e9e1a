"""The chat writer: one task per process stores the messages of every socket in shared transactions.

A send_message handler hands its checked Draft to `submit` and waits; the
writer takes whatever has queued meanwhile (at most MAX_BATCH), stores it
with chat.send_many in one transaction, and wakes each sender with its own
outcome only after the commit, so an acknowledged message is stored. Should a
batch fail, each of its drafts is stored again on its own, so one bad draft
fails only its sender. At low load a batch is one message and nothing waits for company; under load a
process writes hundreds of messages in the statements one message used to
take. Only the async mode's own queue, event and background task are used
(python-engineio's create_queue/create_event, socketio.start_background_task),
so eventlet and threading behave alike.
"""

import threading
from dataclasses import dataclass, field

from flask import current_app

from ..extensions import db, socketio
from ..services import chat
from ..services.errors import DomainError, Unexpected

MAX_BATCH = 500
WAIT_SECONDS = 30  # a sender gives up (and may resend with its client_id) after this long


class WriterUnavailable(Unexpected):
    """The writer did not store the message (its batch failed or it did not answer in time)."""


@dataclass
class _Pending:
    draft: chat.Draft
    done: object  # the async mode's Event
    outcome: object = field(default=None)


class ChatWriter:
    def __init__(self, app):
        self.app = app
        self.queue = None
        self._start = threading.Lock()

    def submit(self, draft):
        """Store `draft` (in a batch with whatever else is waiting); returns (the message serialized,
        created) or raises the DomainError that refused it."""
        self._ensure_running()
        pending = _Pending(draft, socketio.server.eio.create_event())
        self.queue.put(pending)
        if not pending.done.wait(WAIT_SECONDS):
            raise WriterUnavailable()
        if isinstance(pending.outcome, DomainError):
            raise pending.outcome
        return pending.outcome

    def _ensure_running(self):
        with self._start:
            if self.queue is None:
                self.queue = socketio.server.eio.create_queue()
                socketio.start_background_task(self._run)

    def _run(self):
        empty = socketio.server.eio.get_queue_empty_exception()
        while True:
            batch = [self.queue.get()]
            while len(batch) < MAX_BATCH:
                try:
                    batch.append(self.queue.get_nowait())
                except empty:
                    break
            self._write(batch)

    def _write(self, batch):
        with self.app.app_context():
            outcomes = self._store([pending.draft for pending in batch])
            if outcomes is None and len(batch) > 1:
                # One draft the checks did not catch broke the batch: every draft again, alone, so it
                # fails only its own sender.
                outcomes = [(self._store([pending.draft]) or [WriterUnavailable()])[0] for pending in batch]
            outcomes = outcomes or [WriterUnavailable()] * len(batch)
        for pending, outcome in zip(batch, outcomes, strict=True):
            pending.outcome = outcome
            pending.done.set()

    def _store(self, drafts):
        """The outcomes of storing `drafts` in one transaction (committed), or None when it failed."""
        try:
            outcomes = [
                outcome if isinstance(outcome, DomainError) else (chat.serialize(outcome[0]), outcome[1])
                for outcome in chat.send_many(drafts)
            ]
            db.session.commit()
            return outcomes
        except Exception:
            db.session.rollback()
            current_app.logger.exception("storing %d chat messages failed", len(drafts))
            return None


def submit(draft):
    """Store `draft` through this app's writer (webapp.register_realtime makes one per app); returns
    (the message serialized, created)."""
    return current_app.extensions["chat_writer"].submit(draft)
