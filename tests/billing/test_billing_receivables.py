"""Accounts receivable: aging, finance charges, no-show fees and monthly statements."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.billing.ledger.invoices import LineSpec, create_invoice, issue_invoice, lines_of
from bot.billing.ledger.receivables import aging, assess_finance_charges, charge_no_show_fees
from bot.billing.ledger.settlement import record_payment
from bot.billing.ledger.statements import send_monthly_statements
from bot.billing.payments.gateway import CardDetails
from bot.billing.payments.online import keep_card
from bot.messaging.messages import Reply
from bot.scheduling.booking import set_status
from storage.billing import FOR_NO_SHOW, PENDING, Invoice, ScheduledCharge
from storage.db import Database
from storage.models import NO_SHOW
from tests.billing_factories import (
    BILLING,
    NOW,
    add_reachable_customer,
    book_for,
    invoice_totals,
    outbox,
    setup_billing,
)
from tests.factories import local


@pytest.fixture
def shop(db: Database) -> Database:
    setup_billing(db)
    return db


def _owed(db: Database, customer: int, amount: int, *, due_days_ago: int = -14, now=NOW) -> int:
    with db.write() as session:
        invoice = create_invoice(
            session,
            customer_id=customer,
            now=now,
            lines=[LineSpec("service", "Work", amount, 1, "0")],
        )
        issue_invoice(session, invoice.id, now=now, due_at=now - timedelta(days=due_days_ago))
        return invoice.id


def test_aging_puts_each_balance_in_its_bucket_and_totals_per_customer(shop):
    ann = add_reachable_customer(shop, "Ann")
    bob = add_reachable_customer(shop, "Bob")
    for days, amount in ((-5, 100), (0, 200), (1, 300), (30, 400), (31, 500), (61, 600), (91, 700)):
        _owed(shop, ann, amount, due_days_ago=days)
    big = _owed(shop, bob, 90_000, due_days_ago=45)
    credit = _owed(shop, bob, 1000)
    with shop.write() as session:
        record_payment(session, credit, amount_minor=1500, method="cash", now=NOW)  # 5.00 over
        report = aging(session, NOW)
    assert report.buckets == {
        "current": 300,
        "1-30": 700,
        "31-60": 500 + 89_500,
        "61-90": 600,
        "90+": 700,
    }
    # Bob's 5.00 overpayment went onto his other invoice rather than sitting as credit.
    assert report.credit == 0 and invoice_totals(shop, big).balance == 89_500
    assert (
        report.total
        == sum(report.buckets.values())
        == 100 + 200 + 300 + 400 + 500 + 600 + 700 + 89_500
    )
    by_name = {c.name: c for c in report.customers}
    assert by_name["Ann"].total == 2800 and by_name["Bob"].total == 89_500
    assert [c.name for c in report.customers] == ["Bob", "Ann"]
    assert [line.number for line in report.largest(2)] == ["INV-0008", "INV-0007"]
    assert report.largest(1)[0].days_past_due == 45


def test_finance_charges_come_after_the_grace_once_a_month_and_never_compound(shop):
    customer = add_reachable_customer(shop)
    invoice_id = _owed(shop, customer, 10_000)  # due Nov 30; 10 days' grace
    assert assess_finance_charges(shop, local("2026-12-10 06:00")) == 0
    assert assess_finance_charges(shop, local("2026-12-11 06:00")) == 1
    assert assess_finance_charges(shop, local("2026-12-11 07:00")) == 0
    assert assess_finance_charges(shop, local("2026-12-28 06:00")) == 0
    assert invoice_totals(shop, invoice_id).balance == 10_150
    assert assess_finance_charges(shop, local("2027-01-02 06:00")) == 1
    assert invoice_totals(shop, invoice_id).balance == 10_300  # 1.5% of 100.00, not of 101.50
    with shop.write() as session:
        record_payment(
            session, invoice_id, amount_minor=9_500, method="cheque", now=local("2027-01-05 12:00")
        )
        kinds = [line.kind for line in lines_of(session, invoice_id)]
    assert kinds == ["service", "finance_charge", "finance_charge"]
    # 8.00 left, of which 3.00 are finance charges: 5.00 is under the 10.00 minimum.
    assert assess_finance_charges(shop, local("2027-02-02 06:00")) == 0
    [first, _second] = outbox(shop, purpose="finance_charge")
    text = Reply.from_json(first.body).text
    assert "INV-0001 is overdue, so a $1.50 finance charge was added. Pay $101.50 here:" in text


def test_a_no_show_is_billed_the_configured_fee_once(shop):
    customer = add_reachable_customer(shop)
    appointment_id = book_for(shop, customer)
    with shop.write() as session:
        set_status(session, appointment_id, NO_SHOW, now=NOW + timedelta(days=1, hours=1))
    later = NOW + timedelta(days=1, hours=2)
    assert charge_no_show_fees(shop, later) == 1
    assert charge_no_show_fees(shop, later) == 0
    with shop.read() as session:
        [invoice] = session.scalars(select(Invoice).where(Invoice.purpose == FOR_NO_SHOW)).all()
    assert invoice_totals(shop, invoice.id).balance == 2500
    [message] = outbox(shop, purpose="no_show_fee")
    text = Reply.from_json(message.body).text
    assert "missed-appointment fee of $25.00" in text and "/pay/" in text


def test_a_no_show_with_a_saved_card_schedules_the_charge(shop):
    customer = add_reachable_customer(shop)
    with shop.write() as session:
        keep_card(
            session,
            customer,
            CardDetails("pm_sandbox_x", "visa", "4242", 12, 2030),
            provider="sandbox",
            provider_customer_id="cus_sandbox_1",
            now=NOW,
        )
    appointment_id = book_for(shop, customer)
    with shop.write() as session:
        set_status(session, appointment_id, NO_SHOW, now=NOW + timedelta(days=1, hours=1))
    assert charge_no_show_fees(shop, NOW + timedelta(days=1, hours=2)) == 1
    with shop.read() as session:
        [charge] = session.scalars(select(ScheduledCharge)).all()
        assert (charge.reason, charge.status) == ("no_show", PENDING)
    [message] = outbox(shop, purpose="no_show_fee")
    assert "It will be charged to your Visa ending 4242." in Reply.from_json(message.body).text


def test_no_show_fees_are_off_unless_configured(db):
    setup_billing(db, BILLING.replace('no_show_fee = "25.00"\n', ""))
    customer = add_reachable_customer(db)
    appointment_id = book_for(db, customer)
    with db.write() as session:
        set_status(session, appointment_id, NO_SHOW, now=NOW + timedelta(days=1, hours=1))
    assert charge_no_show_fees(db, NOW + timedelta(days=2)) == 0


def test_monthly_statements_go_out_once_on_the_statement_day(shop):
    ann = add_reachable_customer(shop, "Ann")
    add_reachable_customer(shop, "Nobody")  # no invoices: no statement
    invoice_id = _owed(shop, ann, 4000)
    with shop.write() as session:
        record_payment(
            session, invoice_id, amount_minor=1500, method="cash", now=NOW + timedelta(days=2)
        )
    assert send_monthly_statements(shop, local("2026-11-30 12:00")) == 0  # not the day yet
    assert send_monthly_statements(shop, local("2026-12-01 09:00")) == 1
    assert send_monthly_statements(shop, local("2026-12-01 10:00")) == 0
    [message] = outbox(shop, purpose="statement")
    reply = Reply.from_json(message.body)
    assert "Nov 1, 2026 to Nov 30, 2026" in reply.text
    assert (
        "beginning balance $0.00, charges $40.00, payments $15.00, ending balance $25.00"
        in reply.text
    )
    assert reply.attachments[0].filename == "statement-2026-11.pdf"
    assert reply.attachments[0].data.startswith(b"%PDF")
