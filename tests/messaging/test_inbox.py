"""The inbox: webhooks record, the worker handles — once, in order, through crashes.

Every test that takes `db` runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from bot.config import apply_config, load_config
from bot.core.clock import utcnow
from bot.messaging.courier import Courier
from bot.messaging.inbox import backlog, inbound_of, record, row_values
from bot.messaging.messages import SMS, Inbound
from conversations.engine import Engine, Outcome
from conversations.inbox import InboxProcessor
from storage.db import Database, WriterLock
from storage.messaging import OutboxMessage
from storage.models import Conversation, CustomerIdentity, InboundMessage
from tests.conftest import DEMO_CONFIG, ROOT
from tests.factories import local

NOW = local("2026-11-16 10:00")
PHONE = "+15551230001"
_sids = iter(range(1, 10**9))


@pytest.fixture
def salon(db: Database) -> Database:
    apply_config(db, load_config(DEMO_CONFIG))
    return db


def sms(text: str, sender: str = PHONE, sid: str | None = None) -> Inbound:
    return Inbound(
        channel=SMS,
        sender=sender,
        text=text,
        provider_id=sid or f"SM{next(_sids):032d}",
        received_at=NOW,
    )


def worker(db: Database, clock=lambda: NOW) -> InboxProcessor:
    return InboxProcessor(db, Courier(db, {}, enabled=False), clock=clock)


def replies_to(db: Database, address: str = PHONE) -> list[str]:
    with db.read() as session:
        bodies = session.scalars(
            select(OutboxMessage.body)
            .where(OutboxMessage.address == address)
            .order_by(OutboxMessage.id)
        )
        return [body["text"] for body in bodies]


def count(db: Database, model: type) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_a_recorded_message_waits_untouched_until_the_worker_handles_it(salon):
    assert record(salon, sms("what are your hours?"))
    assert backlog(salon).count == 1
    assert count(salon, Conversation) == 0 and count(salon, OutboxMessage) == 0
    assert worker(salon).run_pending() == 1
    assert backlog(salon).count == 0
    [reply] = replies_to(salon)
    assert "open" in reply.lower() or "hours" in reply.lower()
    with salon.read() as session:
        row = session.scalars(select(InboundMessage)).one()
    assert row.handled_at == NOW and row.received_at == NOW


def test_the_same_delivery_recorded_three_times_is_handled_once(salon):
    message = sms("hi", sid="SM" + "7" * 32)
    assert [record(salon, message) for _ in range(3)] == [True, False, False]
    assert worker(salon).run_pending() == 1
    assert worker(salon).run_pending() == 0
    assert count(salon, InboundMessage) == 1
    assert len(replies_to(salon)) == 1
    # And a redelivery after it was handled changes nothing either.
    assert record(salon, message) is False
    assert worker(salon).run_pending() == 0 and len(replies_to(salon)) == 1


def test_one_persons_messages_are_handled_in_the_order_they_came(salon):
    # Out of order, the last "hi" would be answered; in order it meets the STOP first.
    for text in ("hi", "STOP", "hi"):
        record(salon, sms(text))
    assert worker(salon).run_pending() == 3
    assert len(replies_to(salon)) == 1  # the first hi; STOP on SMS is the carrier's to confirm
    with salon.read() as session:
        assert session.scalar(select(CustomerIdentity.opted_out_at)) == NOW


def test_a_later_message_waits_while_an_earlier_one_is_still_in_the_inbox(salon):
    record(salon, sms("what are your hours?"))
    record(salon, sms("thanks"))
    with salon.read() as session:
        first, second = session.scalars(select(InboundMessage).order_by(InboundMessage.id))
        later = inbound_of(second)
    # Another worker reaching the second message first must leave it for later.
    assert Engine(salon, clock=lambda: NOW).handle_recorded(later) is Outcome.LATER
    assert backlog(salon).count == 2 and replies_to(salon) == []
    assert worker(salon).run_pending() == 2
    with salon.read() as session:
        order = session.scalars(
            select(InboundMessage.id).order_by(InboundMessage.handled_at, InboundMessage.id)
        ).all()
    assert order == [first.id, second.id]
    assert len(replies_to(salon)) >= 2


def test_two_workers_handle_every_message_once_and_each_persons_in_order(salon):
    senders = [f"+1555000{n:04d}" for n in range(12)]
    for round_ in range(8):
        for sender in senders:
            record(salon, sms("hi" if round_ % 2 == 0 else "what are your hours?", sender))
    workers = [worker(salon, clock=utcnow) for _ in range(2)]
    handled: list[int] = []

    def run(processor: InboxProcessor) -> None:
        total = 0
        for _ in range(20):  # deferred messages are picked up on a later pass
            total += processor.run_pending()
            if backlog(salon).count == 0:
                break
        handled.append(total)

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert sum(handled) == 96 and backlog(salon).count == 0
    with salon.read() as session:
        rows = session.execute(
            select(InboundMessage.address, InboundMessage.id, InboundMessage.handled_at)
        ).all()
    for sender in senders:
        mine = sorted((id_, at) for address, id_, at in rows if address == sender)
        stamps = [at for _, at in mine]
        assert stamps == sorted(stamps), f"{sender}'s messages were handled out of order"
    per_person = Counter(len(replies_to(salon, sender)) for sender in senders)
    assert len(per_person) == 1, f"some got more replies than others: {per_person}"


def test_a_message_that_always_fails_while_the_database_answers_does_not_hold_up_the_rest(
    salon, monkeypatch
):
    from sqlalchemy.exc import OperationalError

    from conversations import engine as engine_module

    handle = engine_module.Engine._handle

    def failing(self, session, inbound):  # e.g. a statement timeout on this sender's query
        if inbound.sender == PHONE:
            raise OperationalError("SELECT …", {}, Exception("canceling statement due to timeout"))
        return handle(self, session, inbound)

    monkeypatch.setattr(engine_module.Engine, "_handle", failing)
    record(salon, sms("hi"))
    record(salon, sms("hi", sender="+12125550177"))
    assert worker(salon).run_pending() == 2  # both done in one pass: nothing stuck
    assert any("sorry" in text.lower() for text in replies_to(salon))  # the apology
    assert replies_to(salon, "+12125550177")  # the next person is answered as usual
    assert backlog(salon).count == 0


def test_a_payload_that_cannot_be_read_still_gets_the_words_answered(salon):
    broken = row_values(sms("what are your hours?"), handled_at=None)
    broken["payload"] = {"attachments": [{"no": "content type"}], "location": "nowhere"}
    with salon.write() as session:
        session.execute(insert(InboundMessage).values(**broken))
    assert worker(salon).run_pending() == 1
    assert len(replies_to(salon)) == 1 and backlog(salon).count == 0


def _start_worker(url: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "TELEGRAM_"))}
    return subprocess.Popen(
        [sys.executable, "-m", "webhooks.cli", "--database", url, "--config", str(DEMO_CONFIG)]
        + ["worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _handled(db: Database) -> int:
    with db.read() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(InboundMessage)
                .where(InboundMessage.handled_at.is_not(None))
            )
            or 0
        )


def _wait(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_a_worker_killed_mid_inbox_loses_nothing_and_repeats_nothing(db_url: str):
    db = Database(db_url)
    apply_config(db, load_config(DEMO_CONFIG))
    senders = [f"+1555001{n:04d}" for n in range(30)]
    for _ in range(10):
        for sender in senders:
            record(db, sms("hi", sender))
    process = _start_worker(db_url)
    try:
        assert _wait(lambda: _handled(db) >= 40, 60), "the worker never started handling"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    cut = _handled(db)
    assert 40 <= cut < 300, "the kill should land mid-inbox"
    process = _start_worker(db_url)
    try:
        assert _wait(lambda: backlog(db).count == 0, 120), "the restarted worker did not finish"
    finally:
        process.terminate()
        process.wait(30)
    assert _handled(db) == 300
    per_person = Counter(len(replies_to(db, sender)) for sender in senders)
    # Every "hi" answered exactly once: the same number of replies for everybody.
    assert len(per_person) == 1, f"replies differ between people: {per_person}"
    [(replies, people)] = per_person.items()
    assert people == 30 and replies >= 10
    db.dispose()


def test_health_reports_the_inbox_and_says_when_the_worker_has_stalled(app, client):
    db = app.extensions["slotbot.db"]
    app.config["SLOTBOT_HEALTH_TOKEN"] = "inbox-health"
    client.environ_base["HTTP_X_SLOTBOT_HEALTH_TOKEN"] = "inbox-health"
    body = client.get("/healthz").get_json()
    assert body["inbox"] == {"waiting": 0, "oldest_seconds": 0.0, "worker": "keeping up"}
    stale = Inbound(
        channel=SMS, sender=PHONE, text="hi", provider_id="SM-old", received_at=utcnow()
    )
    record(db, stale)
    assert client.get("/healthz").status_code == 200  # a moment's wait is normal
    with db.write() as session:
        session.execute(
            InboundMessage.__table__.update().values(received_at=utcnow() - timedelta(minutes=6))
        )
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["inbox"]["waiting"] == 1
    assert "stalled" in response.get_json()["inbox"]["worker"]
    public = app.test_client().get("/healthz")  # no token: the same status, no details
    assert public.status_code == 503 and public.get_json() == {"ok": False}
    worker(db, clock=utcnow).run_pending()
    assert client.get("/healthz").status_code == 200


def test_sqlite_writers_take_turns_across_processes(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'lock.db'}"
    db = Database(url)
    assert db.writer_lock is not None
    probe = (
        "import fcntl, os, sys\n"
        f"fd = os.open({db.writer_lock.path!r}, os.O_RDWR | os.O_CREAT)\n"
        "try:\n"
        "    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)\n"
        "except BlockingIOError:\n"
        "    sys.exit(3)\n"
    )
    with db.writer_lock.held(), db.writer_lock.held():  # re-entrant in one thread
        assert subprocess.run([sys.executable, "-c", probe]).returncode == 3
    assert subprocess.run([sys.executable, "-c", probe]).returncode == 0
    # And inside the process, a second thread waits for the first writer.
    order: list[str] = []

    def second() -> None:
        with db.writer_lock.held():
            order.append("second")

    with db.writer_lock.held():
        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(0.1)
        order.append("first")
    thread.join(5)
    assert order == ["first", "second"]
    db.dispose()


class SteppingClock:
    """A monotonic clock that moves only when a lock sleeps; at each step the web may write."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps = 0
        self.on_sleep: Callable[[], None] | None = None

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps += 1
        self.now += seconds
        if self.on_sleep is not None:
            self.on_sleep()


