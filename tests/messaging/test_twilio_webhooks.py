"""Twilio ingress: signed SMS and WhatsApp webhooks as Twilio posts them, the replies the
real SDK then sends to the fake Twilio API, redeliveries, media and status callbacks."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from bot.messaging.messages import Reply
from bot.messaging.outbox import dispatch_due, enqueue
from bot.messaging.senders import build_senders
from storage.db import Database
from storage.messaging import FAILED, SENT, OutboxMessage
from storage.models import Appointment, Customer, CustomerIdentity, InboundMessage
from tests.conftest import DEMO_CONFIG, process_inbox
from tests.dialogue import Chat
from tests.factories import local
from tests.fakes.twilio_api import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    SMS_FROM,
    FakeTwilio,
    inbound_sms,
    make_fake_twilio,
    signature,
    twilio_env,
)
from webhooks.app import create_app
from webhooks.channels import courier, inbox_processor

NOW = local("2026-11-16 10:00")
PUBLIC = "https://salon.example.com"  # what Twilio calls; the test client is http://localhost
PHONE = "+15551230001"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response />'


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    with make_fake_twilio() as server:
        yield server


@pytest.fixture
def app(sqlite_url: str, fake: FakeTwilio) -> Iterator[Flask]:
    """The app on SQLite, Twilio pointed at the fake, public URL set, the clock fixed."""
    application = create_app(
        {
            "DATABASE_URL": sqlite_url,
            "BUSINESS_CONFIG": str(DEMO_CONFIG),
            "TESTING": True,
            "CLOCK": lambda: NOW,
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


def form(from_: str = PHONE, body: str = "hi", *, whatsapp: bool = False, **extra: str) -> dict:
    """The fields Twilio posts for one inbound message (with the ones it always adds)."""
    fields = inbound_sms(from_, body, whatsapp=whatsapp)
    fields |= {
        "SmsMessageSid": fields["MessageSid"],
        "SmsSid": fields["MessageSid"],
        "SmsStatus": "received",
        "NumSegments": "1",
        "ApiVersion": "2010-04-01",
        "FromCountry": "US",
        "ToCountry": "US",
    }
    if whatsapp:
        fields |= {"ProfileName": "Jane Doe", "WaId": from_.lstrip("+"), "MessageType": "text"}
    return fields | extra


def post(
    client: FlaskClient,
    params: dict[str, Any],
    path: str = "/twilio/sms",
    *,
    signed_url: str | None = None,
    token: str = AUTH_TOKEN,
    header: str | None = None,
):
    """POST as Twilio does, signed for the public URL; then the worker's part, and its sends."""
    sig = signature(signed_url or PUBLIC + path, params, token) if header is None else header
    response = client.post(path, data=params, headers={"X-Twilio-Signature": sig} if sig else {})
    process_inbox(client.application)
    return response


def count(db: Database, model: type) -> int:
    with db.read() as session:
        return session.scalar(select(func.count()).select_from(model))


# --------------------------------------------------------------------------- messages


def test_an_sms_is_answered_with_empty_twiml_and_the_reply_goes_by_the_api(client, fake):
    response = post(client, form(body="hi"))
    assert response.status_code == 200 and response.mimetype == "text/xml"
    assert response.get_data(as_text=True) == EMPTY_TWIML
    [reply] = fake.to(PHONE)
    assert reply["from"] == SMS_FROM
    assert reply["body"].startswith("Hi! I'm the booking assistant for Maple & Mane Salon.")
    assert reply["body"].endswith(
        "1. Book an appointment\n2. My appointments\n3. Talk to a person\nReply 1, 2 or 3"
    )
    assert reply["status_callback"] == f"{PUBLIC}/twilio/status"


def test_the_webhook_only_records_the_message_and_the_worker_answers_it(client, db, fake):
    params = form(body="what are your hours?")
    headers = {"X-Twilio-Signature": signature(f"{PUBLIC}/twilio/sms", params)}
    response = client.post("/twilio/sms", data=params, headers=headers)
    assert response.get_data(as_text=True) == EMPTY_TWIML
    with db.read() as session:
        row = session.scalars(select(InboundMessage)).one()
        assert (row.text, row.handled_at) == ("what are your hours?", None)
    assert count(db, OutboxMessage) == 0 and fake.to(PHONE) == []
    # Twilio retries (it never saw our answer): still one message waiting.
    client.post("/twilio/sms", data=params, headers=headers)
    assert count(db, InboundMessage) == 1
    assert process_inbox(client.application) == 1
    [reply] = fake.to(PHONE)
    assert "9" in reply["body"]  # the hours
    with db.read() as session:
        assert session.scalars(select(InboundMessage.handled_at)).one() == NOW


