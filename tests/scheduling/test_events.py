"""Domain events: what the booking service publishes, and the bus that runs the subscribers
in the publisher's transaction, in order, failing with it."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.billing.completion import invoice_for_appointment
from bot.billing.ledger.invoices import refresh_status
from bot.billing.ledger.settlement import record_payment
from bot.bootstrap import bootstrap
from bot.core import events
from bot.core.errors import SlotbotError
from bot.core.events import (
    AppointmentBooked,
    AppointmentCancelled,
    AppointmentMoved,
    Event,
    MessageBus,
    NotBootstrapped,
    PaymentRecorded,
    StatusChanged,
)
from bot.messaging import notify
from bot.messaging.outbox import CANCEL_NOTICE, CONFIRMATION
from bot.scheduling import waitlist
from bot.scheduling.booking import Booked, book, cancel, reschedule, set_status
from storage.billing import Invoice
from storage.db import Database
from storage.messaging import OutboxMessage
from storage.models import CANCELLED, COMPLETED, CONFIRMED, Appointment, Customer
from tests.billing_factories import add_reachable_customer, book_for, complete, setup_billing
from tests.factories import local, service_id, setup_business, staff_id

NOW = local("2026-11-16 07:00")
TUESDAY_10 = local("2026-11-17 10:00")


class Boom(Exception):
    """A subscriber's failure."""


@pytest.fixture
def salon(db: Database) -> Database:
    setup_business(db)
    return db


def _customer(session: Session) -> int:
    customer = Customer(name="Jane Doe", phone="+12125550123", created_at=datetime.now(UTC))
    session.add(customer)
    session.flush()
    return customer.id


def _book(session: Session, start: datetime = TUESDAY_10) -> Booked:
    outcome = book(
        session,
        customer_id=_customer(session),
        service_id=service_id(session, "cut"),
        start=start,
        staff_id=staff_id(session, "sam"),
        now=NOW,
    )
    assert isinstance(outcome, Booked)
    return outcome


def _count(db: Database, model: type[Any]) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _purposes(db: Database) -> list[str]:
    with db.read() as session:
        return list(session.scalars(select(OutboxMessage.purpose).order_by(OutboxMessage.id)))


def test_a_booking_publishes_appointment_booked_with_who_and_when(salon):
    seen: list[Event] = []
    record = seen.append
    with events.bus.subscribed(AppointmentBooked, lambda s, e: record(e)), salon.write() as session:
        appointment = _book(session).appointment
    assert seen == [AppointmentBooked(at=NOW, appointment_id=appointment.id, actor="customer")]


def test_the_subscribers_run_inside_the_bookings_transaction(salon):
    seen: list[tuple[bool, list[str]]] = []

    def look(session: Session, event: AppointmentBooked) -> None:
        # Same session: the new appointment and its confirmation are there, not yet committed.
        queued = session.scalars(select(OutboxMessage.purpose)).all()
        seen.append((session.get(Appointment, event.appointment_id) is not None, list(queued)))

    with events.bus.subscribed(AppointmentBooked, look), salon.write() as session:
        _book(session)
    assert seen == [(True, [CONFIRMATION])]


def test_a_booking_and_its_subscribers_effects_roll_back_together(salon):
    with pytest.raises(Boom), salon.write() as session:
        _book(session)
        assert session.scalars(select(OutboxMessage.purpose)).all() == [CONFIRMATION]
        raise Boom  # the use case's caller fails after the booking
    assert _count(salon, Appointment) == 0
    assert _count(salon, OutboxMessage) == 0


def test_a_failing_subscriber_fails_the_booking_and_nothing_of_it_stays(salon):
    def fail(session: Session, event: AppointmentBooked) -> None:
        raise Boom("the subscriber broke")

    with (
        events.bus.subscribed(AppointmentBooked, fail),
        pytest.raises(Boom),
        salon.write() as session,
    ):
        _book(session)
    # Neither a booking without its confirmation nor a confirmation without its booking.
    assert _count(salon, Appointment) == 0
    assert _count(salon, OutboxMessage) == 0


def test_a_cancellation_publishes_appointment_cancelled_and_not_status_changed(salon):
    seen: list[Event] = []
    record = seen.append
    with (
        events.bus.subscribed(AppointmentCancelled, lambda s, e: record(e)),
        events.bus.subscribed(StatusChanged, lambda s, e: record(e)),
        salon.write() as session,
    ):
        appointment = _book(session).appointment
        cancel(session, appointment.id, now=NOW, reason="flu", actor="staff:1")
    assert seen == [
        AppointmentCancelled(
            at=NOW, appointment_id=appointment.id, previous="booked", actor="staff:1", reason="flu"
        )
    ]
    assert CANCEL_NOTICE in _purposes(salon)


def test_a_move_and_a_status_change_publish_what_changed(salon):
    seen: list[Event] = []
    with (
        events.bus.subscribed(AppointmentMoved, lambda s, e: seen.append(e)),
        events.bus.subscribed(StatusChanged, lambda s, e: seen.append(e)),
        salon.write() as session,
    ):
        appointment = _book(session).appointment
        sam = appointment.staff_id
        reschedule(session, appointment.id, new_start=local("2026-11-17 14:00"), now=NOW)
        set_status(session, appointment.id, CONFIRMED, now=NOW, actor="owner")
    assert seen == [
        AppointmentMoved(
            at=NOW,
            appointment_id=appointment.id,
            old_start=TUESDAY_10,
            old_staff_id=sam,
            actor="customer",
        ),
        StatusChanged(
            at=NOW,
            appointment_id=appointment.id,
            previous="booked",
            status=CONFIRMED,
            actor="owner",
        ),
    ]