def test_the_workers_writes_give_way_to_a_busy_web_but_only_for_a_moment(tmp_path: Path):
    # Deterministic: the locks read a clock that only moves when they sleep, so "how long
    # the worker waited" is counted in the lock's own steps, whatever the machine is doing.
    # (The real waits under a real flood are measured by `bench/webhooks.py --give-way`.)
    path = str(tmp_path / "busy.db-writer.lock")
    clock = SteppingClock()
    web = WriterLock(path, clock=clock, sleep=clock.sleep)
    worker = WriterLock(path, background=True, clock=clock, sleep=clock.sleep)
    writes = 0

    def web_writes() -> None:
        nonlocal writes
        with web.held():
            writes += 1

    def time_to_enter() -> float:
        started = clock.now
        with worker.held():
            return clock.now - started

    assert time_to_enter() == 0 and clock.sleeps == 0  # a quiet web: straight in
    # A web that writes every time the worker looks: never a quiet moment.
    clock.on_sleep = web_writes
    web_writes()
    waits = [time_to_enter() for _ in range(5)]
    steps = round(WriterLock.GIVE_WAY / WriterLock.POLL)
    # It waits for a quiet moment, but a flood cannot hold it off for longer than GIVE_WAY.
    assert all(
        WriterLock.GIVE_WAY <= wait <= WriterLock.GIVE_WAY + WriterLock.POLL for wait in waits
    ), waits
    assert writes >= 5 * steps  # the web wrote all the while the worker gave way
    # Once the web has been quiet for QUIET (and a hair: these are floats), straight in again.
    clock.on_sleep = None
    clock.now += WriterLock.QUIET * 1.01
    before = clock.sleeps
    assert time_to_enter() == 0 and clock.sleeps == before