def test_the_signature_covers_the_public_url_not_the_one_the_proxy_hands_us(client, db):
    assert post(client, form(), signed_url="http://localhost/twilio/sms").status_code == 403
    assert post(client, form()).status_code == 200


def test_a_query_string_is_part_of_what_twilio_signs(client):
    path = "/twilio/sms?shop=main"
    assert post(client, form(), path, signed_url=f"{PUBLIC}/twilio/sms").status_code == 403
    assert post(client, form(), path).status_code == 200


def _altered(client: FlaskClient) -> Any:
    params = form(body="hi")
    sig = signature(f"{PUBLIC}/twilio/sms", params)
    return post(client, params | {"Body": "cancel all my appointments"}, header=sig)


REFUSALS = {
    "missing": lambda client: post(client, form(), header=""),
    "forged": lambda client: post(client, form(), header="bm90IGEgc2lnbmF0dXJl"),
    "another account's token": lambda client: post(client, form(), token="someone-else"),
    "replayed with altered params": _altered,
    "replayed to the status callback": lambda client: post(
        client, form(), "/twilio/status", signed_url=f"{PUBLIC}/twilio/sms"
    ),
}


@pytest.mark.parametrize("attack", REFUSALS, ids=list(REFUSALS))
def test_an_unsigned_or_tampered_request_is_refused_and_nothing_is_stored(client, db, fake, attack):
    response = REFUSALS[attack](client)
    assert response.status_code == 403
    assert count(db, InboundMessage) == 0 and count(db, OutboxMessage) == 0
    assert count(db, Customer) == 0 and fake.received() == []


def test_without_an_auth_token_twilio_endpoints_are_not_configured(app, client, db, monkeypatch):
    monkeypatch.delenv("TWILIO_AUTH_TOKEN", raising=False)
    app.config["TWILIO_AUTH_TOKEN"] = None
    for path in ("/twilio/sms", "/twilio/whatsapp", "/twilio/status"):
        assert post(client, form(), path, token="anything").status_code == 503
    assert count(db, InboundMessage) == 0


def test_the_same_message_sid_delivered_three_times_is_handled_once(client, db, fake):
    params = form(body="my appointments")
    for _ in range(3):
        assert post(client, params).get_data(as_text=True) == EMPTY_TWIML
    assert count(db, InboundMessage) == 1
    assert count(db, OutboxMessage) == 1 and len(fake.to(PHONE)) == 1


def test_stop_by_sms_gets_no_reply_from_us_and_silences_what_follows(client, db, fake):
    post(client, form(body="hi"))
    post(client, form(body="STOP"))
    post(client, form(body="haircut tomorrow"))
    assert len(fake.to(PHONE)) == 1  # only the greeting: Twilio answers STOP itself
    with db.read() as session:
        assert session.scalar(select(CustomerIdentity.opted_out_at)) is not None


def test_stop_on_whatsapp_is_confirmed_by_us(client, fake):
    post(client, form(body="STOP", whatsapp=True), "/twilio/whatsapp")
    [sent] = fake.to(f"whatsapp:{PHONE}")
    assert "unsubscribed" in sent["body"] and "START" in sent["body"]


def test_a_whatsapp_message_knows_its_sender_by_profile_name_and_pin(client, db, fake):
    pin = {"Latitude": "40.7191", "Longitude": "-73.9973", "Address": "214 Grand St"}
    post(client, form(body="", whatsapp=True, MessageType="location", **pin), "/twilio/whatsapp")
    with db.read() as session:
        identity = session.scalar(select(CustomerIdentity))
        message = session.scalar(select(InboundMessage))
        name = identity.customer.name
    assert (identity.channel, identity.address) == ("whatsapp", PHONE)
    assert name == "Jane Doe"
    assert message.payload["location"] == [40.7191, -73.9973, "214 Grand St"]
    assert fake.to(f"whatsapp:{PHONE}")  # answered inside the 24-hour window


