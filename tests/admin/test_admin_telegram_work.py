"""Over the real Telegram path (webhook in, python-telegram-bot out, a fake Bot API): the
owner books a series and an estimate's work with inline buttons, and a customer with two
open estimates picks one by button."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import select

from bot.messaging.senders.telegram_sender import TelegramSettings, shared_client
from storage.billing import APPROVED, ESTIMATE_SENT, Estimate
from storage.db import Database
from storage.models import Appointment, Customer, CustomerIdentity
from tests.conftest import DEMO_CONFIG, process_inbox
from tests.factories import local
from tests.fakes.telegram_api import (
    FakeTelegram,
    callback_update,
    make_fake_telegram,
    telegram_env,
    text_update,
)
from webhooks.app import create_app

NOW = local("2026-11-17 08:00")
SECRET = "webhook-secret-2"
OWNER = 1000  # telegram:1000 is an owner in the demo business.toml
BOB = 777002


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with make_fake_telegram() as server:
        yield server
        shared_client(TelegramSettings.from_env(telegram_env(server))).close()


@pytest.fixture
def app(db_url: str, fake: FakeTelegram) -> Iterator[Flask]:
    application = create_app(
        {
            "DATABASE_URL": db_url,
            "BUSINESS_CONFIG": str(DEMO_CONFIG),
            "TESTING": True,
            "CLOCK": lambda: NOW,
            **telegram_env(fake, TELEGRAM_WEBHOOK_SECRET=SECRET),
        }
    )
    yield application
    if "slotbot.courier" in application.extensions:
        application.extensions["slotbot.courier"].close()
    application.extensions["slotbot.db"].dispose()


def _db(app: Flask) -> Database:
    return app.extensions["slotbot.db"]


def send(app: Flask, update: dict) -> None:
    response = app.test_client().post(
        "/telegram/webhook", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
    )
    assert response.status_code == 200
    process_inbox(app)


def buttons(message: dict) -> dict[str, str]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return {b["text"]: b["callback_data"] for row in rows for b in row}


def _customer(db: Database, name: str, chat: int) -> int:
    with db.write() as session:
        row = Customer(name=name, created_at=NOW, notes="")
        session.add(row)
        session.flush()
        session.add(
            CustomerIdentity(
                customer_id=row.id, channel="telegram", address=str(chat), created_at=NOW
            )
        )
        return row.id


def test_the_owner_books_a_series_by_telegram_with_the_yes_button(app, fake):
    _customer(_db(app), "Ana Lee", 777003)
    send(app, text_update(OWNER, "book Ana Lee haircut with Sam every other friday at 11, 4 times"))
    summary = fake.messages(OWNER)[-1]
    assert "Series for Ana Lee: Haircut with Sam" in summary["text"]
    assert "Book 4 (1 at another time)?" in summary["text"]
    send(app, callback_update(OWNER, buttons(summary)["Yes"]))
    assert "Booked 4 haircut appointments with Sam" in fake.texts(OWNER)[-1]
    with _db(app).read() as session:
        rows = session.scalars(select(Appointment).where(Appointment.series_id.is_not(None)))
        assert len(list(rows)) == 4
    fake.wait_for(lambda f: any("repeats as arranged" in t for t in f.texts(777003)))


def test_a_customer_picks_one_of_two_estimates_by_button_and_the_owner_books_it(app, fake):
    _customer(_db(app), "Bob Stone", BOB)
    for text in ("estimate for Bob Stone: colour 120, toner 25", "estimate for Bob: beard trim 20"):
        send(app, text_update(OWNER, text))
        send(app, callback_update(OWNER, buttons(fake.messages(OWNER)[-1])["Yes"]))
    assert "EST-0002 ($21.78) sent to Bob Stone" in fake.texts(OWNER)[-1]
    send(app, text_update(BOB, "approve"))
    question = fake.messages(BOB)[-1]
    assert question["text"] == "You have 2 estimates waiting. Which one do you want to approve?"
    send(app, callback_update(BOB, buttons(question)["EST-0001 ($157.87)"]))
    assert "EST-0001 ($157.87) is approved" in fake.texts(BOB)[-1]
    with _db(app).read() as session:
        assert list(session.scalars(select(Estimate.status).order_by(Estimate.id))) == [
            APPROVED,
            ESTIMATE_SENT,
        ]
    send(app, text_update(OWNER, "book EST-1 monday at 11 with sam"))
    offer = fake.messages(OWNER)[-1]
    assert offer["text"].startswith("We're closed on Mondays")
    assert "Tue, Nov 24, 11:00 AM" in buttons(offer)
    send(app, callback_update(OWNER, buttons(offer)["Tue, Nov 24, 11:00 AM"]))
    confirm = fake.messages(OWNER)[-1]
    assert (
        "Book EST-0001 (Bob Stone, $157.87) as Colour with Sam, Tue, Nov 24, 11:00 AM?"
        in (confirm["text"])
    )
    send(app, callback_update(OWNER, buttons(confirm)["Yes"]))
    with _db(app).read() as session:
        estimate = session.scalars(select(Estimate).order_by(Estimate.id)).first()
        assert estimate.appointment_id is not None
