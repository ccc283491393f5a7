"""Estimates end to end in chat: the owner writes and sends one, the customer approves or
declines (and is asked which when two are open), the owner books or invoices it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.config import apply_config, load_config
from bot.messaging.messages import Reply
from storage.billing import APPROVED, DECLINED, ESTIMATE_SENT, Estimate, Invoice
from storage.db import Database
from storage.messaging import OutboxMessage
from tests.admin.test_admin import NOW, OWNER_CHANNELS, customer
from tests.conftest import DEMO_CONFIG
from tests.dialogue import Chat

BOB = "+12125550402"


@pytest.fixture
def salon(db: Database) -> Database:
    apply_config(db, load_config(DEMO_CONFIG))
    return db


@pytest.fixture(params=OWNER_CHANNELS, ids=["web", "telegram"])
def owner(request, salon) -> Chat:
    channel, sender = request.param
    return Chat(salon, NOW, channel=channel, sender=sender)


def bob_chat(salon: Database) -> Chat:
    return Chat(salon, NOW, channel="sms", sender=BOB)


def estimates(db: Database) -> list[Estimate]:
    with db.read() as session:
        rows = list(session.scalars(select(Estimate).order_by(Estimate.id)))
        for row in rows:
            _ = [(ln.description, ln.unit_price_minor) for ln in row.lines]
        return rows


def texts_to(db: Database, address: str, purpose: str | None = None) -> list[Reply]:
    with db.read() as session:
        query = select(OutboxMessage).where(OutboxMessage.address == address)
        if purpose:
            query = query.where(OutboxMessage.purpose == purpose)
        return [Reply.from_json(m.body) for m in session.scalars(query.order_by(OutboxMessage.id))]


def write_estimate(owner: Chat, text: str = "estimate for Bob Stone: colour 120, toner 25") -> None:
    owner.say(text)
    owner.say("yes")
    owner.expect("sent to")


@pytest.mark.parametrize(
    ("text", "valid_days"),
    [
        ("estimate for Bob Stone: colour 120, toner 25, valid 30 days", 30),
        ("/quote for bob stone: Colour $120, toner 25.00, valid 10 days", 10),
        ("new estimate for Bob: colour=120; toner=25, valid for 2 weeks", 14),
    ],
)
def test_an_owner_writes_an_estimate_in_chat_and_it_goes_to_the_customer(
    owner, salon, text, valid_days
):
    customer(salon, "Bob Stone", BOB)
    owner.say(text)
    owner.expect("Estimate for Bob Stone: Colour $120.00, Toner $25.00", "total $157.87 with tax")
    owner.expect(f"valid {valid_days} days", "send it")
    assert estimates(salon) == []
    owner.say("yes")
    owner.expect("EST-0001 ($157.87) sent to Bob Stone")
    [estimate] = estimates(salon)
    assert estimate.status == ESTIMATE_SENT
    assert [(ln.description, ln.unit_price_minor) for ln in estimate.lines] == [
        ("Colour", 12000),
        ("Toner", 2500),
    ]
    assert estimate.valid_until == NOW + timedelta(days=valid_days)
    [sent] = texts_to(salon, BOB, "estimate")
    assert "Estimate EST-0001" in sent.text and sent.attachments[0].filename == "EST-0001.pdf"


def test_an_estimate_line_without_a_price_is_refused(owner, salon):
    customer(salon, "Bob Stone", BOB)
    owner.say("estimate for Bob Stone: colour, toner 25")
    owner.expect("needs a description and a price")
    assert estimates(salon) == []


@pytest.mark.parametrize("word", ["approve", "APPROVE", "yes please"])
def test_with_two_open_estimates_a_bare_approve_asks_which(owner, salon, word):
    customer(salon, "Bob Stone", BOB)
    write_estimate(owner)
    write_estimate(owner, "estimate for Bob Stone: beard trim 20")
    bob = bob_chat(salon)
    bob.say(word)
    bob.expect("You have 2 estimates waiting", "EST-0001 ($157.87)", "EST-0002 ($21.78)")
    assert {e.status for e in estimates(salon)} == {ESTIMATE_SENT}
    bob.press("EST-0001")
    bob.expect("EST-0001 ($157.87) is approved")
    assert [e.status for e in estimates(salon)] == [APPROVED, ESTIMATE_SENT]


@pytest.mark.parametrize("reply", ["approve EST-0002", "approve est-2", "Approve EST0002!"])
def test_a_customer_names_the_estimate_they_approve(owner, salon, reply):
    customer(salon, "Bob Stone", BOB)
    write_estimate(owner)
    write_estimate(owner, "estimate for Bob Stone: beard trim 20")
    bob = bob_chat(salon)
    bob.say(reply)
    bob.expect("EST-0002 ($21.78) is approved")
    assert [e.status for e in estimates(salon)] == [ESTIMATE_SENT, APPROVED]


def test_each_estimate_button_answers_its_own_estimate(owner, salon):
    customer(salon, "Bob Stone", BOB)
    write_estimate(owner)
    write_estimate(owner, "estimate for Bob Stone: beard trim 20")
    first = texts_to(salon, BOB, "estimate")[0]
    decline = next(o.id for o in first.options if o.label == "Decline")
    bob = bob_chat(salon)
    bob.say(option=decline)
    bob.expect("EST-0001 is declined")
    assert [e.status for e in estimates(salon)] == [DECLINED, ESTIMATE_SENT]


@pytest.mark.parametrize("reply", ["decline", "no thanks"])
def test_one_open_estimate_is_declined_by_reply(owner, salon, reply):
    customer(salon, "Bob Stone", BOB)
    write_estimate(owner)
    bob = bob_chat(salon)
    bob.say(reply)
    bob.expect("EST-0001 is declined")
    assert estimates(salon)[0].status == DECLINED


def _approved(owner: Chat, salon: Database) -> None:
    customer(salon, "Bob Stone", BOB)
    write_estimate(owner)
    bob_chat(salon).say("approve")


@pytest.mark.parametrize(
    "command",
    [
        "book EST-1 friday at 11 with Sam",
        "schedule est-0001 fri at 11am with sam",
        "book EST-0001 with Sam on friday at 11:00",
    ],
)
def test_an_owner_books_an_approved_estimate_and_its_invoice_follows(owner, salon, command):
    _approved(owner, salon)
    owner.say(command)
    owner.expect("Book EST-0001 (Bob Stone, $157.87) as Colour with Sam, Fri, Nov 20, 11:00 AM?")
    owner.say("yes")
    owner.expect("Booked:", "EST-0001's lines")
    [estimate] = estimates(salon)
    assert estimate.appointment_id is not None
    owner.say(f"done #{estimate.appointment_id}")
    with salon.read() as session:
        invoice = session.scalars(select(Invoice)).one()
        assert invoice.estimate_id == estimate.id
        assert invoice.appointment_id == estimate.appointment_id
        assert sorted(ln.description for ln in invoice.lines) == ["Colour", "Toner"]


def test_booking_an_estimate_on_a_closed_day_offers_free_times(owner, salon):
    _approved(owner, salon)
    owner.say("book EST-1 monday at 10 with sam")
    owner.expect("We're closed on Mondays", "Free instead:", "Tue, Nov 24, 10:00 AM")
    assert estimates(salon)[0].appointment_id is None
    owner.press("Tue, Nov 24, 10:00 AM")
    owner.expect("Book EST-0001", "Tue, Nov 24, 10:00 AM?")
    owner.say("yes")
    assert estimates(salon)[0].appointment_id is not None


def test_an_estimate_that_is_not_approved_cannot_be_booked_or_invoiced(owner, salon):
    customer(salon, "Bob Stone", BOB)
    write_estimate(owner)
    owner.say("book EST-1 friday at 2")
    owner.expect("EST-0001 is sent, not approved yet")
    owner.say("invoice EST-1")
    owner.expect("not approved yet")
    assert estimates(salon)[0].appointment_id is None


@pytest.mark.parametrize("command", ["invoice EST-1", "/bill est-0001"])
def test_an_owner_invoices_an_approved_estimate_with_a_pay_link(owner, salon, command):
    _approved(owner, salon)
    owner.say(command)
    owner.expect("Invoice EST-0001 ($157.87) to Bob Stone now")
    owner.say("yes")
    owner.expect("Invoiced as INV-0001, sent with a pay link")
    with salon.read() as session:
        invoice = session.scalars(select(Invoice)).one()
        assert invoice.number == "INV-0001" and invoice.estimate_id == estimates(salon)[0].id
    assert texts_to(salon, BOB, "invoice")
    owner.say("invoice EST-1")
    owner.expect("already invoiced as INV-0001")


def test_open_estimates_are_listed(owner, salon):
    _approved(owner, salon)
    owner.say("estimates")
    owner.expect("EST-0001 Bob Stone: $157.87 (approved)")


def test_a_customer_cannot_approve_someone_elses_estimate_by_number(owner, salon):
    customer(salon, "Bob Stone", BOB)
    customer(salon, "Jane Doe", "+12125550201")
    write_estimate(owner, "estimate for Jane Doe: colour 120")
    write_estimate(owner, "estimate for Bob Stone: beard trim 20")
    bob = bob_chat(salon)
    bob.say("approve EST-0001")
    bob.expect("EST-0002 ($21.78) is approved")
    assert [e.status for e in estimates(salon)] == [ESTIMATE_SENT, APPROVED]


def test_two_customers_of_one_name_are_asked_about_not_guessed(owner, salon):
    customer(salon, "Bob Stone", "+12125550111")
    customer(salon, "Bob Stone", "+12125550112")
    owner.say("estimate for Bob Stone: colour 120, toner 25")
    owner.expect("Which one", "#1", "#2")
    owner.say("yes")
    assert estimates(salon) == []
