"""Limits: request bodies are capped (413), the web chat and the pages are rate limited (429)
per IP and per session, and one sender who floods gets one "slow down" and then silence —
with every message still recorded. No test here reads the wall clock: the rate limits count
requests, and the engine's clock is injected (or frozen with time-machine).

Tests that take `db` or `db_url` run on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from bot.config import apply_config, load_config
from bot.core.clock import utcnow
from bot.customers.portal import issue_link
from bot.messaging.courier import Courier
from bot.messaging.inbox import record
from bot.messaging.messages import SMS, WEB, Inbound
from conversations.engine import SLOW_DOWN, SLOW_DOWN_PURPOSE
from conversations.inbox import InboxProcessor
from storage.db import Database
from storage.messaging import OutboxMessage
from storage.models import CustomerIdentity, InboundMessage
from tests.conftest import DEMO_CONFIG
from tests.customers.test_portal import path_of
from tests.factories import local
from webhooks.app import create_app
from webhooks.channels import inbox_processor

NOW = local("2026-11-16 10:00")
FLOODER = "+15551230001"
NEIGHBOUR = "+15551230002"
PUBLIC_IP = "203.0.113.7"  # a client on the internet (documentation range): not exempt


def make_app(db_url: str, **settings: str) -> Flask:
    return create_app(
        {"DATABASE_URL": db_url, "BUSINESS_CONFIG": str(DEMO_CONFIG), "TESTING": True, **settings}
    )


@pytest.fixture
def limited(sqlite_url: str) -> Iterator[Flask]:
    """The app with small limits, so that a test can reach them in a few requests."""
    app = make_app(
        sqlite_url,
        SLOTBOT_RATE_LIMIT_CHAT_IP="8/minute",
        SLOTBOT_RATE_LIMIT_CHAT_SESSION="3/minute",
        SLOTBOT_RATE_LIMIT_NEW_SESSIONS="4/hour",
        SLOTBOT_RATE_LIMIT_FORMS_IP="5/minute",
        SLOTBOT_RATE_LIMIT_FORMS_LINK="2/minute",
    )
    yield app
    app.extensions["slotbot.db"].dispose()


def chat(client: FlaskClient, session: str, text: str = "hi", ip: str = PUBLIC_IP):
    return client.post(
        "/api/chat", json={"session": session, "text": text}, environ_base={"REMOTE_ADDR": ip}
    )


def count(db: Database, model: type, *where) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


# ------------------------------------------------------------------------------ body size


def test_a_body_over_one_megabyte_is_refused_with_413_before_it_is_parsed(client, app):
    huge = '{"session": "big-body-01", "text": "' + "x" * (1024 * 1024) + '"}'
    response = client.post("/api/chat", data=huge, content_type="application/json")
    assert response.status_code == 413
    assert response.get_json() == {"error": "Request body too large."}
    assert count(app.extensions["slotbot.db"], InboundMessage) == 0


def test_a_form_over_the_cap_is_refused_with_413_in_plain_text(sqlite_url):
    app = make_app(sqlite_url, TWILIO_AUTH_TOKEN="a-token")
    try:
        form = app.test_client().post(
            "/twilio/sms", data={"Body": "x" * (1024 * 1024)}, headers={"X-Twilio-Signature": "x"}
        )
        assert form.status_code == 413 and form.mimetype == "text/plain"
        assert count(app.extensions["slotbot.db"], InboundMessage) == 0
    finally:
        app.extensions["slotbot.db"].dispose()


def test_a_body_just_under_the_cap_is_read_as_usual(client):
    body = '{"session": "big-body-02", "text": "hi", "pad": "' + "x" * (1024 * 1000) + '"}'
    response = client.post("/api/chat", data=body, content_type="application/json")
    assert response.status_code == 200 and response.get_json()["messages"]


def test_the_body_cap_is_a_setting(sqlite_url):
    app = make_app(sqlite_url, SLOTBOT_MAX_BODY_BYTES="100")
    try:
        response = app.test_client().post("/api/chat", json={"session": "s" * 8, "text": "x" * 99})
        assert response.status_code == 413
    finally:
        app.extensions["slotbot.db"].dispose()


# ----------------------------------------------------------------------------- rate limits


def test_one_chat_session_over_its_limit_gets_429_and_other_sessions_go_on(limited):
    client = limited.test_client()
    assert [chat(client, "session-aaa").status_code for _ in range(4)] == [200, 200, 200, 429]
    refused = chat(client, "session-aaa")
    assert refused.status_code == 429 and "error" in refused.get_json()
    assert refused.headers["Retry-After"]
    assert chat(client, "session-bbb").status_code == 200
    # The refused messages were never handled: three turns, three recorded messages.
    db = limited.extensions["slotbot.db"]
    assert count(db, InboundMessage, InboundMessage.address == "session-aaa") == 3


def test_one_address_over_its_limit_gets_429_whatever_the_session(limited):
    client = limited.test_client()
    codes = [chat(client, f"session-{i:03d}", ip="198.51.100.9").status_code for i in range(4)]
    codes += [chat(client, f"session-{i:03d}", ip="198.51.100.9").status_code for i in range(4)]
    assert codes == [200] * 8
    assert chat(client, "session-000", ip="198.51.100.9").status_code == 429
    assert chat(client, "session-000", ip="198.51.100.10").status_code == 200


def test_new_chat_sessions_per_address_are_limited_but_existing_ones_go_on(limited):
    client = limited.test_client()
    assert [chat(client, f"fresh-{i:04d}").status_code for i in range(4)] == [200] * 4
    assert chat(client, "fresh-9999").status_code == 429
    db = limited.extensions["slotbot.db"]
    assert count(db, InboundMessage, InboundMessage.address == "fresh-9999") == 0
    assert chat(client, "fresh-0000").status_code == 200  # a session it has already started


def test_loopback_is_exempt_from_the_per_address_limits_but_not_the_per_session_one(limited):
    client = limited.test_client()
    codes = [chat(client, f"local-{i:04d}", ip="127.0.0.1").status_code for i in range(12)]
    assert codes == [200] * 12  # over the 8/minute per IP and the 4 new sessions an hour
    assert [chat(client, "local-0000", ip="::1").status_code for _ in range(3)] == [200, 200, 429]


def test_portal_and_dashboard_posts_are_limited_per_link_and_per_address(limited):
    client = limited.test_client()
    url = "/dashboard/not-a-real-token/block"
    link = [client.post(url, environ_base={"REMOTE_ADDR": PUBLIC_IP}).status_code for _ in range(3)]
    assert link[:2] != [429, 429] and link[2] == 429
    paths = ["/portal/tok-a/card/remove", "/portal/tok-b/card/remove", "/dashboard/tok-c/block"]
    codes = [
        client.post(p, environ_base={"REMOTE_ADDR": "198.51.100.20"}).status_code for p in paths * 2
    ]
    assert 429 not in codes[:5] and codes[5] == 429  # five a minute from one address
    assert client.get("/dashboard/not-a-real-token").status_code != 429  # pages are not limited


@pytest.mark.slow
def test_the_default_limits_let_hundreds_of_scripted_conversations_from_one_address_through(
    app, client
):
    # What an evaluator does: one address, a fresh session per conversation, back to back.
    for n, address in enumerate(("127.0.0.1", "198.51.100.30")):
        codes = [chat(client, f"script-{n}-{i:03d}", ip=address).status_code for i in range(120)]
        codes += [
            chat(client, f"script-{n}-000", text, ip=address).status_code
            for text in ["book", "Haircut", "Sam", "tomorrow", "3pm", "Jane", "yes", "thanks"]
        ]
        assert codes == [200] * len(codes)


def test_a_limit_that_is_not_a_rate_limit_stops_the_app_at_start(sqlite_url):
    with pytest.raises(ValueError, match="SLOTBOT_RATE_LIMIT_CHAT_IP"):
        make_app(sqlite_url, SLOTBOT_RATE_LIMIT_CHAT_IP="lots")


def test_a_limit_set_to_off_is_not_applied(sqlite_url):
    app = make_app(sqlite_url, SLOTBOT_RATE_LIMIT_CHAT_SESSION="off")
    try:
        client = app.test_client()
        assert [chat(client, "unlimited-01").status_code for _ in range(70)] == [200] * 70
    finally:
        app.extensions["slotbot.db"].dispose()


# ------------------------------------------------------------------- per-sender throttle


@pytest.fixture
def salon(db: Database) -> Database:
    apply_config(db, load_config(DEMO_CONFIG))
    return db


def sms(sender: str, n: int, at) -> Inbound:
    return Inbound(
        channel=SMS, sender=sender, text="hi", provider_id=f"SM{sender}{n}", received_at=at
    )


def replies(db: Database, address: str) -> list[OutboxMessage]:
    with db.read() as session:
        return list(
            session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.address == address)
                .order_by(OutboxMessage.id)
            )
        )


def test_a_flood_from_one_number_gets_the_configured_replies_one_slow_down_and_silence(salon):
    # 200 messages in 10 seconds from one number, five from a neighbour in between.
    for n in range(200):
        at = NOW + timedelta(milliseconds=50 * n)
        record(salon, sms(FLOODER, n, at))
        if n % 40 == 0:
            record(salon, sms(NEIGHBOUR, n, at))
    clock = lambda: NOW + timedelta(seconds=10)  # noqa: E731
    worker = InboxProcessor(salon, Courier(salon, {}, enabled=False), clock=clock)
    worker.replies_per_minute = 20
    assert worker.run_pending() == 205

    sent = replies(salon, FLOODER)
    answers = [r for r in sent if r.purpose != SLOW_DOWN_PURPOSE]
    slow_downs = [r for r in sent if r.purpose == SLOW_DOWN_PURPOSE]
    assert len(answers) == 20 and len(slow_downs) == 1
    assert slow_downs[0].body["text"] == SLOW_DOWN
    assert sent[20].purpose == SLOW_DOWN_PURPOSE  # right after the twentieth answer
    # Nothing lost: every message is recorded, handled, and kept for the owner to read.
    handled = InboundMessage.address == FLOODER, InboundMessage.handled_at.is_not(None)
    assert count(salon, InboundMessage, *handled) == 200
    assert len(replies(salon, NEIGHBOUR)) == 5  # others are answered as usual


def test_the_owner_and_staff_are_never_throttled_however_fast_they_write(salon):
    owner, staff = "+12125550199", "+12125550101"  # business.toml's owner and Sam
    for n in range(30):
        at = NOW + timedelta(seconds=n)
        record(salon, sms(owner, n, at))
        record(salon, sms(staff, n, at))
    worker = InboxProcessor(
        salon,
        Courier(salon, {}, enabled=False),
        clock=lambda: NOW + timedelta(seconds=30),
        replies_per_minute=20,
    )
    assert worker.run_pending() == 60
    for person in (owner, staff):
        purposes = [r.purpose for r in replies(salon, person)]
        assert SLOW_DOWN_PURPOSE not in purposes
        assert len(purposes) >= 30  # every message answered


def test_a_sender_who_calmed_down_is_answered_again(salon):
    for n in range(25):
        record(salon, sms(FLOODER, n, NOW + timedelta(seconds=n)))
    record(salon, sms(FLOODER, 99, NOW + timedelta(minutes=3)))
    worker = InboxProcessor(
        salon,
        Courier(salon, {}, enabled=False),
        clock=lambda: NOW + timedelta(minutes=3),
        replies_per_minute=20,
    )
    assert worker.run_pending() == 26
    purposes = [r.purpose for r in replies(salon, FLOODER)]
    assert purposes == ["reply"] * 20 + [SLOW_DOWN_PURPOSE] + ["reply"]


def test_stop_is_honoured_even_in_a_flood(salon):
    for n in range(30):
        record(salon, sms(FLOODER, n, NOW))
    record(
        salon,
        Inbound(channel=SMS, sender=FLOODER, text="STOP", provider_id="SMstop", received_at=NOW),
    )
    worker = InboxProcessor(salon, Courier(salon, {}, enabled=False), clock=lambda: NOW)
    worker.run_pending()
    from storage.models import CustomerIdentity

    with salon.read() as session:
        identity = session.scalar(
            select(CustomerIdentity).where(CustomerIdentity.address == FLOODER)
        )
        assert identity is not None and identity.opted_out_at is not None


def test_the_web_chat_throttle_is_per_session_and_set_by_the_app(db_url):
    app = make_app(db_url, SLOTBOT_REPLIES_PER_MINUTE="3")
    try:
        client = app.test_client()
        with time_machine.travel(NOW, tick=False):
            got, after = [], 0
            for _ in range(6):
                answer = client.post(
                    "/api/chat", json={"session": "flood-web-1", "text": "hi", "after": after}
                ).get_json()
                got.append(answer["messages"])
                after = answer["after"]
            other = chat(client, "flood-web-2").get_json()["messages"]
        assert [len(m) for m in got] == [1, 1, 1, 1, 0, 0]
        assert got[3][0]["text"] == SLOW_DOWN
        assert other and other[0]["text"] != SLOW_DOWN
        db = app.extensions["slotbot.db"]
        assert count(db, InboundMessage, InboundMessage.channel == WEB) == 7
    finally:
        app.extensions["slotbot.db"].dispose()


def test_the_owner_reads_every_message_of_a_flood_on_the_customers_page(app, client):
    db = app.extensions["slotbot.db"]
    now = utcnow()
    for n in range(25):
        text = f"flood message {n}"
        record(db, Inbound(SMS, FLOODER, text, provider_id=f"SMf{n}", received_at=now))
    inbox_processor(app).run_pending()
    with db.write() as session:
        owner = issue_link(session, customer_id=None, role="owner", now=now)
        customer_id = session.scalar(
            select(CustomerIdentity.customer_id).where(CustomerIdentity.address == FLOODER)
        )
    sent = replies(db, FLOODER)
    assert len(sent) == 21 and sent[-1].purpose == SLOW_DOWN_PURPOSE  # 20 answers + 1
    page = client.get(f"{path_of(owner)}/customers/{customer_id}").get_data(as_text=True)
    assert all(f"flood message {n}<" in page for n in range(25))


def test_the_proven_owner_is_not_rate_limited_but_a_wrong_key_is(limited):
    client = limited.test_client()

    def as_owner(key: str):
        return client.post(
            "/api/chat",
            json={"owner_key": key, "text": "today"},
            environ_base={"REMOTE_ADDR": PUBLIC_IP},
        )

    assert [as_owner("demo-owner-key").status_code for _ in range(8)] == [200] * 8
    guesses = [as_owner("not-the-key").status_code for _ in range(5)]
    assert guesses[:3] == [403] * 3 and guesses[-1] == 429  # guesses count; proof does not


def test_json_nested_thousands_deep_is_a_400_not_a_500(client, app):
    deep = "[" * 50000 + "]" * 50000
    response = client.post("/api/chat", data=deep, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json() == {"error": "Request body nested too deeply."}
    assert count(app.extensions["slotbot.db"], InboundMessage) == 0
