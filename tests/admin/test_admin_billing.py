"""The owner's money commands in chat, reconciled against the ledger."""

from __future__ import annotations

import random
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from bot.billing.ledger.invoices import LineSpec, create_invoice, issue_invoice, totals
from bot.billing.ledger.receivables import aging
from bot.billing.ledger.settlement import record_payment
from bot.config import apply_config, load_config
from storage.billing import Invoice
from storage.db import Database
from storage.messaging import OutboxMessage
from storage.models import AdminAudit, Customer, CustomerIdentity
from tests.conftest import DEMO_CONFIG
from tests.dialogue import Chat
from tests.factories import local

NOW = local("2026-11-17 10:00")


@pytest.fixture
def salon(db: Database) -> Database:
    apply_config(db, load_config(DEMO_CONFIG))
    return db


def customer(db: Database, name: str, phone: str) -> int:
    with db.write() as session:
        row = Customer(name=name, phone=phone, created_at=NOW, notes="")
        session.add(row)
        session.flush()
        session.add(
            CustomerIdentity(customer_id=row.id, channel="sms", address=phone, created_at=NOW)
        )
        return row.id


def invoice(db: Database, customer_id: int, amount: int, issued_days_ago: int = 0) -> str:
    issued = NOW - timedelta(days=issued_days_ago)
    with db.write() as session:
        draft = create_invoice(
            session,
            customer_id=customer_id,
            now=issued,
            lines=[LineSpec("service", "Haircut", amount, 1, "0")],
        )
        return issue_invoice(session, draft.id, now=issued).number


@pytest.fixture(params=[("web", "owner"), ("telegram", "1000")], ids=["web", "telegram"])
def owner(request, salon: Database) -> Chat:
    channel, sender = request.param
    return Chat(salon, NOW, channel=channel, sender=sender)


def test_mark_an_invoice_paid_in_plain_words(owner, salon):
    jane = customer(salon, "Jane Doe", "+12125550201")
    number = invoice(salon, jane, 9000)
    owner.say(f"mark {number} paid 50 cash")
    owner.expect(f"Record $50.00 cash on {number} (Jane Doe)?")
    owner.say("yes")
    owner.expect("Recorded $50.00 cash", "Balance $40.00")
    owner.say(f"/paid {number}")
    owner.expect("Record $40.00 cash")
    owner.say("yes")
    owner.expect("Paid in full")
    with salon.read() as session:
        row = session.scalars(select(Invoice).where(Invoice.number == number)).one()
        assert totals(session, row).balance == 0
        actions = session.scalars(select(AdminAudit.action)).all()
    assert actions == ["mark_paid", "mark_paid"]


def test_resend_a_pay_link_to_the_customer(owner, salon):
    jane = customer(salon, "Jane Doe", "+12125550201")
    number = invoice(salon, jane, 4500)
    owner.say(f"resend the pay link for {number}")
    owner.expect(f"Pay link for {number} ($45.00) sent to the customer", "/pay/")
    with salon.read() as session:
        sent = session.scalars(
            select(OutboxMessage).where(OutboxMessage.purpose == "pay_link")
        ).one()
    assert sent.address == "+12125550201" and "/pay/" in sent.body["text"]


def test_add_a_line_to_an_invoice(owner, salon):
    jane = customer(salon, "Jane Doe", "+12125550201")
    number = invoice(salon, jane, 4500)
    owner.say(f"add 15 parts to {number}")
    owner.expect("Added parts $15.00", f"to {number}")


def test_the_customer_card_shows_balance(owner, salon):
    jane = customer(salon, "Jane Doe", "+12125550201")
    invoice(salon, jane, 4500)
    owner.say("customer jane")
    owner.expect("Balance: $45.00")


def test_receivables_reconcile_to_the_ledger_over_200_invoices(salon):
    rng = random.Random(7)
    people = [customer(salon, f"Client {i:03d}", f"+1212557{i:04d}") for i in range(40)]
    numbers = []
    for _ in range(200):
        amount = rng.randrange(1500, 30000)
        numbers.append(invoice(salon, rng.choice(people), amount, rng.randrange(0, 150)))
    with salon.write() as session:
        for number in numbers[::3]:  # a third partly paid
            row = session.scalars(select(Invoice).where(Invoice.number == number)).one()
            balance = totals(session, row).balance
            record_payment(
                session, row.id, amount_minor=balance // 2, method="cash", now=NOW, notify=False
            )
        for number in numbers[1::7]:  # some paid in full
            row = session.scalars(select(Invoice).where(Invoice.number == number)).one()
            balance = totals(session, row).balance
            if balance:
                record_payment(
                    session, row.id, amount_minor=balance, method="card", now=NOW, notify=False
                )
    with salon.read() as session:
        ledger_total = sum(totals(session, row).balance for row in session.scalars(select(Invoice)))
        report = aging(session, NOW)
        # Bucket by due date, independently of the aging code.
        buckets = {"current": 0, "1-30": 0, "31-60": 0, "61-90": 0, "90+": 0}
        for row in session.scalars(select(Invoice)):
            balance = totals(session, row).balance
            late = (NOW.date() - row.due_at.astimezone(NOW.tzinfo).date()).days
            key = (
                "current"
                if late <= 0
                else "1-30"
                if late <= 30
                else "31-60"
                if late <= 60
                else "61-90"
                if late <= 90
                else "90+"
            )
            buckets[key] += balance
    assert report.total == ledger_total
    assert sum(report.buckets.values()) == ledger_total
    assert sorted(report.buckets.values()) == sorted(buckets.values())
    owner = Chat(salon, NOW, channel="telegram", sender="1000")
    owner.say("who owes me money?")
    shown = re.search(r"Owed to you: \$([\d,]+\.\d\d)", owner.text)
    assert shown, owner.log()
    assert Decimal(shown.group(1).replace(",", "")) * 100 == ledger_total


def test_staff_add_a_charge_to_the_job_under_way(salon):
    from bot.scheduling.booking import book, set_status
    from tests.factories import service_id, staff_id

    jane = customer(salon, "Jane Doe", "+12125550201")
    with salon.write() as session:
        appointment = book(
            session,
            customer_id=jane,
            service_id=service_id(session, "haircut"),
            start=local("2026-11-17 10:00"),
            staff_id=staff_id(session, "sam"),
            now=NOW - timedelta(days=1),
        ).appointment
        set_status(session, appointment.id, "in_progress", now=NOW)
    sam = Chat(salon, NOW, channel="sms", sender="+12125550101")
    sam.say("charge 12.50 hair product")
    sam.expect("Added Hair product $12.50")
    sam.say("done")
    sam.expect("completed")
    with salon.read() as session:
        [bill] = session.scalars(
            select(Invoice).where(Invoice.appointment_id == appointment.id)
        ).all()
        assert totals(session, bill).total > 4500 + 1250  # service + product + tax


def test_send_a_customer_their_statement(owner, salon):
    jane = customer(salon, "Jane Doe", "+12125550201")
    invoice(salon, jane, 4500, issued_days_ago=3)
    owner.say("statement jane")
    owner.expect("Statement sent to Jane Doe")
    with salon.read() as session:
        sent = session.scalars(
            select(OutboxMessage).where(OutboxMessage.purpose == "statement")
        ).one()
    assert sent.address == "+12125550201"
    assert (
        "ending balance $48.99" in sent.body["text"] or "ending balance $45.00" in sent.body["text"]
    )
    assert sent.body["attachments"][0]["content_type"] == "application/pdf"
