"""Inbound is durable before it is acknowledged, whatever the database does: the spool.

While the database refuses writes (SQLite's "disk I/O error", PostgreSQL's connections cut
by the server), the Twilio, Telegram and Stripe webhooks keep each delivery in the spool on
local disk and still answer 200; the worker drains it into the database once it is back,
and every message is handled and answered exactly once. Faults come from `tests/faults.py`;
tests count events, never time.
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from bot.billing.ledger.invoices import LineSpec, create_invoice
from bot.billing.payments.links import pay_link
from bot.core.clock import utcnow
from bot.messaging.inbox import backlog
from bot.messaging.outbox import dispatch_due
from bot.messaging.senders import build_senders
from bot.messaging.senders.telegram_sender import TelegramSettings, shared_client
from bot.messaging.spool import DATABASE_ERRORS, Spool, SpoolKind
from storage.billing import Payment, ProcessedEvent
from storage.db import Database
from storage.messaging import SENDING, SENT, OutboxMessage
from storage.models import InboundMessage
from tests.billing_factories import add_reachable_customer
from tests.conftest import DEMO_CONFIG, ROOT, _libpq_dsn, postgres_url
from tests.fakes.stripe_api import FakeStripe, fake_stripe_server, signed, stripe_env
from tests.fakes.telegram_api import FakeTelegram, make_fake_telegram, telegram_env, text_update
from tests.fakes.twilio_api import FakeTwilio, inbound_sms, make_fake_twilio, signature, twilio_env
from tests.faults import PostgresTerminator, SqliteWriteFault
from webhooks.app import create_app
from webhooks.channels import courier, inbox_processor
from webhooks.spooling import app_spool, spool_folder
from webhooks.telegram import TelegramPoller

PUBLIC = "https://salon.example.com"
HOURS = "what are your hours?"
TELEGRAM_SECRET = "webhook-secret-1"
CHAT = 777001


# ------------------------------------------------------------------------- the spool


def test_a_kept_delivery_is_one_whole_file_named_for_its_provider_id(tmp_path):
    spool = Spool(tmp_path / "spool")
    assert spool.count() == 0  # the folder appears only when first needed
    spool.keep(SpoolKind.INBOUND, "sms-SM123", {"text": "hi"})
    spool.keep(SpoolKind.INBOUND, "sms-SM123", {"text": "hi"})  # the provider redelivered
    [path] = (tmp_path / "spool").iterdir()
    assert path.name == "inbound-sms-SM123.json"
    kept = json.loads(path.read_text())
    assert (kept["kind"], kept["key"], kept["data"]) == ("inbound", "sms-SM123", {"text": "hi"})
    # A key that is not a safe file name is hashed, never used as a path.
    spool.keep(SpoolKind.STRIPE, "../../etc/passwd", {})
    assert spool.count() == 2
    assert all(p.parent == tmp_path / "spool" for p in (tmp_path / "spool").iterdir())


def test_the_spool_drains_oldest_first_and_deletes_each_file_only_once_handled(tmp_path):
    spool = Spool(tmp_path)
    for n in (3, 1, 2):
        spool.keep(SpoolKind.INBOUND, f"k{n}", {"n": n})
    seen: list[int] = []
    assert spool.drain({SpoolKind.INBOUND: lambda data: seen.append(data["n"])}) == 3
    assert seen == [3, 1, 2] and spool.count() == 0


def test_a_database_error_stops_the_drain_and_leaves_every_delivery_waiting(tmp_path):
    import sqlite3

    spool = Spool(tmp_path)
    for n in range(3):
        spool.keep(SpoolKind.INBOUND, f"k{n}", {"n": n})

    def refuse(_data: dict[str, Any]) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    with pytest.raises(sqlite3.OperationalError):
        spool.drain({SpoolKind.INBOUND: refuse})
    assert spool.count() == 3 and spool.unreadable() == 0


def test_a_delivery_the_working_database_refuses_is_set_aside_and_the_rest_drain(tmp_path):
    from sqlalchemy.exc import IntegrityError

    spool = Spool(tmp_path)
    for n in range(3):
        spool.keep(SpoolKind.INBOUND, f"k{n}", {"n": n})
    drained: list[int] = []

    def handle(data: dict[str, Any]) -> None:
        if data["n"] == 0:  # refused every time: it must not block the two behind it
            raise IntegrityError("INSERT …", {}, Exception("violates a check constraint"))
        drained.append(data["n"])

    assert spool.drain({SpoolKind.INBOUND: handle}) == 2
    assert drained == [1, 2] and spool.unreadable() == 1 and spool.count() == 1


def test_a_spool_folder_that_cannot_be_read_never_stops_a_webhook_recording(tmp_path):
    spool = Spool(tmp_path / "spool")
    spool.keep(SpoolKind.INBOUND, "k0", {"n": 0})  # this process has spooled before
    spool.folder = tmp_path / "not-a-folder"
    spool.folder.write_text("")  # listing it fails with NotADirectoryError, an OSError
    assert spool.holds_elders() is False  # the webhook records directly: never a 500


def test_a_delivery_that_cannot_be_handled_is_set_aside_loudly_and_still_counted(tmp_path, caplog):
    spool = Spool(tmp_path)
    spool.keep(SpoolKind.INBOUND, "bad", {"n": 0})
    spool.keep(SpoolKind.INBOUND, "good", {"n": 1})
    (tmp_path / "inbound-torn.json").write_text("{not json")
    handled: list[int] = []

    def handle(data: dict[str, Any]) -> None:
        if data["n"] == 0:
            raise KeyError("a bug, not the database")
        handled.append(data["n"])

    with caplog.at_level(logging.CRITICAL, logger="bot.messaging.spool"):
        assert spool.drain({SpoolKind.INBOUND: handle}) == 1
    assert handled == [1]
    assert spool.unreadable() == 2 and spool.count() == 2  # nothing silently dropped
    assert len([r for r in caplog.records if r.levelno == logging.CRITICAL]) == 2


def test_the_spool_sits_beside_the_sqlite_file_or_in_the_instance_folder(tmp_path):
    assert spool_folder(f"sqlite:///{tmp_path}/x.db") == tmp_path / "x.db-spool"
    assert spool_folder("postgresql+psycopg://h/db") == (Path("instance") / "spool").resolve()
    assert spool_folder("sqlite:///x.db", str(tmp_path / "s")) == tmp_path / "s"


# ---------------------------------------------------------------- an app and its faults


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    with make_fake_twilio() as server:
        yield server


@pytest.fixture
def app(db_url: str, fake: FakeTwilio, tmp_path: Path) -> Iterator[Flask]:
    """The demo salon with Twilio on the fake, on both backends, its spool in tmp_path."""
    name = f"slotbot-{uuid.uuid4().hex[:10]}"
    url = db_url
    if not db_url.startswith("sqlite"):
        # Named, so the terminator finds our connections; and commits need not wait for the
        # server's WAL flush (these tests cut connections, not the server's power).
        url = db_url.replace("options=-c", "options=-csynchronous_commit%3Doff%20-c", 1)
        url = f"{url}&application_name={name}"
    application = create_app(
        {
            "DATABASE_URL": url,
            "BUSINESS_CONFIG": str(DEMO_CONFIG),
            "TESTING": True,
            "SLOTBOT_SPOOL_DIR": str(tmp_path / "spool"),
            "APPLICATION_NAME": name,
            **twilio_env(fake, SLOTBOT_PUBLIC_URL=PUBLIC),
        }
    )
    yield application
    if "slotbot.courier" in application.extensions:
        application.extensions["slotbot.courier"].close()
    application.extensions["slotbot.db"].dispose()


@pytest.fixture
def db(app: Flask) -> Database:
    return app.extensions["slotbot.db"]


@pytest.fixture
def fault(app: Flask, db: Database) -> Iterator[SqliteWriteFault | PostgresTerminator]:
    """The database refusing writes while `fault.on`: SQLite's disk fails, PostgreSQL's
    server terminates our connections."""
    if db.is_sqlite:
        yield SqliteWriteFault().install(db)
        return
    terminator = PostgresTerminator(_libpq_dsn(postgres_url()), app.config["APPLICATION_NAME"])
    yield terminator.install(db)
    terminator.on = False
    terminator.close()


def sms(client, sender: str, text: str = HOURS):
    params = inbound_sms(sender, text)
    sig = signature(f"{PUBLIC}/twilio/sms", params)
    return client.post("/twilio/sms", data=params, headers={"X-Twilio-Signature": sig})


def count(db: Database, model: type, *where: Any) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def until(condition: Callable[[], bool], limit: float = 120.0) -> bool:
    """Wait for the worker (no assertion on how long it took; `limit` only ends a hang)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


