"""The owner chat offers only times that are free for that staff member, says why a time is
not, refuses a no-show before the start (unless told "anyway"), and keeps the cancel reason
for the customer's notice."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.config import apply_config, load_config
from bot.messaging.messages import Reply
from storage.db import Database
from storage.messaging import OutboxMessage
from storage.models import CANCELLED, NO_SHOW, Appointment
from tests.admin.test_admin import NOW, OWNER_CHANNELS, booked, customer
from tests.conftest import DEMO_CONFIG
from tests.dialogue import Chat
from tests.factories import local

JANE = "+12125550201"


@pytest.fixture
def salon(db: Database) -> Database:
    apply_config(db, load_config(DEMO_CONFIG))
    return db


@pytest.fixture(params=OWNER_CHANNELS, ids=["web", "telegram"])
def owner(request, salon) -> Chat:
    channel, sender = request.param
    return Chat(salon, NOW, channel=channel, sender=sender)


def appointments(db: Database) -> list[Appointment]:
    with db.read() as session:
        rows = list(session.scalars(select(Appointment).order_by(Appointment.id)))
        for row in rows:
            _ = row.staff.key
        return rows


def notices_to(db: Database, address: str) -> list[str]:
    with db.read() as session:
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.address == address))
        return [Reply.from_json(m.body).text for m in rows]


@pytest.mark.parametrize(
    ("command", "why"),
    [
        ("book Jane Doe haircut with sam monday at 10", "We're closed on Mondays"),
        ("book Jane Doe haircut with alex wednesday at 11", "Alex doesn't work Wednesdays"),
        ("book jane doe haircut with sam friday at 9", "Sam works 11:00-20:00 on Fridays"),
        ("book Jane Doe haircut with sam thanksgiving at 10", "Thanksgiving"),
    ],
)
def test_booking_for_a_customer_at_an_impossible_time_says_why_and_offers_free_ones(
    owner, salon, command, why
):
    customer(salon, "Jane Doe", JANE)
    owner.say(command)
    owner.expect(why, "Free instead:")
    owner.expect_not("Book Haircut")
    assert appointments(salon) == []
    picked = owner.options[0]
    owner.press(picked)
    owner.expect("Book Haircut with", f"for Jane Doe, {picked}?")
    owner.say("yes")
    [made] = appointments(salon)
    assert made.staff.key in ("sam", "alex")


def test_booking_over_another_booking_offers_the_nearest_free_times(owner, salon):
    booked(salon, customer(salon, "Bob Stone"), "2026-11-20 14:00")
    customer(salon, "Jane Doe", JANE)
    owner.say("book Jane Doe haircut with sam friday at 2")
    owner.expect("Sam isn't free at Fri, Nov 20, 2:00 PM", "Free instead:", "Fri, Nov 20")
    assert len(appointments(salon)) == 1


@pytest.mark.parametrize(
    ("command", "why"),
    [
        ("move #{id} to monday at 10", "We're closed on Mondays"),
        ("move #{id} to dec 29 at 10", "Sam is away on Tue, Dec 29"),
        ("reschedule #{id} to thursday at 9", "Sam works 11:00-20:00 on Thursdays"),
    ],
)
def test_moving_to_an_impossible_time_says_why_and_offers_free_ones(owner, salon, command, why):
    jane = customer(salon, "Jane Doe", JANE)
    appointment = booked(salon, jane, "2026-11-18 10:00")
    owner.say(command.format(id=appointment))
    owner.expect(why, "Free instead:")
    picked = owner.options[0]
    owner.press(picked)
    owner.expect(f"to {picked}?")
    owner.say("yes")
    owner.expect("Moved:")
    [moved] = appointments(salon)
    assert moved.starts_at != local("2026-11-18 10:00")


@pytest.mark.parametrize("command", ["no show #{id}", "no-show #{id}", "jane didn't show"])
def test_a_no_show_waits_until_the_appointment_has_started(owner, salon, command):
    jane = customer(salon, "Jane Doe", JANE)
    appointment = booked(salon, jane, "2026-11-17 15:00")
    owner.say(command.format(id=appointment))
    owner.expect("hasn't started yet", "anyway")
    assert appointments(salon)[0].status == "booked"
    owner.wait(hours=7, minutes=15)  # 15:15: it has started
    owner.say(command.format(id=appointment))
    owner.expect("as a no-show?")
    owner.say("yes")
    assert appointments(salon)[0].status == NO_SHOW


def test_a_no_show_can_be_forced_with_anyway(owner, salon):
    appointment = booked(salon, customer(salon, "Jane Doe", JANE), "2026-11-17 15:00")
    owner.say(f"no-show #{appointment} anyway")
    owner.expect("as a no-show?")
    owner.say("yes")
    assert appointments(salon)[0].status == NO_SHOW


@pytest.mark.parametrize(
    ("steps", "reason"),
    [
        (["cancel #{id} because Sam is ill", "yes"], "Sam is ill"),
        (["cancel #{id}", "Sam is ill", "yes"], "Sam is ill"),
        (["cancel #{id}", "yes, the salon has a burst pipe"], "the salon has a burst pipe"),
        (["cancel #{id}", "reason: power cut"], None),
        (["cancel #{id} - Sam is off sick", "yes"], "Sam is off sick"),
        (["cancel #{id}: the boiler broke", "yes"], "the boiler broke"),
    ],
)
def test_the_cancel_reason_reaches_the_customer_whenever_it_is_typed(owner, salon, steps, reason):
    appointment = booked(salon, customer(salon, "Jane Doe", JANE), "2026-11-18 10:00")
    for step in steps:
        owner.say(step.format(id=appointment))
    if reason is None:  # a reason alone asks once more
        owner.expect('with the reason "power cut"')
        owner.press("Yes")
        reason = "power cut"
    owner.expect("Cancelled #")
    assert appointments(salon)[0].status == CANCELLED
    notice = [t for t in notices_to(salon, JANE) if t.startswith("Cancelled")]
    assert notice and f"Reason: {reason}." in notice[0]
    with salon.read() as session:
        assert session.get(Appointment, appointment).cancel_reason == reason


def test_a_new_command_at_the_cancel_question_is_not_a_reason(owner, salon):
    appointment = booked(salon, customer(salon, "Jane Doe", JANE), "2026-11-18 10:00")
    owner.say(f"cancel #{appointment}")
    owner.say("today")
    owner.expect("Nothing booked")
    assert appointments(salon)[0].status == "booked"


@pytest.mark.parametrize("typed", ["11:15", "the second one", "2"])
def test_a_free_time_offered_instead_can_be_typed(owner, salon, typed):
    customer(salon, "Jane Doe", JANE)
    owner.say("book jane doe haircut with sam friday at 9")
    owner.expect("Free instead:", "Fri, Nov 20, 11:15 AM")
    owner.say(typed)
    owner.expect("Book Haircut with Sam for Jane Doe, Fri, Nov 20, 11:15 AM?")


@pytest.mark.parametrize("command", ["cancel jane because she's ill", "cancel Jane Doe due to flu"])
def test_a_cancel_by_name_with_a_reason_finds_the_customer(owner, salon, command):
    booked(salon, customer(salon, "Jane Doe", JANE), "2026-11-18 10:00")
    owner.say(command)
    owner.expect("Cancel", "Jane Doe", "reason:")
    owner.say("yes")
    assert appointments(salon)[0].status == CANCELLED
