"""Intake keeps phone numbers and emails as fields; the owner's bookings find customers by
them; duplicate customers are merged from the owner chat."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.billing.ledger.invoices import LineSpec, create_invoice, issue_invoice
from bot.config import apply_config, load_config
from bot.scheduling.booking import book
from storage.billing import Invoice
from storage.db import Database
from storage.models import AdminAudit, Appointment, Conversation, Customer, CustomerIdentity
from tests.conftest import DEMO_CONFIG
from tests.dialogue import Chat
from tests.factories import local, service_id, staff_id

NOW = local("2026-11-17 10:00")


@pytest.fixture
def salon(db: Database) -> Database:
    apply_config(db, load_config(DEMO_CONFIG))
    return db


@pytest.fixture(params=[("web", "owner"), ("telegram", "1000")], ids=["web", "telegram"])
def owner(request, salon: Database) -> Chat:
    channel, sender = request.param
    return Chat(salon, NOW, channel=channel, sender=sender)


def the_customer(db: Database, channel: str, address: str) -> Customer:
    with db.read() as session:
        identity = session.scalars(
            select(CustomerIdentity).where(
                CustomerIdentity.channel == channel, CustomerIdentity.address == address
            )
        ).one()
        return identity.customer


def customers(db: Database) -> int:
    """How many customers called Jane (the owner's own chat is a row too)."""
    with db.read() as session:
        return int(
            session.scalar(
                select(func.count()).select_from(Customer).where(Customer.name.like("Jane%"))
            )
            or 0
        )


def customer(db: Database, name: str, phone: str | None = None, **fields: str) -> int:
    with db.write() as session:
        row = Customer(name=name, phone=phone, created_at=NOW, notes="", **fields)
        session.add(row)
        session.flush()
        return row.id


@pytest.mark.parametrize(
    ("channel", "sender"), [("web", "visitor-0042"), ("telegram", "5550042")], ids=["web", "tg"]
)
@pytest.mark.parametrize(
    ("message", "phone", "email"),
    [
        ("hi, I'm Jane - my number is (212) 555-0123", "+12125550123", None),
        (
            "you can reach me at 212.555.0123 or Jane.Doe@Example.COM",
            "+12125550123",
            "Jane.Doe@example.com",
        ),
        ("email me at jane@example.org please", None, "jane@example.org"),
        ("text +33 6 12 34 56 78 if anything changes", "+33612345678", None),
    ],
)
def test_a_phone_or_email_in_any_customer_message_goes_into_their_record(
    salon, channel, sender, message, phone, email
):
    chat = Chat(salon, NOW, channel=channel, sender=sender)
    chat.say(message)
    found = the_customer(salon, channel, sender)
    assert (found.phone, found.email) == (phone, email)
    assert "555" not in (found.notes or "") and "@" not in (found.notes or "")


def test_a_bad_email_is_not_kept_and_a_later_good_one_replaces_the_old(salon):
    chat = Chat(salon, NOW, channel="web", sender="visitor-0043")
    chat.say("my email is jane@exa_mple.com")
    assert the_customer(salon, "web", "visitor-0043").email is None
    chat.say("jane@old.example")
    chat.say("sorry, it's now jane@new.example")
    assert the_customer(salon, "web", "visitor-0043").email == "jane@new.example"


def test_typing_someone_elses_number_does_not_take_it(salon):
    customer(salon, "Jane Doe", "+12125550123")
    chat = Chat(salon, NOW, channel="web", sender="visitor-0044")
    chat.say("hello, my number is 212-555-0123")
    assert the_customer(salon, "web", "visitor-0044").phone is None


@pytest.mark.parametrize(
    "phrasing",
    [
        "book Jane 212-555-0123 haircut with sam friday at 4",
        "book jane (212) 555 0123 haircut w sam fri at 4pm",
        "book Jane.Doe@example.com haircut with sam friday at 4",
    ],
)
def test_the_owner_booking_finds_the_customer_by_phone_or_email_before_name(owner, salon, phrasing):
    customer(salon, "Jane Smith", "+12125550999")
    jane = customer(salon, "Jane Doe", "+12125550123", email="Jane.Doe@example.com")
    before = customers(salon)
    owner.say(phrasing)
    owner.expect("for Jane Doe, Fri, Nov 20, 4:00 PM")
    owner.say("yes")
    owner.expect("Booked")
    assert customers(salon) == before
    with salon.read() as session:
        [booked] = session.scalars(select(Appointment)).all()
        assert booked.customer_id == jane


def test_the_owner_booking_finds_a_customer_known_only_by_their_sms_number(owner, salon):
    texter = Chat(salon, NOW, channel="sms", sender="+12125550177")
    texter.say("hi")
    with salon.write() as session:
        row = the_customer(salon, "sms", "+12125550177")
        session.get(Customer, row.id).phone = None  # only the identity knows the number
    owner.say("book Ana 212 555 0177 haircut with sam friday at 4")
    owner.say("yes")
    with salon.read() as session:
        [booked] = session.scalars(select(Appointment)).all()
        assert booked.customer_id == row.id


def _history(db: Database, who: int, at: str, number: bool = True) -> None:
    with db.write() as session:
        book(
            session,
            customer_id=who,
            service_id=service_id(session, "haircut"),
            start=local(at),
            staff_id=staff_id(session, "sam"),
            now=NOW,
            enforce_rules=False,
        )
        if number:
            draft = create_invoice(
                session, customer_id=who, now=NOW, lines=[LineSpec("service", "Cut", 4500, 1, "0")]
            )
            issue_invoice(session, draft.id, now=NOW)


@pytest.mark.parametrize(
    "phrasing",
    ["merge #{gone} into #{kept}", "merge {gone} with {kept}", "combine #{gone} into #{kept}"],
)
def test_an_owner_merges_two_customers_after_confirming(owner, salon, phrasing):
    texting = Chat(salon, NOW, channel="sms", sender="+12125550123")
    texting.say("hi, Jane here")
    kept = the_customer(salon, "sms", "+12125550123").id
    webchat = Chat(salon, NOW, channel="web", sender="visitor-0045")
    webchat.say("hello, I'm Jane Doe, jane@example.com")
    gone = the_customer(salon, "web", "visitor-0045").id
    with salon.write() as session:
        session.get(Customer, gone).notes = "Allergic to ammonia"
    _history(salon, kept, "2026-11-19 11:00")
    _history(salon, gone, "2026-11-20 16:00")
    owner.say(phrasing.format(gone=gone, kept=kept))
    owner.expect(f"#{gone}", "into Jane", f"#{kept}", "1 appointments", "can't be undone")
    owner.say("yes")
    owner.expect(
        f"Merged #{gone} into #{kept}", "Moved: 1 appointment", "jane@example.com", "Upcoming:"
    )
    with salon.read() as session:
        assert session.get(Customer, gone) is None
        merged = session.get(Customer, kept)
        assert merged.email == "jane@example.com" and merged.notes == "Allergic to ammonia"
        assert set(session.scalars(select(Appointment.customer_id))) == {kept}
        assert set(session.scalars(select(Invoice.customer_id))) == {kept}
        assert {i.channel for i in merged.identities} == {"sms", "web"}
        assert set(
            session.scalars(select(Conversation.customer_id).where(Conversation.role == "customer"))
        ) == {kept}
        [entry] = session.scalars(select(AdminAudit).where(AdminAudit.action == "merge")).all()
        assert entry.detail["gone"] == gone and entry.detail["kept"] == kept
    # The web chat is now the kept customer's: both appointments are theirs.
    webchat.say("my appointments")
    webchat.expect("Thu, Nov 19", "Fri, Nov 20")


def test_merge_asks_and_no_or_a_wrong_number_changes_nothing(owner, salon):
    one = customer(salon, "Jane Doe", "+12125550123")
    two = customer(salon, "Jane Doe", "+12125550124")
    owner.say(f"merge #{two} into #{one}")
    owner.say("no")
    owner.expect("nothing changed")
    owner.say(f"merge #{two} into #99")
    owner.expect("no customer #99")
    owner.say(f"merge #{one} into #{one}")
    owner.expect("same customer")
    assert customers(salon) == 2


def test_the_shops_own_number_is_not_taken_for_the_customers(salon):
    chat = Chat(salon, NOW, channel="web", sender="visitor-0046")
    chat.say("I rang 212-555-0100 earlier but nobody answered")
    assert the_customer(salon, "web", "visitor-0046").phone is None
