"""The field-service example: its business.toml, its customers, and its busiest day.

`write_example` copies the example into a folder (`slotbot init --example field-service`);
`seed_customers` adds its 80 customers (addresses across Chicago with real ZIP codes);
`seed_busiest_day` books 60 jobs for the eight technicians on one day the way a busy
phone line would: customers in random order, each taking the earliest window offered, with
"anyone" — the least-booked qualified technician free then — doing the job. Travel is honoured (the slot engine leaves room to drive), geography is not planned:
that is the driving an optimiser can save. Everything is deterministic (fixed seeds).
"""

from __future__ import annotations

import csv
import io
import random
import shutil
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config.context import business_context
from bot.core.errors import ConfigError, NotFound
from bot.field.places.geocode import geocode, located
from bot.scheduling.availability import SlotQuery, best_slots
from bot.scheduling.booking import Booked, book
from storage.models import CANCELLED, Appointment, Customer, Service

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples"
EXAMPLES = ("field-service",)
SEED_NOTE = "seed: field-service busiest day"
CUSTOMERS = 80
JOBS = 60

# How the busiest day's 60 jobs divide between the services (minutes: 45 to 180).
JOB_MIX = {
    "drain-cleaning": 17,
    "plumbing-repair": 6,
    "smoke-detectors": 10,
    "electrical-repair": 6,
    "panel-upgrade": 1,
    "appliance-hookup": 8,
    "furnace-tune-up": 5,
    "boiler-service": 2,
    "window-cleaning": 3,
    "gutter-cleaning": 1,
    "standard-clean": 1,
}

# Real ZIP codes of Chicago and its inner suburbs, with streets that run through them.
_AREAS = (
    ("Chicago", "60610", ("N Wells St", "W Division St", "N Clark St")),
    ("Chicago", "60611", ("E Ohio St", "N Rush St", "E Chestnut St")),
    ("Chicago", "60613", ("W Irving Park Rd", "N Sheffield Ave", "W Addison St")),
    ("Chicago", "60614", ("W Armitage Ave", "N Halsted St", "W Fullerton Pkwy")),
    ("Chicago", "60616", ("S Wabash Ave", "S Michigan Ave", "W Cermak Rd")),
    ("Chicago", "60618", ("N Kedzie Ave", "W Belmont Ave", "N California Ave")),
    ("Chicago", "60622", ("N Damen Ave", "W North Ave", "N Milwaukee Ave")),
    ("Chicago", "60625", ("W Lawrence Ave", "N Lincoln Ave", "W Foster Ave")),
    ("Chicago", "60626", ("N Sheridan Rd", "W Touhy Ave", "N Clark St")),
    ("Chicago", "60630", ("W Montrose Ave", "N Cicero Ave", "W Lawrence Ave")),
    ("Chicago", "60632", ("S Pulaski Rd", "W 47th St", "S Archer Ave")),
    ("Chicago", "60634", ("W Irving Park Rd", "N Narragansett Ave", "W Belmont Ave")),
    ("Chicago", "60637", ("S Woodlawn Ave", "E 55th St", "S Cottage Grove Ave")),
    ("Chicago", "60638", ("S Cicero Ave", "W 63rd St", "S Central Ave")),
    ("Chicago", "60640", ("N Broadway", "W Lawrence Ave", "N Sheridan Rd")),
    ("Chicago", "60641", ("W Addison St", "N Pulaski Rd", "N Kilbourn Ave")),
    ("Chicago", "60643", ("S Western Ave", "W 103rd St", "S Longwood Dr")),
    ("Chicago", "60645", ("W Devon Ave", "N Western Ave", "W Pratt Ave")),
    ("Chicago", "60647", ("N Milwaukee Ave", "W Armitage Ave", "N Kedzie Blvd")),
    ("Chicago", "60651", ("W Chicago Ave", "N Pulaski Rd", "W Division St")),
    ("Chicago", "60657", ("N Broadway", "W Diversey Pkwy", "N Southport Ave")),
    ("Chicago", "60659", ("W Peterson Ave", "N Kedzie Ave", "W Devon Ave")),
    ("Chicago", "60608", ("W 18th St", "S Ashland Ave", "S Halsted St")),
    ("Chicago", "60609", ("S Halsted St", "W 35th St", "S Morgan St")),
    ("Chicago", "60612", ("W Madison St", "S Western Ave", "W Jackson Blvd")),
    ("Chicago", "60615", ("S Hyde Park Blvd", "E 53rd St", "S Ellis Ave")),
    ("Chicago", "60619", ("S Stony Island Ave", "E 79th St", "S Cottage Grove Ave")),
    ("Chicago", "60629", ("S Kedzie Ave", "W 63rd St", "S Pulaski Rd")),
    ("Evanston", "60201", ("Sherman Ave", "Chicago Ave", "Central St")),
    ("Evanston", "60202", ("Main St", "Dodge Ave", "Howard St")),
    ("Oak Park", "60302", ("Oak Park Ave", "Lake St", "N Ridgeland Ave")),
    ("Oak Park", "60304", ("S Harlem Ave", "Madison St", "S East Ave")),
    ("Skokie", "60076", ("Oakton St", "Dempster St", "Crawford Ave")),
    ("Forest Park", "60130", ("Madison St", "Desplaines Ave", "Jackson Blvd")),
    ("Oak Lawn", "60453", ("W 95th St", "S Cicero Ave", "Southwest Hwy")),
)
_FIRST = (
    "Olivia", "Liam", "Emma", "Noah", "Ava", "Elijah", "Sophia", "Mateo", "Mia", "Lucas",
    "Amelia", "Ethan", "Harper", "James", "Isabella", "Benjamin", "Aaliyah", "Diego",
    "Chloe", "Marcus",
)  # fmt: skip
_LAST = (
    "Johnson", "Nowak", "Garcia", "Washington", "Murphy", "Kowalczyk", "Nguyen", "Patel",
    "Rodriguez", "O'Brien", "Jackson", "Schmidt", "Kim", "Hernandez", "Wright", "Lee",
    "Reyes", "Thompson", "Sullivan", "Okafor",
)  # fmt: skip


