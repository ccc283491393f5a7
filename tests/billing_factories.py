"""Builders for billing tests: a taxed salon with deposits and [billing], reachable
customers, appointments, and a look into the outbox."""

from __future__ import annotations

import itertools
from datetime import datetime

from sqlalchemy import select

from bot.billing.ledger.invoices import get_invoice, totals
from bot.billing.ledger.totals import Totals
from bot.messaging.messages import SMS
from bot.scheduling.booking import Booked, book, set_status
from storage.db import Database
from storage.messaging import OutboxMessage
from storage.models import BOOKED, COMPLETED, Customer, CustomerIdentity
from tests.factories import local, salon_toml, service_id, setup_business, staff_id

NOW = local("2026-11-16 07:00")  # a Monday morning in New York
TUESDAY_10 = local("2026-11-17 10:00")
OWNER = "sms:+12125550199"

BILLING = """
[billing]
invoice_prefix = "INV-"
payment_terms_days = 14
finance_charge = "1.5%"
finance_charge_grace_days = 10
finance_charge_minimum_balance = "10.00"
deposit_hold_hours = 24
no_show_fee = "25.00"
"""


def billing_toml(billing: str = BILLING) -> str:
    """The test salon with 8.875% tax, an address, an owner, a 20% deposit on colour."""
    text = salon_toml().replace(
        'locale = "en_US"\n',
        'locale = "en_US"\ntax_rate = "8.875"\naddress = "1 Main St, Springfield"\n'
        f'phone = "+12125550100"\nowners = ["{OWNER}"]\n',
    )
    text = text.replace('price = "120.00"\n', 'price = "120.00"\ndeposit = "20%"\n')
    return text + billing


def setup_billing(db: Database, billing: str = BILLING) -> None:
    """Load the billing salon into the database."""
    setup_business(db, billing_toml(billing))


_PHONES = itertools.count(200)


def add_reachable_customer(
    db: Database,
    name: str = "Jane Doe",
    phone: str | None = None,
    *,
    now: datetime = NOW,
) -> int:
    """A customer who has texted us (so billing messages reach them by SMS)."""
    phone = phone or f"+1212555{next(_PHONES):04d}"
    with db.write() as session:
        customer = Customer(name=name, phone=phone, email="jane@example.com", created_at=now)
        session.add(customer)
        session.flush()
        session.add(
            CustomerIdentity(
                customer_id=customer.id,
                channel=SMS,
                address=phone,
                created_at=now,
                last_inbound_at=now,
            )
        )
        return customer.id


def book_for(
    db: Database,
    customer_id: int,
    *,
    service: str = "cut",
    start: datetime = TUESDAY_10,
    who: str = "sam",
    status: str = BOOKED,
    now: datetime = NOW,
) -> int:
    """Book an appointment; its id."""
    with db.write() as session:
        outcome = book(
            session,
            customer_id=customer_id,
            service_id=service_id(session, service),
            start=start,
            staff_id=staff_id(session, who),
            now=now,
            status=status,
        )
        assert isinstance(outcome, Booked), outcome
        return outcome.appointment.id


def complete(db: Database, appointment_id: int, now: datetime) -> None:
    """Mark an appointment completed, as staff would."""
    with db.write() as session:
        set_status(session, appointment_id, COMPLETED, now=now)


def outbox(
    db: Database, purpose: str | None = None, address: str | None = None
) -> list[OutboxMessage]:
    """Queued messages, oldest first, optionally for one purpose or address."""
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if purpose is not None:
        query = query.where(OutboxMessage.purpose == purpose)
    if address is not None:
        query = query.where(OutboxMessage.address == address)
    with db.read() as session:
        return list(session.scalars(query))


def invoice_totals(db: Database, invoice_id: int) -> Totals:
    """An invoice's derived totals."""
    with db.read() as session:
        return totals(session, get_invoice(session, invoice_id))


def token_of(url: str) -> str:
    """The token at the end of a pay URL."""
    return url.rstrip("/").rsplit("/", 1)[1]
