"""A hand-over over real channels: a customer texts by SMS (signed Twilio webhooks in, the
Twilio SDK out to the fake), the owner answers on Telegram by replying to the bot's notice,
or with "r 1: ..." — and the customer gets the answer by SMS. Both backends.

Tuesday 17 Nov 2026, 11:00 in New York.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from bot.messaging.handover import HANDOVER_NOTICE, HANDOVER_REPLY
from bot.messaging.outbox import dispatch_due
from bot.messaging.senders.telegram_sender import TelegramSettings, shared_client
from storage.engagement import Handover
from storage.messaging import SENT, OutboxMessage
from tests.conftest import process_inbox
from tests.factories import local
from tests.fakes.telegram_api import FakeTelegram, make_fake_telegram, telegram_env, text_update
from tests.fakes.twilio_api import FakeTwilio, inbound_sms, make_fake_twilio, signature, twilio_env
from webhooks.channels import courier

NOW = local("2026-11-17 11:00")
PUBLIC = "https://salon.example.com"
SECRET = "tg-secret"
PHONE = "+15551230001"
OWNER_CHAT = 1000  # telegram:1000 is an owner in the demo business.toml


@pytest.fixture
def fakes() -> Iterator[tuple[FakeTwilio, FakeTelegram]]:
    with make_fake_twilio() as twilio, make_fake_telegram() as telegram:
        yield twilio, telegram
        shared_client(TelegramSettings.from_env(telegram_env(telegram))).close()


@pytest.fixture
def channels(app: Flask, fakes: tuple[FakeTwilio, FakeTelegram]) -> Iterator[Flask]:
    twilio, telegram = fakes
    app.config.update(
        CLOCK=lambda: NOW,
        **twilio_env(twilio, SLOTBOT_PUBLIC_URL=PUBLIC, SLOTBOT_SECRET_KEY="file-links"),
        **telegram_env(telegram, TELEGRAM_WEBHOOK_SECRET=SECRET),
    )
    yield app
    if "slotbot.courier" in app.extensions:
        app.extensions["slotbot.courier"].close()


def settle(client: FlaskClient) -> None:
    """Handle the inbox, then send everything due (the team's notices too)."""
    app = client.application
    process_inbox(app)
    dispatch_due(app.extensions["slotbot.db"], courier(app).senders, now=NOW)


def sms(client: FlaskClient, body: str) -> None:
    params = inbound_sms(PHONE, body)
    headers = {"X-Twilio-Signature": signature(PUBLIC + "/twilio/sms", params)}
    assert client.post("/twilio/sms", data=params, headers=headers).status_code == 200
    settle(client)


def telegram(client: FlaskClient, text: str, **extra: object) -> None:
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    update = text_update(OWNER_CHAT, text, first_name="Olive", last_name="Owner", **extra)
    assert client.post("/telegram/webhook", json=update, headers=headers).status_code == 200
    settle(client)


def notice_id(db, thread_id: int) -> str:
    """Telegram's message id of the latest notice about a thread sent to the owner's chat."""
    with db.read() as session:
        return session.scalar(
            select(OutboxMessage.provider_id)
            .where(
                OutboxMessage.purpose == HANDOVER_NOTICE,
                OutboxMessage.channel == "telegram",
                OutboxMessage.address == str(OWNER_CHAT),
                OutboxMessage.ref_id == thread_id,
                OutboxMessage.status == SENT,
            )
            .order_by(OutboxMessage.id.desc())
            .limit(1)
        )


def wait_for_sms(twilio: FakeTwilio, fragment: str) -> list[str]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        bodies = [m["body"] for m in twilio.to(PHONE)]
        if any(fragment in b for b in bodies):
            return bodies
        time.sleep(0.05)
    raise AssertionError(f"{fragment!r} never reached {PHONE}: {twilio.to(PHONE)}")


@pytest.mark.parametrize(
    "answer",
    ["Hi! Yes, we do bridal hair. Saturday at 9?", "Sure thing, bring photos of the look"],
)
def test_an_owner_answers_an_sms_customer_by_replying_to_the_telegram_notice(
    channels, fakes, answer
):
    twilio, tg = fakes
    client = channels.test_client()
    db = channels.extensions["slotbot.db"]
    sms(client, "can I speak to someone about wedding hair?")
    assert "a person from the team will answer" in twilio.to(PHONE)[-1]["body"]
    [notice] = [t for t in tg.texts(OWNER_CHAT) if "wants to talk to a person" in t]
    assert "wedding hair" in notice
    sms(client, "it's for 5 people")  # forwarded as it arrives, not read as a booking
    assert any(t.endswith(": it's for 5 people") for t in tg.texts(OWNER_CHAT))
    assert len(twilio.to(PHONE)) == 1  # the bot said nothing to that
    quoted = notice_id(db, 1)
    assert quoted
    telegram(
        client,
        answer,
        reply_to_message=_quote(quoted),
    )
    assert any("Sent to" in t and "on sms" in t for t in tg.texts(OWNER_CHAT))
    bodies = wait_for_sms(twilio, answer)
    assert bodies[-1] == answer
    with db.read() as session:
        [sent] = session.scalars(
            select(OutboxMessage).where(OutboxMessage.purpose == HANDOVER_REPLY)
        ).all()
        assert (sent.channel, sent.address, sent.status) == ("sms", PHONE, SENT)


def test_an_owner_on_telegram_answers_by_number_then_closes_and_the_bot_is_back(channels, fakes):
    twilio, tg = fakes
    client = channels.test_client()
    db = channels.extensions["slotbot.db"]
    sms(client, "human please")
    telegram(client, "r 1: Hello, this is Olive. How can I help?")
    wait_for_sms(twilio, "Hello, this is Olive")
    sms(client, "what time do you close today?")
    assert any("what time do you close today" in t for t in tg.texts(OWNER_CHAT))
    telegram(client, "close 1")
    assert any("Closed #1" in t for t in tg.texts(OWNER_CHAT))
    wait_for_sms(twilio, "I'm back")
    with db.read() as session:
        thread = session.scalars(select(Handover)).one()
        assert thread.closed_by == f"owner:telegram:{OWNER_CHAT}"
    sms(client, "haircut with Sam friday at 4, I'm Jane")
    wait_for_sms(twilio, "shall I book")  # the booking dialogue reads her again


def test_a_bare_done_in_reply_to_the_notice_closes_that_thread(channels, fakes):
    twilio, tg = fakes
    client = channels.test_client()
    db = channels.extensions["slotbot.db"]
    sms(client, "I want a real person")
    telegram(client, "done", reply_to_message=_quote(notice_id(db, 1)))
    assert any("Closed #1" in t for t in tg.texts(OWNER_CHAT))
    wait_for_sms(twilio, "I'm back")


def _quote(message_id: str) -> dict:
    return {
        "message_id": int(message_id),
        "from": {"id": 1, "is_bot": True, "first_name": "Salon"},
        "chat": {"id": OWNER_CHAT, "type": "private"},
        "date": 1,
        "text": "[#1] ...",
    }
