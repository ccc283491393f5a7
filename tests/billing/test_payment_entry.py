"""A payment row is written from one `PaymentEntry` (the eleven fields of a payment travel
together), and a provider payment delivered twice is written once."""

from __future__ import annotations

import dataclasses

import pytest

from bot.billing.ledger.invoices import LineSpec, PaymentEntry, add_payment, create_invoice
from storage.billing import CARD, PAYMENT, REFUND, SERVICE, Invoice, Payment
from storage.db import Database
from tests.billing_factories import NOW, setup_billing
from tests.factories import add_customer


def _invoice(db: Database) -> int:
    setup_billing(db)
    customer = add_customer(db)
    with db.write() as session:
        invoice = create_invoice(
            session, customer_id=customer, now=NOW, lines=[LineSpec(SERVICE, "Cut", 4000)]
        )
        return invoice.id


def test_an_entry_is_written_as_one_payment_row(db: Database) -> None:
    invoice_id = _invoice(db)
    entry = PaymentEntry(amount_minor=4000, method=CARD, provider="sandbox", reference="r1")
    with db.write() as session:
        invoice = session.get_one(Invoice, invoice_id)
        payment = add_payment(session, invoice, entry, now=NOW)
        assert payment is not None
        payment_id = payment.id
    with db.read() as session:
        row = session.get_one(Payment, payment_id)
        assert (row.amount_minor, row.method, row.kind) == (4000, "card", PAYMENT)
        assert (row.provider, row.reference, row.actor) == ("sandbox", "r1", "system")
        assert row.received_at == NOW and row.customer_id is not None


def test_a_provider_payment_delivered_twice_is_written_once(db: Database) -> None:
    invoice_id = _invoice(db)
    entry = PaymentEntry(amount_minor=4000, method=CARD, provider_payment_id="pi_1")
    with db.write() as session:
        invoice = session.get_one(Invoice, invoice_id)
        assert add_payment(session, invoice, entry, now=NOW) is not None
        assert add_payment(session, invoice, entry, now=NOW) is None


def test_an_entry_cannot_change_once_made() -> None:
    entry = PaymentEntry(amount_minor=-500, method=CARD, kind=REFUND, refund_of_id=3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        entry.amount_minor = 1  # type: ignore[misc]
