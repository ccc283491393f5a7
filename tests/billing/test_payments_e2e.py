"""End to end through the real Stripe SDK and a fake Stripe API: book, complete, invoice,
pay by link, webhook, receipt, receivables; deposits; saved cards charged on schedule."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.billing.completion import appointment_invoice
from bot.billing.ledger.invoices import get_invoice, totals
from bot.billing.ledger.receivables import aging
from bot.billing.payments.deposits import deposit_for, require_deposit
from bot.billing.payments.gateway import CardDetails
from bot.billing.payments.online import keep_card, run_scheduled_charges, schedule_charge
from bot.messaging.messages import Reply
from bot.scheduling.booking import Booked, book
from storage.billing import NEEDS_ACTION, PAID, SUCCEEDED, Payment, PaymentCustomer, ScheduledCharge
from storage.db import Database
from storage.messaging import OutboxMessage
from storage.models import AWAITING_DEPOSIT, BOOKED, Appointment
from tests.billing_factories import (
    NOW,
    TUESDAY_10,
    add_reachable_customer,
    book_for,
    complete,
    outbox,
    setup_billing,
    token_of,
)
from tests.factories import service_id, staff_id
from tests.fakes.stripe_api import FakeStripe, fake_stripe_server, signed, stripe_env

DONE = NOW + timedelta(days=1, hours=5)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeStripe]:
    with fake_stripe_server() as server:
        for key, value in stripe_env(server).items():
            monkeypatch.setenv(key, value)
        yield server


def _pay_by_link(client, fake: FakeStripe, token: str) -> dict:
    """The customer opens the link, clicks Pay, pays on Stripe; Stripe sends the webhook."""
    page = client.get(f"/pay/{token}").get_data(as_text=True)
    nonce = re.search(r'name="nonce" value="([^"]+)"', page).group(1)
    response = client.post(f"/pay/{token}", data={"nonce": nonce})
    assert response.status_code == 303
    session_id = response.headers["Location"].rsplit("/", 1)[1]
    paid = fake.pay_checkout(session_id)
    body, header = signed(fake.event("checkout.session.completed", paid))
    hook = client.post("/stripe/webhook", data=body, headers={"Stripe-Signature": header})
    assert hook.status_code == 200 and hook.get_json()["outcome"] == "paid"
    return paid


def _link_in(message: OutboxMessage) -> str:
    return re.search(r"https?://\S+/pay/[\w-]+", Reply.from_json(message.body).text).group(0)


def test_book_complete_invoice_pay_by_link_and_receivables_fall_to_zero(app, client, fake):
    db: Database = app.extensions["slotbot.db"]
    customer = add_reachable_customer(db)
    with db.write() as session:
        outcome = book(
            session,
            customer_id=customer,
            service_id=service_id(session, "haircut"),
            start=TUESDAY_10,
            staff_id=staff_id(session, "sam"),
            now=NOW,
        )
        assert isinstance(outcome, Booked)
        appointment_id = outcome.appointment.id
    complete(db, appointment_id, DONE)
    [invoice_message] = outbox(db, purpose="invoice")
    text = Reply.from_json(invoice_message.body).text
    assert "INV-0001" in text and "$48.99" in text  # 45.00 + 8.875% (3.99)
    with db.read() as session:
        assert aging(session, DONE).total == 4899
    _pay_by_link(client, fake, token_of(_link_in(invoice_message)))
    [receipt] = outbox(db, purpose="receipt")
    assert receipt.address == invoice_message.address
    assert (
        "We received $48.99 for INV-0001 by card. It's paid in full."
        in Reply.from_json(receipt.body).text
    )
    with db.read() as session:
        invoice = appointment_invoice(session, appointment_id)
        assert invoice is not None and invoice.status == PAID
        report = aging(session, DONE)
        assert report.total == 0 and report.invoices == ()


def test_a_deposit_paid_by_link_confirms_the_booking_and_is_credited_on_the_invoice(
    app, client, fake
):
    db: Database = app.extensions["slotbot.db"]
    customer = add_reachable_customer(db)
    with db.write() as session:
        colour = service_id(session, "colour")
        assert deposit_for(session, colour) == 2400  # 20% of 120.00
    appointment_id = book_for(db, customer, service="colour", status=AWAITING_DEPOSIT)
    with db.write() as session:
        request = require_deposit(session, session.get(Appointment, appointment_id), NOW)
        assert request is not None and request.amount_minor == 2400
        assert request.due_at == NOW + timedelta(hours=24)
    [ask] = outbox(db, purpose="deposit")
    assert "$24.00 deposit within 24 hours" in Reply.from_json(ask.body).text
    _pay_by_link(client, fake, token_of(request.url))
    with db.read() as session:
        assert session.get(Appointment, appointment_id).status == BOOKED
    confirmations = outbox(db, purpose="confirmation")
    assert confirmations and "You're booked" in Reply.from_json(confirmations[-1].body).text
    complete(db, appointment_id, DONE)
    with db.read() as session:
        invoice = appointment_invoice(session, appointment_id)
        result = totals(session, invoice)
        # 120.00 + 10.65 tax - 24.00 deposit already paid
        assert (result.total, result.balance) == (10665, 10665)
        assert aging(session, DONE).total == 10665


def _saved_card(db: Database, customer: int) -> None:
    with db.write() as session:
        session.add(
            PaymentCustomer(
                customer_id=customer,
                provider="stripe",
                provider_customer_id="cus_test_e2e",
                created_at=NOW,
            )
        )
        keep_card(
            session,
            customer,
            CardDetails("pm_test_e2e", "mastercard", "4444", 1, 2031),
            provider="stripe",
            provider_customer_id="cus_test_e2e",
            now=NOW,
        )


def test_a_saved_card_is_charged_when_its_scheduled_charge_falls_due(db, fake):
    setup_billing(db)
    customer = add_reachable_customer(db)
    _saved_card(db, customer)
    appointment_id = book_for(db, customer)
    complete(db, appointment_id, DONE)
    charge_at = DONE + timedelta(days=3)
    with db.write() as session:
        invoice = appointment_invoice(session, appointment_id)
        charge = schedule_charge(session, invoice.id, charge_at=charge_at, now=DONE)
        invoice_id, charge_id = invoice.id, charge.id
    assert run_scheduled_charges(db, charge_at - timedelta(minutes=1)) == 0
    assert run_scheduled_charges(db, charge_at) == 1
    assert run_scheduled_charges(db, charge_at + timedelta(minutes=1)) == 0  # done, not again
    [call] = fake.calls("POST", "/v1/payment_intents")
    assert call.params["amount"] == "4355" and call.params["metadata"][
        "scheduled_charge_id"
    ] == str(charge_id)
    with db.read() as session:
        assert session.get(ScheduledCharge, charge_id).status == SUCCEEDED
        assert get_invoice(session, invoice_id).status == PAID
    receipts = [Reply.from_json(m.body).text for m in outbox(db, purpose="receipt")]
    assert receipts == ["Thank you! We received $43.55 for INV-0001 by card. It's paid in full."]


def test_a_scheduled_charge_that_needs_authentication_sends_a_pay_link_once(app, client, fake):
    db: Database = app.extensions["slotbot.db"]
    customer = add_reachable_customer(db)
    _saved_card(db, customer)
    appointment_id = book_for(db, customer, service="haircut")
    complete(db, appointment_id, DONE)
    fake.fail_charges("authentication_required")
    with db.write() as session:
        invoice = appointment_invoice(session, appointment_id)
        charge = schedule_charge(session, invoice.id, charge_at=DONE, now=DONE)
        charge_id = charge.id
    run_scheduled_charges(db, DONE)
    [message] = outbox(db, purpose="payment_failed")
    assert (
        "Your bank needs you to confirm the $48.99 payment for INV-0001"
        in Reply.from_json(message.body).text
    )
    with db.read() as session:
        assert session.get(ScheduledCharge, charge_id).status == NEEDS_ACTION
        assert session.scalar(select(func.count()).select_from(Payment)) == 0
    # Stripe's own payment_intent.payment_failed for that charge adds nothing new.
    [intent] = fake.intents.values()
    body, header = signed(fake.event("payment_intent.payment_failed", intent))
    assert (
        client.post("/stripe/webhook", data=body, headers={"Stripe-Signature": header}).status_code
        == 200
    )
    assert len(outbox(db, purpose="payment_failed")) == 1
    # The customer pays by the link instead.
    _pay_by_link(client, fake, token_of(_link_in(message)))
    with db.read() as session:
        assert appointment_invoice(session, appointment_id).status == PAID


def test_auto_charge_on_completion_charges_the_saved_card(db, fake):
    setup_billing(db, 'auto_charge = "on_completion"\n'.join(["[billing]\n", ""]))
    customer = add_reachable_customer(db)
    _saved_card(db, customer)
    appointment_id = book_for(db, customer)
    complete(db, appointment_id, DONE)
    assert run_scheduled_charges(db, DONE) == 1
    with db.read() as session:
        [charge] = session.scalars(select(ScheduledCharge)).all()
        assert (charge.reason, charge.status) == ("auto_charge", SUCCEEDED)
        assert appointment_invoice(session, appointment_id).status == PAID
