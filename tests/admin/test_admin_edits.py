"""Appointment edits from the owner chat: staff, service, length, time with staff, notes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from bot.config import apply_config, load_config
from bot.messaging.outbox import dispatch_due
from bot.messaging.senders import build_senders
from bot.scheduling.booking import book
from storage.db import Database
from storage.models import (
    AdminAudit,
    Appointment,
    AppointmentEvent,
    Customer,
    CustomerIdentity,
    Resource,
    TimeOff,
)
from tests.conftest import DEMO_CONFIG
from tests.dialogue import Chat
from tests.factories import local, service_id, staff_id
from tests.fakes.twilio_api import FakeTwilio, make_fake_twilio, twilio_env

NOW = local("2026-11-17 10:00")  # Tuesday, mid-morning
JANE = "+12125550201"


@pytest.fixture
def salon(db: Database) -> Database:
    apply_config(db, load_config(DEMO_CONFIG))
    return db


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    with make_fake_twilio() as fake:
        yield fake


@pytest.fixture(params=[("web", "owner"), ("telegram", "1000")], ids=["web", "telegram"])
def owner(request, salon: Database) -> Chat:
    channel, sender = request.param
    return Chat(salon, NOW, channel=channel, sender=sender)


def customer(db: Database, name: str, phone: str) -> int:
    with db.write() as session:
        row = Customer(name=name, phone=phone, created_at=NOW, notes="")
        session.add(row)
        session.flush()
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


def appointment(db: Database, appointment_id: int) -> Appointment:
    with db.read() as session:
        found = session.get(Appointment, appointment_id)
        assert found is not None
        _ = (found.staff.key, found.service.key, found.resource)
        return found


def sent_to(db: Database, twilio: FakeTwilio, phone: str) -> list[str]:
    """Dispatch the outbox to the fake Twilio; what the phone received."""
    dispatch_due(db, build_senders(twilio_env(twilio)), now=NOW)
    return [m["body"] for m in twilio.to(phone)]


@pytest.mark.parametrize(
    "phrasing",
    ["assign #{id} to Priya", "reassign #{id} to pree", "give #{id} to Priya Patel"],
)
def test_an_owner_can_reassign_an_appointment_to_another_staff_member(
    owner, salon, twilio, phrasing
):
    jane = customer(salon, "Jane Doe", JANE)
    massage = booked(salon, jane, "2026-11-19 14:30", staff="jordan", service="massage-60")
    owner.say(phrasing.format(id=massage))
    owner.expect(f"#{massage}", "with Priya", "The customer will be told")
    owner.say("yes")
    owner.expect(f"Changed #{massage}", "staff Jordan → Priya")
    now = appointment(salon, massage)
    assert now.staff.key == "priya" and now.starts_at == local("2026-11-19 14:30")
    assert now.resource is not None  # still has a room
    bodies = sent_to(salon, twilio, JANE)
    assert any("now with Priya (was Jordan)" in b for b in bodies), bodies
    with salon.read() as session:
        kinds = session.scalars(
            select(AppointmentEvent.kind).where(AppointmentEvent.appointment_id == massage)
        ).all()
        assert "reassigned" in kinds
        assert session.scalars(select(AdminAudit.action)).all() == ["edit"]


@pytest.mark.parametrize(
    ("at", "phrasing"),
    [
        ("2026-11-20 16:00", "give Jane's 4pm to Alex"),
        ("2026-11-21 15:00", "give Jane's 3pm appointment to Alex"),
        ("2026-11-21 15:00", "assign jane's 3 pm to lex"),
    ],
)
def test_give_janes_afternoon_to_alex_finds_it_by_name_and_time(owner, salon, twilio, at, phrasing):
    jane = customer(salon, "Jane Doe", JANE)
    booked(salon, jane, "2026-11-19 11:00")
    afternoon = booked(salon, jane, at)
    owner.say(phrasing)
    owner.expect(f"#{afternoon}", "with Alex")
    owner.say("yes")
    owner.expect("staff Sam → Alex")
    assert appointment(salon, afternoon).staff.key == "alex"
    assert any("with Alex" in b for b in sent_to(salon, twilio, JANE))


@pytest.mark.parametrize(
    "phrasing",
    [
        "move #{id} to thursday at 2 with Priya",
        "reschedule #{id} to thu 2pm with priya",
    ],
)
def test_moving_with_a_staff_member_changes_both_time_and_staff(owner, salon, twilio, phrasing):
    jane = customer(salon, "Jane Doe", JANE)
    massage = booked(salon, jane, "2026-11-20 17:00", staff="jordan", service="massage-30")
    owner.say(phrasing.format(id=massage))
    owner.expect("Thu, Nov 19, 2:00 PM", "with Priya")
    owner.say("yes")
    owner.expect("Priya")
    moved = appointment(salon, massage)
    assert moved.staff.key == "priya" and moved.starts_at == local("2026-11-19 14:00")
    bodies = sent_to(salon, twilio, JANE)
    assert any("now with Priya" in b and "Thu, Nov 19, 2:00 PM" in b for b in bodies), bodies


def test_reassigning_to_someone_who_is_busy_or_does_not_do_it_is_refused(owner, salon):
    jane = customer(salon, "Jane Doe", JANE)
    bob = customer(salon, "Bob Stone", "+12125550202")
    booked(salon, bob, "2026-11-19 14:00", staff="alex")
    cut = booked(salon, jane, "2026-11-19 14:00")
    owner.say(f"assign #{cut} to Alex")
    owner.expect("Can't", "Alex isn't free")
    owner.say(f"assign #{cut} to Priya")
    owner.expect("Can't", "Priya doesn't do Haircut")
    assert appointment(salon, cut).staff.key == "sam"


@pytest.mark.parametrize(
    "phrasing",
    [
        "change #{id} to a colour",
        "change #{id} to color",
        "make #{id} a colour",
        "switch #{id} to a colour",
        "swap #{id} to colour",
    ],
)
def test_an_owner_can_change_the_service_and_the_length_follows(owner, salon, twilio, phrasing):
    jane = customer(salon, "Jane Doe", JANE)
    cut = booked(salon, jane, "2026-11-19 11:00")
    owner.say(phrasing.format(id=cut))
    owner.expect("as a colour")
    owner.say("yes")
    owner.expect("service Haircut → Colour", "length 45 min → 90 min")
    changed = appointment(salon, cut)
    assert changed.service.key == "colour" and changed.price_minor == 12000
    assert changed.ends_at == local("2026-11-19 12:30")
    assert any("now a colour (was haircut)" in b for b in sent_to(salon, twilio, JANE))


def test_a_service_change_needs_a_free_room_and_someone_who_does_it(owner, salon):
    jane = customer(salon, "Jane Doe", JANE)
    with salon.write() as session:
        for room in session.scalars(select(Resource)):
            session.add(
                TimeOff(
                    resource_id=room.id,
                    starts_at=local("2026-11-20 14:00"),
                    ends_at=local("2026-11-20 16:00"),
                    reason="Plumbing",
                )
            )
    early = booked(salon, jane, "2026-11-20 14:00")
    owner.say(f"change #{early} to a facial")
    owner.expect("Can't", "Nobody is free")
    late = booked(salon, jane, "2026-11-20 17:00")
    owner.say(f"change #{late} to a facial")
    owner.expect("as a facial")
    owner.say("yes")
    changed = appointment(salon, late)
    assert changed.service.key == "facial" and changed.staff.key == "priya"
    assert changed.resource is not None
    massage = booked(salon, jane, "2026-11-20 18:30", staff="jordan", service="massage-30")
    owner.say(f"move #{massage} to friday at 2:30 with Jordan")
    owner.expect("Can't")
    assert appointment(salon, massage).starts_at == local("2026-11-20 18:30")


@pytest.mark.parametrize(
    ("phrasing", "minutes"),
    [
        ("make #{id} 90 minutes", 90),
        ("extend #{id} to 1.5 hours", 90),
        ("make #{id} an hour", 60),
        ("shorten #{id} to 30 min", 30),
    ],
)
def test_an_owner_can_change_the_length(owner, salon, twilio, phrasing, minutes):
    jane = customer(salon, "Jane Doe", JANE)
    cut = booked(salon, jane, "2026-11-19 11:00")
    owner.say(phrasing.format(id=cut))
    owner.expect(f"for {minutes} min")
    owner.say("yes")
    owner.expect(f"length 45 min → {minutes} min")
    changed = appointment(salon, cut)
    assert (changed.ends_at - changed.starts_at).total_seconds() == minutes * 60
    assert any(f"now {minutes} min" in b for b in sent_to(salon, twilio, JANE))


def test_a_longer_appointment_that_runs_into_the_next_is_refused(owner, salon):
    jane = customer(salon, "Jane Doe", JANE)
    bob = customer(salon, "Bob Stone", "+12125550202")
    cut = booked(salon, jane, "2026-11-19 11:00")
    booked(salon, bob, "2026-11-19 12:00")
    owner.say(f"make #{cut} 90 minutes")
    owner.expect("Can't", "Sam isn't free")


def test_notes_are_added_and_the_customer_is_not_messaged(owner, salon, twilio):
    jane = customer(salon, "Jane Doe", JANE)
    cut = booked(salon, jane, "2026-11-19 11:00")
    sent_to(salon, twilio, JANE)  # the confirmation
    twilio.reset()
    owner.say(f"note #{cut}: prefers a quiet chair")
    owner.expect(f"Changed #{cut}", "notes")
    owner.say(f"add note to #{cut} - bring the blue dye")
    assert appointment(salon, cut).notes == "prefers a quiet chair\nbring the blue dye"
    owner.say(f"notes #{cut}")
    owner.expect("prefers a quiet chair")
    owner.say(f"clear notes #{cut}")
    assert appointment(salon, cut).notes == ""
    assert sent_to(salon, twilio, JANE) == []


def test_no_answers_no_change(owner, salon):
    jane = customer(salon, "Jane Doe", JANE)
    cut = booked(salon, jane, "2026-11-19 11:00")
    owner.say(f"assign #{cut} to Alex")
    owner.say("no")
    owner.expect("nothing changed")
    assert appointment(salon, cut).staff.key == "sam"


def test_a_staff_member_cannot_reassign(salon):
    jane = customer(salon, "Jane Doe", JANE)
    cut = booked(salon, jane, "2026-11-19 11:00")
    sam = Chat(salon, NOW, channel="sms", sender="+12125550101")
    sam.say(f"assign #{cut} to Alex")
    sam.expect("didn't get that")
    assert appointment(salon, cut).staff.key == "sam"


def test_a_longer_appointment_keeps_its_length_when_moved(owner, salon):
    jane = customer(salon, "Jane Doe", JANE)
    cut = booked(salon, jane, "2026-11-19 11:00")
    owner.say(f"make #{cut} 90 minutes")
    owner.say("yes")
    owner.say(f"move #{cut} to friday at 4")
    owner.say("yes")
    owner.expect("Moved")
    moved = appointment(salon, cut)
    assert moved.starts_at == local("2026-11-20 16:00")
    assert moved.ends_at == local("2026-11-20 17:30")


def test_two_appointments_at_that_time_asks_which_one(owner, salon):
    jane = customer(salon, "Jane Doe", JANE)
    booked(salon, jane, "2026-11-20 16:00")
    saturday = booked(salon, jane, "2026-11-21 16:00")
    owner.say("give Jane's 4pm to Alex")
    owner.expect("Which one?", "Fri, Nov 20", "Sat, Nov 21")
    owner.press("Sat, Nov 21")
    owner.expect(f"#{saturday}", "with Alex")
    owner.say("yes")
    assert appointment(salon, saturday).staff.key == "alex"
