"""The courier: sends people's freshly queued replies right after the turn that queued them.

The scheduled dispatcher would send them within two seconds anyway; the courier cuts that
wait. It runs on a small pool, off the thread that handled the message, and batches itself
under load.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from sqlalchemy import select, tuple_

from bot.core.clock import utcnow
from bot.messaging.outbox import kick
from bot.messaging.senders import Sender
from storage.db import Database
from storage.messaging import PENDING, OutboxMessage

log = logging.getLogger(__name__)
KICK_BATCH = 20


class Courier:
    """Sends people's freshly queued replies right after the webhook's commit.

    Kicks run on a small pool, off the request thread. Under load they batch themselves: a
    kick takes every address waiting at that moment, so a burst of messages costs a few
    claims and sends, not one claim per message (on SQLite every claim is a write).
    """

    def __init__(
        self,
        db: Database,
        senders: Mapping[str, Sender],
        *,
        fixed_clock: Callable[[], datetime] | None = None,
        enabled: bool = True,
        workers: int = 2,
    ) -> None:
        self.db = db
        self.senders = senders
        self.fixed_clock = fixed_clock
        self.enabled = enabled
        self.workers = workers
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="slotbot-kick")
        self._idle = threading.Condition()
        self._waiting: set[tuple[str, str]] = set()
        self._active = 0

    def after_commit(self, channel: str, address: str) -> None:
        """Send what is due for `channel:address` soon, in the background."""
        if not self.enabled:
            return
        with self._idle:
            self._waiting.add((channel, address))
            if self._active >= self.workers:
                return  # a running kick takes this address on its next round
            self._active += 1
        self._pool.submit(self._run)

    def _run(self) -> None:
        while True:
            with self._idle:
                if not self._waiting:
                    self._active -= 1
                    self._idle.notify_all()
                    return
                keys, self._waiting = self._waiting, set()
            self._kick(sorted(keys))

    def _kick(self, keys: list[tuple[str, str]]) -> None:
        now = self.fixed_clock() if self.fixed_clock else None
        try:
            for start in range(0, len(keys), KICK_BATCH):
                chunk = keys[start : start + KICK_BATCH]
                with self.db.read() as session:
                    ids = list(
                        session.scalars(
                            select(OutboxMessage.id)
                            .where(
                                tuple_(OutboxMessage.channel, OutboxMessage.address).in_(chunk),
                                OutboxMessage.status == PENDING,
                                OutboxMessage.send_at <= (now or utcnow()),
                            )
                            .order_by(OutboxMessage.id)
                            .limit(KICK_BATCH * 5)
                        )
                    )
                kick(self.db, self.senders, ids, now=now)
        except Exception:  # the scheduler's tick sends whatever a failed kick left
            log.exception("kick for %d addresses failed", len(keys))

    def drain(self, timeout: float = 30.0) -> bool:
        """Wait until every kick asked for so far has finished (tests, shutdown)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._active == 0, timeout)

    def close(self) -> None:
        """Finish queued kicks and stop the pool."""
        self._pool.shutdown(wait=True)
