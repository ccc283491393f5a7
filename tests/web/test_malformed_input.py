"""The 500s hostile input used to cause, one by one (the fuzz in test_fuzz_routes.py finds
the rest): each is now a 4xx that changes nothing, or a message that is answered.

Tests that take `app` / `client` run on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
import stripe
from flask import Flask
from sqlalchemy import func, select

from storage.models import InboundMessage
from tests.conftest import DEMO_CONFIG
from tests.fakes.telegram_api import make_fake_telegram, telegram_env
from webhooks.app import create_app

SECRET = "malformed-secret"


def inbound_count(app: Flask) -> int:
    with app.extensions["slotbot.db"].read() as session:
        return int(session.scalar(select(func.count()).select_from(InboundMessage)) or 0)


@pytest.mark.parametrize("after", ["1e400", "99999999999999999999999999", "NaN", "true"])
def test_a_web_chat_after_that_is_no_message_id_is_a_400_and_the_message_is_not_handled(
    app, client, after
):
    body = '{"session": "after-test-01", "text": "hi", "message_id": "m1", "after": ' + after + "}"
    response = client.post("/api/chat", data=body, content_type="application/json")
    assert response.status_code == 400
    assert inbound_count(app) == 0  # refused before handling: a retry is not a duplicate
    retry = client.post(
        "/api/chat", json={"session": "after-test-01", "text": "hi", "message_id": "m1"}
    )
    assert retry.status_code == 200 and retry.get_json()["messages"]


def test_a_poll_with_a_huge_after_is_a_400(client):
    response = client.get("/api/chat/messages?session=after-test-02&after=" + "9" * 30)
    assert response.status_code == 400


def test_a_web_chat_message_with_a_lone_surrogate_is_stored_and_answered(app, client):
    body = b'{"session": "surrogate-01", "text": "hi \\ud83d there"}'
    response = client.post("/api/chat", data=body, content_type="application/json")
    assert response.status_code == 200
    [reply] = response.get_json()["messages"]
    assert "Sorry, something went wrong" not in reply["text"]
    with app.extensions["slotbot.db"].read() as session:
        assert session.scalar(select(InboundMessage.text)) == "hi \ufffd there"


def test_an_owner_key_with_non_ascii_characters_is_a_403(client):
    response = client.post("/api/chat", json={"owner_key": "clé", "text": "hi"})
    assert response.status_code == 403


def test_an_id_beyond_what_the_database_stores_is_a_404(client):
    path = "/portal/some-token/appointments/{}/cancel"
    assert client.get(path.format(2**31)).status_code == 404
    assert client.get(path.format(10**30)).status_code == 404


@pytest.fixture
def telegram_app(sqlite_url: str) -> Iterator[Flask]:
    with make_fake_telegram() as fake:
        app = create_app(
            {
                "DATABASE_URL": sqlite_url,
                "BUSINESS_CONFIG": str(DEMO_CONFIG),
                "TESTING": True,
                **telegram_env(fake, TELEGRAM_WEBHOOK_SECRET=SECRET),
            }
        )
        yield app
        app.extensions["slotbot.db"].dispose()


@pytest.mark.parametrize(
    "message",
    [
        {"text": {"a": 1}},  # the report: Telegram redelivered the 500 forever
        {"text": "hi", "chat": {"id": {"x": 1}, "type": "private"}},
        {"text": "hi", "date": 1e300},
        {"text": "hi", "from": {"id": 5, "is_bot": False, "first_name": 7}},
    ],
)
def test_a_telegram_update_with_fields_of_the_wrong_type_is_acknowledged_and_ignored(
    telegram_app, message
):
    update = {
        "update_id": 70001,
        "message": {"message_id": 1, "date": 1_763_290_000, "chat": {"id": 5, "type": "private"}}
        | message,
    }
    response = telegram_app.test_client().post(
        "/telegram/webhook", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
    )
    assert response.status_code == 200
    if "chat" in message:
        assert inbound_count(telegram_app) == 0  # no chat to answer: nothing recorded


def test_a_telegram_update_id_beyond_64_bits_is_a_400(telegram_app):
    response = telegram_app.test_client().post(
        "/telegram/webhook",
        json={"update_id": 10**30, "message": {}},
        headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    "event",
    [
        [1, 2, 3],
        {"id": "evt_1", "type": "charge.refunded", "data": [None]},
        {"id": "evt_2", "type": "checkout.session.completed", "data": None},
        {
            "id": "evt_3",
            "type": "checkout.session.completed",
            "data": {"object": {"amount_total": "x"}},
        },
        {
            "id": "evt_4",
            "type": "checkout.session.completed",
            "data": {"object": {"metadata": {"invoice_id": "9" * 30}, "payment_status": "paid"}},
        },
    ],
)
def test_a_signed_stripe_event_that_is_not_shaped_like_one_is_a_400(client, monkeypatch, event):
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", "whsec_malformed")
    payload = json.dumps(event)
    header = stripe.WebhookSignature.generate_signature_header(
        payload, "whsec_malformed", timestamp=int(time.time())
    )
    response = client.post("/stripe/webhook", data=payload, headers={"Stripe-Signature": header})
    assert response.status_code == 400
