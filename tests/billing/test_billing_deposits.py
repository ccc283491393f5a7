"""Deposits: a booking waits for its deposit, is confirmed when it is paid, and is released
when it is not paid in time."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.billing.completion import appointment_invoice
from bot.billing.ledger.settlement import record_payment
from bot.billing.payments.deposits import RELEASE_REASON, release_unpaid_deposits, require_deposit
from bot.billing.payments.online import handle_event
from bot.billing.payments.sandbox import SandboxGateway, checkout_event
from bot.messaging.messages import Reply
from storage.billing import FOR_DEPOSIT, VOID, CheckoutAttempt
from storage.db import Database
from storage.models import AWAITING_DEPOSIT, BOOKED, CANCELLED, Appointment
from tests.billing_factories import (
    NOW,
    OWNER,
    add_reachable_customer,
    book_for,
    outbox,
    setup_billing,
)


@pytest.fixture
def shop(db: Database) -> Database:
    setup_billing(db)
    return db


def _awaiting(db: Database) -> tuple[int, int]:
    customer = add_reachable_customer(db)
    appointment_id = book_for(db, customer, service="colour", status=AWAITING_DEPOSIT)
    with db.write() as session:
        request = require_deposit(session, session.get(Appointment, appointment_id), NOW)
        assert request is not None
        again = require_deposit(session, session.get(Appointment, appointment_id), NOW)
        assert again is not None and again.invoice.id == request.invoice.id  # idempotent
        return appointment_id, request.invoice.id


def test_paying_the_deposit_in_the_sandbox_books_the_appointment(shop):
    appointment_id, invoice_id = _awaiting(shop)
    with shop.write() as session:
        attempt = CheckoutAttempt(
            pay_link_id=1,
            invoice_id=invoice_id,
            nonce="sandbox-test-nonce-0001",
            amount_minor=2400,
            currency="USD",
            provider="sandbox",
            provider_session_id="cs_sandbox_test",
            url="/sandbox/checkout/cs_sandbox_test",
            created_at=NOW,
        )
        session.add(attempt)
    event = checkout_event(attempt, "cus_sandbox_1", paid=True, now=NOW)
    assert (
        handle_event(shop, event, now=NOW, provider="sandbox", gateway=SandboxGateway()) == "paid"
    )
    assert (
        handle_event(shop, event, now=NOW, provider="sandbox", gateway=SandboxGateway())
        == "duplicate"
    )
    with shop.read() as session:
        assert session.get(Appointment, appointment_id).status == BOOKED
    [receipt] = outbox(shop, purpose="receipt")
    assert Reply.from_json(receipt.body).text.startswith("[TEST MODE - no real money] Thank you!")
    # Released later? No: it is booked now.
    assert release_unpaid_deposits(shop, NOW + timedelta(days=2)) == 0


def test_an_unpaid_deposit_releases_the_booking_after_the_configured_hours(shop):
    appointment_id, invoice_id = _awaiting(shop)
    assert release_unpaid_deposits(shop, NOW + timedelta(hours=23, minutes=59)) == 0
    assert release_unpaid_deposits(shop, NOW + timedelta(hours=24)) == 1
    assert release_unpaid_deposits(shop, NOW + timedelta(hours=25)) == 0
    with shop.read() as session:
        appointment = session.get(Appointment, appointment_id)
        assert (appointment.status, appointment.cancel_reason) == (CANCELLED, RELEASE_REASON)
        invoice = appointment_invoice(session, appointment_id, FOR_DEPOSIT)
        assert invoice.status == VOID
        customer_address = outbox(shop, purpose="deposit")[0].address
    told = [Reply.from_json(m.body).text for m in outbox(shop, address=customer_address)]
    assert any("Cancelled" in text and RELEASE_REASON in text for text in told)


def test_a_deposit_paid_after_the_release_is_kept_as_credit_and_the_owner_is_told(shop):
    appointment_id, invoice_id = _awaiting(shop)
    release_unpaid_deposits(shop, NOW + timedelta(hours=30))
    with shop.write() as session:
        # A real provider payment arriving late is recorded even on the void invoice.
        result = record_payment(
            session,
            invoice_id,
            amount_minor=2400,
            method="card",
            now=NOW + timedelta(hours=31),
            provider="stripe",
            provider_payment_id="pi_late",
        )
        assert result.totals.balance == -2400
        assert session.get(Appointment, appointment_id).status == CANCELLED
    notes = [Reply.from_json(m.body).text for m in outbox(shop, address=OWNER.split(":")[1])]
    assert any("after the booking was released" in text for text in notes)
