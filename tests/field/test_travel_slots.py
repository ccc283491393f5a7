"""Travel-aware availability: room to drive between a technician's jobs; arrival windows."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from itertools import pairwise

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.field.places import LatLon, PlaceSource, TravelConfig, place_from_pin, travel
from bot.field.places.windows import arrival_window, format_window
from bot.scheduling.availability import SlotQuery, best_slots, open_slots
from bot.scheduling.booking import Booked, Refused, book, reschedule
from storage.db import Database
from storage.models import CANCELLED, Appointment, Customer, Staff
from tests.factories import local, service_id, setup_business

ZONE = "America/Chicago"
NOW = local("2026-12-07 06:00", ZONE)  # a Monday morning
DAY = "2026-12-08"  # Tuesday
FIELD = """
[business]
name = "Lakeshore Home Services"
timezone = "America/Chicago"
currency = "USD"

[hours]
mon = "08:00-18:00"
tue = "08:00-18:00"
wed = "08:00-18:00"

[rules]
slot_interval_minutes = 15
minimum_notice_minutes = 0

[[services]]
key = "repair"
name = "Repair visit"
duration_minutes = 45
price = "95.00"
location = "on_site"
staff = "*"

[[services]]
key = "boiler"
name = "Boiler service"
duration_minutes = 90
price = "160.00"
location = "on_site"
skill = "gas"
window_minutes = 120
staff = "*"

[[staff]]
key = "gus"
name = "Gus Novak"
skills = ["gas"]
home_address = "Evanston, IL 60201"