def test_handlers_run_in_the_order_they_subscribed():
    bus = MessageBus()
    bus.ready = True
    ran: list[str] = []
    for name in ("first", "second", "third"):
        bus.subscribe(AppointmentBooked, lambda session, event, name=name: ran.append(name))
    bus.subscribe(AppointmentMoved, lambda session, event: ran.append("not for a booking"))
    bus.publish(None, AppointmentBooked(at=NOW, appointment_id=1, actor="customer"))  # type: ignore[arg-type]
    assert ran == ["first", "second", "third"]


def test_a_failing_handler_stops_the_ones_after_it():
    bus = MessageBus()
    bus.ready = True
    ran: list[str] = []

    def fail(session: Session, event: Event) -> None:
        raise Boom

    bus.subscribe(AppointmentBooked, lambda session, event: ran.append("before"))
    bus.subscribe(AppointmentBooked, fail)
    bus.subscribe(AppointmentBooked, lambda session, event: ran.append("after"))
    with pytest.raises(Boom):
        bus.publish(None, AppointmentBooked(at=NOW, appointment_id=1, actor="customer"))  # type: ignore[arg-type]
    assert ran == ["before"]


def test_a_bus_nobody_bootstrapped_refuses_to_publish_rather_than_drop_the_event():
    with pytest.raises(NotBootstrapped, match="AppointmentBooked published before"):
        MessageBus().publish(None, AppointmentBooked(at=NOW, appointment_id=1, actor="x"))  # type: ignore[arg-type]


def test_bootstrapping_twice_registers_each_subscriber_once():
    bus = bootstrap(MessageBus())
    before = {kind: bus.handlers(kind) for kind in Event.__subclasses__()}
    assert bootstrap(bus) is bus
    assert {kind: bus.handlers(kind) for kind in Event.__subclasses__()} == before
    assert bootstrap() is events.bus and events.bus.ready


def test_threads_bootstrapping_at_once_register_each_subscriber_once():
    for _ in range(20):
        bus, start = MessageBus(), threading.Barrier(8)

        def first_call(bus: MessageBus = bus, start: threading.Barrier = start) -> None:
            start.wait()
            bootstrap(bus)

        threads = [threading.Thread(target=first_call) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert bus.handlers(AppointmentBooked) == (notify.on_booked,)


def test_every_event_has_a_subscriber_and_the_order_of_the_booking_ones_is_told_first():
    bus = bootstrap(MessageBus())
    for kind in Event.__subclasses__():
        assert bus.handlers(kind), f"nobody subscribes to {kind.__name__}"
    # The change is told before the waitlist offers its freed slot, and before it is billed.
    moved = [f"{h.__module__}.{h.__name__}" for h in bus.handlers(AppointmentMoved)]
    assert moved == ["bot.messaging.notify.on_moved", "bot.scheduling.waitlist.on_moved"]
    changed = [f"{h.__module__}.{h.__name__}" for h in bus.handlers(StatusChanged)]
    assert changed == [
        "bot.messaging.notify.on_status_changed",
        "bot.billing.hooks.on_status_changed",
    ]


def test_a_completed_appointment_is_invoiced_through_its_status_changed_subscriber(salon):
    with salon.write() as session:
        appointment = _book(session).appointment
        set_status(session, appointment.id, COMPLETED, now=NOW, actor="staff")
    assert _count(salon, Invoice) == 1


def test_a_waitlist_subscriber_in_trouble_never_undoes_the_cancellation(salon, monkeypatch):
    def broken(*args: Any, **kwargs: Any) -> None:
        raise SlotbotError("the waitlist broke")

    monkeypatch.setattr(waitlist, "on_slot_freed", broken)
    with salon.write() as session:
        appointment = _book(session).appointment
        cancel(session, appointment.id, now=NOW)
    with salon.read() as session:
        assert session.get(Appointment, appointment.id).status == CANCELLED
    assert _purposes(salon) == [CONFIRMATION, CANCEL_NOTICE]


def test_a_payment_publishes_payment_recorded_once_though_the_provider_repeats_it(db):
    setup_billing(db)
    appointment_id = book_for(db, add_reachable_customer(db))
    complete(db, appointment_id, NOW)
    seen: list[Event] = []
    record = seen.append
    with events.bus.subscribed(PaymentRecorded, lambda s, e: record(e)), db.write() as session:
        invoice = invoice_for_appointment(session, appointment_id, NOW)
        owed = refresh_status(session, invoice).balance
        for _ in range(2):  # the same provider payment reported twice
            record_payment(
                session,
                invoice.id,
                amount_minor=owed,
                method="card",
                now=NOW,
                provider="stripe",
                provider_payment_id="pi_once",
                actor="customer",
            )
    [paid] = seen
    assert (paid.invoice_id, paid.appointment_id) == (invoice.id, appointment_id)
    assert (paid.amount_minor, paid.balance_minor, paid.actor) == (owed, 0, "customer")