def test_the_worker_gives_way_to_a_web_writer_waiting_in_another_process(tmp_path: Path):
    # A foreground writer holds byte 1 of the lock file shared while it waits: a background
    # writer in another process sees that and waits, GIVE_WAY at most, counted in its steps.
    path = str(tmp_path / "waiting.db-writer.lock")
    clock = SteppingClock()
    worker = WriterLock(path, background=True, clock=clock, sleep=clock.sleep)
    waiting_web = (
        "import fcntl, os, sys\n"
        f"fd = os.open({path!r}, os.O_RDWR | os.O_CREAT)\n"
        "fcntl.lockf(fd, fcntl.LOCK_SH, 1, 1)\n"
        "print('waiting', flush=True)\n"
        "sys.stdin.readline()\n"
    )
    web = subprocess.Popen(
        [sys.executable, "-c", waiting_web],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert web.stdout is not None and web.stdout.readline() == "waiting\n"
        with worker.held():
            gave_way = clock.sleeps
        assert gave_way >= round(WriterLock.GIVE_WAY / WriterLock.POLL)  # looked till GIVE_WAY
    finally:
        assert web.stdin is not None
        web.stdin.write("done\n")
        web.stdin.close()
        web.wait(30)
    with worker.held():  # nobody waiting any more: straight in
        pass
    assert clock.sleeps == gave_way