# ---------------------------------------------------------------------------- Twilio


def test_while_the_database_takes_writes_the_webhook_never_touches_the_spool(app, db, fake):
    client = app.test_client()
    for n in range(20):
        assert sms(client, f"+155512300{n:02d}").status_code == 200
    assert count(db, InboundMessage) == 20
    assert not app_spool(app).folder.exists()  # the spool is only the fallback


def test_an_sms_the_database_refuses_is_spooled_answered_200_and_handled_once_it_is_back(
    app, db, fake, fault
):
    client = app.test_client()
    fault.on = True
    response = sms(client, "+15551230001")
    assert response.status_code == 200 and "<Response" in response.get_data(as_text=True)
    assert app_spool(app).count() == 1 and count(db, InboundMessage) == 0
    assert fault.refused >= 1
    with pytest.raises(DATABASE_ERRORS):  # the worker cannot drain while it fails
        inbox_processor(app).run_pending()
    assert app_spool(app).count() == 1
    fault.on = False
    assert inbox_processor(app).run_pending() == 1
    courier(app).drain()
    assert app_spool(app).count() == 0
    [reply] = fake.to("+15551230001")
    assert "9" in reply["body"]  # the hours
    assert inbox_processor(app).run_pending() == 0 and len(fake.received()) == 1


