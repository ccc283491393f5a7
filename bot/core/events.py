"""Domain events and the message bus that hands them to their subscribers.

A use case (book, move, change a status, record a payment, answer an estimate) says what
happened by publishing a small frozen event; what follows from it — the customer's
confirmation, the waitlist offer, the invoice of a completed job, a deposit confirming its
booking, the owner's notice — lives with the subscriber, not in the use case. The booking
service therefore imports neither notify, the waitlist nor billing, and the import graph has
no cycle (tests/test_import_graph.py holds it so).

After cosmicpython's message bus, reduced to what a synchronous bot needs:
- `publish(session, event)` runs each handler subscribed to the event's type, in the order
  they subscribed, inside the caller's session and transaction: a confirmation queued in
  the outbox commits or rolls back with the booking itself, exactly as a direct call did;
- a handler that raises fails the use case (and so its transaction): an effect the change
  owes (a cancellation notice, the invoice) is never silently lost while the change stands.
  A subscriber whose trouble must not undo the change (the waitlist offer) contains it in a
  savepoint of its own;
- the subscribers are registered in one place, `bot.bootstrap`. A bus that was never
  bootstrapped refuses to publish (`NotBootstrapped`) rather than dropping events, so a
  process that forgot to call `bootstrap()` fails loudly at its first change instead of
  booking without confirmations.

Events carry ids and values, not ORM objects; a handler reads the row back with
`session.get`, which the identity map answers without a query.

This module imports nothing from bot but `bot.core.errors` (and storage's models).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from bot.core.errors import NotFound, SlotbotError
from storage.models import Appointment


@dataclass(frozen=True)
class Event:
    """What every domain event has: when it happened (the use case's `now`)."""

    at: datetime


@dataclass(frozen=True)
class AppointmentBooked(Event):
    """A new appointment was booked (in any opening status, awaiting a deposit included)."""

    appointment_id: int
    actor: str


@dataclass(frozen=True)
class AppointmentMoved(Event):
    """An upcoming appointment moved to a new time and/or staff member; the old slot is free."""

    appointment_id: int
    old_start: datetime
    old_staff_id: int
    actor: str


@dataclass(frozen=True)
class AppointmentCancelled(Event):
    """An upcoming appointment was cancelled; `previous` is the status it had."""

    appointment_id: int
    previous: str
    actor: str
    reason: str = ""


@dataclass(frozen=True)
class StatusChanged(Event):
    """An appointment moved along its life (confirmed, in progress, completed, no-show, booked
    after its deposit). A cancellation is published as `AppointmentCancelled` instead."""

    appointment_id: int
    previous: str
    status: str
    actor: str
    reason: str = ""


@dataclass(frozen=True)
class PaymentRecorded(Event):
    """New money was recorded against an invoice (a repeated provider event publishes none);
    `balance_minor` is what the invoice still owes after it and any credit applied."""

    payment_id: int
    invoice_id: int
    appointment_id: int | None
    amount_minor: int
    balance_minor: int
    actor: str


@dataclass(frozen=True)
class EstimateDecided(Event):
    """The customer approved or declined a sent estimate, on `channel`; `total_minor` is
    the estimate's total as decided."""

    estimate_id: int
    approved: bool
    channel: str
    total_minor: int


# The events about one appointment, whose subscribers read it back with `appointment_of`.
AboutAppointment = AppointmentBooked | AppointmentMoved | AppointmentCancelled | StatusChanged


def appointment_of(session: Session, event: AboutAppointment) -> Appointment:
    """The appointment an event is about (from the session's identity map, no query)."""
    appointment = session.get(Appointment, event.appointment_id)
    if appointment is None:
        raise NotFound(f"no appointment with id {event.appointment_id}")
    return appointment


E = TypeVar("E", bound=Event)
Handler = Callable[[Session, Any], None]


class NotBootstrapped(SlotbotError):
    """An event was published before `bot.bootstrap.bootstrap()` registered the subscribers."""


class MessageBus:
    """Handlers per event type, run synchronously in the publisher's session."""

    def __init__(self) -> None:
        self._handlers: defaultdict[type[Event], list[Handler]] = defaultdict(list)
        self.ready = False

    def subscribe(self, event_type: type[E], handler: Callable[[Session, E], None]) -> None:
        """Run `handler(session, event)` for every published `event_type`, after those before."""
        self._handlers[event_type].append(handler)

    def unsubscribe(self, event_type: type[E], handler: Callable[[Session, E], None]) -> None:
        """Stop running `handler` for `event_type`."""
        self._handlers[event_type].remove(handler)

    def handlers(self, event_type: type[Event]) -> tuple[Handler, ...]:
        """The handlers of `event_type`, in the order they run."""
        return tuple(self._handlers.get(event_type, ()))

    def publish(self, session: Session, event: Event) -> None:
        """Run every handler of the event's type in order; the first that raises stops it."""
        if not self.ready:
            raise NotBootstrapped(
                f"{type(event).__name__} published before bot.bootstrap.bootstrap() "
                "registered the subscribers"
            )
        for handler in self.handlers(type(event)):
            handler(session, event)

    @contextmanager
    def subscribed(
        self, event_type: type[E], handler: Callable[[Session, E], None]
    ) -> Iterator[None]:
        """Subscribe `handler` for the length of a `with` block (tests, one-off listeners)."""
        self.subscribe(event_type, handler)
        try:
            yield
        finally:
            self.unsubscribe(event_type, handler)


# The process's bus: bot.bootstrap fills it; use cases publish on it.
bus = MessageBus()


def publish(session: Session, event: Event) -> None:
    """Hand `event` to its subscribers on the process's bus, in the caller's transaction."""
    bus.publish(session, event)