[[staff]]
key = "ed"
name = "Ed Park"
skills = ["electrical"]
home_address = "Oak Park, IL 60302"
"""
LOOP = LatLon(41.8786, -87.6251)
EVANSTON = LatLon(42.0451, -87.6877)
NAPERVILLE = LatLon(41.7508, -88.1535)  # about 45 km from the Loop
SETTINGS = TravelConfig()


def _book(
    db: Database, service: str, start: datetime, where: LatLon, staff: str | None = None
) -> Booked | Refused:
    with db.write() as session:
        staff_id = (
            session.scalars(select(Staff.id).where(Staff.key == staff)).one() if staff else None
        )
        outcome = book(
            session,
            customer_id=add_customer_in(session),
            service_id=service_id(session, service),
            start=start,
            staff_id=staff_id,
            now=NOW,
            place=place_from_pin(where.lat, where.lon),
        )
        return outcome


def add_customer_in(session: Session) -> int:
    """A new customer in this transaction."""
    customer = Customer(name="Pat", created_at=NOW)
    session.add(customer)
    session.flush()
    return customer.id


def _query(db: Database, service: str, where: LatLon | None, staff: str | None = None) -> SlotQuery:
    with db.read() as session:
        staff_id = (
            session.scalars(select(Staff.id).where(Staff.key == staff)).one() if staff else None
        )
        return SlotQuery(
            service_id=service_id(session, service),
            start=local(f"{DAY} 00:00", ZONE),
            end=local(f"{DAY} 23:59", ZONE),
            staff_id=staff_id,
            place=where,
        )


def _starts(db: Database, query: SlotQuery) -> list[str]:
    with db.read() as session:
        return [
            f"{s.start.astimezone(local(DAY + ' 00:00', ZONE).tzinfo):%H:%M}"
            for s in open_slots(session, query, now=NOW)
        ]


def test_a_technician_is_not_offered_a_job_they_cannot_drive_to_in_time(db: Database) -> None:
    setup_business(db, FIELD)
    booked = _book(db, "repair", local(f"{DAY} 10:00", ZONE), NAPERVILLE, staff="ed")
    assert isinstance(booked, Booked)
    drive = travel(NAPERVILLE, LOOP, SETTINGS).minutes
    assert drive > 45
    starts = _starts(db, _query(db, "repair", LOOP, staff="ed"))
    done = local(f"{DAY} 10:45", ZONE)
    for text in starts:
        start = local(f"{DAY} {text}", ZONE)
        if start >= done:
            assert (start - done).total_seconds() / 60 >= drive, text
        else:
            assert (
                local(f"{DAY} 10:00", ZONE) - start - timedelta(minutes=45)
            ).total_seconds() / 60 >= drive
    assert "10:45" not in starts and "11:00" not in starts
    # Without a place (in the shop, or not known yet) only the calendar counts.
    assert "10:45" in _starts(db, _query(db, "repair", None, staff="ed"))


def test_the_first_job_of_the_day_leaves_room_to_drive_from_the_home_base(db: Database) -> None:
    setup_business(db, FIELD)
    with db.read() as session:
        gus = session.scalars(select(Staff).where(Staff.key == "gus")).one()
        home = LatLon(gus.home_lat, gus.home_lon)
    drive = travel(home, NAPERVILLE, SETTINGS).minutes
    first = _starts(db, _query(db, "repair", NAPERVILLE, staff="gus"))[0]
    shift = local(f"{DAY} 08:00", ZONE)
    # Schedule arithmetic, not a timing: the offered start is the first grid time after the drive.
    after_shift_start = (local(f"{DAY} {first}", ZONE) - shift).total_seconds() / 60
    assert drive <= after_shift_start < drive + 15
    assert _starts(db, _query(db, "repair", home, staff="gus"))[0] == "08:00"


def test_booking_keeps_the_coordinates_their_source_and_refuses_an_undrivable_time(
    db: Database,
) -> None:
    setup_business(db, FIELD)
    first = _book(db, "repair", local(f"{DAY} 10:00", ZONE), NAPERVILLE, staff="ed")
    assert isinstance(first, Booked)
    with db.read() as session:
        stored = session.get(Appointment, first.appointment.id)
        assert stored is not None
        assert (stored.lat, stored.lon, stored.place_source) == (
            NAPERVILLE.lat,
            NAPERVILLE.lon,
            PlaceSource.PIN,
        )
    too_soon = _book(db, "repair", local(f"{DAY} 11:00", ZONE), LOOP, staff="ed")
    assert not isinstance(too_soon, Booked)


def test_a_service_with_arrival_windows_offers_windows_and_books_the_promise(
    db: Database,
) -> None:
    setup_business(db, FIELD)
    query = _query(db, "boiler", EVANSTON)
    with db.read() as session:
        slots = open_slots(session, query, now=NOW)
    windows = [
        (s.window_start.astimezone(query.start.tzinfo), s.window_end.astimezone(query.start.tzinfo))
        for s in slots
        if s.window_start and s.window_end
    ]
    assert len(windows) == len(slots) > 0
    assert [f"{a:%H}-{b:%H}" for a, b in windows] == ["08-10", "10-12", "12-14", "14-16", "16-18"][
        : len(windows)
    ]
    for slot, (opens, closes) in zip(slots, windows, strict=True):
        assert opens <= slot.start < closes
    booked = _book(db, "boiler", slots[1].start, EVANSTON)
    assert isinstance(booked, Booked)
    assert booked.appointment.window_start == slots[1].window_start
    assert booked.appointment.window_end == slots[1].window_end


def test_only_technicians_with_the_skill_are_offered(db: Database) -> None:
    setup_business(db, FIELD)
    with db.read() as session:
        slots = open_slots(session, _query(db, "boiler", LOOP), now=NOW)
        gus = session.scalars(select(Staff.id).where(Staff.key == "gus")).one()
    assert {s.staff_id for s in slots} == {gus}


def test_no_two_jobs_of_a_technician_are_closer_than_the_drive_between_them(
    db: Database,
) -> None:
    """A property over many random days: whatever customers pick, wherever they live."""
    setup_business(db, FIELD)
    rng = random.Random(17)
    for _ in range(24):
        where = LatLon(rng.uniform(41.70, 42.10), rng.uniform(-88.20, -87.60))
        service = rng.choice(["repair", "boiler"])
        with db.read() as session:
            found = best_slots(
                session,
                SlotQuery(
                    service_id=service_id(session, service),
                    start=local(f"{DAY} 00:00", ZONE),
                    end=local(f"{DAY} 23:59", ZONE),
                    target=local(f"{DAY} {rng.randint(8, 17)}:00", ZONE),
                    place=where,
                ),
                now=NOW,
                limit=3,
            )
        if found:
            pick = rng.choice(found)
            outcome = _book(db, service, pick.start, where)
            assert isinstance(outcome, Booked)
    with db.read() as session:
        jobs = session.scalars(
            select(Appointment)
            .where(Appointment.status != CANCELLED)
            .order_by(Appointment.staff_id, Appointment.starts_at)
        ).all()
        homes = {m.id: LatLon(m.home_lat, m.home_lon) for m in session.scalars(select(Staff))}
    assert len(jobs) >= 8
    for before, after in pairwise(jobs):
        if before.staff_id != after.staff_id:
            continue
        drive = travel(LatLon(before.lat, before.lon), LatLon(after.lat, after.lon), SETTINGS)
        gap = (after.starts_at - before.ends_at).total_seconds() / 60
        assert gap >= drive.minutes, (before.id, after.id, gap, drive)
    for job in jobs:
        first = min((j for j in jobs if j.staff_id == job.staff_id), key=lambda j: j.starts_at)
        shift = local(f"{DAY} 08:00", ZONE)
        drive = travel(homes[first.staff_id], LatLon(first.lat, first.lon), SETTINGS)
        assert (first.starts_at - shift).total_seconds() / 60 >= drive.minutes


def test_moving_a_visit_keeps_room_to_drive_and_its_window_follows(db: Database) -> None:
    setup_business(db, FIELD)
    far = _book(db, "repair", local(f"{DAY} 10:00", ZONE), NAPERVILLE, staff="ed")
    near = _book(db, "repair", local(f"{DAY} 15:00", ZONE), LOOP, staff="ed")
    assert isinstance(far, Booked) and isinstance(near, Booked)
    with db.write() as session:
        ed = near.appointment.staff_id
        squeezed = reschedule(
            session, near.appointment.id, new_start=local(f"{DAY} 11:00", ZONE), now=NOW,
            staff_id=ed,
        )  # fmt: skip
        assert not isinstance(squeezed, Booked)  # no time to drive in from Naperville
        later = reschedule(
            session, near.appointment.id, new_start=local(f"{DAY} 13:00", ZONE), now=NOW
        )
        assert isinstance(later, Booked)
    with db.write() as session:
        boiler = _book(db, "boiler", local(f"{DAY} 08:30", ZONE), EVANSTON)
        assert isinstance(boiler, Booked)
        moved = reschedule(
            session, boiler.appointment.id, new_start=local(f"{DAY} 14:15", ZONE), now=NOW
        )
        assert isinstance(moved, Booked)
        assert moved.appointment.window_start == local(f"{DAY} 14:00", ZONE)
        assert moved.appointment.window_end == local(f"{DAY} 16:00", ZONE)


def test_arrival_windows_count_from_opening_and_read_as_customers_say_them() -> None:
    zone = local(f"{DAY} 00:00", ZONE).tzinfo
    assert zone is not None
    opens, closes = arrival_window(local(f"{DAY} 10:15", ZONE), 120, zone, anchor_minute=7 * 60)
    assert (opens, closes) == (local(f"{DAY} 09:00", ZONE), local(f"{DAY} 11:00", ZONE))
    assert format_window(opens, closes, zone, "en_US") == "Tue, Dec 8, between 9 and 11 AM"
    noon = arrival_window(local(f"{DAY} 11:30", ZONE), 120, zone, anchor_minute=7 * 60)
    assert format_window(*noon, zone, "en_US") == "Tue, Dec 8, between 11 AM and 1 PM"
    half = arrival_window(local(f"{DAY} 08:40", ZONE), 90, zone, anchor_minute=8 * 60)
    assert format_window(*half, zone, "en_US") == "Tue, Dec 8, between 8 and 9:30 AM"
    british = format_window(opens, closes, zone, "en_GB")
    assert "between 09:00 and 11:00" in british