def test_a_spooled_message_another_process_recorded_in_the_inbox_is_handled_once(
    app, db, fake, fault
):
    client = app.test_client()
    params = inbound_sms("+15551230001", HOURS)
    headers = {"X-Twilio-Signature": signature(f"{PUBLIC}/twilio/sms", params)}
    fault.on = True
    assert client.post("/twilio/sms", data=params, headers=headers).status_code == 200
    fault.on = False
    # Twilio's redelivery reaches another web process, which spooled nothing itself.
    app.extensions["slotbot.spool"] = Spool(app_spool(app).folder)
    assert client.post("/twilio/sms", data=params, headers=headers).status_code == 200
    assert app_spool(app).count() == 1 and count(db, InboundMessage) == 1
    assert inbox_processor(app).run_pending() == 1  # the spooled copy met the unique key
    courier(app).drain()
    assert app_spool(app).count() == 0 and count(db, InboundMessage) == 1
    assert len(fake.to("+15551230001")) == 1


def test_a_message_that_comes_while_its_elders_wait_in_the_spool_is_handled_after_them(
    app, db, fake, fault
):
    client = app.test_client()
    fault.on = True
    sms(client, "+15551230001", HOURS)
    fault.on = False
    # The database is back, but the hours question waits in the spool: the STOP joins it
    # there instead of overtaking it in the inbox (out of order, the question would meet an
    # opted-out number and go unanswered).
    sms(client, "+15551230001", "STOP")
    assert app_spool(app).count() == 2 and count(db, InboundMessage) == 0
    assert inbox_processor(app).run_pending() == 2
    courier(app).drain()
    with db.read() as session:
        texts = session.scalars(select(InboundMessage.text).order_by(InboundMessage.id)).all()
        [reply] = session.scalars(select(OutboxMessage.body)).all()
    assert texts == [HOURS, "STOP"]
    assert "9" in reply["text"]  # queued before the STOP (which then withdrew it, unsent)
    # Once the spool is empty the webhook records straight into the inbox again.
    sms(client, "+15551230002", HOURS)
    assert app_spool(app).count() == 0 and count(db, InboundMessage) == 3


def test_when_the_database_and_the_spool_both_refuse_the_webhook_answers_503_and_says_so(
    app, db, fake, fault, tmp_path, caplog
):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    app.extensions["slotbot.spool"] = Spool(blocker / "spool")  # mkdir fails: ENOTDIR
    fault.on = True
    with caplog.at_level(logging.CRITICAL):
        response = sms(app.test_client(), "+15551230001")
    assert response.status_code == 503
    [lost] = [r for r in caplog.records if r.levelno == logging.CRITICAL]
    assert "LOST" in lost.getMessage() and "sms-SM" in lost.getMessage()


def test_healthz_reports_a_non_empty_spool_until_the_worker_drains_it(app, db, fault):
    client = app.test_client()
    app.config["SLOTBOT_HEALTH_TOKEN"] = "spool-health"  # the details are the token holder's
    client.environ_base["HTTP_X_SLOTBOT_HEALTH_TOKEN"] = "spool-health"
    assert client.get("/healthz").get_json()["spool"] == 0
    fault.on = True
    sms(client, "+15551230001")
    fault.on = False
    health = client.get("/healthz")
    assert health.status_code == 503
    assert health.get_json()["ok"] is False and health.get_json()["spool"] == 1
    inbox_processor(app).run_pending()
    health = client.get("/healthz")
    assert health.status_code == 200 and health.get_json()["spool"] == 0


