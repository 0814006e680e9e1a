"""The chat writer: one task per process stores the messages of every socket in shared transactions.

A send_message handler hands its checked Draft to `submit` and waits; the
writer takes whatever has queued meanwhile (at most MAX_BATCH), stores it
with chat.send_many in one transaction, and wakes each sender with its own
outcome only after the commit, so an acknowledged message is stored. Should a
batch fail, each of its drafts is stored again on its own, so one bad draft
fails only its sender. A batch gathers for LINGER_SECONDS after its first message, so under load a
process writes tens or hundreds of messages in the statements one message used to take. Only the async mode's own queue, event and background task are used
(python-engineio's create_queue/create_event, socketio.start_background_task),
so eventlet and threading behave alike.
"""

import threading
import time
from dataclasses import dataclass, field

from flask import current_app

from ..extensions import db, socketio
from ..services.errors import DomainError, Unexpected
from ..services.messaging import chat

MAX_BATCH = 500
#: How long the writer lets a batch gather after its first message. A batch costs the same handful
#: of statements whether it holds one message or hundreds, and under load a writer that starts as
#: soon as one message waits writes batches of a few; 20 ms (unnoticeable in a chat) makes them
#: tens, and the process's CPU per message falls by about a third (bench/PROFILES.md).
LINGER_SECONDS = 0.02
WAIT_SECONDS = 30  # a sender gives up (and may resend with its client_id) after this long
#: How often the watch fails the senders that have waited longer than WAIT_SECONDS (one timer for the
#: process instead of one per message, which eventlet's timer heap made a tenth of the CPU under load).
WATCH_SECONDS = 5


class WriterUnavailable(Unexpected):
    """The writer did not store the message (its batch failed or it did not answer in time)."""


@dataclass(eq=False)
class _Pending:
    draft: chat.Draft
    done: object  # the async mode's Event
    since: float  # time.monotonic() when it was submitted
    outcome: object = field(default=None)

    def settle(self, outcome):
        """The sender's outcome, once (the writer's, or the watch's when the writer took too long)."""
        if not self.done.is_set():
            self.outcome = outcome
            self.done.set()


class ChatWriter:
    def __init__(self, app):
        self.app = app
        self.queue = None
        self.waiting = set()  # the _Pendings whose senders wait
        self._start = threading.Lock()

    def submit(self, draft):
        """Store `draft` (in a batch with whatever else is waiting); returns (the message serialized,
        created) or raises the DomainError that refused it."""
        if self.queue is None:
            self._ensure_running()
        pending = _Pending(draft, socketio.server.eio.create_event(), time.monotonic())
        self.waiting.add(pending)
        self.queue.put(pending)
        pending.done.wait()  # the writer or the watch settles it (_watch)
        self.waiting.discard(pending)
        if isinstance(pending.outcome, DomainError):
            raise pending.outcome
        return pending.outcome

    def _ensure_running(self):
        with self._start:
            if self.queue is None:
                self.queue = socketio.server.eio.create_queue()
                socketio.start_background_task(self._run)
                socketio.start_background_task(self._watch)

    def _watch(self):
        """Fail the senders that have waited longer than WAIT_SECONDS (a writer stuck on the database)."""
        while True:
            socketio.sleep(WATCH_SECONDS)
            self.fail_late(time.monotonic())

    def fail_late(self, now):
        """WriterUnavailable to every sender waiting since before now - WAIT_SECONDS."""
        for pending in [p for p in self.waiting if p.since < now - WAIT_SECONDS]:
            pending.settle(WriterUnavailable())

    def _run(self):
        empty = socketio.server.eio.get_queue_empty_exception()
        while True:
            batch = [self.queue.get()]
            socketio.sleep(LINGER_SECONDS)
            while len(batch) < MAX_BATCH:
                try:
                    batch.append(self.queue.get_nowait())
                except empty:
                    break
            try:
                self._write(batch)
            except Exception:  # the writer outlives anything: its senders hear at once, the next batch goes on
                self.app.logger.exception("the chat writer failed a batch of %d", len(batch))
                for pending in batch:
                    pending.settle(WriterUnavailable())

    def _write(self, batch):
        with self.app.app_context():
            outcomes = self._store([pending.draft for pending in batch])
            if outcomes is None and len(batch) > 1:
                # One draft the checks did not catch broke the batch: every draft again, alone, so it
                # fails only its own sender.
                outcomes = [(self._store([pending.draft]) or [WriterUnavailable()])[0] for pending in batch]
            outcomes = outcomes or [WriterUnavailable()] * len(batch)
        for pending, outcome in zip(batch, outcomes, strict=True):
            pending.settle(outcome)

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