@dataclass(frozen=True)
class DemoCustomer:
    """One of the example's customers."""

    name: str
    phone: str
    email: str
    address: str


def demo_customers() -> list[DemoCustomer]:
    """The example's customers, always the same ones."""
    rng = random.Random(2026)
    people = []
    for i in range(CUSTOMERS):
        first, last = _FIRST[i % len(_FIRST)], _LAST[(i * 7 + i // len(_FIRST)) % len(_LAST)]
        town, zip_code, streets = _AREAS[(i * 13) % len(_AREAS)]
        number = rng.randrange(100, 5000, 2)
        street = streets[rng.randrange(len(streets))]
        slug = f"{first}.{last}".lower().replace("'", "")
        people.append(
            DemoCustomer(
                name=f"{first} {last}",
                phone=f"+1773555{1000 + i:04d}",
                email=f"{slug}{i}@example.com",
                address=f"{number} {street}, {town}, IL {zip_code}",
            )
        )
    return people


def customers_csv() -> str:
    """The example's customers as CSV (name, phone, email, address)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["name", "phone", "email", "address"])
    for person in demo_customers():
        writer.writerow([person.name, person.phone, person.email, person.address])
    return out.getvalue()


def write_example(name: str, folder: Path) -> list[Path]:
    """Write an example business (business.toml and customers.csv) into `folder`.

    Never overwrites: a folder that already has a business.toml is refused.
    """
    if name not in EXAMPLES:
        raise NotFound(f"no example {name!r} (examples: {', '.join(EXAMPLES)})")
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "business.toml"
    if target.exists():
        raise ConfigError(str(target), "already exists; not overwritten")
    shutil.copyfile(EXAMPLES_DIR / name / "business.toml", target)
    customers = folder / "customers.csv"
    customers.write_text(customers_csv(), encoding="utf-8")
    return [target, customers]


def seed_customers(session: Session, *, now: datetime) -> list[Customer]:
    """Add the example's customers (once: found again by phone), addresses geocoded."""
    settings = business_context(session).travel
    known = {
        c.phone: c
        for c in session.scalars(select(Customer).where(Customer.phone.like("+1773555%")))
    }
    rows = []
    for person in demo_customers():
        customer = known.get(person.phone)
        if customer is None:
            customer = Customer(
                name=person.name,
                phone=person.phone,
                email=person.email,
                address=person.address,
                created_at=now,
            )
            session.add(customer)
        geocode(session, person.address, settings, now=now)
        rows.append(customer)
    session.flush()
    return rows


def seed_busiest_day(
    session: Session, day: date, *, now: datetime | None = None
) -> list[Appointment]:
    """Book the example's busiest day (60 jobs) on `day`, as a busy phone line would.

    Needs the field-service business loaded. Run twice, it books nothing more: the jobs
    already seeded that day are returned.
    """
    ctx = business_context(session)
    zone: ZoneInfo = ctx.zone
    opens = datetime.combine(day, time(0), tzinfo=zone)
    closes = opens + timedelta(days=1)
    existing = list(
        session.scalars(
            select(Appointment)
            .where(
                Appointment.notes == SEED_NOTE,
                Appointment.status != CANCELLED,
                Appointment.starts_at >= opens,
                Appointment.starts_at < closes,
            )
            .order_by(Appointment.id)
        )
    )
    if existing:
        return existing
    now = now or datetime.combine(day - timedelta(days=1), time(8), tzinfo=zone)
    services = {s.key: s for s in session.scalars(select(Service).where(Service.active.is_(True)))}
    missing = sorted(set(JOB_MIX) - set(services))
    if missing:
        raise NotFound(f"not the field-service business: no service {missing[0]!r}")
    settings = ctx.travel
    rng = random.Random(17)
    jobs = [key for key, count in JOB_MIX.items() for _ in range(count)]
    rng.shuffle(jobs)
    people = seed_customers(session, now=now)
    chosen = rng.sample(people, len(jobs))
    booked: list[Appointment] = []
    for key, customer in zip(jobs, chosen, strict=True):
        service = services[key]
        place = geocode(session, customer.address or "", settings, now=now)
        where = located(place) if place is not None else None
        query = SlotQuery(
            service_id=service.id,
            start=opens,
            end=closes,
            customer_id=customer.id,
            place=where.point if where is not None else None,
        )
        for slot in best_slots(session, query, now=now, limit=3):
            outcome = book(
                session,
                customer_id=customer.id,
                service_id=service.id,
                start=slot.start,
                staff_id=slot.staff_id,
                now=now,
                actor="seed",
                notes=SEED_NOTE,
                place=where,
            )
            if isinstance(outcome, Booked):
                booked.append(outcome.appointment)
                break
    return booked
