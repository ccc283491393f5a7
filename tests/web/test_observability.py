"""Observability: /metrics after a real booking, who may read it, and JSON logs that carry a
delivery's provider id from the webhook through the worker's turn to the send.

The booking goes in as signed Twilio webhooks, the worker's part runs as `slotbot worker`
runs it, and the replies go out through the real SDK to the fake Twilio API; on SQLite and
on PostgreSQL. Counters are per process and other tests in this process move them too, so
the tests compare a scrape before with one after.
"""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from bot.core.errors import ConfigError
from bot.core.logcontext import delivery
from bot.messaging.outbox import dispatch_due
from bot.messaging.senders import build_senders
from storage.db import Database
from storage.messaging import OutboxMessage
from tests.conftest import ROOT, process_inbox
from tests.factories import local
from tests.fakes.twilio_api import FakeTwilio, inbound_sms, make_fake_twilio, signature, twilio_env
from webhooks.channels import channel_env
from webhooks.logs import configure_logging, log_format, log_level

NOW = local("2026-11-16 10:00")
PUBLIC = "https://salon.example.com"
PHONE = "+15551230001"
REQUEST = "haircut with Sam friday at 4, I'm Jane"
TOKEN = "scrape-me-3f9a"
OUTSIDE = {"REMOTE_ADDR": "203.0.113.7"}  # a documentation address: not this machine

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    with make_fake_twilio() as server:
        yield server


@pytest.fixture
def shop(app: Flask, fake: FakeTwilio) -> Iterator[Flask]:
    """The app (both backends) with Twilio pointed at the fake and the clock fixed."""
    app.config.update(CLOCK=lambda: NOW, **twilio_env(fake, SLOTBOT_PUBLIC_URL=PUBLIC))
    yield app
    if "slotbot.courier" in app.extensions:
        app.extensions["slotbot.courier"].close()


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """Logs as `SLOTBOT_LOG_FORMAT=json` writes them, into a buffer; put back afterwards."""
    root = logging.getLogger()
    before = (list(root.handlers), root.level)
    stream = io.StringIO()
    configure_logging("json", "INFO", stream=stream)
    yield stream
    root.handlers[:] = before[0]
    root.setLevel(before[1])


def text(client: FlaskClient, body: str, sid: str | None = None) -> str:
    """A signed inbound SMS as Twilio posts it, then the worker's turn and sends; its sid."""
    params = inbound_sms(PHONE, body, sid=sid)
    headers = {"X-Twilio-Signature": signature(PUBLIC + "/twilio/sms", params)}
    assert client.post("/twilio/sms", data=params, headers=headers).status_code == 200
    process_inbox(client.application)
    return params["MessageSid"]


def scrape(client: FlaskClient, **kwargs) -> Samples:
    response = client.get("/metrics", **kwargs)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.content_type.startswith("text/plain")
    samples: Samples = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def tick(app: Flask) -> None:
    """What the scheduler's outbox tick does: send everything due (the owners' notices)."""
    dispatch_due(app.extensions["slotbot.db"], build_senders(channel_env(app)), now=NOW)


# ------------------------------------------------------------------------------- metrics


def test_metrics_after_a_small_booking_show_an_empty_inbox_the_sends_and_two_timed_turns(
    shop, fake
):
    client = shop.test_client()
    before = scrape(client)
    text(client, REQUEST)
    assert "shall I book this?" in fake.to(PHONE)[-1]["body"]
    text(client, "yes")
    tick(shop)
    assert any(b.startswith("You're booked") for b in fake.bodies())
    after = scrape(client)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert value(after, "slotbot_database_up") == 1
    assert value(after, "slotbot_inbox_waiting") == 0
    assert value(after, "slotbot_inbox_oldest_waiting_seconds") == 0
    assert value(after, "slotbot_spool_waiting") == 0
    for channel in ("sms", "telegram", "web"):
        for status in ("pending", "sending", "failed"):
            assert value(after, "slotbot_outbox_messages", channel=channel, status=status) == 0
    assert value(after, "slotbot_outbox_oldest_due_seconds") == 0
    assert grew("slotbot_inbound_deliveries_total", channel="sms") == 2
    assert grew("slotbot_turns_total", channel="sms", outcome="handled") == 2
    assert grew("slotbot_turn_seconds_count", channel="sms") == 2
    assert grew("slotbot_turn_seconds_sum", channel="sms") > 0
    # Every message the fake Twilio accepted was counted once as sent by Twilio, none failed.
    sent = grew("slotbot_outbox_sends_total", provider="twilio", channel="sms", outcome="sent")
    assert sent == len(fake.received()) >= 3  # the question, the confirmation, the owner's
    assert (
        grew("slotbot_outbox_sends_total", provider="twilio", channel="sms", outcome="final") == 0
    )
    assert (
        grew("slotbot_outbox_sends_total", provider="twilio", channel="sms", outcome="retry") == 0
    )


