"""The booking service on SQLite and PostgreSQL: holds, bookings, changes, races, series."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from bot.jobs import purge_expired_holds
from bot.scheduling.booking import (
    NOT_ALLOWED,
    TAKEN,
    TOO_LATE,
    Booked,
    Changed,
    Held,
    Refused,
    book,
    book_hold,
    cancel,
    cancel_following,
    create_series,
    history,
    hold_slot,
    reschedule,
    reschedule_following,
    set_status,
    upcoming,
)
from storage.db import Database
from storage.models import (
    CANCELLED,
    COMPLETED,
    CONFIRMED,
    IN_PROGRESS,
    NO_SHOW,
    Appointment,
    AppointmentEvent,
    Customer,
    SlotHold,
)
from tests.factories import add_customer, local, service_id, setup_business, staff_id

NY = ZoneInfo("America/New_York")
NOW = local("2026-11-16 07:00")


@pytest.fixture
def salon(db: Database) -> Database:
    setup_business(db)
    return db


def _book(db: Database, start: datetime, who: str = "sam", service: str = "cut", now=NOW, **kw):
    customer = kw.pop("customer", None) or add_customer(db)
    with db.write() as session:
        return book(
            session,
            customer_id=customer,
            service_id=service_id(session, service),
            start=start,
            staff_id=staff_id(session, who) if who else None,
            now=now,
            **kw,
        )


def test_a_booked_slot_is_refused_to_the_next_customer_as_taken(salon):
    first = _book(salon, local("2026-11-17 10:00"))
    second = _book(salon, local("2026-11-17 10:00"))
    assert isinstance(first, Booked)
    assert isinstance(second, Refused) and second.reason == TAKEN


def test_booking_anyone_falls_to_the_next_free_staff_member(salon):
    _book(salon, local("2026-11-17 10:00"), who="sam")
    other = _book(salon, local("2026-11-17 10:00"), who=None)
    assert isinstance(other, Booked)
    with salon.read() as session:
        assert other.appointment.staff_id == staff_id(session, "alex")


def test_a_booking_records_its_price_and_a_first_status_event(salon):
    outcome = _book(salon, local("2026-11-17 10:00"))
    with salon.read() as session:
        appointment = session.get(Appointment, outcome.appointment.id)
        assert appointment.price_minor == 4000 and appointment.currency == "USD"
        assert appointment.block_end - appointment.ends_at == timedelta(minutes=15)
        assert [(e.kind, e.to_status) for e in appointment.events] == [("booked", "booked")]


def test_the_database_itself_refuses_an_overlapping_appointment(salon):
    outcome = _book(salon, local("2026-11-17 10:00"))
    original = outcome.appointment
    with pytest.raises(IntegrityError), salon.write() as session:
        session.add(
            Appointment(
                customer_id=original.customer_id,
                service_id=original.service_id,
                staff_id=original.staff_id,
                starts_at=original.starts_at + timedelta(minutes=30),
                ends_at=original.ends_at + timedelta(minutes=30),
                block_start=original.block_start + timedelta(minutes=30),
                block_end=original.block_end + timedelta(minutes=30),
                status="booked",
                price_minor=1,
                currency="USD",
                created_at=NOW,
                updated_at=NOW,
            )
        )
        session.flush()


def test_a_cancelled_appointment_no_longer_blocks_the_database_guard(salon):
    outcome = _book(salon, local("2026-11-17 10:00"))
    with salon.write() as session:
        cancel(session, outcome.appointment.id, now=NOW, reason="ill")
    assert isinstance(_book(salon, local("2026-11-17 10:00")), Booked)


def test_a_hold_keeps_the_slot_for_its_customer_until_confirmed(salon):
    jane, joe = add_customer(salon, "Jane"), add_customer(salon, "Joe")
    with salon.write() as session:
        held = hold_slot(
            session,
            customer_id=jane,
            service_id=service_id(session, "cut"),
            start=local("2026-11-17 10:00"),
            staff_id=staff_id(session, "sam"),
            now=NOW,
        )
    assert isinstance(held, Held)
    assert held.expires_at == NOW + timedelta(minutes=10)
    assert _book(salon, local("2026-11-17 10:00"), customer=joe).reason == TAKEN
    with salon.write() as session:
        booked = book_hold(session, held.hold_id, now=NOW + timedelta(minutes=2))
    assert isinstance(booked, Booked)
    with salon.read() as session:
        assert session.scalars(select(SlotHold)).all() == []


def test_a_lapsed_hold_is_purged_and_the_slot_is_free_again(salon):
    jane, joe = add_customer(salon, "Jane"), add_customer(salon, "Joe")
    with salon.write() as session:
        hold_slot(
            session,
            customer_id=jane,
            service_id=service_id(session, "cut"),
            start=local("2026-11-17 10:00"),
            staff_id=staff_id(session, "sam"),
            now=NOW,
        )
    assert purge_expired_holds(salon, now=NOW + timedelta(minutes=11)) == 1
    assert isinstance(_book(salon, local("2026-11-17 10:00"), customer=joe), Booked)


def test_a_new_hold_replaces_the_customers_previous_hold(salon):
    jane = add_customer(salon, "Jane")
    with salon.write() as session:
        for hour in ("10:00", "14:00"):
            hold_slot(
                session,
                customer_id=jane,
                service_id=service_id(session, "cut"),
                start=local(f"2026-11-17 {hour}"),
                staff_id=staff_id(session, "sam"),
                now=NOW,
            )
    with salon.read() as session:
        holds = session.scalars(select(SlotHold)).all()
    assert [h.starts_at.astimezone(NY).hour for h in holds] == [14]


def test_rescheduling_moves_the_appointment_and_keeps_where_it_was(salon):
    outcome = _book(salon, local("2026-11-18 10:00"))
    with salon.write() as session:
        moved = reschedule(
            session, outcome.appointment.id, new_start=local("2026-11-18 14:00"), now=NOW
        )
    assert isinstance(moved, Booked)
    with salon.read() as session:
        appointment = session.get(Appointment, outcome.appointment.id)
        assert appointment.starts_at == local("2026-11-18 14:00")
        event = appointment.events[-1]
        assert event.kind == "rescheduled"
        assert event.old_starts_at == local("2026-11-18 10:00")
    # The old time is free again.
    assert isinstance(_book(salon, local("2026-11-18 10:00")), Booked)


def test_rescheduling_onto_a_taken_time_changes_nothing(salon):
    first = _book(salon, local("2026-11-18 10:00"))
    _book(salon, local("2026-11-18 14:00"))
    with salon.write() as session:
        refused = reschedule(
            session,
            first.appointment.id,
            new_start=local("2026-11-18 14:00"),
            staff_id=first.appointment.staff_id,
            now=NOW,
        )
    assert isinstance(refused, Refused) and refused.reason == TAKEN
    with salon.read() as session:
        assert session.get(Appointment, first.appointment.id).starts_at == local("2026-11-18 10:00")


def test_customers_cannot_cancel_inside_the_cutoff_but_the_owner_can(salon):
    outcome = _book(salon, local("2026-11-17 10:00"))
    late = local("2026-11-16 12:00")  # 22 hours ahead; cut-off is 24
    with salon.write() as session:
        refused = cancel(session, outcome.appointment.id, now=late, reason="busy")
    assert isinstance(refused, Refused) and refused.reason == TOO_LATE
    assert "24 hours" in refused.message
    with salon.write() as session:
        done = cancel(
            session, outcome.appointment.id, now=late, actor="owner", enforce_cutoff=False
        )
    assert isinstance(done, Changed)
    with salon.read() as session:
        appointment = session.get(Appointment, outcome.appointment.id)
        assert appointment.status == CANCELLED
        assert appointment.events[-1].actor == "owner"


def test_statuses_follow_the_lifecycle_and_refuse_to_go_backwards(salon):
    outcome = _book(salon, local("2026-11-17 10:00"))
    appointment_id = outcome.appointment.id
    for status in (CONFIRMED, IN_PROGRESS, COMPLETED):
        with salon.write() as session:
            assert isinstance(set_status(session, appointment_id, status, now=NOW), Changed)
    with salon.write() as session:
        refused = set_status(session, appointment_id, NO_SHOW, now=NOW)
    assert isinstance(refused, Refused) and refused.reason == NOT_ALLOWED
    with salon.read() as session:
        events = session.scalars(
            select(AppointmentEvent.to_status)
            .where(AppointmentEvent.appointment_id == appointment_id)
            .order_by(AppointmentEvent.id)
        ).all()
    assert events == ["booked", "confirmed", "in_progress", "completed"]


def test_upcoming_and_history_split_a_customers_appointments(salon):
    jane = add_customer(salon, "Jane")
    done = _book(salon, local("2026-11-17 10:00"), customer=jane)
    ahead = _book(salon, local("2026-11-20 10:00"), customer=jane)
    gone = _book(salon, local("2026-11-19 10:00"), customer=jane)
    later = local("2026-11-18 07:00")
    with salon.write() as session:
        set_status(session, done.appointment.id, COMPLETED, now=later)
        cancel(session, gone.appointment.id, now=later, reason="moved away")
    with salon.read() as session:
        assert [a.id for a in upcoming(session, jane, now=later)] == [ahead.appointment.id]
        assert {a.id for a in history(session, jane, now=later)} == {
            done.appointment.id,
            gone.appointment.id,
        }


# --- the race ----------------------------------------------------------------------------


def _racing_database(db_url: str, attempts: int) -> Database:
    """A database with a connection for each of `attempts` threads at once."""
    pool = {"pool_size": attempts, "max_overflow": 0} if "postgresql" in db_url else {}
    return Database(db_url, **pool)


def _race(database: Database, starts: list[datetime], attempts: int) -> Counter[str]:
    """`attempts` new customers in threads, each on its own connection, book one of `starts`
    at once."""
    with database.write() as session:
        racers = [
            Customer(name=f"Racer {i}", created_at=datetime.now(UTC)) for i in range(attempts)
        ]
        session.add_all(racers)
        session.flush()
        customers = [racer.id for racer in racers]
    with database.read() as session:
        cut, sam = service_id(session, "cut"), staff_id(session, "sam")
    barrier = threading.Barrier(attempts)
    results: list[str] = []
    lock = threading.Lock()

    def attempt(i: int) -> None:
        barrier.wait()
        try:
            with database.write() as session:
                outcome = book(
                    session,
                    customer_id=customers[i],
                    service_id=cut,
                    start=starts[i % len(starts)],
                    staff_id=sam,
                    now=NOW,
                )
            label = "booked" if isinstance(outcome, Booked) else outcome.reason
        except Exception as exc:  # any crash is a failed race, reported by name
            label = f"error: {type(exc).__name__}: {exc}"
        with lock:
            results.append(label)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Counter(results)


def _no_overlaps(db: Database) -> None:
    with db.read() as session:
        rows = session.execute(
            select(Appointment.staff_id, Appointment.block_start, Appointment.block_end)
            .where(Appointment.status != CANCELLED)
            .order_by(Appointment.staff_id, Appointment.block_start)
        ).all()
    for a, b in zip(rows, rows[1:], strict=False):
        assert not (a.staff_id == b.staff_id and b.block_start < a.block_end), (a, b)


def _weekdays(count: int) -> list:
    days, day = [], NOW.date() + timedelta(days=1)
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


@pytest.mark.slow
def test_fifty_concurrent_attempts_on_five_slots_make_exactly_five_bookings(salon, db_url):
    # 20 rounds, each on its own weekday; five starts spaced wider than 60 min + 15 buffer.
    # One pool of 50 connections for all rounds: opening 1,000 was most of the test's time.
    database = _racing_database(db_url, attempts=50)
    for round_, day in enumerate(_weekdays(20)):
        starts = [
            datetime.combine(day, datetime.min.time(), tzinfo=NY).replace(hour=h, minute=m)
            for h, m in ((9, 0), (10, 30), (13, 0), (14, 30), (16, 0))
        ]
        results = _race(database, starts, attempts=50)
        assert results == Counter({"booked": 5, TAKEN: 45}), (round_, results)
        _no_overlaps(salon)
    database.dispose()
    with salon.read() as session:
        assert session.scalar(select(func.count()).select_from(Appointment)) == 100


# --- recurring series -----------------------------------------------------------------


def test_weekly_on_mondays_for_eight_weeks_keeps_wall_time_across_dst(salon):
    jane = add_customer(salon, "Jane")
    now = local("2026-10-15 07:00")
    with salon.write() as session:
        result = create_series(
            session,
            customer_id=jane,
            service_id=service_id(session, "cut"),
            staff_id=staff_id(session, "sam"),
            rule="FREQ=WEEKLY;BYDAY=MO;COUNT=8",
            first_start=local("2026-10-19 10:00"),
            now=now,
        )
    assert result.conflicts == []
    starts = [a.starts_at for a in result.booked]
    assert len(starts) == 8
    assert all(s.astimezone(NY).hour == 10 and s.astimezone(NY).weekday() == 0 for s in starts)
    # 2026-11-01 is the fall-back day: UTC hour moves from 14:00 to 15:00.
    assert [s.astimezone(UTC).hour for s in starts] == [14, 14, 15, 15, 15, 15, 15, 15]
    assert {a.series_id for a in result.booked} == {result.series_id}


def test_monthly_on_the_second_tuesday_for_six_months(salon):
    jane = add_customer(salon, "Jane")
    with salon.write() as session:
        result = create_series(
            session,
            customer_id=jane,
            service_id=service_id(session, "cut"),
            staff_id=staff_id(session, "sam"),
            rule="FREQ=MONTHLY;BYDAY=+2TU;COUNT=6",
            first_start=local("2026-12-08 15:00"),
            now=NOW,
        )
    days = [a.starts_at.astimezone(NY).date().isoformat() for a in result.booked]
    assert days == [
        "2026-12-08",
        "2027-01-12",
        "2027-02-09",
        "2027-03-09",
        "2027-04-13",
        "2027-05-11",
    ]
    assert all(a.starts_at.astimezone(NY).hour == 15 for a in result.booked)


def test_a_conflict_in_the_middle_of_a_series_is_reported_not_skipped(salon):
    _book(salon, local("2026-11-30 10:00"))  # the third Monday is already taken
    jane = add_customer(salon, "Jane")
    with salon.write() as session:
        result = create_series(
            session,
            customer_id=jane,
            service_id=service_id(session, "cut"),
            staff_id=staff_id(session, "sam"),
            rule="FREQ=WEEKLY;BYDAY=MO;COUNT=5",
            first_start=local("2026-11-16 10:00"),
            now=local("2026-11-10 07:00"),
        )
    assert len(result.booked) == 4
    assert [c.start for c in result.conflicts] == [local("2026-11-30 10:00")]
    assert "no longer available" in result.conflicts[0].reason


def test_every_other_monday_is_a_plain_interval_rule(salon):
    jane = add_customer(salon, "Jane")
    with salon.write() as session:
        result = create_series(
            session,
            customer_id=jane,
            service_id=service_id(session, "cut"),
            staff_id=staff_id(session, "sam"),
            rule="FREQ=WEEKLY;INTERVAL=2;BYDAY=MO;COUNT=3",
            first_start=local("2026-11-16 10:00"),
            now=local("2026-11-10 07:00"),
        )
    assert [a.starts_at.astimezone(NY).day for a in result.booked] == [16, 30, 14]


def test_cancelling_one_occurrence_and_all_following(salon):
    jane = add_customer(salon, "Jane")
    now = local("2026-11-10 07:00")
    with salon.write() as session:
        result = create_series(
            session,
            customer_id=jane,
            service_id=service_id(session, "cut"),
            staff_id=staff_id(session, "sam"),
            rule="FREQ=WEEKLY;BYDAY=MO;COUNT=4",
            first_start=local("2026-11-16 10:00"),
            now=now,
        )
        ids = [a.id for a in result.booked]
    with salon.write() as session:
        assert isinstance(cancel(session, ids[0], now=now), Changed)
        outcomes = cancel_following(session, ids[2], now=now)
    assert all(isinstance(o, Changed) for o in outcomes) and len(outcomes) == 2
    with salon.read() as session:
        statuses = [session.get(Appointment, i).status for i in ids]
    assert statuses == [CANCELLED, "booked", CANCELLED, CANCELLED]


def test_moving_all_following_occurrences_to_a_new_time(salon):
    jane = add_customer(salon, "Jane")
    now = local("2026-11-10 07:00")
    with salon.write() as session:
        result = create_series(
            session,
            customer_id=jane,
            service_id=service_id(session, "cut"),
            staff_id=staff_id(session, "sam"),
            rule="FREQ=WEEKLY;BYDAY=MO;COUNT=4",
            first_start=local("2026-11-16 10:00"),
            now=now,
        )
        ids = [a.id for a in result.booked]
    _book(salon, local("2026-12-07 15:00"))  # blocks the last one's new time
    with salon.write() as session:
        moved = reschedule_following(session, ids[1], new_start=local("2026-11-23 15:00"), now=now)
    assert len(moved.booked) == 2
    assert [c.start for c in moved.conflicts] == [local("2026-12-07 15:00")]
    with salon.read() as session:
        hours = [session.get(Appointment, i).starts_at.astimezone(NY).hour for i in ids]
    assert hours == [10, 15, 15, 10]


def test_a_rule_without_an_end_is_refused(salon):
    from bot.core.errors import InvalidRequest

    jane = add_customer(salon, "Jane")
    with pytest.raises(InvalidRequest), salon.write() as session:
        create_series(
            session,
            customer_id=jane,
            service_id=service_id(session, "cut"),
            staff_id=staff_id(session, "sam"),
            rule="FREQ=DAILY",
            first_start=local("2026-11-16 10:00"),
            now=NOW,
        )
