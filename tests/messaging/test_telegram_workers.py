"""Two `slotbot worker` processes against the fake Telegram: only the poller-lease holder
long-polls, a killed or stopped holder hands over to the other, no 409 loop, and every
update is handled (and answered) exactly once.

Runs on SQLite and on PostgreSQL (`db_url`).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.config import apply_config, load_config
from bot.messaging.inbox import backlog
from storage.db import Database
from storage.leases import WorkerLease
from storage.models import InboundMessage
from tests.conftest import DEMO_CONFIG, ROOT
from tests.fakes.telegram_api import FakeTelegram, make_fake_telegram, telegram_env, text_update
from webhooks.telegram import POLLER_LEASE

LEASE_SECONDS = "5"  # short, so a lapse comes soon; the test waits on events, not on time
MAX_CONFLICTS = 3  # a holder late to renew under a busy machine may overlap once or twice


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with make_fake_telegram() as server:
        yield server


class Worker:
    """One `slotbot worker` process, its log kept in a file."""

    def __init__(self, url: str, fake: FakeTelegram, log: Path) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "TELEGRAM_"))}
        env |= telegram_env(fake, TELEGRAM_POLLER_LEASE=LEASE_SECONDS)
        self.log = log
        self._out = log.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "webhooks.cli", "--database", url, "--config", str(DEMO_CONFIG)]
            + ["worker"],
            cwd=ROOT,
            env=env,
            stdout=self._out,
            stderr=subprocess.STDOUT,
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def said(self, text: str) -> int:
        """How many log lines contain `text`."""
        return sum(text in line for line in self.log.read_text(errors="replace").splitlines())

    def end(self, sig: int) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        self.process.wait(30)
        self._out.close()


def wait(condition: Callable[[], object], timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return bool(condition())


def lease(db: Database) -> WorkerLease | None:
    with db.read() as session:
        return session.get(WorkerLease, POLLER_LEASE)


def holding(db: Database, workers: list[Worker]) -> Worker | None:
    """The worker whose process holds the poller lease (None: nobody does)."""
    row = lease(db)
    if row is None or row.holder is None:
        return None
    pid = int(row.holder.split(":")[1])
    return next((w for w in workers if w.pid == pid), None)


def handled(db: Database) -> int:
    with db.read() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(InboundMessage)
                .where(InboundMessage.handled_at.is_not(None))
            )
            or 0
        )


def feed(fake: FakeTelegram, chats: range) -> None:
    """Each chat says /start once: it must get exactly one greeting."""
    fake.push(*(text_update(chat, "/start") for chat in chats))


def all_answered(fake: FakeTelegram, chats: range) -> Callable[[], bool]:
    return lambda: all(fake.messages(chat) for chat in chats)


def test_two_workers_poll_one_at_a_time_hand_over_on_a_restart_and_handle_every_update_once(
    db_url: str, fake: FakeTelegram, tmp_path: Path
):
    db = Database(db_url)
    apply_config(db, load_config(DEMO_CONFIG))
    workers = [Worker(db_url, fake, tmp_path / f"worker-{n}.log") for n in range(2)]
    try:
        # One of them takes the lease and polls; the other waits.
        assert wait(lambda: holding(db, workers) is not None), "nobody took the poller lease"
        feed(fake, range(1, 11))
        assert wait(all_answered(fake, range(1, 11))), "the first ten were not answered"

        # Killed without a word: the lease lapses, and only then the other one polls.
        assert wait(lambda: holding(db, workers) is not None)
        killed = holding(db, workers)
        [heir] = [w for w in workers if w is not killed]
        lapses_at = lease(db).expires_at
        killed.end(signal.SIGKILL)
        feed(fake, range(11, 21))
        assert wait(lambda: holding(db, workers) is heir), "the lease was not taken over"
        assert lease(db).acquired_at >= lapses_at  # taken over once it lapsed, not before
        assert wait(all_answered(fake, range(11, 21))), "updates after the kill were lost"
        assert heir.said("this worker polls now") >= 1

        # A restarted worker waits; the holder stopped cleanly gives the lease back at once.
        workers.append(Worker(db_url, fake, tmp_path / "worker-2.log"))
        alive = [w for w in workers if w is not killed]
        assert wait(lambda: all(w.said("inbox processor and scheduler started") for w in alive))
        assert wait(lambda: holding(db, alive) is not None)
        stopped = holding(db, alive)
        [heir] = [w for w in alive if w is not stopped]
        stopped.end(signal.SIGTERM)
        assert stopped.said("poller lease released") == 1
        assert wait(lambda: holding(db, workers) is heir), "the lease was not handed over"
        feed(fake, range(21, 31))
        assert wait(all_answered(fake, range(21, 31))), "updates after the stop were lost"
        assert wait(lambda: backlog(db).count == 0)
    finally:
        for worker in workers:
            worker.end(signal.SIGTERM)

    # Every update recorded once, handled once, answered once.
    with db.read() as session:
        ids = session.scalars(select(InboundMessage.provider_id)).all()
    assert len(ids) == len(set(ids)) == 30 and handled(db) == 30
    assert {chat: len(fake.messages(chat)) for chat in range(1, 31)} == dict.fromkeys(
        range(1, 31), 1
    )
    # One poller at a time: overlapping long polls would each have cost a 409.
    assert len(fake.conflicts) <= MAX_CONFLICTS, fake.conflicts
    assert sum(w.said("polling conflict") for w in workers) <= MAX_CONFLICTS
    db.dispose()
