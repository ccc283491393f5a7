"""Whole bookings over real channels, on SQLite and PostgreSQL: signed webhooks in, the real
SDKs out to fake provider APIs — SMS and WhatsApp through Twilio, Telegram with buttons —
and one customer across all three when the phone number matches.

Monday 16 Nov 2026, 10:00 in New York; "friday at 4" is Fri 20 Nov, 16:00.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from bot.messaging.senders.render import read_attachment_token, sms_segments, to_gsm7
from bot.messaging.senders.telegram_sender import TelegramSettings, shared_client
from storage.db import Database
from storage.messaging import SENT, OutboxMessage
from storage.models import Appointment, CustomerIdentity
from tests.conftest import process_inbox
from tests.factories import local
from tests.fakes.telegram_api import (
    FakeTelegram,
    callback_update,
    contact_update,
    make_fake_telegram,
    telegram_env,
    text_update,
)
from tests.fakes.twilio_api import FakeTwilio, inbound_sms, make_fake_twilio, signature, twilio_env

NOW = local("2026-11-16 10:00")
PUBLIC = "https://salon.example.com"
SECRET = "tg-secret"
PHONE = "+15551230001"
CHAT = 881001
REQUEST = "haircut with Sam friday at 4, I'm Jane"


@pytest.fixture
def fakes() -> Iterator[tuple[FakeTwilio, FakeTelegram]]:
    with make_fake_twilio() as twilio, make_fake_telegram() as telegram:
        yield twilio, telegram
        shared_client(TelegramSettings.from_env(telegram_env(telegram))).close()


@pytest.fixture
def channels(app: Flask, fakes: tuple[FakeTwilio, FakeTelegram]) -> Iterator[Flask]:
    """The shared app (both backends) with Twilio and Telegram pointed at the fakes."""
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
    process_inbox(client.application)


def text(client: FlaskClient, body: str, *, sender: str = PHONE, whatsapp: bool = False) -> None:
    """A signed inbound SMS (or WhatsApp message), as Twilio posts it."""
    path = "/twilio/whatsapp" if whatsapp else "/twilio/sms"
    params = inbound_sms(sender, body, whatsapp=whatsapp)
    if whatsapp:
        params |= {"ProfileName": "Jane", "WaId": sender.lstrip("+")}
    headers = {"X-Twilio-Signature": signature(PUBLIC + path, params)}
    assert client.post(path, data=params, headers=headers).status_code == 200
    settle(client)


def telegram(client: FlaskClient, update: dict) -> None:
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    assert client.post("/telegram/webhook", json=update, headers=headers).status_code == 200
    settle(client)


def booked(db: Database) -> list[Appointment]:
    with db.read() as session:
        rows = session.scalars(select(Appointment)).all()
        for row in rows:
            _ = (row.customer.name, row.staff.name)
        return list(rows)


def test_a_customer_books_by_sms_and_the_confirmation_reaches_their_phone(channels, fakes):
    twilio, _ = fakes
    client = channels.test_client()
    text(client, REQUEST)
    question = twilio.to(PHONE)[-1]["body"]
    assert "Jane, shall I book this?" in question and "Fri, Nov 20, 4:00 PM" in question
    text(client, "yes")
    bodies = twilio.bodies()
    assert any(
        b.startswith("You're booked: Haircut with Sam, Fri, Nov 20, 4:00 PM") for b in bodies
    )
    [appointment] = booked(channels.extensions["slotbot.db"])
    assert appointment.starts_at == local("2026-11-20 16:00")
    assert appointment.customer.name == "Jane"
    # The .ics cannot travel by SMS: a signed link to it does, and the link works.
    link = next(b for b in bodies if "Add to calendar: " in b).split("Add to calendar: ")[1]
    path = link.removeprefix(PUBLIC).split()[0]
    assert read_attachment_token("file-links", path.split("/")[3]) is not None
    download = client.get(path)
    assert download.status_code == 200 and download.mimetype == "text/calendar"
    assert b"BEGIN:VCALENDAR" in download.data
    assert client.get(path.replace("/files/", "/files/x")).status_code == 404


def test_every_message_sent_by_sms_went_once_and_stayed_gsm7(channels, fakes):
    twilio, _ = fakes
    client = channels.test_client()
    text(client, REQUEST)
    text(client, "yes")
    with channels.extensions["slotbot.db"].read() as session:
        mine = session.scalars(select(OutboxMessage).where(OutboxMessage.address == PHONE)).all()
    assert mine and all(row.status == SENT for row in mine)
    sids = [row.provider_id for row in mine]
    assert sorted(sids) == sorted(m["sid"] for m in twilio.to(PHONE))  # once each
    assert all(to_gsm7(m["body"]) == m["body"] for m in twilio.to(PHONE))


def test_an_sms_customer_replying_2_gets_the_second_offered_slot(channels, fakes):
    twilio, _ = fakes
    client = channels.test_client()
    text(client, "haircut with Sam friday afternoon, I'm Jane")
    offer = twilio.to(PHONE)[-1]["body"]
    slots = re.findall(r"^(\d)\. (Fri, Nov 20, [\d:]+ [AP]M) with Sam$", offer, re.M)
    assert [n for n, _ in slots] == ["1", "2", "3"] and "Reply 1, 2, 3 or 4" in offer
    # Plain GSM-7 (no UCS-2 from a stray narrow space or emoji), and short.
    assert to_gsm7(offer) == offer and sms_segments(offer) <= 3
    text(client, "2")
    question = twilio.to(PHONE)[-1]["body"]
    assert f"{slots[1][1]} (45 min)" in question
    text(client, "1")  # "1. Yes, book it"
    [appointment] = booked(channels.extensions["slotbot.db"])
    wanted = slots[1][1].split(", ")[2]
    assert appointment.starts_at.astimezone(NOW.tzinfo).strftime("%-I:%M %p") == wanted


def test_a_customer_books_on_whatsapp_inside_the_24_hour_window(channels, fakes):
    twilio, _ = fakes
    client = channels.test_client()
    text(client, REQUEST, whatsapp=True)
    text(client, "yes", whatsapp=True)
    sent = twilio.to(f"whatsapp:{PHONE}")
    assert any(m["body"].startswith("You're booked: Haircut with Sam") for m in sent)
    assert all(m["from"] == "whatsapp:+14155238886" and not m["content_sid"] for m in sent)
    assert twilio.to(PHONE) == []  # nothing fell back to SMS
    [appointment] = booked(channels.extensions["slotbot.db"])
    assert appointment.customer.name == "Jane"


def test_a_customer_books_on_telegram_by_pressing_the_button(channels, fakes):
    _, fake_bot = fakes
    client = channels.test_client()
    telegram(client, text_update(CHAT, "/start"))
    telegram(client, text_update(CHAT, REQUEST))
    question = fake_bot.messages(CHAT)[-1]
    keyboard = {
        b["text"]: b["callback_data"]
        for row in question["reply_markup"]["inline_keyboard"]
        for b in row
    }
    assert "Jane, shall I book this?" in question["text"] and "Yes, book it" in keyboard
    telegram(client, callback_update(CHAT, keyboard["Yes, book it"]))
    assert fake_bot.wait_for(lambda f: f.received("answerCallbackQuery"))
    confirmation = next(m for m in fake_bot.messages(CHAT) if m["method"] == "sendDocument")
    assert confirmation["caption"].startswith("You're booked: Haircut with Sam, Fri, Nov 20, 4:00")
    assert confirmation["document"]["filename"].endswith(".ics")
    [appointment] = booked(channels.extensions["slotbot.db"])
    assert appointment.starts_at == local("2026-11-20 16:00")


def test_one_phone_number_is_one_customer_on_sms_whatsapp_and_telegram(channels, fakes):
    twilio, bot = fakes
    client = channels.test_client()
    text(client, REQUEST)
    text(client, "yes")
    text(client, "my appointments", whatsapp=True)
    assert "Haircut with Sam" in twilio.to(f"whatsapp:{PHONE}")[-1]["body"]
    telegram(client, text_update(CHAT, "/start"))
    telegram(client, contact_update(CHAT, PHONE.lstrip("+")))
    telegram(client, text_update(CHAT, "my appointments"))
    assert "Haircut with Sam" in bot.texts(CHAT)[-1]
    with channels.extensions["slotbot.db"].read() as session:
        customers = {
            (i.channel, i.address): i.customer_id for i in session.scalars(select(CustomerIdentity))
        }
    [appointment] = booked(channels.extensions["slotbot.db"])
    assert customers[("sms", PHONE)] == appointment.customer_id
    assert customers[("whatsapp", PHONE)] == appointment.customer_id
    assert customers[("telegram", str(CHAT))] == appointment.customer_id