def test_a_message_still_waiting_shows_in_the_inbox_depth_and_age(shop):
    client = shop.test_client()
    params = inbound_sms(PHONE, "hi")
    headers = {"X-Twilio-Signature": signature(PUBLIC + "/twilio/sms", params)}
    assert client.post("/twilio/sms", data=params, headers=headers).status_code == 200
    shop.config["CLOCK"] = lambda: local("2026-11-16 10:02")  # no worker for two minutes
    samples = scrape(client)
    assert value(samples, "slotbot_inbox_waiting") == 1
    assert value(samples, "slotbot_inbox_oldest_waiting_seconds") == 120


def test_metrics_are_refused_without_the_token_from_another_address(shop):
    client = shop.test_client()
    refused = client.get("/metrics", environ_base=OUTSIDE)
    assert refused.status_code == 403 and b"slotbot_" not in refused.data
    # A reverse proxy on this machine makes every request look local: it does not count.
    proxied = client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.7"})
    assert proxied.status_code == 403
    shop.config["SLOTBOT_HEALTH_TOKEN"] = TOKEN
    wrong = {"Authorization": "Bearer not-the-token"}
    assert client.get("/metrics", environ_base=OUTSIDE, headers=wrong).status_code == 403
    assert (
        client.get("/metrics", environ_base=OUTSIDE, headers={"Authorization": TOKEN}).status_code
        == 403
    )
    right = {"Authorization": f"Bearer {TOKEN}"}
    assert value(scrape(client, environ_base=OUTSIDE, headers=right), "slotbot_database_up") == 1
    # Its own token, when set, is the one that counts.
    shop.config["SLOTBOT_METRICS_TOKEN"] = "metrics-only-77"
    assert client.get("/metrics", environ_base=OUTSIDE, headers=right).status_code == 403
    mine = {"Authorization": "Bearer metrics-only-77"}
    assert value(scrape(client, environ_base=OUTSIDE, headers=mine), "slotbot_database_up") == 1
    # On the machine itself, no token is needed.
    assert value(scrape(client), "slotbot_database_up") == 1


def test_a_database_that_does_not_answer_is_a_gauge_not_a_500(shop):
    client = shop.test_client()
    working = shop.extensions["slotbot.db"]
    shop.extensions["slotbot.db"] = Database("postgresql+psycopg://postgres@127.0.0.1:1/none")
    try:
        samples = scrape(client)
    finally:
        shop.extensions["slotbot.db"].dispose()
        shop.extensions["slotbot.db"] = working
    assert value(samples, "slotbot_database_up") == 0
    assert value(samples, "slotbot_spool_waiting") == 0
    assert not any(name == "slotbot_inbox_waiting" for name, _ in samples)


def test_the_spool_gauge_counts_the_deliveries_kept_on_disk(shop, tmp_path: Path):
    folder = tmp_path / "spool"
    folder.mkdir()
    for name in ("inbound-sms-SM1.json", "inbound-sms-SM2.json", ".inbound-sms-SM3.json.tmp"):
        (folder / name).write_text("{}")
    shop.config["SLOTBOT_SPOOL_DIR"] = str(folder)
    assert value(scrape(shop.test_client()), "slotbot_spool_waiting") == 2  # not the temp file


def test_with_a_multiprocess_folder_a_scrape_sums_the_counters_of_every_process(
    shop, tmp_path: Path
):
    folder = tmp_path / "prometheus"
    folder.mkdir()
    worker = (
        "from bot.core.metrics import TURNS, TURN_SECONDS\n"
        "TURNS.labels('sms', 'handled').inc(3)\n"
        "TURN_SECONDS.labels('sms').observe(0.004)\n"
    )
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder), "PYTHONPATH": str(ROOT)}
    for _ in range(2):  # two worker processes
        subprocess.run([sys.executable, "-c", worker], env=env, cwd=ROOT, check=True)
    shop.config["PROMETHEUS_MULTIPROC_DIR"] = str(folder)
    samples = scrape(shop.test_client())
    assert value(samples, "slotbot_turns_total", channel="sms", outcome="handled") == 6
    assert value(samples, "slotbot_turn_seconds_count", channel="sms") == 2
    assert value(samples, "slotbot_inbox_waiting") == 0  # the database's gauges are there too


