"""A technician's location pin arrives as Telegram sends it (through the webhook and the
inbox) and times the drive of the next "on my way"; the notices leave through the outbox."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from bot.messaging.senders.telegram_sender import TelegramSettings, shared_client
from bot.scheduling.booking import book
from bot.scheduling.timeline import Kind
from storage.db import Database
from storage.messaging import OutboxMessage
from storage.models import AppointmentEvent, Customer, CustomerIdentity
from tests.conftest import DEMO_CONFIG, process_inbox
from tests.factories import local, service_id, staff_id
from tests.fakes.telegram_api import (
    FakeTelegram,
    location_update,
    make_fake_telegram,
    telegram_env,
    text_update,
)
from webhooks.app import create_app

NOW = local("2026-11-17 12:40")  # Tuesday, before Jane's 1:30 PM home visit
SECRET = "road-secret-1"
SAM_CHAT = 1001  # Sam's Telegram identity in the demo business.toml
JANE = "+12125550201"


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


def _post(client: FlaskClient, update: dict) -> None:
    response = client.post(
        "/telegram/webhook", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
    )
    assert response.status_code == 200
    process_inbox(client.application)


def _home_visit(db: Database) -> int:
    with db.write() as session:
        jane = Customer(
            name="Jane Doe",
            phone=JANE,
            address="55 Water St, Brooklyn, NY 11201",
            created_at=local("2026-11-16 09:00"),
            notes="",
        )
        session.add(jane)
        session.flush()
        session.add(
            CustomerIdentity(
                customer_id=jane.id, channel="sms", address=JANE, created_at=jane.created_at
            )
        )
        return book(
            session,
            customer_id=jane.id,
            service_id=service_id(session, "home-haircut"),
            start=local("2026-11-17 13:30"),
            staff_id=staff_id(session, "sam"),
            now=jane.created_at,
            enforce_rules=False,
        ).appointment.id


def test_a_telegram_pin_then_on_my_way_tells_the_customer_an_eta_from_that_pin(
    app: Flask, client: FlaskClient, fake: FakeTelegram
) -> None:
    db = app.extensions["slotbot.db"]
    visit = _home_visit(db)
    _post(client, location_update(SAM_CHAT, 40.7580, -73.9855))
    assert "Got your location" in fake.messages(SAM_CHAT)[-1]["text"]
    _post(client, text_update(SAM_CHAT, "on my way"))
    reply = fake.messages(SAM_CHAT)[-1]["text"]
    assert "Told Jane Doe you're on the way, arriving about" in reply
    assert "min from your location" in reply
    with db.read() as session:
        [event] = session.scalars(
            select(AppointmentEvent).where(
                AppointmentEvent.appointment_id == visit,
                AppointmentEvent.kind == Kind.ON_THE_WAY,
            )
        ).all()
        [notice] = session.scalars(
            select(OutboxMessage).where(OutboxMessage.purpose == "en_route")
        ).all()
    assert (event.detail["latitude"], event.detail["longitude"]) == (40.7580, -73.9855)
    assert event.detail["origin"] == "your location"
    assert notice.channel == "sms" and notice.address == JANE
    assert "is on the way, arriving about" in notice.body["text"]
