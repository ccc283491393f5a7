"""A customer who names a technician in the booking chat keeps them: the appointment is pinned
(`appointment.staff_pinned`) and "optimise" + "apply" leave that job with them, on a day
where the optimiser would otherwise hand it to someone nearer."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.field.routing import plans
from bot.field.routing.check import check
from bot.field.routing.day import as_booked, load_day
from storage.db import Database
from storage.models import Appointment, Customer, Staff
from tests.dialogue import Chat
from tests.field_day import DAY, NOW, seed

# Uptown, a few blocks from Ana's home base; Ben lives on the south side.
NEAR_ANA = "4600 N Broadway, Chicago, IL 60640"


@pytest.fixture(autouse=True)
def quick_solver(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plans, "DEFAULT_SECONDS", 1.0)


def book_boiler(db: Database, who: str, sender: str, name: str) -> Appointment:
    """A customer books a boiler service on Tuesday near Ana, asking for `who` (or anyone)."""
    chat = Chat(db, NOW, channel="web", sender=sender)
    chat.say(f"I need a boiler service on tuesday, {who}")
    chat.expect("address for the visit")
    chat.say(NEAR_ANA)
    chat.expect("Here's what I have", "between")
    chat.say("1")
    chat.expect("What name")
    chat.say(name)
    chat.expect("shall I book this?")
    chat.say("yes")
    chat.expect("You're booked")
    with db.read() as session:
        customer = session.scalars(select(Customer).where(Customer.name == name)).one()
        job = session.scalars(
            select(Appointment).where(Appointment.customer_id == customer.id)
        ).one()
        session.expunge(job)
        return job


def staff_key(db: Database, appointment_id: int) -> str:
    with db.read() as session:
        return session.get(Staff, session.get(Appointment, appointment_id).staff_id).key


def test_a_technician_named_in_the_booking_chat_keeps_the_job_through_optimise_and_apply(
    db: Database,
) -> None:
    ids = seed(db)  # a crosswise day: Ben, on the south side, has four jobs up north
    with db.write() as session:  # two of them were cancelled: room for two more bookings
        bens = [i for i in ids if session.get(Appointment, i).staff.key == "ben"]
        for job_id in bens[-2:]:
            session.delete(session.get(Appointment, job_id))
    pinned = book_boiler(db, "Ben please", "visitor-pin", "Rosa Diaz")
    free = book_boiler(db, "anyone", "visitor-any", "Omar Haddad")
    assert pinned.staff_pinned is True
    assert free.staff_pinned is False
    assert staff_key(db, pinned.id) == "ben"
    owner = Chat(db, NOW, channel="web", sender="owner")
    owner.say("optimise tuesday")
    owner.expect("Routes for Tue, Dec 8", "Apply these routes?")
    owner.say("apply")
    owner.expect("Applied:")
    assert staff_key(db, pinned.id) == "ben"
    with db.read() as session:
        day = load_day(session, DAY, now=NOW)
        visit = next(v for v in day.problem.visits if v.id == str(pinned.id))
        assert visit.pinned is not None
        assert check(day.problem, as_booked(session, day)) == []
