"""A small field-service day for route tests: three technicians in Chicago, twelve jobs
booked crosswise (each job with a skilled technician far from it), two-hour arrival windows.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.config import apply_config, parse_config
from bot.field.places import LatLon, haversine_km
from storage.db import Database
from storage.models import BOOKED, Appointment, Customer, Service, Staff

ZONE = ZoneInfo("America/Chicago")
DAY = date(2026, 12, 8)  # a Tuesday
NOW = datetime(2026, 12, 7, 16, 0, tzinfo=ZONE)  # the afternoon before

FIELD = """
[business]
name = "Test Home Services"
timezone = "America/Chicago"
currency = "USD"
locale = "en_US"
owners = ["web:owner"]

[hours]
mon = "08:00-18:00"
tue = "08:00-18:00"
wed = "08:00-18:00"
thu = "08:00-18:00"
fri = "08:00-18:00"

[rules]
slot_interval_minutes = 30
minimum_notice_minutes = 60
maximum_days_ahead = 30

[[services]]
key = "boiler"
name = "Boiler service"
duration_minutes = 75
price = "120.00"
location = "on_site"
skill = "gas"
window_minutes = 120
staff = ["ana", "ben"]

[[services]]
key = "wiring"
name = "Electrical check"
duration_minutes = 60
price = "90.00"
location = "on_site"
skill = "electrical"
window_minutes = 120
staff = ["ana", "cy"]

[[services]]
key = "clean"
name = "Deep clean"
duration_minutes = 90
price = "150.00"
location = "on_site"
skill = "cleaning"
window_minutes = 120
staff = ["ben", "cy"]

[[staff]]
key = "ana"
name = "Ana Ruiz"
skills = ["gas", "electrical"]
home_lat = 41.97
home_lon = -87.66
breaks = { tue = "12:00-12:30" }

[[staff]]
key = "ben"
name = "Ben Cole"
skills = ["gas", "cleaning"]
home_lat = 41.78
home_lon = -87.60

[[staff]]
key = "cy"
name = "Cy Park"
skills = ["electrical", "cleaning"]
home_lat = 41.88
home_lon = -87.76
"""

HOMES = {"ana": LatLon(41.97, -87.66), "ben": LatLon(41.78, -87.60), "cy": LatLon(41.88, -87.76)}
SKILLS = {
    "ana": {"gas", "electrical"},
    "ben": {"gas", "cleaning"},
    "cy": {"electrical", "cleaning"},
}
SERVICE_OF = {"gas": "boiler", "electrical": "wiring", "cleaning": "clean"}
# four jobs near each home: (near whom, skill); offsets make them distinct places
JOBS = [
    ("ana", "gas"),
    ("ana", "electrical"),
    ("ana", "gas"),
    ("ana", "electrical"),
    ("ben", "gas"),
    ("ben", "cleaning"),
    ("ben", "cleaning"),
    ("ben", "gas"),
    ("cy", "electrical"),
    ("cy", "cleaning"),
    ("cy", "electrical"),
    ("cy", "cleaning"),
]
WINDOWS = [time(8), time(10), time(13), time(15)]


def local(day: date, at: time) -> datetime:
    """A local wall time on a day, as an aware datetime."""
    return datetime.combine(day, at, ZONE)


def seed(
    db: Database, day: date = DAY, *, pinned: tuple[int, ...] = (), business: str = ""
) -> list[int]:
    """The business (`business` replacing its owners line) and its crosswise day; the job ids."""
    apply_config(
        db,
        parse_config(FIELD.replace('owners = ["web:owner"]', business or 'owners = ["web:owner"]')),
    )
    ids: list[int] = []
    with db.write() as session:
        staff = {s.key: s for s in session.scalars(select(Staff)) if s.key in SKILLS}
        services = {s.key: s for s in session.scalars(select(Service))}
        slots: dict[str, int] = {key: 0 for key in staff}
        for n, (near, skill) in enumerate(JOBS):
            home = HOMES[near]
            place = LatLon(home.lat + 0.01 * ((n % 4) - 1.5), home.lon + 0.012 * ((n % 3) - 1))
            # as booked: the skilled technician who lives farthest away
            who = max(
                (k for k in staff if skill in SKILLS[k]),
                key=lambda k: haversine_km(HOMES[k], place),
            )
            service = services[SERVICE_OF[skill]]
            start = local(day, WINDOWS[slots[who]])
            slots[who] += 1
            customer = Customer(name=f"Customer {n + 1}", phone=f"+1312555{n:04d}", created_at=NOW)
            session.add(customer)
            session.flush()
            job = Appointment(
                customer_id=customer.id,
                service_id=service.id,
                staff_id=staff[who].id,
                starts_at=start,
                ends_at=start + timedelta(minutes=service.duration_minutes),
                block_start=start,
                block_end=start + timedelta(minutes=service.duration_minutes),
                status=BOOKED,
                price_minor=service.price_minor,
                currency="USD",
                created_at=NOW,
                updated_at=NOW,
                lat=place.lat,
                lon=place.lon,
                place_source="pin",
                window_start=start,
                window_end=start + timedelta(minutes=service.window_minutes or 0),
                staff_pinned=n in pinned,
            )
            session.add(job)
            session.flush()
            ids.append(job.id)
    return ids
