"""The owner's edits and money commands over real transports: the owner on Telegram (signed
webhook in, buttons pressed, the fake Bot API receiving the answers), staff on SMS through
Twilio, the customer told by SMS, cards charged at the fake Stripe. Both backends."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from bot.billing.ledger.invoices import LineSpec, create_invoice, issue_invoice
from bot.billing.payments.gateway import CardDetails
from bot.billing.payments.online import keep_card
from bot.messaging.outbox import dispatch_due
from bot.messaging.senders import build_senders
from bot.messaging.senders.telegram_sender import TelegramSettings, shared_client
from bot.scheduling.booking import book
from storage.billing import Payment, PaymentCustomer
from storage.db import Database
from storage.models import Appointment, Customer, CustomerIdentity
from tests.conftest import process_inbox
from tests.factories import local, service_id, staff_id
from tests.fakes.stripe_api import FakeStripe, fake_stripe_server, stripe_env
from tests.fakes.telegram_api import (
    FakeTelegram,
    callback_update,
    make_fake_telegram,
    telegram_env,
    text_update,
)
from tests.fakes.twilio_api import FakeTwilio, inbound_sms, make_fake_twilio, signature, twilio_env

NOW = local("2026-11-17 10:30")  # Tuesday morning
PUBLIC = "https://salon.example.com"
SECRET = "tg-secret"
OWNER_CHAT = 1000  # "telegram:1000" is an owner in the demo business.toml
PRIYA = "+12125550103"  # "sms:+12125550103" is Priya's
JANE = "+12125550201"


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FakeTwilio, FakeTelegram, FakeStripe]]:
    with (
        make_fake_twilio() as twilio,
        make_fake_telegram() as telegram,
        fake_stripe_server() as stripe,
    ):
        for key, value in stripe_env(stripe).items():
            monkeypatch.setenv(key, value)
        yield twilio, telegram, stripe
        shared_client(TelegramSettings.from_env(telegram_env(telegram))).close()


@pytest.fixture
def shop(app: Flask, fakes: tuple[FakeTwilio, FakeTelegram, FakeStripe]) -> Iterator[Flask]:
    twilio, telegram, _ = fakes
    app.config.update(
        CLOCK=lambda: NOW,
        **twilio_env(twilio, SLOTBOT_PUBLIC_URL=PUBLIC),
        **telegram_env(telegram, TELEGRAM_WEBHOOK_SECRET=SECRET),
    )
    yield app
    if "slotbot.courier" in app.extensions:
        app.extensions["slotbot.courier"].close()


def _db(app: Flask) -> Database:
    return app.extensions["slotbot.db"]


def owner_says(client: FlaskClient, words: str) -> None:
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    update = text_update(OWNER_CHAT, words)
    assert client.post("/telegram/webhook", json=update, headers=headers).status_code == 200
    process_inbox(client.application)


def owner_presses(client: FlaskClient, telegram: FakeTelegram, label: str) -> None:
    question = telegram.messages(OWNER_CHAT)[-1]
    keyboard = {
        b["text"]: b["callback_data"]
        for row in question["reply_markup"]["inline_keyboard"]
        for b in row
    }
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    update = callback_update(OWNER_CHAT, keyboard[label])
    assert client.post("/telegram/webhook", json=update, headers=headers).status_code == 200
    process_inbox(client.application)


def staff_texts(client: FlaskClient, body: str) -> None:
    params = inbound_sms(PRIYA, body)
    headers = {"X-Twilio-Signature": signature(PUBLIC + "/twilio/sms", params)}
    assert client.post("/twilio/sms", data=params, headers=headers).status_code == 200
    process_inbox(client.application)


def jane(db: Database, *, card: bool = False) -> int:
    with db.write() as session:
        row = Customer(name="Jane Doe", phone=JANE, created_at=NOW, notes="")
        session.add(row)
        session.flush()
        session.add(
            CustomerIdentity(customer_id=row.id, channel="sms", address=JANE, created_at=NOW)
        )
        if card:
            session.add(
                PaymentCustomer(
                    customer_id=row.id,
                    provider="stripe",
                    provider_customer_id="cus_j",
                    created_at=NOW,
                )
            )
            keep_card(
                session,
                row.id,
                CardDetails("pm_jane", "mastercard", "4444", 1, 2031),
                provider="stripe",
                provider_customer_id="cus_j",
                now=NOW,
            )
        return row.id


def massage(db: Database, who: int, staff: str, at: str) -> int:
    with db.write() as session:
        return book(
            session,
            customer_id=who,
            service_id=service_id(session, "massage-60"),
            start=local(at),
            staff_id=staff_id(session, staff),
            now=NOW,
            enforce_rules=False,
        ).appointment.id


def test_the_owner_reassigns_on_telegram_and_the_customer_hears_by_sms(shop, fakes):
    twilio, telegram, _ = fakes
    client = shop.test_client()
    job = massage(_db(shop), jane(_db(shop)), "jordan", "2026-11-19 14:30")
    owner_says(client, f"give #{job} to Priya")
    question = telegram.messages(OWNER_CHAT)[-1]
    assert f"#{job}" in question["text"] and "with Priya" in question["text"]
    owner_presses(client, telegram, "Yes")
    assert telegram.wait_for(lambda f: f.received("answerCallbackQuery"))
    assert any("staff Jordan → Priya" in t for t in telegram.texts(OWNER_CHAT))
    with _db(shop).read() as session:
        assert session.get(Appointment, job).staff.key == "priya"
    dispatch_due(_db(shop), build_senders(twilio_env(twilio)), now=NOW)  # the worker's tick
    assert any("now with Priya (was Jordan)" in m["body"] for m in twilio.to(JANE))


def test_the_owner_charges_a_saved_card_from_telegram(shop, fakes):
    _, telegram, stripe = fakes
    client = shop.test_client()
    customer = jane(_db(shop), card=True)
    with _db(shop).write() as session:
        draft = create_invoice(
            session,
            customer_id=customer,
            now=NOW,
            lines=[LineSpec("service", "Massage", 9000, 1, "0")],
        )
        number = issue_invoice(session, draft.id, now=NOW).number
    owner_says(client, f"charge Jane's card for {number}")
    assert "Mastercard ending 4444" in telegram.messages(OWNER_CHAT)[-1]["text"]
    owner_presses(client, telegram, "Yes")
    assert any(f"Charged $90.00 for {number}" in t for t in telegram.texts(OWNER_CHAT))
    [call] = stripe.calls("POST", "/v1/payment_intents")
    assert call.params["payment_method"] == "pm_jane" and call.params["amount"] == "9000"
    with _db(shop).read() as session:
        [payment] = session.scalars(select(Payment)).all()
        assert payment.provider == "stripe" and payment.amount_minor == 9000


def test_staff_record_cash_by_sms_and_the_customer_gets_a_receipt(shop, fakes):
    twilio, _, _ = fakes
    client = shop.test_client()
    job = massage(_db(shop), jane(_db(shop)), "priya", "2026-11-17 11:00")
    staff_texts(client, f"took 90 cash for #{job}")
    assert f"Record $90.00 cash from Jane Doe for #{job}" in twilio.to(PRIYA)[-1]["body"]
    staff_texts(client, "yes")
    assert "Recorded $90.00 cash" in twilio.to(PRIYA)[-1]["body"]
    dispatch_due(_db(shop), build_senders(twilio_env(twilio)), now=NOW)  # the worker's tick
    assert any("received $90.00" in m["body"] for m in twilio.to(JANE))
    with _db(shop).read() as session:
        [payment] = session.scalars(select(Payment)).all()
        assert (payment.method, payment.actor) == ("cash", f"staff:sms:{PRIYA}")