# -------------------------------------------------------------------------- Telegram


@pytest.fixture
def telegram(app: Flask) -> Iterator[FakeTelegram]:
    """Telegram on a fake Bot API, with its webhook secret, for the same app."""
    with make_fake_telegram() as server:
        app.config.update(telegram_env(server, TELEGRAM_WEBHOOK_SECRET=TELEGRAM_SECRET))
        yield server
        shared_client(TelegramSettings.from_env(telegram_env(server))).close()


def test_a_telegram_update_the_database_refuses_is_spooled_and_handled_once_it_is_back(
    app, db, telegram, fault
):
    client = app.test_client()
    update = text_update(CHAT, HOURS)
    headers = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
    fault.on = True
    assert client.post("/telegram/webhook", json=update, headers=headers).status_code == 200
    assert app_spool(app).count() == 1 and count(db, InboundMessage) == 0
    fault.on = False
    assert inbox_processor(app).run_pending() == 1
    courier(app).drain()
    [reply] = telegram.messages(CHAT)
    assert "9" in reply["text"]
    # Telegram redelivers: the inbox knows it now.
    assert client.post("/telegram/webhook", json=update, headers=headers).status_code == 200
    assert inbox_processor(app).run_pending() == 0 and len(telegram.messages(CHAT)) == 1
    assert app_spool(app).count() == 0


def test_the_poller_moves_past_an_update_the_database_refuses_and_nothing_is_lost(
    app, db, telegram, fault
):
    first, second = text_update(CHAT, HOURS), text_update(CHAT + 1, HOURS)
    telegram.push(first, second)
    client = shared_client(TelegramSettings.from_env(telegram_env(telegram)))
    poller = TelegramPoller(db, client, spool=app_spool(app))
    fault.on = True
    assert poller.poll_once(timeout=0) == 2
    assert poller.offset == second["update_id"] + 1  # kept on disk counts as recorded
    assert app_spool(app).count() == 2 and count(db, InboundMessage) == 0
    fault.on = False
    assert inbox_processor(app).run_pending() == 2
    courier(app).drain()
    assert len(telegram.messages(CHAT)) == 1 and len(telegram.messages(CHAT + 1)) == 1


# ---------------------------------------------------------------------------- Stripe


@pytest.fixture
def stripe_fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeStripe]:
    with fake_stripe_server() as server:
        for key, value in stripe_env(server).items():
            monkeypatch.setenv(key, value)
        yield server


def _stripe_webhook(client, event: dict[str, Any]):
    body, header = signed(event)
    return client.post(
        "/stripe/webhook",
        data=body,
        headers={"Stripe-Signature": header, "Content-Type": "application/json"},
    )


def test_a_stripe_event_the_database_refuses_is_spooled_and_fulfilled_once_it_is_back(
    app, db, stripe_fake, fault
):
    customer = add_reachable_customer(db)
    with db.write() as session:
        invoice = create_invoice(
            session,
            customer_id=customer,
            now=utcnow(),
            lines=[LineSpec("service", "Cut", 4500, 1, "0")],
        )
        token = pay_link(session, invoice.id, now=utcnow()).token
    client = app.test_client()
    page = client.get(f"/pay/{token}").get_data(as_text=True)
    nonce = re.search(r'name="nonce" value="([^"]+)"', page).group(1)
    assert client.post(f"/pay/{token}", data={"nonce": nonce}).status_code == 303
    paid = stripe_fake.pay_checkout(next(iter(stripe_fake.sessions)))
    event = stripe_fake.event("checkout.session.completed", paid)
    fault.on = True
    response = _stripe_webhook(client, event)
    assert response.status_code == 200 and response.get_json()["outcome"] == "spooled"
    assert app_spool(app).count() == 1 and count(db, Payment) == 0
    fault.on = False
    inbox_processor(app).run_pending()
    assert app_spool(app).count() == 0
    assert count(db, Payment) == 1 and count(db, ProcessedEvent) == 1
    # Stripe retried meanwhile (or redelivers now): still one payment.
    assert _stripe_webhook(client, event).get_json()["outcome"] == "duplicate"
    assert count(db, Payment) == 1
    # Every create sent to Stripe carried an idempotency key of our own ids.
    posts = [r for r in stripe_fake.requests if r.method == "POST"]
    assert posts and all((r.idempotency_key or "").startswith("slotbot-") for r in posts)


