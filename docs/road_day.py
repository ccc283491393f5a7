"""Print a technician's day on the road, as the README shows it: made by this script.

    PYTHONPATH=. .venv/bin/python docs/road_day.py

On a fresh SQLite database with the field-service example (`slotbot init --example
field-service`, Lakeshore Home Services in Chicago): two jobs for Maria on Tuesday 8 December
2026 (a boiler service for Bob in Wicker Park, window 9-11, and a plumbing repair for Jane in
Logan Square, window 1-3), then Maria's messages by SMS at the times shown (the customers'
notices go to the outbox), the owner's agenda at 5 PM and Jane's event log. The clock is the
script's, so the transcript is the same every run.
"""

from __future__ import annotations

import logging
import sys
import tempfile
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.bootstrap import bootstrap
from bot.config import apply_config, load_config
from bot.field.places.demo import EXAMPLES_DIR
from bot.messaging.messages import Inbound
from bot.scheduling.booking import book
from conversations.engine import Engine
from storage.db import Database
from storage.messaging import OutboxMessage
from storage.migrate import upgrade
from storage.models import Customer, CustomerIdentity, Service, Staff

ZONE = ZoneInfo("America/Chicago")
MARIA = ("sms", "+13125550101")
OWNER = ("telegram", "2000")
CONFIG = EXAMPLES_DIR / "field-service" / "business.toml"
ROAD_NOTICES = ("en_route", "running_late", "arrived")
DAY = [
    (MARIA, "08:40", "today"),
    (MARIA, "09:05", "on my way"),
    (MARIA, "09:24", "arrived"),
    (MARIA, "10:58", "done"),
    (MARIA, "12:50", "omw"),
    (MARIA, "13:02", "stuck in traffic, 15 minutes"),
    (MARIA, "13:31", "arrived"),
    (MARIA, "14:35", "done"),
    (OWNER, "17:00", "today"),
    (OWNER, "17:01", "history jane"),
]


def at(clock: str) -> datetime:
    """That wall time on the day, in the business's zone."""
    return datetime.fromisoformat(f"2026-12-08 {clock}").replace(tzinfo=ZONE)


def _visit(db: Database, name: str, phone: str, address: str, service: str, start: str) -> None:
    with db.write() as session:
        person = Customer(name=name, phone=phone, address=address, notes="", created_at=at("07:00"))
        session.add(person)
        session.flush()
        session.add(
            CustomerIdentity(
                customer_id=person.id, channel="sms", address=phone, created_at=at("07:00")
            )
        )
        job = session.scalars(select(Service).where(Service.key == service)).one()
        maria = session.scalars(select(Staff).where(Staff.key == "maria")).one()
        book(
            session,
            customer_id=person.id,
            service_id=job.id,
            start=at(start),
            staff_id=maria.id,
            now=at("07:00"),
            actor="owner:telegram:2000",
            enforce_rules=False,
        )


def main() -> None:
    """Run the day and print it."""
    logging.getLogger("fpdf.svg").setLevel(logging.ERROR)  # the invoice PDF's logo
    bootstrap()  # the visits booked below publish events: their subscribers first
    with tempfile.TemporaryDirectory() as work:
        url = f"sqlite:///{work}/road.db"
        upgrade(url)
        db = Database(url)
        apply_config(db, load_config(CONFIG))
        _visit(
            db,
            "Bob Stone",
            "+13125550202",
            "1500 N Milwaukee Ave, Chicago, IL 60622",
            "boiler-service",
            "09:30",
        )
        _visit(
            db,
            "Jane Doe",
            "+13125550201",
            "3200 W Armitage Ave, Chicago, IL 60647",
            "plumbing-repair",
            "13:15",
        )
        now = at("07:00")
        engine = Engine(db, clock=lambda: now)
        for number, ((channel, sender), clock, text) in enumerate(DAY):
            now = at(clock)
            who = "maria" if (channel, sender) == MARIA else "owner"
            print(f"[{clock}] {who}> {text}")
            inbound = Inbound(
                channel=channel,
                sender=sender,
                text=text,
                provider_id=f"road-{number}",
                received_at=now,
            )
            for reply in engine.handle(inbound):
                for line in reply.text.splitlines():
                    print(f"        bot> {line}")
        print("Texts the customers got (from the outbox):")
        with db.read() as session:
            for message in session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.purpose.in_(ROAD_NOTICES))
                .order_by(OutboxMessage.id)
            ):
                name = session.get(Customer, message.customer_id).name
                print(f"  to {name}: {message.body['text']}")
        db.dispose()


if __name__ == "__main__":
    sys.exit(main())
