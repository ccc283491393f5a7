"""The outbox dispatcher: claiming, sending through the real Twilio SDK against a fake API,
recording, retrying, giving up, withdrawing, and never sending twice — in threads and in
processes, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from bot.core.clock import utcnow
from bot.jobs import build_scheduler
from bot.messaging.messages import PROMOTIONAL, Reply
from bot.messaging.outbox import (
    DELIVERY_FAILED,
    OPT_OUT_CONFIRMATION,
    _claim,
    backoff_seconds,
    dispatch_due,
    enqueue,
    kick,
)
from bot.messaging.senders import Outgoing, SendResult, build_senders
from storage.db import Database
from storage.messaging import CANCELLED, FAILED, PENDING, SENDING, SENT, OutboxMessage
from storage.models import CustomerIdentity
from tests.conftest import ROOT, fresh_database_url
from tests.factories import setup_business
from tests.fakes.twilio_api import FakeTwilio, make_fake_twilio, twilio_env
from tests.faults import FailingStatements
from tests.outbox_worker import OWNER, add_reachable_customer, messaging_salon_toml, seed_outbox

NOW = datetime(2026, 11, 16, 15, 0, tzinfo=UTC)  # 10:00 in New York: no quiet hours
PHONE = "+15551230001"


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    with make_fake_twilio() as server:
        yield server


@pytest.fixture
def senders(fake: FakeTwilio) -> dict:
    return build_senders(twilio_env(fake, TWILIO_READ_TIMEOUT="0.4"))


@pytest.fixture
def salon(db: Database) -> Database:
    setup_business(db, messaging_salon_toml("[messaging]\nmax_attempts = 3\n"))
    return db


def queue(db: Database, text: str, *, address: str = PHONE, channel: str = "sms", **kw) -> int:
    kw.setdefault("now", NOW)
    with db.write() as session:
        message = enqueue(session, channel=channel, address=address, reply=Reply(text), **kw)
        assert message is not None
        return message.id


def row(db: Database, message_id: int) -> OutboxMessage:
    with db.read() as session:
        found = session.get(OutboxMessage, message_id)
        assert found is not None
        return found


def all_rows(db: Database) -> list[OutboxMessage]:
    with db.read() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


# ------------------------------------------------------------------------ the happy path


def test_a_due_message_is_sent_once_and_recorded_with_the_providers_sid(db, fake, senders):
    message_id = queue(db, "Hello there")
    report = dispatch_due(db, senders, now=NOW)
    assert (report.claimed, report.sent) == (1, 1)
    sent = row(db, message_id)
    assert sent.status == SENT and sent.attempts == 1 and sent.sent_at == NOW
    assert sent.provider_id == fake.received()[0]["sid"]
    assert sent.lease_token is None and sent.leased_until is None
    assert fake.bodies() == ["Hello there"]
    assert dispatch_due(db, senders, now=NOW + timedelta(hours=1)).claimed == 0
    assert len(fake.received()) == 1


def test_a_message_waits_until_its_send_time(db, fake, senders):
    message_id = queue(db, "Later", send_at=NOW + timedelta(minutes=5))
    assert dispatch_due(db, senders, now=NOW).claimed == 0
    assert dispatch_due(db, senders, now=NOW + timedelta(minutes=5)).sent == 1
    assert row(db, message_id).status == SENT


def test_enqueue_with_a_known_dedupe_key_is_a_no_op(db):
    first = queue(db, "Once", dedupe_key="k1")
    with db.write() as session:
        again = enqueue(
            session, channel="sms", address=PHONE, reply=Reply("Twice"), dedupe_key="k1", now=NOW
        )
    assert again is None
    assert [r.id for r in all_rows(db)] == [first]


def test_kick_sends_only_the_rows_it_is_given(db, fake, senders):
    mine = queue(db, "mine")
    other = queue(db, "other")
    report = kick(db, senders, [mine], now=NOW)
    assert report.sent == 1
    assert row(db, mine).status == SENT and row(db, other).status == PENDING
    assert kick(db, senders, [mine], now=NOW).claimed == 0  # already sent: nothing to do


def test_channels_without_a_sender_are_left_for_a_dispatcher_that_has_one(db, fake, senders):
    telegram = queue(db, "hi", channel="telegram", address="1001")
    sms_only = {"sms": senders["sms"]}
    assert dispatch_due(db, sms_only, now=NOW).claimed == 0
    assert row(db, telegram).status == PENDING


def test_web_messages_are_marked_sent_for_the_page_to_show(db, senders):
    message_id = queue(db, "hi", channel="web", address="session-1")
    dispatch_due(db, senders, now=NOW)
    assert (row(db, message_id).status, row(db, message_id).provider_id) == (SENT, "web")


# ----------------------------------------------------------------------------- failures


def test_a_server_error_is_retried_later_and_then_sent(db, fake, senders):
    message_id = queue(db, "retry me")
    fake.fail(500)
    report = dispatch_due(db, senders, now=NOW)
    assert report.retried == 1
    waiting = row(db, message_id)
    assert waiting.status == PENDING and waiting.attempts == 1
    assert "500" in (waiting.last_error or "")
    assert NOW + timedelta(seconds=15) <= waiting.send_at <= NOW + timedelta(seconds=30)
    assert dispatch_due(db, senders, now=NOW + timedelta(seconds=10)).claimed == 0
    assert dispatch_due(db, senders, now=waiting.send_at).sent == 1
    done = row(db, message_id)
    assert done.status == SENT and done.attempts == 2 and done.last_error is None
    assert fake.bodies() == ["retry me"]


def test_a_timeout_is_retried(db, fake, senders):
    message_id = queue(db, "slow one")
    fake.slow(3.0)  # far longer than the 0.4 s read timeout; the fake drops the request
    assert dispatch_due(db, senders, now=NOW).retried == 1
    # Our read timeout gave up first: had we waited for the server, its hang-up would read
    # "connection error".
    assert row(db, message_id).last_error == "timeout talking to Twilio"
    assert fake.bodies() == []
    dispatch_due(db, senders, now=NOW + timedelta(minutes=5))
    assert row(db, message_id).status == SENT
    assert fake.bodies() == ["slow one"]


def test_a_rate_limit_is_not_retried_before_its_retry_after(db, fake, senders):
    message_id = queue(db, "rate limited")
    fake.fail(429, retry_after=120)
    dispatch_due(db, senders, now=NOW)
    waiting = row(db, message_id)
    assert waiting.status == PENDING and waiting.send_at >= NOW + timedelta(seconds=120)
    assert dispatch_due(db, senders, now=NOW + timedelta(seconds=119)).claimed == 0
    assert dispatch_due(db, senders, now=NOW + timedelta(seconds=121)).sent == 1


def test_an_unsubscribed_recipient_is_final_and_their_identity_opted_out(salon, fake, senders):
    customer = add_reachable_customer(salon, phone=PHONE)
    message_id = queue(salon, "hello", customer_id=customer)
    later = queue(salon, "and again", customer_id=customer, send_at=NOW + timedelta(hours=1))
    fake.fail(400, code=21610, to=PHONE)
    assert dispatch_due(salon, senders, now=NOW).failed == 1
    failed = row(salon, message_id)
    assert failed.status == FAILED and failed.attempts == 1 and "21610" in failed.last_error
    with salon.read() as session:
        identity = session.scalars(select(CustomerIdentity)).one()
        assert identity.opted_out_at == NOW
    report = dispatch_due(salon, senders, now=NOW + timedelta(hours=2))
    assert report.cancelled == 1 and row(salon, later).status == CANCELLED
    assert fake.to(PHONE) == []  # nothing ever reached them


def test_an_invalid_number_is_final_without_retries_and_the_owner_is_told(salon, fake, senders):
    customer = add_reachable_customer(salon, phone=PHONE)
    message_id = queue(salon, "hello", customer_id=customer)
    fake.fail(400, code=21211, to=PHONE)
    dispatch_due(salon, senders, now=NOW)
    assert row(salon, message_id).status == FAILED
    notes = [r for r in all_rows(salon) if r.purpose == DELIVERY_FAILED]
    assert [(n.channel, n.address) for n in notes] == [("sms", OWNER)]
    assert "Jane Doe" in notes[0].body["text"] and "21211" in notes[0].body["text"]
    with salon.read() as session:
        assert session.scalars(select(CustomerIdentity)).one().opted_out_at is None


def test_after_max_attempts_the_message_fails_and_the_owners_are_told(salon, fake, senders):
    message_id = queue(salon, "never arrives")
    fake.fail(500, times=None, to=PHONE)
    when = NOW
    for attempt in range(1, 4):
        dispatch_due(salon, senders, now=when)
        assert row(salon, message_id).attempts == attempt
        when += timedelta(hours=2)
    failed = row(salon, message_id)
    assert failed.status == FAILED and "gave up after 3 attempts" in failed.last_error
    assert fake.requests == 3 and fake.received() == []
    dispatch_due(salon, senders, now=when)  # the owner's note goes out
    note = fake.to(OWNER)
    assert len(note) == 1
    assert "gave up after 3 attempts" in note[0]["body"] and '"never arrives"' in note[0]["body"]
    assert dispatch_due(salon, senders, now=when + timedelta(days=1)).claimed == 0


def test_a_failed_note_to_the_owner_never_raises_another_note(salon, fake, senders):
    message_id = queue(salon, "to the owner", address=OWNER, purpose="owner_notice")
    fake.fail(400, code=21211, to=OWNER)
    dispatch_due(salon, senders, now=NOW)
    assert row(salon, message_id).status == FAILED
    assert [r.id for r in all_rows(salon)] == [message_id]


def test_a_sender_that_raises_is_retried_not_fatal(db):
    class Broken:
        def send(self, message: Outgoing) -> SendResult:
            raise RuntimeError("boom")

    message_id = queue(db, "hi")
    report = dispatch_due(db, {"sms": Broken()}, now=NOW)
    assert report.retried == 1
    assert "RuntimeError: boom" in row(db, message_id).last_error


def test_backoff_doubles_with_jitter_and_is_capped_at_an_hour():
    rng = random.Random(7)
    for attempt in range(1, 12):
        ceiling = min(3600, 30 * 2 ** (attempt - 1))
        delay = backoff_seconds(attempt, rng=rng)
        assert ceiling / 2 <= delay <= ceiling
    delays = {round(backoff_seconds(3, rng=rng), 3) for _ in range(20)}
    assert len(delays) > 1  # jittered, not in lockstep


# --------------------------------------------------------------------- what never goes


def test_an_opted_out_address_gets_only_the_opt_out_confirmation(salon, fake, senders):
    customer = add_reachable_customer(salon, phone=PHONE)
    with salon.write() as session:
        session.execute(update(CustomerIdentity).values(opted_out_at=NOW - timedelta(minutes=1)))
    reminder = queue(salon, "reminder", customer_id=customer, purpose="reminder")
    goodbye = queue(
        salon, "You're unsubscribed", customer_id=customer, purpose=OPT_OUT_CONFIRMATION
    )
    report = dispatch_due(salon, senders, now=NOW)
    assert (report.sent, report.cancelled) == (1, 1)
    assert row(salon, reminder).status == CANCELLED
    assert row(salon, reminder).last_error == "recipient opted out"
    assert row(salon, goodbye).status == SENT
    assert fake.bodies() == ["You're unsubscribed"]


def test_promotions_go_only_to_identities_that_opted_in(salon, fake, senders):
    yes = add_reachable_customer(salon, "Yes", "+15551230002", promotions_opt_in=True)
    no = add_reachable_customer(salon, "No", "+15551230003")
    for customer, phone in ((yes, "+15551230002"), (no, "+15551230003"), (None, "+15551230004")):
        with salon.write() as session:
            enqueue(
                session,
                channel="sms",
                address=phone,
                reply=Reply(f"20% off for {phone}", kind=PROMOTIONAL),
                customer_id=customer,
                purpose="promotion",
                now=NOW,
            )
    report = dispatch_due(salon, senders, now=NOW)
    assert (report.sent, report.cancelled) == (1, 2)
    assert fake.bodies() == ["20% off for +15551230002"]


# -------------------------------------------------------------------- leases and claims


def test_a_claimed_row_is_not_claimed_again_until_its_lease_lapses(db, fake, senders):
    message_id = queue(db, "in flight")
    claim = _claim(db, ["sms"], now=NOW, batch=10, lease_seconds=60, ids=None)
    assert [m.id for m in claim.messages] == [message_id]
    assert row(db, message_id).status == SENDING
    assert dispatch_due(db, senders, now=NOW + timedelta(seconds=59)).claimed == 0
    # The first dispatcher "died": after the lease another one takes over.
    assert dispatch_due(db, senders, now=NOW + timedelta(seconds=61)).sent == 1
    assert row(db, message_id).attempts == 2
    assert fake.bodies() == ["in flight"]


def test_a_dispatcher_that_lost_its_lease_cannot_overwrite_the_new_owners_result(db, fake, senders):
    from bot.messaging.outbox import DispatchReport, _record

    message_id = queue(db, "contested")
    stale = _claim(db, ["sms"], now=NOW, batch=10, lease_seconds=1, ids=None)
    dispatch_due(db, senders, now=NOW + timedelta(seconds=5))  # reclaimed and sent
    assert row(db, message_id).status == SENT
    late = [(stale.messages[0], SendResult.retry("late timeout"))]
    _record(db, stale, late, NOW + timedelta(seconds=6), DispatchReport())
    assert row(db, message_id).status == SENT


# The "sent" record, after Twilio accepted the message (both backends: SQLite's write fails,
# PostgreSQL's connection is cut).
MARK_SENT = r"^\s*UPDATE outbox_message SET status=.*\bsent_at="


def test_a_sent_record_the_database_refuses_for_a_moment_is_retried_not_sent_again(
    db, fake, senders
):
    message_id = queue(db, "accepted once")
    blip = FailingStatements(db, MARK_SENT, times=3)
    report = dispatch_due(db, senders, now=NOW)
    blip.remove()
    assert blip.refused == 3  # three refusals, then the fourth try went through
    assert (report.sent, report.retried) == (1, 0)
    sent = row(db, message_id)
    assert sent.status == SENT and sent.provider_id == fake.received()[0]["sid"]
    # Long after any lease: nothing lapsed back into the queue, nothing went twice.
    assert dispatch_due(db, senders, now=NOW + timedelta(hours=1)).claimed == 0
    assert fake.bodies() == ["accepted once"]


def test_a_sent_record_refused_for_longer_than_the_lease_gives_up_and_leaves_the_row_leased(
    db, fake, senders
):
    message_id = queue(db, "the documented window")
    blip = FailingStatements(db, MARK_SENT, times=10**6)
    with pytest.raises(Exception, match="readonly|terminating"):
        dispatch_due(db, senders, now=NOW, lease_seconds=0.6)
    blip.remove()
    assert blip.refused >= 2  # it did try again before the lease ran out
    still = row(db, message_id)
    assert still.status == SENDING and still.lease_token is not None  # for its lease to lapse
    assert fake.bodies() == ["the documented window"]


class SteppedTime:
    """The `time` module as the dispatcher sees it, with a monotonic clock that moves only
    when a send takes time (so "the lease is running out" does not depend on the machine)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    def __getattr__(self, name: str):
        return getattr(time, name)


