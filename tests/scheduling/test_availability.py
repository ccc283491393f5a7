"""The availability engine, rule by rule, on SQLite and PostgreSQL, including DST days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.scheduling.availability import SlotQuery, best_slots, open_slots, rank_slots
from bot.scheduling.booking import Booked, book, hold_slot
from storage.db import Database
from storage.models import TimeOff
from tests.factories import add_customer, local, salon_toml, service_id, setup_business, staff_id

NY = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
# Monday 16 November 2026, 07:00 in New York: before opening, well ahead of notice.
NOW = local("2026-11-16 07:00")


def day_query(db: Database, service: str, day: str, zone: str = "America/New_York", **kw):
    with db.read() as session:
        sid = service_id(session, service)
    start = local(f"{day} 00:00", zone)
    return SlotQuery(sid, start, start + timedelta(days=1), **kw)


def starts(db: Database, query: SlotQuery, now: datetime = NOW, zone=NY) -> list[str]:
    with db.read() as session:
        return [f"{s.start.astimezone(zone):%H:%M}" for s in open_slots(session, query, now=now)]


def staff_starts(db: Database, query: SlotQuery, who: str, now: datetime = NOW) -> list[str]:
    with db.read() as session:
        wanted = staff_id(session, who)
        slots = open_slots(session, query, now=now)
    return [f"{s.start.astimezone(NY):%H:%M}" for s in slots if s.staff_id == wanted]


@pytest.fixture
def salon(db: Database) -> Database:
    setup_business(db)
    return db


def book_at(db: Database, service: str, start: datetime, who: str | None = None, now=NOW):
    customer = add_customer(db)
    with db.write() as session:
        outcome = book(
            session,
            customer_id=customer,
            service_id=service_id(session, service),
            start=start,
            staff_id=staff_id(session, who) if who else None,
            now=now,
        )
    assert isinstance(outcome, Booked), outcome
    return outcome.appointment


def test_a_plain_day_offers_every_grid_start_that_fits_opening_hours(salon):
    query = day_query(salon, "cut", "2026-11-17")
    got = starts(salon, query)
    # 60-minute haircut, 09:00–17:00, 30-minute grid: last start 16:00.
    assert got[0] == "09:00" and got[-1] == "16:00"
    assert len(got) == 15


def test_a_staff_break_is_never_offered_for_that_staff_member(salon):
    query = day_query(salon, "cut", "2026-11-17")
    sam = staff_starts(salon, SlotQuery(**{**query.__dict__, "staff_id": 1}), "sam")
    assert "11:30" not in sam and "12:00" not in sam and "12:30" not in sam
    assert "11:00" in sam and "13:00" in sam


def test_an_existing_appointment_blocks_its_time_and_its_buffers(salon):
    book_at(salon, "colour", local("2026-11-17 10:00"), "sam")  # 10:00–11:30, ±15 min buffers
    with salon.read() as session:
        sam = staff_id(session, "sam")
    query = day_query(salon, "cut", "2026-11-17", staff_id=sam)
    got = starts(salon, query)
    # Haircut 60 min + 15 after: 09:00 would end its buffer at 10:15 > colour's 09:45 block.
    assert "08:30" not in got and "09:00" not in got
    assert "10:00" not in got and "11:00" not in got and "11:30" not in got
    # Colour's after-buffer ends 11:45; the next grid start that fits is 13:00 (lunch break).
    assert got[0] == "13:00"


def test_a_closure_day_has_no_slots(salon):
    assert starts(salon, day_query(salon, "cut", "2026-12-25"), now=local("2026-12-01 07:00")) == []


def test_staff_time_off_removes_only_that_staff_member(salon):
    with salon.write() as session:
        sam = staff_id(session, "sam")
        session.add(
            TimeOff(
                staff_id=sam,
                starts_at=local("2026-11-18 00:00"),
                ends_at=local("2026-11-19 00:00"),
                reason="Dentist",
                source="admin",
            )
        )
    query = day_query(salon, "cut", "2026-11-18")
    assert staff_starts(salon, query, "sam") == []
    assert len(staff_starts(salon, query, "alex")) > 0


def test_minimum_notice_hides_slots_too_soon(salon):
    now = local("2026-11-17 09:10")
    got = starts(salon, day_query(salon, "cut", "2026-11-17"), now=now)
    assert got[0] == "10:30"  # 09:10 + 60 min notice = 10:10 → next grid start


def test_nothing_is_offered_beyond_the_horizon(salon):
    query = day_query(salon, "cut", "2026-12-17")  # 31 days ahead, horizon 30
    assert starts(salon, query) == []
    assert starts(salon, day_query(salon, "cut", "2026-12-15")) != []


def test_per_day_limit_closes_a_staff_members_day(salon):
    with salon.read() as session:
        alex = staff_id(session, "alex")
    book_at(salon, "cut", local("2026-11-17 09:00"), "alex")
    query = day_query(salon, "cut", "2026-11-17", staff_id=alex)
    assert starts(salon, query) != []
    book_at(salon, "cut", local("2026-11-17 14:00"), "alex")
    assert starts(salon, query) == []  # limit 2 reached
    assert starts(salon, day_query(salon, "cut", "2026-11-18", staff_id=alex)) != []


def test_another_customers_hold_blocks_the_slot_but_ones_own_does_not(salon):
    holder = add_customer(salon, "Holder")
    other = add_customer(salon, "Other")
    with salon.write() as session:
        sam = staff_id(session, "sam")
        held = hold_slot(
            session,
            customer_id=holder,
            service_id=service_id(session, "cut"),
            start=local("2026-11-17 09:00"),
            staff_id=sam,
            now=NOW,
        )
    assert not hasattr(held, "reason")
    base = day_query(salon, "cut", "2026-11-17", staff_id=sam)
    for_other = SlotQuery(**{**base.__dict__, "customer_id": other})
    for_holder = SlotQuery(**{**base.__dict__, "customer_id": holder})
    assert "09:00" not in starts(salon, for_other)
    assert "09:00" in starts(salon, for_holder)
    # Once the hold lapses, everyone sees the slot again.
    assert "09:00" in starts(salon, for_other, now=NOW + timedelta(minutes=11))


def test_a_service_that_needs_a_room_waits_for_the_room_not_just_the_staff(salon):
    book_at(salon, "massage", local("2026-11-17 10:00"), "sam")
    query = day_query(salon, "massage", "2026-11-17")
    got = starts(salon, query)
    # Alex is free at 10:00 but the only room is not.
    assert "10:00" not in got and "09:30" not in got
    assert "11:00" in got


def test_anyone_gives_the_slot_to_the_staff_member_with_fewer_bookings_that_day(salon):
    book_at(salon, "cut", local("2026-11-17 16:00"), "sam")
    with salon.read() as session:
        alex = staff_id(session, "alex")
        slots = open_slots(session, day_query(salon, "cut", "2026-11-17"), now=NOW)
    assert slots[0].staff_id == alex


def test_best_slots_are_nearest_the_asked_time(salon):
    query = day_query(salon, "cut", "2026-11-17", target=local("2026-11-17 14:10"))
    with salon.read() as session:
        best = best_slots(session, query, now=NOW, limit=3)
    assert [f"{s.start.astimezone(NY):%H:%M}" for s in best] == ["14:00", "14:30", "13:30"]


def test_best_slots_for_a_wide_window_spread_over_days(salon):
    with salon.read() as session:
        sid = service_id(session, "cut")
        start = local("2026-11-17 00:00")
        query = SlotQuery(sid, start, start + timedelta(days=4), target=local("2026-11-17 10:00"))
        best = best_slots(session, query, now=NOW, limit=4)
    days = [s.start.astimezone(NY).date().isoformat() for s in best]
    assert days == ["2026-11-17", "2026-11-18", "2026-11-19", "2026-11-20"]
    assert all(s.start.astimezone(NY).hour == 10 for s in best)


def test_rank_slots_with_no_slots_is_empty():
    assert rank_slots([], NY, target=None, limit=5) == []


# --- DST ---------------------------------------------------------------------------------

NIGHT_OWL = {"sunday": "00:00-06:00"}


@pytest.mark.parametrize(
    ("zone", "day", "hours_open", "gap"),
    [
        ("America/New_York", "2026-03-08", 5, ["02:00", "02:30"]),
        ("Europe/London", "2026-03-29", 5, ["01:00", "01:30"]),
    ],
)
def test_spring_forward_day_offers_no_wall_time_that_does_not_exist(db, zone, day, hours_open, gap):
    setup_business(db, salon_toml(zone=zone, **NIGHT_OWL))
    now = local(f"{day} 00:00", zone) - timedelta(days=2)
    query = day_query(db, "cut", day, zone=zone)
    with db.read() as session:
        slots = open_slots(session, query, now=now)
    # Two staff, 30-min grid, 60-min service: one unique start per half hour that fits.
    walls = sorted({f"{s.start.astimezone(ZoneInfo(zone)):%H:%M}" for s in slots})
    for missing in gap:
        assert missing not in walls
    instants = sorted({s.start for s in slots})
    # Real elapsed time open is `hours_open` hours: 2 starts an hour, minus the last hour.
    assert len(instants) == hours_open * 2 - 1
    assert all(b - a == timedelta(minutes=30) for a, b in zip(instants, instants[1:], strict=False))


@pytest.mark.parametrize(
    ("zone", "day", "repeated"),
    [
        ("America/New_York", "2026-11-01", "01:30"),
        ("Europe/London", "2026-10-25", "01:30"),
    ],
)
def test_fall_back_day_offers_the_repeated_hour_twice(db, zone, day, repeated):
    setup_business(db, salon_toml(zone=zone, **NIGHT_OWL))
    now = local(f"{day} 00:00", zone) - timedelta(days=2)
    query = day_query(db, "cut", day, zone=zone)
    with db.read() as session:
        slots = open_slots(session, query, now=now)
    instants = sorted({s.start for s in slots})
    walls = [f"{i.astimezone(ZoneInfo(zone)):%H:%M}" for i in instants]
    assert walls.count(repeated) == 2
    assert len(instants) == 7 * 2 - 1  # 00:00–06:00 local lasts seven real hours
    offsets = {i.astimezone(ZoneInfo(zone)).utcoffset() for i in instants}
    assert len(offsets) == 2


@pytest.mark.parametrize(
    ("zone", "before", "dst_day", "utc_before", "utc_on"),
    [
        ("America/New_York", "2026-03-06", "2026-03-09", 14, 13),  # Fri EST, Mon EDT
        ("America/New_York", "2026-10-30", "2026-11-02", 13, 14),  # Fri EDT, Mon EST
        ("Europe/London", "2026-03-27", "2026-03-30", 9, 8),
        ("Europe/London", "2026-10-23", "2026-10-26", 8, 9),
    ],
)
def test_opening_time_stays_nine_local_across_a_dst_change(
    db, zone, before, dst_day, utc_before, utc_on
):
    setup_business(db, salon_toml(zone=zone))
    now = local(f"{before} 00:00", zone) - timedelta(days=1)
    for day, utc_hour in ((before, utc_before), (dst_day, utc_on)):
        with db.read() as session:
            slots = open_slots(session, day_query(db, "cut", day, zone=zone), now=now)
        first = slots[0].start
        assert first.astimezone(ZoneInfo(zone)).hour == 9
        assert first.astimezone(UTC).hour == utc_hour


def test_a_whole_day_with_no_time_asked_offers_starts_spread_over_the_day(salon):
    query = day_query(salon, "cut", "2026-11-17")
    with salon.read() as session:
        best = best_slots(session, query, now=NOW, limit=5)
    # 09:00-16:00 on a 30-minute grid, in five parts: morning to afternoon, not 09:00-11:00.
    assert [f"{s.start.astimezone(NY):%H:%M}" for s in best] == [
        "09:00",
        "10:30",
        "12:00",
        "13:30",
        "15:00",
    ]


def test_a_busy_day_fills_the_offer_from_what_is_left(salon):
    query = day_query(salon, "cut", "2026-11-17")
    while True:  # the morning booked up, whoever is free each time
        with salon.read() as session:
            morning = [
                s
                for s in open_slots(session, query, now=NOW)
                if s.start < local("2026-11-17 12:00")
            ]
        if not morning:
            break
        book_at(salon, "cut", morning[0].start)
    with salon.read() as session:
        best = best_slots(session, query, now=NOW, limit=5)
    got = [f"{s.start.astimezone(NY):%H:%M}" for s in best]
    assert len(got) == 5 and got == sorted(got) and got[0] >= "12:00"