def test_a_photo_sent_by_mms_is_kept_on_the_upcoming_appointment_once(client, db, fake):
    Chat(db, NOW, channel="sms", sender=PHONE).say("haircut with Sam friday at 4, I'm Jane")
    Chat(db, NOW, channel="sms", sender=PHONE).say("yes")
    url = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/MM1/Media/ME1"
    params = form(body="", NumMedia="1", MediaUrl0=url, MediaContentType0="image/jpeg")
    post(client, params)
    post(client, params)  # redelivered
    with db.read() as session:
        notes = session.scalar(select(Appointment.notes))
        payload = session.scalar(
            select(InboundMessage.payload).order_by(InboundMessage.id.desc()).limit(1)
        )
    assert notes.count(f"Photo from customer: {url}") == 1
    assert payload["attachments"] == [
        {"content_type": "image/jpeg", "filename": None, "url": url, "data": None}
    ]


# ---------------------------------------------------------------------- status callbacks


def _sent_message(db: Database, fake: FakeTwilio, app: Flask, **kw: Any) -> OutboxMessage:
    """Queue and send one confirmation to PHONE through the fake; the row as recorded."""
    Chat(db, NOW, channel="sms", sender=PHONE).say("hi")
    with db.write() as session:
        row = enqueue(
            session, channel="sms", address=PHONE, reply=Reply("Booked!"), purpose="confirmation"
        )
    senders = build_senders(twilio_env(fake, SLOTBOT_PUBLIC_URL=PUBLIC))
    dispatch_due(db, senders, ids=[row.id], **kw)
    with db.read() as session:
        return session.get(OutboxMessage, row.id)


def status_form(sid: str, state: str, code: str | None = None) -> dict[str, str]:
    fields = {
        "AccountSid": ACCOUNT_SID,
        "ApiVersion": "2010-04-01",
        "From": SMS_FROM,
        "To": PHONE,
        "MessageSid": sid,
        "SmsSid": sid,
        "MessageStatus": state,
        "SmsStatus": state,
    }
    return fields | ({"ErrorCode": code} if code else {})


def test_a_delivered_status_leaves_the_row_sent(app, client, db, fake):
    row = _sent_message(db, fake, app)
    for state in ("sent", "delivered"):
        assert (
            post(client, status_form(row.provider_id, state), "/twilio/status").status_code == 204
        )
    with db.read() as session:
        assert session.get(OutboxMessage, row.id).status == SENT


def test_an_undelivered_message_is_marked_failed_and_the_owners_told_once(app, client, db, fake):
    row = _sent_message(db, fake, app)
    for state in ("undelivered", "failed"):  # Twilio may report both
        post(client, status_form(row.provider_id, state, "30003"), "/twilio/status")
    with db.read() as session:
        failed = session.get(OutboxMessage, row.id)
        notes = session.scalars(
            select(OutboxMessage).where(OutboxMessage.purpose == "delivery_failed")
        ).all()
    assert failed.status == FAILED and failed.last_error == "Twilio: undelivered (30003)"
    assert {(n.channel, n.address) for n in notes} == {
        ("web", "owner"),
        ("telegram", "1000"),
        ("sms", "+12125550199"),
    }
    assert "was not delivered" in notes[0].body["text"]


def test_error_21610_in_a_status_callback_opts_the_number_out(app, client, db, fake):
    row = _sent_message(db, fake, app)
    post(client, status_form(row.provider_id, "undelivered", "21610"), "/twilio/status")
    with db.read() as session:
        identity = session.scalar(select(CustomerIdentity).where(CustomerIdentity.address == PHONE))
        notes = session.scalar(
            select(func.count()).where(OutboxMessage.purpose == "delivery_failed")
        )
    assert identity.opted_out_at is not None and notes == 0


def test_the_running_worker_handles_the_webhooks_message_and_sends_the_reply_itself(
    app, client, db, fake
):
    # No scheduler runs here: the reply can only come from the worker's turn and its
    # courier's kick. How fast that is under load is for bench/webhooks.py to say.
    worker = inbox_processor(app).start()  # as `slotbot worker` runs it
    try:
        params = form(body="hi")
        headers = {"X-Twilio-Signature": signature(f"{PUBLIC}/twilio/sms", params)}
        assert client.post("/twilio/sms", data=params, headers=headers).status_code == 200
        deadline = time.monotonic() + 60  # a generous wait for the event, not a measurement
        while not fake.to(PHONE) and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        worker.stop()
    assert courier(app).drain()  # the kick records what it sent
    [reply] = fake.to(PHONE)
    assert reply["body"].startswith("Hi! I'm the booking assistant")
    with db.read() as session:
        row = session.scalars(select(OutboxMessage).where(OutboxMessage.address == PHONE)).one()
    assert (row.status, row.attempts, row.provider_id) == (SENT, 1, reply["sid"])
