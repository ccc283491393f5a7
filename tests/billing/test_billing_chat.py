"""Billing in chat: what the conversation engine says for balance, invoice and pay
questions, and the owner's receivables summary and cash payments."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.billing.chat import (
    balance_reply,
    invoice_reply,
    owner_payment_reply,
    pay_reply,
    receivables_reply,
)
from bot.billing.ledger.invoices import LineSpec, create_invoice, issue_invoice
from bot.billing.ledger.settlement import record_payment
from storage.db import Database
from tests.billing_factories import NOW, add_reachable_customer, invoice_totals, setup_billing


@pytest.fixture
def shop(db: Database) -> Database:
    setup_billing(db)
    return db


def _invoice(db: Database, customer: int, amount: int, *, due_days: int = 14, now=NOW) -> int:
    with db.write() as session:
        invoice = create_invoice(
            session,
            customer_id=customer,
            now=now,
            lines=[LineSpec("service", "Work", amount, 1, "0")],
        )
        issue_invoice(session, invoice.id, now=now, due_at=now + timedelta(days=due_days))
        return invoice.id


def test_a_customer_with_nothing_owing_is_told_they_are_all_paid_up(shop):
    customer = add_reachable_customer(shop)
    with shop.write() as session:
        assert balance_reply(session, customer, NOW).text == "You're all paid up. Thank you!"
        assert (
            pay_reply(session, customer, NOW).text == "There's nothing to pay right now. Thank you!"
        )
        assert invoice_reply(session, customer, NOW).text == "You don't have any invoices yet."


def test_one_invoice_owing_gets_its_amount_due_date_and_pay_link(shop):
    customer = add_reachable_customer(shop)
    _invoice(shop, customer, 4500)
    with shop.write() as session:
        text = balance_reply(session, customer, NOW).text
        assert text.startswith("You owe $45.00 on INV-0001 (due Nov 30). Pay here: http://")
        assert "/pay/" in text
        assert pay_reply(session, customer, NOW).text.startswith("Pay $45.00 for INV-0001 here: ")
        reply = invoice_reply(session, customer, NOW)
        assert "Invoice INV-0001 from Test Salon: $45.00." in reply.text and "/pay/" in reply.text
        assert reply.attachments[0].content_type == "application/pdf"
        # The same link every time: a pay link pays the current balance, it never goes stale.
        assert balance_reply(session, customer, NOW).text == text


def test_several_invoices_are_listed_with_the_overdue_ones_first(shop):
    customer = add_reachable_customer(shop)
    _invoice(shop, customer, 4500, due_days=-3)
    _invoice(shop, customer, 2000)
    with shop.write() as session:
        lines = balance_reply(session, customer, NOW).text.splitlines()
    assert lines[0] == "You owe $65.00 in total:"
    assert lines[1].startswith("INV-0001: $45.00 (overdue since Nov 13) http")
    assert lines[2].startswith("INV-0002: $20.00 (due Nov 30) http")


def test_credit_on_account_is_mentioned_when_nothing_is_owed(shop):
    customer = add_reachable_customer(shop)
    invoice_id = _invoice(shop, customer, 4500)
    with shop.write() as session:
        record_payment(session, invoice_id, amount_minor=5000, method="cash", now=NOW)
        assert balance_reply(session, customer, NOW).text == (
            "You're all paid up, with $5.00 credit on your account for next time."
        )


def test_the_owner_marks_a_cash_payment_and_sees_receivables(shop):
    ann = add_reachable_customer(shop, "Ann")
    invoice_id = _invoice(shop, ann, 4500, due_days=-10)
    with shop.write() as session:
        summary = receivables_reply(session, NOW).text
        assert summary.startswith("Owed to you: $45.00.")
        assert "Ann $45.00 (INV-0001, 10 days late)" in summary
        reply = owner_payment_reply(session, "inv-0001", "20", "cash", NOW)
        assert reply.text == "Recorded $20.00 cash on INV-0001 for Ann. Balance $25.00."
        assert owner_payment_reply(session, "INV-0001", "25.00", "check", NOW).text.endswith(
            "Paid in full."
        )
        assert owner_payment_reply(session, "INV-9999", "1", "cash", NOW).text == (
            "I can't find invoice INV-9999."
        )
        assert (
            "How was it paid?" in owner_payment_reply(session, "INV-0001", "1", "bitcoin", NOW).text
        )
        assert receivables_reply(session, NOW).text == "Nobody owes you anything right now."
    assert invoice_totals(shop, invoice_id).balance == 0
