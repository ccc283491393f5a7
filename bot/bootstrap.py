"""The one place every domain event subscriber is registered on the process's bus.

Each process that changes appointments, payments or estimates calls `bootstrap()` once at
start: the web app factory (`webhooks.app.create_app`), the CLI (`webhooks.cli`, so the
worker and `slotbot chat` too), the conversation engine (`conversations.engine.Engine`, for
whatever embeds it: benches, scripts) and the test suite (tests/conftest.py). Calling it
again does nothing. Until it has run, publishing refuses (`bot.core.events.NotBootstrapped`)
instead of dropping the confirmations, invoices and offers a change owes.

The order below is the order the handlers run in for one event: the notices of a change
are queued before the waitlist offer its freed slot makes, and a status change is told
before it is billed, as when booking called them directly.
"""

from __future__ import annotations

import threading

from bot.billing import hooks
from bot.billing.documents import estimates
from bot.billing.ledger import settlement
from bot.core import events
from bot.messaging import notify
from bot.scheduling import waitlist

# Two threads making the first call at once must not subscribe everything twice (every
# confirmation and invoice would then happen twice).
_LOCK = threading.Lock()


def bootstrap(bus: events.MessageBus | None = None) -> events.MessageBus:
    """Register every subscriber on `bus` (the process's bus by default), once."""
    bus = events.bus if bus is None else bus
    if bus.ready:
        return bus
    with _LOCK:
        if not bus.ready:
            _subscribe(bus)
    return bus


def _subscribe(bus: events.MessageBus) -> None:
    bus.subscribe(events.AppointmentBooked, notify.on_booked)
    bus.subscribe(events.AppointmentMoved, notify.on_moved)
    bus.subscribe(events.AppointmentMoved, waitlist.on_moved)
    bus.subscribe(events.AppointmentCancelled, notify.on_cancelled)
    bus.subscribe(events.AppointmentCancelled, waitlist.on_cancelled)
    bus.subscribe(events.StatusChanged, notify.on_status_changed)
    bus.subscribe(events.StatusChanged, hooks.on_status_changed)
    bus.subscribe(events.PaymentRecorded, settlement.on_payment_recorded)
    bus.subscribe(events.EstimateDecided, estimates.on_estimate_decided)
    bus.ready = True