# ---------------------------------------------------------------------------------- logs


def test_the_logs_of_one_message_carry_its_message_sid_from_webhook_to_send(shop, fake, json_lines):
    client = shop.test_client()
    text(client, REQUEST)
    sid = text(client, "yes", sid="SM" + "0b5e" * 8)
    tick(shop)  # the owners' notices about it go out on the scheduler's tick
    lines = [json.loads(line) for line in json_lines.getvalue().splitlines()]
    assert lines and all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    mine = [line for line in lines if line.get("provider_id") == sid]
    webhook = [line for line in mine if line["logger"] == "webhooks.twilio"]
    turn = [line for line in mine if line["logger"] == "conversations.engine"]
    sends = [line for line in mine if line["logger"] == "bot.messaging.outbox"]
    assert [line["message"] for line in webhook] == ["sms recorded"]
    assert len(turn) == 1 and turn[0]["message"].startswith("turn on sms: handled in ")
    confirmation = next(m for m in fake.to(PHONE) if m["body"].startswith("You're booked"))
    to_owner = next(m for m in fake.to("+12125550199") if "Jane" in m["body"])
    sent_as = {line["sent_as"] for line in sends}
    assert {confirmation["sid"], to_owner["sid"]} <= sent_as  # the reply and the owner's note
    assert all(line["message"].endswith(": sent") for line in sends)
    # The first message's lines carry its own sid, never this one's.
    assert all(line.get("provider_id") != sid for line in lines[: lines.index(webhook[0])])
    with shop.extensions["slotbot.db"].read() as session:
        answering = session.scalars(
            select(OutboxMessage.provider_id).where(OutboxMessage.in_reply_to == sid)
        ).all()
    assert set(answering) == sent_as


def test_a_telegram_update_id_is_carried_from_the_webhook_to_the_send(shop, json_lines):
    from bot.messaging.senders.telegram_sender import TelegramSettings, shared_client
    from tests.fakes.telegram_api import make_fake_telegram, telegram_env, text_update

    with make_fake_telegram() as telegram:
        shop.config.update(telegram_env(telegram, TELEGRAM_WEBHOOK_SECRET="tg-secret"))
        client = shop.test_client()
        update = text_update(881001, "what are your hours?")
        headers = {"X-Telegram-Bot-Api-Secret-Token": "tg-secret"}
        assert client.post("/telegram/webhook", json=update, headers=headers).status_code == 200
        process_inbox(shop)
        [sent] = telegram.messages("881001")
        shared_client(TelegramSettings.from_env(telegram_env(telegram))).close()
    update_id = str(update["update_id"])
    mine = [json.loads(line) for line in json_lines.getvalue().splitlines()]
    mine = [line for line in mine if line.get("provider_id") == update_id]
    assert {"webhooks.telegram", "conversations.engine", "bot.messaging.outbox"} <= {
        line["logger"] for line in mine
    }
    assert any(line.get("sent_as") and line["logger"] == "bot.messaging.outbox" for line in mine)
    assert "open" in sent["text"].lower() or "hours" in sent["text"].lower()


def test_a_stripe_events_line_carries_its_event_id(shop, json_lines, monkeypatch):
    from tests.fakes.stripe_api import WEBHOOK_SECRET, signed

    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET)
    event = {"id": "evt_0b5e7e11", "object": "event", "type": "customer.created"}
    event |= {"data": {"object": {"id": "cus_1", "object": "customer"}}}
    body, header = signed(event)
    response = shop.test_client().post(
        "/stripe/webhook",
        data=body,
        headers={"Stripe-Signature": header, "Content-Type": "application/json"},
    )
    assert response.status_code == 200
    lines = [json.loads(line) for line in json_lines.getvalue().splitlines()]
    [line] = [line for line in lines if line["logger"] == "webhooks.payments"]
    assert line["provider_id"] == "evt_0b5e7e11"
    assert line["message"] == f"stripe customer.created: {response.get_json()['outcome']}"