# ------------------------------------------------------------------------ the worker


def test_the_worker_backs_off_while_the_database_fails_and_resumes_when_it_is_back(
    app, db, fake, fault
):
    client = app.test_client()
    for n in range(5):
        sms(client, f"+1555123000{n}")
    fault.on = True
    processor = inbox_processor(app)
    processor.poll = 0.01
    processor.start()
    try:
        assert until(lambda: processor.failed_passes >= 3)  # it failed, and lived to try again
        assert backlog(db).count == 5  # nothing answered with an apology meanwhile
        fault.on = False
        assert until(lambda: backlog(db).count == 0)
    finally:
        processor.stop()
    courier(app).drain()
    assert sorted(m["to"] for m in fake.received()) == [f"+1555123000{n}" for n in range(5)]
    assert all("Sorry" not in m["body"] for m in fake.received())


def test_slotbot_worker_drains_what_the_web_spooled_in_the_folder_beside_the_database(
    sqlite_url, fake
):
    web = create_app(
        {
            "DATABASE_URL": sqlite_url,
            "BUSINESS_CONFIG": str(DEMO_CONFIG),
            "TESTING": True,
            **twilio_env(fake, SLOTBOT_PUBLIC_URL=PUBLIC),
        }
    )
    db = web.extensions["slotbot.db"]
    fault = SqliteWriteFault().install(db)
    fault.on = True
    assert sms(web.test_client(), "+15551230001").status_code == 200
    fault.on = False
    spool = app_spool(web)
    assert spool.count() == 1 and spool.folder == Path(sqlite_url[len("sqlite:///") :] + "-spool")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "TELEGRAM_"))}
    env.pop("SLOTBOT_SPOOL_DIR", None)  # the worker finds the same folder by itself
    worker = subprocess.Popen(
        [sys.executable, "-m", "webhooks.cli", "--database", sqlite_url]
        + ["--config", str(DEMO_CONFIG), "worker"],
        cwd=ROOT,
        env={**env, **twilio_env(fake)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert until(lambda: len(fake.to("+15551230001")) == 1, limit=90)
        assert spool.count() == 0
        assert count(db, InboundMessage, InboundMessage.handled_at.is_not(None)) == 1
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
        db.dispose()


# ---------------------------------------------------------- 1,000 messages, one failure


@pytest.mark.slow
def test_a_thousand_sms_with_the_database_failing_midstream_get_no_5xx_and_one_answer_each(
    app, db, fake, fault
):
    people = [f"+1555{n:07d}" for n in range(250)]
    window = range(300, 600)  # the messages that arrive while the database refuses writes
    client = app.test_client()
    statuses: Counter[int] = Counter()
    processor = inbox_processor(app).start()  # the worker runs through it all
    try:
        for n in range(1000):
            if n == window.start:
                fault.on = True
            if n == window.stop:
                # Every message the database refused is on disk; the worker could not drain.
                assert app_spool(app).count() == len(window)
                fault.on = False
            statuses[sms(client, people[n % len(people)]).status_code] += 1
        assert until(lambda: app_spool(app).count() == 0 and backlog(db).count == 0)
    finally:
        processor.stop()
    courier(app).drain()
    assert statuses == Counter({200: 1000})  # not one 5xx
    assert fault.refused > 0  # the first of the window; the rest joined it in the spool
    assert count(db, InboundMessage, InboundMessage.handled_at.is_not(None)) == 1000
    # A row the provider accepted was recorded sent in time: none is left to lapse and go
    # out again, even when the scheduler's tick comes long after every lease.
    assert count(db, OutboxMessage, OutboxMessage.status == SENDING) == 0
    senders = build_senders(twilio_env(fake))
    dispatch_due(db, senders, now=utcnow() + timedelta(minutes=10))
    assert count(db, OutboxMessage, OutboxMessage.status != SENT) == 0
    per_person = Counter(m["to"] for m in fake.received())
    assert len(fake.received()) == 1000
    assert set(per_person.values()) == {4} and set(per_person) == set(people)
    assert all("Sorry" not in m["body"] for m in fake.received())