def test_rows_are_handed_back_unsent_when_the_lease_runs_short(db, monkeypatch):
    clock = SteppedTime()
    monkeypatch.setattr("bot.messaging.outbox.time", clock)

    class Slow:
        def __init__(self) -> None:
            self.sent: list[int] = []

        def send(self, message: Outgoing) -> SendResult:
            clock.now += 0.35  # each send takes 0.35 s of the dispatcher's clock
            self.sent.append(message.id)
            return SendResult.sent(f"slow-{message.id}")

    ids = [queue(db, f"m{i}") for i in range(6)]
    slow = Slow()
    # A 0.9 s lease keeps a 0.3 s margin: sends may start only in its first 0.6 s — at 0 and
    # at 0.35 s; at 0.7 s the other four are handed back.
    report = dispatch_due(db, {"sms": slow}, lease_seconds=0.9, batch=6, time_budget=0)
    assert report.sent == len(slow.sent) == 2
    assert report.released == 4
    for message_id in ids[report.sent :]:
        handed_back = row(db, message_id)
        assert handed_back.status == PENDING and handed_back.attempts == 0
    dispatch_due(db, {"sms": slow}, batch=6)
    assert sorted(slow.sent) == ids


def test_threads_dispatching_at_once_never_send_a_message_twice(db, fake, senders):
    seed_outbox(db, 400, now=NOW)
    reports = []

    def work() -> None:
        reports.append(dispatch_due(db, senders, now=NOW, batch=25))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    bodies = fake.bodies()
    assert len(bodies) == 400 and len(set(bodies)) == 400
    assert sum(r.sent for r in reports) == 400
    assert {r.status for r in all_rows(db)} == {SENT}


