"""Bad weather: the owner's "rain wednesday" flags that day's outdoor jobs and, in one yes,
offers each customer another day; each customer moves or keeps theirs by replying."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.config import apply_config, parse_config
from bot.scheduling.booking import book
from bot.scheduling.timeline import Kind
from storage.db import Database
from storage.messaging import OutboxMessage
from storage.models import Appointment, AppointmentEvent, Customer, CustomerIdentity
from tests.conftest import DEMO_CONFIG
from tests.dialogue import Chat
from tests.factories import local, service_id, staff_id

NOW = local("2026-11-17 17:00")  # Tuesday evening
GARDEN = """
[[services]]
key = "garden-haircut"
name = "Garden haircut"
duration_minutes = 60
price = "90.00"
location = "on_site"
outdoor = true
staff = ["sam"]
"""
JANE, BOB, CARL = "+12125550201", "+12125550202", "+12125550203"


@pytest.fixture
def salon(db: Database) -> Database:
    apply_config(db, parse_config(DEMO_CONFIG.read_text() + GARDEN, base=DEMO_CONFIG.parent))
    return db


def _booked(db: Database, name: str, phone: str, at: str, service: str) -> int:
    with db.write() as session:
        person = Customer(
            name=name,
            phone=phone,
            address="55 Water St, Brooklyn, NY 11201",
            created_at=local("2026-11-10 09:00"),
            notes="",
        )
        session.add(person)
        session.flush()
        session.add(
            CustomerIdentity(
                customer_id=person.id, channel="sms", address=phone, created_at=person.created_at
            )
        )
        return book(
            session,
            customer_id=person.id,
            service_id=service_id(session, service),
            start=local(at),
            staff_id=staff_id(session, "sam"),
            now=person.created_at,
            enforce_rules=False,
        ).appointment.id


@pytest.fixture
def wednesday(salon: Database) -> dict[str, int]:
    return {
        "jane": _booked(salon, "Jane Doe", JANE, "2026-11-18 10:00", "garden-haircut"),
        "bob": _booked(salon, "Bob Stone", BOB, "2026-11-18 14:00", "garden-haircut"),
        "carl": _booked(salon, "Carl Ng", CARL, "2026-11-18 15:30", "haircut"),
    }


def _offers(db: Database) -> dict[str, OutboxMessage]:
    with db.read() as session:
        rows = session.scalars(
            select(OutboxMessage).where(OutboxMessage.purpose == "weather_offer")
        ).all()
        return {row.address: row for row in rows}


@pytest.mark.parametrize(
    "says", ["rain wednesday", "rain on wednesday", "/rain wed", "storm wednesday"]
)
def test_the_owner_flags_a_days_outdoor_jobs_and_offers_the_customers_another_day(
    salon, wednesday, says
):
    owner = Chat(salon, NOW, channel="telegram", sender="1000")
    owner.say(says)
    owner.expect("on Wed, Nov 18: 2 outdoor jobs", "Jane Doe", "Bob Stone", "another day?")
    owner.expect_not("Carl Ng")
    owner.say("yes")
    owner.expect(
        "Asked 2 of 2 customers to move",
        "Jane Doe",
        "offered Thu, Nov 19, 11:00 AM",  # Sam starts at 11 on Thursdays
        "Bob Stone",
        "offered Thu, Nov 19, 2:00 PM",
    )
    offers = _offers(salon)
    assert set(offers) == {JANE, BOB}
    assert (
        "is forecast for your garden haircut on Wed, Nov 18, 10:00 AM" in offers[JANE].body["text"]
    )
    assert [o["label"] for o in offers[JANE].body["options"]] == ["Move it", "Keep it"]
    with salon.read() as session:
        flagged = session.scalars(
            select(AppointmentEvent.appointment_id).where(AppointmentEvent.kind == Kind.WEATHER)
        ).all()
    assert sorted(flagged) == sorted([wednesday["jane"], wednesday["bob"]])


@pytest.mark.parametrize("reply", ["1", "move it", "yes please"])
def test_a_customer_who_says_move_it_is_moved_and_one_who_keeps_it_is_not(salon, wednesday, reply):
    owner = Chat(salon, NOW, channel="telegram", sender="1000")
    owner.say("rain wednesday")
    owner.say("yes")
    jane = Chat(salon, NOW, channel="sms", sender=JANE)
    jane.say(reply)
    jane.expect("Done: moved to Thu, Nov 19, 11:00 AM")
    bob = Chat(salon, NOW, channel="sms", sender=BOB)
    bob.say("keep it")
    bob.expect("keep it as it is")
    with salon.read() as session:
        assert session.get(Appointment, wednesday["jane"]).starts_at == local("2026-11-19 11:00")
        assert session.get(Appointment, wednesday["bob"]).starts_at == local("2026-11-18 14:00")
        change = session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.purpose == "change_notice", OutboxMessage.address == JANE
            )
        ).all()
    assert change, "Jane gets the change notice with the new time"


def test_no_outdoor_jobs_means_nothing_is_sent(salon, wednesday):
    owner = Chat(salon, NOW, channel="telegram", sender="1000")
    owner.say("rain friday")
    owner.expect("No outdoor jobs on Fri, Nov 20")
    owner.say("rain wednesday")
    owner.say("no")
    owner.expect("nothing changed")
    assert _offers(salon) == {}


def test_the_weather_flag_is_in_the_event_log(salon, wednesday):
    owner = Chat(salon, NOW, channel="telegram", sender="1000")
    owner.say("snow wednesday")
    owner.say("yes")
    owner.say(f"history #{wednesday['jane']}")
    owner.expect("Flagged for snow, offered Thu, Nov 19, 11:00 AM (the owner)")