def test_plain_logs_name_the_delivery_at_the_end_of_the_line():
    stream = io.StringIO()
    root = logging.getLogger()
    before = (list(root.handlers), root.level)
    try:
        configure_logging("plain", "INFO", stream=stream)
        logger = logging.getLogger("slotbot.test")
        with delivery("SM123"):
            logger.info("about it")
        logger.info("about nothing")
    finally:
        root.handlers[:] = before[0]
        root.setLevel(before[1])
    first, second = stream.getvalue().splitlines()
    assert first.endswith("INFO slotbot.test about it [SM123]")
    assert second.endswith("INFO slotbot.test about nothing")


def test_an_unknown_log_format_or_level_is_a_one_line_error():
    assert log_format(None) == "plain" and log_format(" JSON ") == "json"
    with pytest.raises(ConfigError, match="SLOTBOT_LOG_FORMAT: 'xml' is not plain or json"):
        log_format("xml")
    assert log_level(None) == logging.INFO and log_level("debug") == logging.DEBUG
    with pytest.raises(ConfigError, match="SLOTBOT_LOG_LEVEL: 'loud' is not DEBUG"):
        log_level("loud")


def test_the_in_reply_to_migration_comes_after_the_outbox_and_leaves_the_schema_current(
    tmp_path: Path,
):
    from sqlalchemy import inspect

    from storage.migrate import is_current, upgrade

    url = f"sqlite:///{tmp_path / 'steps.db'}"
    upgrade(url, "0009")  # the inbox's branch alone: no outbox table yet
    db = Database(url)
    try:
        assert not is_current(db)
        upgrade(url, "0013")  # brings the outbox branch it depends on along
        columns = {c["name"] for c in inspect(db.engine).get_columns("outbox_message")}
        assert {"lease_token", "in_reply_to"} <= columns
        assert not is_current(db)  # other heads still to go
        upgrade(url)
        assert is_current(db)  # though 0005 is no longer written down as a head of its own
    finally:
        db.dispose()


def _worker_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "TELEGRAM_"))}
    return env | {"PYTHONPATH": str(ROOT)} | extra


def test_slotbot_worker_writes_json_lines_that_name_the_delivery_it_handles(tmp_path: Path):
    from bot.config import apply_config, load_config
    from bot.core.clock import utcnow
    from bot.messaging.inbox import backlog, record
    from bot.messaging.messages import SMS, Inbound
    from storage.migrate import upgrade
    from tests.conftest import DEMO_CONFIG

    url = f"sqlite:///{tmp_path / 'worker.db'}"
    upgrade(url)
    db = Database(url)
    apply_config(db, load_config(DEMO_CONFIG))
    sid = "SM" + "7e11" * 8
    record(db, Inbound(channel=SMS, sender=PHONE, text="hi", provider_id=sid, received_at=utcnow()))
    command = [sys.executable, "-m", "webhooks.cli", "--database", url]
    command += ["--config", str(DEMO_CONFIG), "worker"]
    worker = subprocess.Popen(
        command,
        cwd=ROOT,
        env=_worker_env(SLOTBOT_LOG_FORMAT="json"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for _ in range(600):  # wait for the event (the turn), up to a generous minute
            if backlog(db).count == 0:
                break
            time.sleep(0.1)
    finally:
        worker.terminate()
        _, errors = worker.communicate(timeout=60)
        db.dispose()
    lines = [json.loads(line) for line in errors.splitlines()]  # every line is JSON
    mine = [line for line in lines if line.get("provider_id") == sid]
    assert any(
        line["logger"] == "conversations.engine" and line["message"].startswith("turn on sms")
        for line in mine
    ), errors
    # Without Twilio credentials the reply goes to the log sender: that line and the
    # dispatcher's both name the message it answers.
    assert any(line["message"].startswith("NOT SENT") for line in mine)
    assert any(
        line["logger"] == "bot.messaging.outbox" and line["message"].endswith(": sent") for line in mine
    )


def test_a_bad_log_format_stops_the_worker_with_one_line(tmp_path: Path):
    from tests.conftest import DEMO_CONFIG

    url = f"sqlite:///{tmp_path / 'bad.db'}"
    command = [sys.executable, "-m", "webhooks.cli", "--database", url]
    command += ["--config", str(DEMO_CONFIG), "worker"]
    done = subprocess.run(
        command, cwd=ROOT, env=_worker_env(SLOTBOT_LOG_FORMAT="xml"), capture_output=True, text=True
    )
    assert done.returncode == 2
    assert done.stderr == "slotbot: error: SLOTBOT_LOG_FORMAT: 'xml' is not plain or json\n"
