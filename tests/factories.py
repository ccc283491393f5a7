"""Small builders for tests: a business from TOML text, customers, local times."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import apply_config, parse_config
from storage.db import Database
from storage.models import Customer, Service, Staff

SALON = """
[business]
name = "Test Salon"
timezone = "{zone}"
currency = "USD"
locale = "en_US"

[hours]
mon = "09:00-17:00"
tue = "09:00-17:00"
wed = "09:00-17:00"
thu = "09:00-17:00"
fri = "09:00-17:00"
sat = "10:00-14:00"
sun = "{sunday}"

[[closures]]
date = "2026-12-25"
reason = "Christmas Day"

[rules]
slot_interval_minutes = 30
minimum_notice_minutes = 60
maximum_days_ahead = 30
cancellation_cutoff_hours = 24
hold_minutes = 10

[[resources]]
key = "room-1"
name = "Room 1"
kind = "room"

[[services]]
key = "cut"
name = "Haircut"
duration_minutes = 60
price = "40.00"
buffer_after_minutes = 15
staff = ["sam", "alex"]

[[services]]
key = "colour"
name = "Colour"
duration_minutes = 90
price = "120.00"
buffer_before_minutes = 15
buffer_after_minutes = 15
staff = ["sam"]

[[services]]
key = "massage"
name = "Massage"
duration_minutes = 60
price = "80.00"
staff = ["sam", "alex"]
needs = ["room"]

[[staff]]
key = "sam"
name = "Sam"
breaks = {{ mon = "12:00-13:00", tue = "12:00-13:00" }}

[[staff]]
key = "alex"
name = "Alex"
per_day_limit = 2
"""


def salon_toml(zone: str = "America/New_York", sunday: str = "closed") -> str:
    """The test salon's business.toml in a given zone, with given Sunday hours."""
    return SALON.format(zone=zone, sunday=sunday)


def setup_business(db: Database, toml_text: str | None = None) -> None:
    """Load a business.toml text into the database."""
    apply_config(db, parse_config(toml_text or salon_toml()))


def add_customer(db: Database, name: str = "Jane Doe") -> int:
    """A new customer; returns the id."""
    with db.write() as session:
        customer = Customer(name=name, created_at=datetime.now(ZoneInfo("UTC")))
        session.add(customer)
        session.flush()
        return customer.id


def service_id(session: Session, key: str) -> int:
    """The id of the service with this key."""
    return session.scalars(select(Service.id).where(Service.key == key)).one()


def staff_id(session: Session, key: str) -> int:
    """The id of the staff member with this key."""
    return session.scalars(select(Staff.id).where(Staff.key == key)).one()


def local(text: str, zone: str = "America/New_York") -> datetime:
    """An aware datetime from 'YYYY-MM-DD HH:MM' in a zone."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=ZoneInfo(zone))
