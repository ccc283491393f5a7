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
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from bot.clock import utcnow
from bot.courier import Courier
from bot.inbox import waiting
from bot.media import attach_media
from bot.messages import Inbound
from conversations.engine import REPLIES_PER_MINUTE, Engine, Outcome
from storage.db import Database

log = logging.getLogger(__name__)


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
        replies_per_minute: int = REPLIES_PER_MINUTE,
    ) -> None:
        self.db = db
        self.replies_per_minute = replies_per_minute
        self.courier = courier
        self.clock = clock
        self.poll = poll
        self.batch = batch
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_pending(self) -> int:
        """Handle every delivery waiting now; how many were handled."""
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
        if engine.handle_recorded(inbound) is not Outcome.HANDLED:
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
            except Exception:  # the database went away: wait, go again; nothing is lost
                log.exception("inbox processing failed; again in %.1f s", delay)
                self._stop.wait(delay)
                delay = min(delay * 2, 30.0)
