"""Invoices: gap-free numbers under races, invoices from completed appointments, voids,
credit on account and refunds."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.billing.completion import add_extra_to_appointment, invoice_for_appointment
from bot.billing.ledger.invoices import (
    LineSpec,
    create_invoice,
    credit_available,
    get_invoice,
    issue_invoice,
    lines_of,
    totals,
    void_invoice,
)
from bot.billing.ledger.receivables import aging
from bot.billing.ledger.settlement import PaymentRecorded, record_payment, record_refund
from bot.messaging.messages import Reply
from bot.scheduling.booking import Refused
from storage.billing import PAID, PARTIALLY_PAID, SENT, VOID, Invoice
from storage.db import Database
from tests.billing_factories import (
    NOW,
    add_reachable_customer,
    book_for,
    complete,
    invoice_totals,
    outbox,
    setup_billing,
)

DONE = NOW + timedelta(days=1, hours=5)  # Tuesday 12:00, after the 10:00 appointment


@pytest.fixture
def shop(db: Database) -> Database:
    setup_billing(db)
    return db


def _manual_invoice(db: Database, customer_id: int, amount: int, *, now=NOW) -> int:
    with db.write() as session:
        invoice = create_invoice(
            session,
            customer_id=customer_id,
            now=now,
            lines=[LineSpec("service", "Work", amount, 1, "0")],
        )
        issue_invoice(session, invoice.id, now=now)
        return invoice.id


def test_invoice_numbers_have_no_gaps_even_when_issued_at_once_or_rolled_back(shop):
    customer = add_reachable_customer(shop)
    with pytest.raises(RuntimeError), shop.write() as session:
        draft = create_invoice(session, customer_id=customer, now=NOW)
        issue_invoice(session, draft.id, now=NOW)
        raise RuntimeError("the transaction that took a number fails")
    workers = [Database(shop.url) for _ in range(6)]
    start = threading.Barrier(len(workers))
    errors: list[BaseException] = []

    def issue(worker: Database) -> None:
        try:
            start.wait()
            _manual_invoice(worker, customer, 1000)
        except BaseException as exc:  # collected and re-raised below
            errors.append(exc)

    threads = [threading.Thread(target=issue, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for worker in workers:
        worker.dispose()
    assert errors == []
    with shop.read() as session:
        numbers = sorted(session.scalars(select(Invoice.number).where(Invoice.number.is_not(None))))
    assert numbers == [f"INV-{n:04d}" for n in range(1, 7)]


def test_a_completed_appointment_is_invoiced_once_with_extras_tax_pdf_and_pay_link(shop):
    customer = add_reachable_customer(shop, phone="+12125550123")
    appointment = book_for(shop, customer)
    with shop.write() as session:
        add_extra_to_appointment(
            session, appointment, description="Deep conditioning", unit_price_minor=1500, now=NOW
        )
        add_extra_to_appointment(
            session,
            appointment,
            description="Shampoo to take home",
            unit_price_minor=850,
            quantity=2,
            kind="part",
            now=NOW,
        )
        add_extra_to_appointment(
            session,
            appointment,
            description="Loyalty discount",
            unit_price_minor=500,
            kind="discount",
            now=NOW,
        )
    complete(shop, appointment, DONE)
    with shop.write() as session:
        again = invoice_for_appointment(session, appointment, DONE + timedelta(hours=1))
        invoice_id = again.id
        assert again.number == "INV-0001" and again.status == SENT
        assert again.due_at == DONE + timedelta(days=14)
        lines = lines_of(session, invoice_id)
        assert [line.kind for line in lines] == ["service", "extra", "part", "discount"]
        assert lines[0].description.startswith("Haircut with Sam")
        # 8.875% per line, half up: 355 + 133.125 + 150.875 - 44.375
        assert [line.tax_minor for line in lines] == [355, 133, 151, -44]
    result = invoice_totals(shop, invoice_id)
    assert (result.subtotal, result.tax, result.total, result.balance) == (6700, 595, 7295, 7295)
    with shop.read() as session:
        assert len(session.scalars(select(Invoice)).all()) == 1
    [message] = outbox(shop, purpose="invoice")
    reply = Reply.from_json(message.body)
    assert "INV-0001" in reply.text and "$72.95" in reply.text and "/pay/" in reply.text
    [pdf] = reply.attachments
    assert pdf.content_type == "application/pdf" and pdf.data and pdf.data.startswith(b"%PDF")
    assert message.address == "+12125550123"


def test_an_unpaid_invoice_can_be_voided_but_keeps_its_number_and_leaves_receivables(shop):
    customer = add_reachable_customer(shop)
    first = _manual_invoice(shop, customer, 5000)
    second = _manual_invoice(shop, customer, 3000)
    with shop.write() as session:
        record_payment(session, second, amount_minor=1000, method="cash", now=NOW)
        voided = void_invoice(session, first, now=NOW, reason="entered twice")
        refused = void_invoice(session, second, now=NOW)
        assert not isinstance(voided, Refused) and voided.status == VOID
        assert voided.number == "INV-0001"
        assert isinstance(refused, Refused) and "refund" in refused.message
        report = aging(session, NOW)
        assert report.total == 2000
        assert [line.number for line in report.invoices] == ["INV-0002"]
        assert get_invoice(session, second).status == PARTIALLY_PAID


def test_an_overpayment_becomes_credit_used_on_the_next_invoice(shop):
    customer = add_reachable_customer(shop)
    first = _manual_invoice(shop, customer, 4000)
    with shop.write() as session:
        result = record_payment(session, first, amount_minor=5000, method="cheque", now=NOW)
        assert isinstance(result, PaymentRecorded) and result.totals.balance == -1000
        assert credit_available(session, customer) == 1000
    second = _manual_invoice(shop, customer, 2500, now=NOW + timedelta(days=3))
    assert invoice_totals(shop, first).balance == 0
    assert invoice_totals(shop, second).balance == 1500
    with shop.read() as session:
        assert credit_available(session, customer) == 0
        assert get_invoice(session, first).status == PAID
    receipts = [Reply.from_json(m.body).text for m in outbox(shop, purpose="receipt")]
    assert any("$10.00 credit for next time" in text for text in receipts)


def test_a_refund_of_a_settled_invoice_is_forgiven_unless_told_to_reopen_it(shop):
    customer = add_reachable_customer(shop)
    invoice_id = _manual_invoice(shop, customer, 6000)
    with shop.write() as session:
        paid = record_payment(session, invoice_id, amount_minor=7000, method="card", now=NOW)
        assert isinstance(paid, PaymentRecorded)
        # The first 10.00 refunded is the overpayment: nothing to forgive.
        first = record_refund(session, paid.payment.id, amount_minor=1000, now=NOW)
        assert not isinstance(first, Refused) and first.written_off_minor == 0
        assert first.totals.balance == 0
        # The next 15.00 would reopen it: a credit line forgives it.
        second = record_refund(
            session, paid.payment.id, amount_minor=1500, now=NOW, reason="goodwill"
        )
        assert not isinstance(second, Refused) and second.written_off_minor == 1500
        assert second.totals.balance == 0 and second.totals.total == 4500
        # Without the write-off, a refund reopens the balance.
        third = record_refund(session, paid.payment.id, amount_minor=500, now=NOW, write_off=False)
        assert not isinstance(third, Refused) and third.totals.balance == 500
        assert get_invoice(session, invoice_id).status == PARTIALLY_PAID
        too_much = record_refund(session, paid.payment.id, amount_minor=10_000, now=NOW)
        assert isinstance(too_much, Refused)
        assert totals(session, get_invoice(session, invoice_id)).paid == 4000


def test_payments_recorded_at_once_leave_the_status_and_credit_right(shop):
    customer = add_reachable_customer(shop)
    first = _manual_invoice(shop, customer, 4000)
    second = _manual_invoice(shop, customer, 1000)
    workers = [Database(shop.url) for _ in range(5)]
    start = threading.Barrier(len(workers))
    errors: list[BaseException] = []

    def pay(worker: Database) -> None:
        try:
            start.wait()
            with worker.write() as session:
                record_payment(session, first, amount_minor=1000, method="cash", now=NOW)
        except BaseException as exc:  # collected and re-raised below
            errors.append(exc)

    threads = [threading.Thread(target=pay, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for worker in workers:
        worker.dispose()
    assert errors == []
    # 50.00 paid on a 40.00 invoice: the 10.00 over paid the other invoice, exactly once.
    assert invoice_totals(shop, first).balance == 0
    assert invoice_totals(shop, second).balance == 0
    with shop.read() as session:
        assert get_invoice(session, first).status == PAID
        assert get_invoice(session, second).status == PAID
        assert credit_available(session, customer) == 0