def test_the_scheduler_runs_the_outbox_tick_and_every_scan(db, senders):
    scheduler = build_scheduler(db, senders)
    scheduler.start(paused=True)  # job options are settled once the scheduler starts
    jobs = {job.id: job for job in scheduler.get_jobs()}
    scheduler.shutdown(wait=False)
    assert {"dispatch_outbox", "scan_reminders", "flag_unconfirmed", "mark_no_shows"} <= set(jobs)
    assert {"advance_waitlist_offers", "scan_followups"} <= set(jobs)
    assert jobs["dispatch_outbox"].trigger.interval == timedelta(seconds=2)
    assert jobs["dispatch_outbox"].coalesce and jobs["dispatch_outbox"].max_instances == 1


# ------------------------------------------------------------------ several processes


@pytest.fixture
def pg_url(tmp_path: Path) -> Iterator[str]:
    yield from fresh_database_url("postgres", tmp_path)


def _worker(url: str, fake: FakeTwilio, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, **twilio_env(fake), "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.outbox_worker", "--db", url, *args],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def _wait_ready(worker: subprocess.Popen[str]) -> None:
    assert worker.stdout is not None
    assert worker.stdout.readline().strip() == "ready"


@pytest.mark.slow
@pytest.mark.postgres
def test_three_dispatcher_processes_deliver_5000_messages_exactly_once(pg_url, fake):
    db = Database(pg_url)
    seed_outbox(db, 5000, now=utcnow() - timedelta(seconds=1))
    workers = [_worker(pg_url, fake, "--wait-go", "--batch", "50") for _ in range(3)]
    for worker in workers:
        _wait_ready(worker)
    for worker in workers:
        assert worker.stdin is not None
        worker.stdin.write("go\n")
        worker.stdin.flush()
    summaries = []
    for worker in workers:
        out, _ = worker.communicate(timeout=120)
        assert worker.returncode == 0
        summaries.append(json.loads(out.strip().splitlines()[-1]))
    bodies = fake.bodies()
    assert len(bodies) == 5000
    assert len(set(bodies)) == 5000, Counter(bodies).most_common(3)
    assert sum(s["sent"] for s in summaries) == 5000
    assert all(s["sent"] > 0 for s in summaries)  # all three took part
    assert {r.status for r in all_rows(db)} == {SENT}
    db.dispose()


