"""Estimates: sent in chat, approved by reply (recorded as given), scheduled, invoiced."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.billing.completion import appointment_invoice
from bot.billing.documents.estimates import (
    approve_estimate,
    create_estimate,
    decline_estimate,
    estimate_totals,
    invoice_from_estimate,
    schedule_estimate,
    send_estimate,
)
from bot.billing.ledger.invoices import LineSpec, lines_of, totals
from bot.messaging.messages import SMS, Reply
from bot.scheduling.booking import Refused
from storage.billing import APPROVED, DECLINED, INVOICED, Estimate
from storage.db import Database
from storage.models import AwaitingReply
from tests.billing_factories import (
    NOW,
    OWNER,
    add_reachable_customer,
    book_for,
    complete,
    outbox,
    setup_billing,
)

PHONE = "+12125550777"
WORK = [
    LineSpec("labour", "Replace boiler valve", 6000, "1.5"),
    LineSpec("part", "Valve", 2450),
]


@pytest.fixture
def shop(db: Database) -> Database:
    setup_billing(db)
    return db


def _sent(db: Database, valid_days: int = 30) -> tuple[int, int]:
    customer = add_reachable_customer(db, phone=PHONE)
    with db.write() as session:
        estimate = create_estimate(
            session, customer_id=customer, lines=WORK, now=NOW, valid_days=valid_days
        )
        assert estimate.number == "EST-0001"
        assert send_estimate(session, estimate.id, now=NOW)
        return customer, estimate.id


def test_an_estimate_is_sent_with_approve_and_decline_and_waits_for_the_reply(shop):
    _customer, estimate_id = _sent(shop)
    [message] = outbox(shop, purpose="estimate")
    reply = Reply.from_json(message.body)
    # 90.00 labour + 24.50 part, each taxed 8.875%: 7.99 + 2.17
    assert "Estimate EST-0001" in reply.text and "$124.66" in reply.text and "APPROVE" in reply.text
    assert [o.id for o in reply.options] == ["APPROVE:EST-0001", "DECLINE:EST-0001"]
    assert reply.attachments[0].filename == "EST-0001.pdf"
    with shop.read() as session:
        [waiting] = session.scalars(select(AwaitingReply)).all()
        assert (waiting.kind, waiting.ref_id, waiting.channel, waiting.address) == (
            "estimate",
            estimate_id,
            SMS,
            PHONE,
        )
        assert waiting.expires_at == NOW + timedelta(days=30) and waiting.answered_at is None


def test_approving_records_when_where_and_from_whom_and_tells_the_owner(shop):
    _customer, estimate_id = _sent(shop)
    later = NOW + timedelta(hours=2)
    with shop.write() as session:
        answer = approve_estimate(session, estimate_id, channel=SMS, address=PHONE, now=later)
        assert answer.ok and "approved" in answer.reply.text
        again = approve_estimate(session, estimate_id, channel=SMS, address=PHONE, now=later)
        assert again.ok and "already approved" in again.reply.text
        change = decline_estimate(session, estimate_id, channel=SMS, address=PHONE, now=later)
        assert not change.ok
        estimate = session.get(Estimate, estimate_id)
        assert (estimate.status, estimate.approved_at) == (APPROVED, later)
        assert (estimate.answer_channel, estimate.answer_address) == (SMS, PHONE)
        assert session.scalars(select(AwaitingReply.answered_at)).one() == later
    notes = [Reply.from_json(m.body).text for m in outbox(shop, address=OWNER.split(":")[1])]
    assert notes == ["Jane Doe approved estimate EST-0001 ($124.66) by sms."]


def test_a_declined_or_expired_estimate_is_not_approved(shop):
    _customer, estimate_id = _sent(shop, valid_days=7)
    with shop.write() as session:
        late = approve_estimate(
            session, estimate_id, channel=SMS, address=PHONE, now=NOW + timedelta(days=8)
        )
        assert not late.ok and "expired" in late.reply.text
        no = decline_estimate(
            session, estimate_id, channel=SMS, address=PHONE, now=NOW + timedelta(days=1)
        )
        assert no.ok and session.get(Estimate, estimate_id).status == DECLINED
        assert isinstance(invoice_from_estimate(session, estimate_id, now=NOW), Refused)


def test_an_approved_estimate_scheduled_to_an_appointment_becomes_its_invoice(shop):
    customer, estimate_id = _sent(shop)
    appointment_id = book_for(shop, customer)
    with shop.write() as session:
        approve_estimate(session, estimate_id, channel=SMS, address=PHONE, now=NOW)
        assert not isinstance(
            schedule_estimate(session, estimate_id, appointment_id, now=NOW), Refused
        )
        quoted = estimate_totals(session, session.get(Estimate, estimate_id)).total
    complete(shop, appointment_id, NOW + timedelta(days=1, hours=5))
    with shop.read() as session:
        invoice = appointment_invoice(session, appointment_id)
        assert [line.description for line in lines_of(session, invoice.id)] == [
            "Replace boiler valve",
            "Valve",
        ]
        assert totals(session, invoice).total == quoted == 12466
        assert invoice.estimate_id == estimate_id
        assert session.get(Estimate, estimate_id).status == INVOICED


def test_an_approved_estimate_without_an_appointment_is_invoiced_once(shop):
    _customer, estimate_id = _sent(shop)
    with shop.write() as session:
        approve_estimate(session, estimate_id, channel=SMS, address=PHONE, now=NOW)
        first = invoice_from_estimate(session, estimate_id, now=NOW)
        second = invoice_from_estimate(session, estimate_id, now=NOW)
        assert not isinstance(first, Refused) and not isinstance(second, Refused)
        assert first.id == second.id and first.number == "INV-0001"
