"""The owner and staff chat, scripted, on more than one channel."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.config import apply_config, load_config
from bot.scheduling.booking import book
from storage.db import Database
from storage.messaging import OutboxMessage
from storage.models import (
    CANCELLED,
    COMPLETED,
    IN_PROGRESS,
    NO_SHOW,
    AdminAudit,
    Appointment,
    Customer,
    CustomerIdentity,
    TimeOff,
)
from tests.conftest import DEMO_CONFIG
from tests.dialogue import Chat
from tests.factories import local, service_id, staff_id

NOW = local("2026-11-17 08:00")  # Tuesday morning, before opening

OWNER_CHANNELS = [("web", "owner"), ("telegram", "1000")]


@pytest.fixture
def salon(db: Database) -> Database:
    apply_config(db, load_config(DEMO_CONFIG))
    return db


def customer(db: Database, name: str, phone: str | None = None) -> int:
    with db.write() as session:
        row = Customer(name=name, phone=phone, created_at=NOW, notes="")
        session.add(row)
        session.flush()
        if phone:
            session.add(
                CustomerIdentity(customer_id=row.id, channel="sms", address=phone, created_at=NOW)
            )
        return row.id


def booked(db: Database, who: int, at: str, staff: str = "sam", service: str = "haircut") -> int:
    with db.write() as session:
        outcome = book(
            session,
            customer_id=who,
            service_id=service_id(session, service),
            start=local(at),
            staff_id=staff_id(session, staff),
            now=NOW,
            enforce_rules=False,
        )
        return outcome.appointment.id


@pytest.fixture(params=OWNER_CHANNELS, ids=["web", "telegram"])
def owner(request, salon) -> Chat:
    channel, sender = request.param
    return Chat(salon, NOW, channel=channel, sender=sender)


def audit_actions(db: Database) -> list[str]:
    with db.read() as session:
        return list(session.scalars(select(AdminAudit.action).order_by(AdminAudit.id)))


def test_today_shows_the_agenda_by_staff(owner, salon):
    jane = customer(salon, "Jane Doe", "+12125550201")
    bob = customer(salon, "Bob Stone", "+12125550202")
    booked(salon, jane, "2026-11-17 10:00")
    booked(salon, bob, "2026-11-17 11:00", staff="alex")
    owner.say("/today")
    owner.expect("2 appointments", "Sam:", "Alex:", "10:00 AM Haircut · Jane Doe", "Bob Stone")
    owner.say("what's on tomorrow?")
    owner.expect("Nothing booked")


def test_a_long_agenda_stops_at_a_screenful_with_more(owner, salon):
    trims = ["10:00", "10:30", "11:00", "11:30", "12:00", "12:30", "14:00", "14:30", "15:00"]
    for i, at in enumerate(trims):
        who = customer(salon, f"Client {i}", f"+1212555030{i}")
        booked(salon, who, f"2026-11-17 {at}", staff="alex", service="beard-trim")
    for i, at in enumerate(["09:00", "10:00", "11:00"]):
        booked(salon, customer(salon, f"Regular {i}"), f"2026-11-17 {at}")
    owner.say("today")
    owner.expect("… ", "More")
    owner.expect("Today, Tue, Nov 17: 12 appointments")
    owner.press("More")
    owner.expect("Regular 2")


def test_block_time_asks_first_then_nobody_can_book_it(owner, salon):
    owner.say("block friday 2-5pm")
    owner.expect("Block Fri, Nov 20, 2:00 PM to 5:00 PM for everyone?")
    owner.say("yes")
    owner.expect("Blocked")
    with salon.read() as session:
        [block] = session.scalars(select(TimeOff).where(TimeOff.source == "admin")).all()
        assert block.staff_id is None and block.starts_at == local("2026-11-20 14:00")
    customer_chat = Chat(salon, NOW, sender="customer-001")
    customer_chat.say("haircut with sam friday at 3")
    customer_chat.expect("isn't free")
    assert audit_actions(salon) == ["block"]


def test_blocking_lists_appointments_that_clash(owner, salon):
    jane = customer(salon, "Jane Doe", "+12125550201")
    booked(salon, jane, "2026-11-20 16:00")
    owner.say("block sam friday 2-5pm")
    owner.expect("for Sam?")
    owner.say("yes")
    owner.expect("1 appointment(s) already inside it", "Jane Doe")


def test_close_a_whole_day(owner, salon):
    owner.say("close dec 24")
    owner.expect("Block Thu, Dec 24 for everyone?")
    owner.say("no")
    owner.expect("nothing changed")
    owner.say("close dec 24")
    owner.say("yes")
    with salon.read() as session:
        block = session.scalars(select(TimeOff).where(TimeOff.source == "admin")).one()
        assert block.ends_at - block.starts_at == timedelta(days=1)


def test_book_for_a_customer_on_the_phone(owner, salon):
    owner.say("book Jane Doe 212-555-0299 haircut with sam friday at 4")
    owner.expect("Book Haircut with Sam for Jane Doe, Fri, Nov 20, 4:00 PM?")
    owner.say("yes")
    owner.expect("Booked:")
    with salon.read() as session:
        appointment = session.scalars(select(Appointment)).one()
        assert appointment.customer.name == "Jane Doe"
        assert appointment.customer.phone == "+12125550299"
        confirmation = session.scalars(
            select(OutboxMessage).where(OutboxMessage.address == "+12125550299")
        ).all()
    assert confirmation, "the customer is told by SMS"


def test_move_any_appointment_and_the_customer_is_told(owner, salon):
    jane = customer(salon, "Jane Doe", "+12125550201")
    appointment = booked(salon, jane, "2026-11-18 10:00")
    owner.say(f"move #{appointment} to saturday at 10")
    owner.expect("Move", "Sat, Nov 21, 10:00 AM?")
    owner.say("yes")
    owner.expect("Moved:")
    with salon.read() as session:
        assert session.get(Appointment, appointment).starts_at == local("2026-11-21 10:00")
        told = session.scalars(
            select(OutboxMessage.purpose).where(OutboxMessage.address == "+12125550201")
        ).all()
    assert "change_notice" in told


def test_cancel_with_two_janes_asks_which(owner, salon):
    first = customer(salon, "Jane Doe", "+12125550201")
    second = customer(salon, "Jane Smith", "+12125550202")
    booked(salon, first, "2026-11-18 10:00")
    keep = booked(salon, second, "2026-11-18 14:00")
    owner.say("cancel jane's appointment")
    owner.expect("Which one?", "Jane Doe", "Jane Smith")
    owner.press("Jane Doe")
    owner.expect("Cancel", "Jane Doe", "The customer will be told")
    owner.say("yes")
    owner.expect("Cancelled")
    with salon.read() as session:
        statuses = dict(session.execute(select(Appointment.id, Appointment.status)).all())
    assert statuses[keep] == "booked" and CANCELLED in statuses.values()


def test_customer_lookup_shows_the_card(owner, salon):
    jane = customer(salon, "Jane Doe", "+12125550201")
    with salon.write() as session:
        session.get(Customer, jane).notes = "Allergic to ammonia"
    booked(salon, jane, "2026-11-18 10:00")
    owner.say("customer jane")
    owner.expect("Jane Doe", "+12125550201", "Allergic to ammonia", "Upcoming:", "sms")


def test_no_show_and_done_from_the_owner(owner, salon):
    jane = customer(salon, "Jane Doe", "+12125550201")
    missed = booked(salon, jane, "2026-11-17 09:00")
    finished = booked(salon, jane, "2026-11-17 11:00")
    owner.wait(hours=1, minutes=30)  # a no-show once the appointment has started
    owner.say(f"no show #{missed}")
    owner.expect("as a no-show?")
    owner.say("yes")
    owner.expect("no show")
    owner.say(f"done #{finished}")
    owner.expect("completed")
    with salon.read() as session:
        assert session.get(Appointment, missed).status == NO_SHOW
        assert session.get(Appointment, finished).status == COMPLETED
    assert audit_actions(salon) == [NO_SHOW, COMPLETED]


def test_stats_for_the_month(owner, salon):
    jane = customer(salon, "Jane Doe", "+12125550201")
    booked(salon, jane, "2026-11-18 10:00")
    owner.say("stats")
    owner.expect("November 2026", "Bookings: 1", "No-shows: 0")


def test_staff_run_their_day_from_sms(salon):
    jane = customer(salon, "Jane Doe", "+12125550201")
    mine = booked(salon, jane, "2026-11-17 10:00")
    booked(salon, customer(salon, "Bob", "+12125550202"), "2026-11-17 11:00", staff="alex")
    sam = Chat(salon, local("2026-11-17 09:30"), channel="sms", sender="+12125550101")
    sam.say("my schedule")
    sam.expect("Jane Doe")
    sam.expect_not("Bob")
    sam.say("on my way")
    sam.expect("Told Jane Doe")
    sam.wait(minutes=25)
    sam.say("arrived")
    sam.expect("in progress")
    sam.wait(minutes=40)
    sam.say("done")
    sam.expect("completed", "Time on the job: 40 min")
    with salon.read() as session:
        assert session.get(Appointment, mine).status == COMPLETED
        en_route = session.scalars(
            select(OutboxMessage).where(OutboxMessage.purpose == "en_route")
        ).one()
        assert en_route.address == "+12125550201" and "on the way" in en_route.body["text"]
    assert audit_actions(salon) == ["en_route", IN_PROGRESS, COMPLETED]


def test_staff_cannot_use_owner_commands(salon):
    sam = Chat(salon, NOW, channel="sms", sender="+12125550101")
    sam.say("block friday 2-5pm")
    sam.expect("didn't get that")
    with salon.read() as session:
        assert (
            session.scalar(
                select(func.count()).select_from(TimeOff).where(TimeOff.source == "admin")
            )
            == 0
        )


@pytest.mark.parametrize(
    "command",
    [
        "/today",
        "today",
        "who owes me money?",
        "block friday 2-5pm",
        "/broadcast 50% off",
        "customer jane",
        "stats",
        "close dec 24",
    ],
)
def test_a_customer_guessing_admin_commands_gets_no_admin_data_and_changes_nothing(salon, command):
    jane = customer(salon, "Jane Doe", "+12125550201")
    booked(salon, jane, "2026-11-17 10:00")
    guesser = Chat(salon, NOW, channel="sms", sender="+12125550777")
    guesser.say(command)
    guesser.say("yes")
    guesser.expect_not(
        "Jane Doe",
        "Blocked",
        "Block ",
        "Queued to",
        "Goes to",
        "Bookings:",
        "Nothing booked",
        "1 appointment",
    )
    with salon.read() as session:
        assert session.scalar(select(func.count()).select_from(AdminAudit)) == 0
        assert (
            session.scalar(
                select(func.count()).select_from(TimeOff).where(TimeOff.source == "admin")
            )
            == 0
        )
        assert (
            session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.purpose == "promotion")
            )
            == 0
        )


def test_a_broadcast_to_500_skips_the_40_who_opted_out(salon):
    with salon.write() as session:
        for i in range(500):
            row = Customer(name=f"Customer {i}", phone=f"+1212556{i:04d}", created_at=NOW, notes="")
            session.add(row)
            session.flush()
            session.add(
                CustomerIdentity(
                    customer_id=row.id,
                    channel="sms",
                    address=row.phone,
                    created_at=NOW,
                    promotions_opt_in=True,
                    opted_out_at=NOW if i < 40 else None,
                )
            )
    owner = Chat(salon, local("2026-11-17 10:00"), channel="telegram", sender="1000")
    owner.say("/broadcast 20% off colour this week!")
    owner.expect("Goes to 460 customers", "40 opted out")
    owner.say("yes")
    owner.expect("Queued to 460")
    with salon.read() as session:
        rows = session.scalars(
            select(OutboxMessage).where(OutboxMessage.purpose == "promotion")
        ).all()
        opted_out = set(
            session.scalars(
                select(CustomerIdentity.address).where(CustomerIdentity.opted_out_at.is_not(None))
            )
        )
    assert len(rows) == 460
    assert not {r.address for r in rows} & opted_out
    assert all("Reply STOP to opt out." in r.body["text"] and r.kind == "promotional" for r in rows)


def test_the_owner_gets_a_dashboard_link(owner, salon):
    owner.say("/dashboard")
    owner.expect("valid 12 hours", "/dashboard/")


def test_a_customer_gets_a_link_to_their_own_account(salon):
    jane = Chat(salon, NOW, channel="sms", sender="+12125550201")
    jane.say("can I see my account?")
    jane.expect("Here's your account", "/portal/")