@pytest.mark.slow
@pytest.mark.postgres
def test_a_dispatcher_killed_mid_batch_loses_nothing_and_repeats_only_its_in_flight_rows(
    pg_url, fake
):
    db = Database(pg_url)
    total, batch, lease = 400, 40, 4.0
    seed_outbox(db, total, now=utcnow() - timedelta(seconds=1))
    fake.slow(0.01, times=None, then="process")
    worker = _worker(pg_url, fake, "--batch", str(batch), "--lease", str(lease))
    _wait_ready(worker)
    deadline = time.monotonic() + 30
    # 110 = mid-way through a claimed batch of 40, between two records of 20: some rows
    # delivered but unrecorded, some not yet sent.
    while len(fake.received()) < 110 and time.monotonic() < deadline:
        time.sleep(0.01)
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=10)
    time.sleep(0.2)  # a request the worker had on the wire still lands at the provider
    before = Counter(fake.bodies())
    with db.read() as session:
        in_flight = {
            m.body["text"]: m.leased_until
            for m in session.scalars(select(OutboxMessage).where(OutboxMessage.status == SENDING))
        }
    assert 0 < len(in_flight) <= batch  # the crash left one claimed batch, at most
    fake.clear_rules()
    senders = build_senders(twilio_env(fake))
    # Until the lease lapses, a new dispatcher leaves the dead one's rows alone.
    dispatch_due(db, senders)
    with db.read() as session:
        still = session.scalars(
            select(OutboxMessage.id).where(OutboxMessage.status == SENDING)
        ).all()
    assert len(still) == len(in_flight)
    time.sleep(max(0.0, max(in_flight.values()).timestamp() - time.time()) + 0.2)
    dispatch_due(db, senders)
    after = Counter(fake.bodies())
    assert {r.status for r in all_rows(db)} == {SENT}
    assert set(after) == {f"msg {i}" for i in range(total)}  # nothing lost
    duplicates = {body for body, count in after.items() if count > 1}
    assert duplicates <= set(in_flight)  # only rows in flight at the kill
    assert duplicates <= set(before)  # … that had actually reached the provider
    assert len(duplicates) <= 20 + 1  # record_every (20) plus the one mid-send
    assert max(after.values()) <= 2
    # Repeats went out only after the lease had lapsed.
    resent = [m for m in fake.received() if m["body"] in duplicates]
    for body in duplicates:
        second = [m["received_at"] for m in resent if m["body"] == body][-1]
        assert second >= in_flight[body].timestamp() - 0.05
    db.dispose()
