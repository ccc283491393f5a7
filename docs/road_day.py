"""Print a technician's day on the road, as the README shows it: made by this script.

    PYTHONPATH=. .venv/bin/python docs/road_day.py

On a fresh SQLite database with the demo business.toml: two home visits for Sam on Tuesday
17 November 2026 (Bob in Midtown at 9:30, Jane in Brooklyn at 1:30), then Sam's messages by
SMS at the times shown (the customers' notices go to the outbox), the owner's agenda at 5 PM and Jane's event log. The clock is the
script's, so the transcript is the same every run.
"""

from __future__ import annotations

import logging
import sys
import tempfile
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.bootstrap import bootstrap
from bot.config import apply_config, load_config
from bot.messaging.messages import Inbound
from bot.scheduling.booking import book
from conversations.engine import Engine
from storage.db import Database
from storage.messaging import OutboxMessage
from storage.migrate import upgrade
from storage.models import Customer, CustomerIdentity, Service, Staff

ROOT = Path(__file__).resolve().parent.parent
ZONE = ZoneInfo("America/New_York")
SAM = ("sms", "+12125550101")
OWNER = ("telegram", "1000")
ROAD_NOTICES = ("en_route", "running_late", "arrived")
DAY = [
    (SAM, "08:40", "today"),
    (SAM, "09:00", "on my way"),
    (SAM, "09:22", "arrived"),
    (SAM, "10:25", "done"),
    (SAM, "12:50", "omw"),
    (SAM, "13:05", "stuck in traffic, 15 minutes"),
    (SAM, "13:32", "arrived"),
    (SAM, "14:20", "done"),
    (OWNER, "17:00", "today"),
    (OWNER, "17:01", "history jane"),
]


def at(clock: str) -> datetime:
    """That wall time on the day, in the business's zone."""
    return datetime.fromisoformat(f"2026-11-17 {clock}").replace(tzinfo=ZONE)


def _visit(db: Database, name: str, phone: str, address: str, start: str) -> None:
    with db.write() as session:
        person = Customer(name=name, phone=phone, address=address, notes="", created_at=at("07:00"))
        session.add(person)
        session.flush()
        session.add(
            CustomerIdentity(
                customer_id=person.id, channel="sms", address=phone, created_at=at("07:00")
            )
        )
        service = session.scalars(select(Service).where(Service.key == "home-haircut")).one()
        sam = session.scalars(select(Staff).where(Staff.key == "sam")).one()
        book(
            session,
            customer_id=person.id,
            service_id=service.id,
            start=at(start),
            staff_id=sam.id,
            now=at("07:00"),
            actor="owner:telegram:1000",
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
        apply_config(db, load_config(ROOT / "business.toml"))
        _visit(db, "Bob Stone", "+12125550202", "350 5th Ave, New York, NY 10118", "09:30")
        _visit(db, "Jane Doe", "+12125550201", "55 Water St, Brooklyn, NY 11201", "13:30")
        now = at("07:00")
        engine = Engine(db, clock=lambda: now)
        for number, ((channel, sender), clock, text) in enumerate(DAY):
            now = at(clock)
            who = "sam" if (channel, sender) == SAM else "owner"
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
