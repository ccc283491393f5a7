"""Consent over real channels and pages: an SMS customer's first booking ends with the
question (at the fake Twilio), a yes opts them in, the owner on Telegram sends a promotion
to a segment and it reaches the phone; STOP then leaves them out. The portal's tick, in
headless Chromium. Both backends.

Tuesday 17 Nov 2026, 11:00 in New York.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from bot.customers.portal import issue_link
from bot.messaging.outbox import dispatch_due
from bot.messaging.senders.telegram_sender import TelegramSettings, shared_client
from storage.engagement import PROMOTIONS, ConsentEvent
from storage.models import Customer, CustomerIdentity
from tests.browser import chromium_page, live_server
from tests.conftest import process_inbox
from tests.factories import local
from tests.fakes.telegram_api import FakeTelegram, make_fake_telegram, telegram_env, text_update
from tests.fakes.twilio_api import FakeTwilio, inbound_sms, make_fake_twilio, signature, twilio_env
from webhooks.channels import courier

NOW = local("2026-11-17 11:00")
PUBLIC = "https://salon.example.com"
SECRET = "tg-secret"
PHONE = "+15551230001"
OWNER_CHAT = 1000


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
    app = client.application
    process_inbox(app)
    dispatch_due(app.extensions["slotbot.db"], courier(app).senders, now=NOW)


def sms(client: FlaskClient, body: str) -> None:
    params = inbound_sms(PHONE, body)
    headers = {"X-Twilio-Signature": signature(PUBLIC + "/twilio/sms", params)}
    assert client.post("/twilio/sms", data=params, headers=headers).status_code == 200
    settle(client)


def owner(client: FlaskClient, tg: FakeTelegram, text: str) -> str:
    """The owner writes on Telegram; the bot's last answer there."""
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    update = text_update(OWNER_CHAT, text, first_name="Olive", last_name="Owner")
    assert client.post("/telegram/webhook", json=update, headers=headers).status_code == 200
    settle(client)
    return tg.texts(OWNER_CHAT)[-1]


def wait_for(twilio: FakeTwilio, fragment: str) -> str:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for message in reversed(twilio.to(PHONE)):
            if fragment in message["body"]:
                return message["body"]
        time.sleep(0.05)
    raise AssertionError(f"{fragment!r} never reached {PHONE}: {twilio.bodies()}")


def test_an_sms_customer_opts_in_after_booking_and_a_segment_promotion_reaches_them(
    channels, fakes
):
    twilio, tg = fakes
    client = channels.test_client()
    db = channels.extensions["slotbot.db"]
    sms(client, "haircut with Sam friday at 4, I'm Jane")
    sms(client, "yes")
    wait_for(twilio, "Anything we should know")
    sms(client, "no")
    question = wait_for(twilio, "hear about our offers")
    assert "1. Yes, send me offers" in question  # the buttons are a numbered list by SMS
    sms(client, "1")
    wait_for(twilio, "You're subscribed")
    with db.read() as session:
        [event] = session.scalars(select(ConsentEvent)).all()
        assert (event.topic, event.granted, event.channel, event.words) == (
            PROMOTIONS,
            True,
            "sms",
            "1",
        )
    preview = owner(client, tg, "promo to Sam's clients by sms: Sam has Saturday slots open!")
    assert "Goes to 1 customers" in preview and "by SMS" in preview
    assert "Queued to 1" in owner(client, tg, "yes")
    promo = wait_for(twilio, "Sam has Saturday slots open!")
    assert promo.endswith("Reply STOP to opt out.")
    sms(client, "STOP")
    with db.read() as session:
        row = session.scalars(
            select(CustomerIdentity).where(CustomerIdentity.address == PHONE)
        ).one()
        assert row.opted_out_at is not None and row.promotions_opt_in is False
        assert [e.words for e in session.scalars(select(ConsentEvent))][-1] == "STOP"
    preview = owner(client, tg, "promo to Sam's clients by sms: one more thing")
    assert "Goes to 0 customers" in preview and "1 opted out (STOP)" in preview


def test_a_customer_ticks_and_unticks_offers_in_the_portal(app: Flask, artifacts: Path) -> None:
    db = app.extensions["slotbot.db"]
    with db.write() as session:
        jane = Customer(name="Jane Smith", phone=PHONE, created_at=NOW, notes="")
        session.add(jane)
        session.flush()
        session.add(
            CustomerIdentity(customer_id=jane.id, channel="sms", address=PHONE, created_at=NOW)
        )
        link = issue_link(session, customer_id=jane.id, role="customer", now=NOW)
    path = "/" + link.split("/", 3)[3]
    with (
        time_machine.travel(NOW, tick=True),
        live_server(app) as base,
        chromium_page() as page,
    ):
        page.goto(base + path)
        box = page.get_by_label("Send me offers now and then")
        assert not box.is_checked()
        box.check()
        page.get_by_role("button", name="Save my choice").click()
        page.get_by_text("we'll send you our offers").wait_for()
        assert page.get_by_label("Send me offers now and then").is_checked()
        page.get_by_role("heading", name="Offers").scroll_into_view_if_needed()
        page.screenshot(path=str(artifacts / "portal-offers.png"))
        page.get_by_label("Send me offers now and then").uncheck()
        page.get_by_role("button", name="Save my choice").click()
        page.get_by_text("no more offers").wait_for()
    with db.read() as session:
        kept = session.scalars(select(ConsentEvent).order_by(ConsentEvent.id)).all()
        assert [(e.granted, e.source, e.words, e.channel) for e in kept] == [
            (True, "portal", "portal: ticked", "sms"),
            (False, "portal", "portal: unticked", "sms"),
        ]
        row = session.scalars(select(CustomerIdentity)).one()
        assert row.promotions_opt_in is False
