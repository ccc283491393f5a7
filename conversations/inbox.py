"""The inbox processor: handles what the webhooks recorded, oldest first, in the worker.

Webhooks only record a delivery and answer their provider; this turns each waiting message
into a conversation turn (`Engine.handle_recorded`), notes any photos on the customer's
appointment, and hands the person's replies to the courier to be sent at once. It runs as a
thread in `slotbot worker` (beside the scheduler), polling the inbox every `poll` seconds;
`run_pending()` is the same work once, for tests and tools.

Nothing is lost in a crash: a message is marked handled in the turn's own transaction, so one
cut off mid-turn is still waiting when the worker comes back. Messages from one person go in
order; should two workers run, a message whose elder is still in another worker's hands is
left for the next pass.

Each pass first drains the spool (`bot.messaging.spool`: deliveries the webhooks kept on disk while the
database refused them) into the database. While the database keeps failing, a pass stops
where it is and the processor waits (doubling, up to `MAX_BACKOFF`) and goes again; nothing
is answered until it can be recorded, and nothing is lost.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from bot.core.clock import utcnow
from bot.core.logcontext import delivery
from bot.customers.media import attach_media
from bot.messaging.courier import Courier
from bot.messaging.inbox import waiting
from bot.messaging.messages import Inbound
from bot.messaging.spool import DATABASE_ERRORS, Spool
from conversations.engine import REPLIES_PER_MINUTE, Engine, Outcome
from storage.db import Database

log = logging.getLogger(__name__)
MAX_BACKOFF = 5.0  # seconds between tries while the database fails: back soon after it is


class DatabaseUnavailable(Exception):
    """The database refused a turn (and its apology): the pass stops, the message waits."""


class InboxProcessor:
    """Turns recorded deliveries into conversation turns and their replies into sends."""

    def __init__(
        self,
        db: Database,
        courier: Courier,
        *,
        clock: Callable[[], datetime] = utcnow,
        poll: float = 0.1,
        batch: int = 100,
        spool: Spool | None = None,
        drainers: Mapping[str, Callable[[dict[str, Any]], object]] | None = None,
        replies_per_minute: int = REPLIES_PER_MINUTE,
    ) -> None:
        """`drainers`: how each kind of spooled delivery gets into the database."""
        self.db = db
        self.spool = spool
        self.drainers = drainers or {}
        self.replies_per_minute = replies_per_minute
        self.courier = courier
        self.clock = clock
        self.poll = poll
        self.batch = batch
        self.failed_passes = 0  # passes cut short by a failing database (logged)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_pending(self) -> int:
        """Drain the spool, then handle every delivery waiting now; how many were handled.

        Raises when the database fails (`DatabaseUnavailable` or its own error).
        """
        if self.spool is not None:
            self.spool.drain(self.drainers)
        handled, after = 0, 0
        while not self._stop.is_set():
            found = waiting(self.db, self.batch, after)
            if not found:
                break
            for message_id, inbound in found:
                after = message_id
                if self.handle(inbound):
                    handled += 1
        return handled

    def handle(self, inbound: Inbound) -> bool:
        """One recorded delivery: the turn, its photos, its replies; False if not done here."""
        engine = Engine(self.db, clock=self.clock, replies_per_minute=self.replies_per_minute)
        with delivery(inbound.provider_id):  # every line about it carries its provider id
            outcome = engine.handle_recorded(inbound)
            if outcome is Outcome.UNAVAILABLE:
                raise DatabaseUnavailable(f"the database refused message {inbound.provider_id}")
            if outcome is not Outcome.HANDLED:
                return False
            if inbound.attachments:
                attach_media(self.db, inbound, self.clock())
            self.courier.after_commit(inbound.channel, inbound.sender)
        return True

    def wake(self) -> None:
        """Look at the inbox now rather than at the next poll."""
        self._wake.set()

    def start(self) -> InboxProcessor:
        """Process in a daemon thread until `stop()`."""
        self._thread = threading.Thread(target=self._run, name="slotbot-inbox", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the message in hand and stop."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        delay = self.poll
        while not self._stop.is_set():
            try:
                if self.run_pending() == 0:
                    self._wake.wait(self.poll)
                    self._wake.clear()
                delay = self.poll
            except Exception as exc:  # the database went away: wait, go again; nothing is lost
                log.warning(
                    "inbox processing failed (%s: %s); again in %.1f s",
                    type(exc).__name__,
                    exc,
                    delay,
                    exc_info=not isinstance(exc, (DatabaseUnavailable, *DATABASE_ERRORS)),
                )
                self.failed_passes += 1
                self._stop.wait(delay)
                delay = min(delay * 2, MAX_BACKOFF)
