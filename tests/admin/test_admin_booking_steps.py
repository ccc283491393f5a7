"""The owner's booking as a draft and a steps table: what the first message leaves out is
asked for, a correction at any step keeps the rest, another command drops the booking, and
bookings stored mid-way by the code of before still finish. Tuesday 17 Nov 2026, 08:00."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.config import apply_config, load_config
from conversations.admin.booking import STEPS, OwnerBooking
from storage.db import Database
from storage.models import Appointment, Conversation
from tests.admin.test_admin import NOW, booked, customer
from tests.conftest import DEMO_CONFIG
from tests.dialogue import Chat
from tests.factories import local

JANE = "+12125550201"


@pytest.fixture
def salon(db: Database) -> Database:
    apply_config(db, load_config(DEMO_CONFIG))
    return db


@pytest.fixture
def owner(salon: Database) -> Chat:
    return Chat(salon, NOW, channel="web", sender="owner")


def appointments(db: Database) -> list[Appointment]:
    with db.read() as session:
        rows = list(session.scalars(select(Appointment).order_by(Appointment.id)))
        for row in rows:
            _ = (row.staff.key, row.service.key, row.customer.name)
        return rows


@pytest.mark.parametrize(
    "first, answers",
    [
        ("book Jane Doe", ["haircut", "friday at 4"]),
        ("book Jane Doe friday at 4", ["a haircut please"]),
        ("book Jane Doe haircut", ["fri 4pm"]),
    ],
)
def test_what_the_booking_leaves_out_is_asked_for_one_thing_at_a_time(owner, salon, first, answers):
    customer(salon, "Jane Doe", JANE)
    owner.say(first)
    for reply in answers:
        owner.expect_not("Book Haircut")
        owner.say(reply)
    owner.expect("Book Haircut for Jane Doe, Fri, Nov 20, 4:00 PM?")
    owner.say("yes")
    owner.expect("Booked:")
    [made] = appointments(salon)
    assert made.starts_at == local("2026-11-20 16:00") and made.customer.name == "Jane Doe"


def test_a_new_customers_name_stops_before_the_service_and_the_day(owner, salon):
    owner.say("book Lee Chan haircut with sam friday at 4")
    owner.expect("Book Haircut with Sam for Lee Chan, Fri, Nov 20, 4:00 PM?")
    owner.say("yes")
    [made] = appointments(salon)
    assert made.customer.name == "Lee Chan"


def test_the_service_question_has_the_services_as_buttons(owner, salon):
    owner.say("book Jane Doe thursday at 2")
    owner.expect("Which service for Jane Doe?")
    owner.press("Beard trim")
    owner.expect("Book Beard trim for Jane Doe, Thu, Nov 19, 2:00 PM?")


@pytest.mark.parametrize(
    "correction, expected",
    [
        ("make it 5pm", "Book Haircut with Sam for Jane Doe, Fri, Nov 20, 5:00 PM?"),
        ("actually with alex", "Book Haircut with Alex for Jane Doe, Fri, Nov 20, 4:00 PM?"),
        ("a beard trim instead", "Book Beard trim with Sam for Jane Doe, Fri, Nov 20, 4:00 PM?"),
        ("saturday instead", "Book Haircut with Sam for Jane Doe, Sat, Nov 21, 4:00 PM?"),
    ],
)
def test_a_correction_at_the_question_keeps_the_rest(owner, salon, correction, expected):
    customer(salon, "Jane Doe", JANE)
    owner.say("book Jane Doe haircut with sam friday at 4")
    owner.expect("Book Haircut with Sam for Jane Doe, Fri, Nov 20, 4:00 PM?")
    owner.say(correction)
    owner.expect(expected)
    assert appointments(salon) == []


def test_a_day_word_of_the_agenda_answers_when(owner, salon):
    customer(salon, "Jane Doe", JANE)
    owner.say("book Jane Doe haircut with sam")
    owner.expect("When for Jane Doe's haircut?")
    owner.say("tomorrow at 2")
    owner.expect("Book Haircut with Sam for Jane Doe, Wed, Nov 18, 2:00 PM?")


def test_another_command_at_a_question_drops_the_booking(owner, salon):
    customer(salon, "Jane Doe", JANE)
    owner.say("book Jane Doe haircut with sam")
    owner.say("who owes")
    owner.expect_not("When for", "Book Haircut")
    owner.say("friday at 4")
    owner.expect_not("Book Haircut")
    with salon.read() as session:
        stored = session.scalars(select(Conversation.data)).one()
    assert "owner_booking" not in stored


def test_something_not_understood_gets_the_hint_and_the_booking_waits(owner, salon):
    customer(salon, "Jane Doe", JANE)
    owner.say("book Jane Doe friday at 4")
    owner.say("hmm")
    owner.expect("Which service? Say its name")
    owner.say("haircut")
    owner.expect("Book Haircut for Jane Doe, Fri, Nov 20, 4:00 PM?")


def test_no_at_the_question_books_nothing_and_forgets_it(owner, salon):
    customer(salon, "Jane Doe", JANE)
    owner.say("book Jane Doe haircut friday at 4")
    owner.say("no")
    owner.expect("nothing changed")
    owner.say("yes")
    assert appointments(salon) == []


def test_going_back_from_the_question_asks_when_again(owner, salon):
    customer(salon, "Jane Doe", JANE)
    owner.say("book Jane Doe haircut")
    owner.say("friday at 4")
    owner.say("go back")
    owner.expect("When for Jane Doe's haircut?")


# --- bookings stored by the code of before ---------------------------------------------------


def _stored_as_before(db: Database, chat: Chat, step: str, **data: object) -> None:
    with db.write() as session:
        row = session.scalars(select(Conversation).where(Conversation.address == chat.sender)).one()
        row.flow, row.step, row.data = "admin", step, dict(data)


def test_a_book_question_stored_by_the_code_of_before_books_on_yes(owner, salon):
    jane = customer(salon, "Jane Doe", JANE)
    owner.say("today")  # the conversation row
    start = local("2026-11-20 16:00").isoformat()
    pending = {"action": "book", "service": "haircut", "staff": "sam", "start": start}
    _stored_as_before(salon, owner, "confirm", pending={**pending, "customer": jane})
    owner.say("yes")
    owner.expect("Booked:", "Fri, Nov 20, 4:00 PM")
    [made] = appointments(salon)
    assert made.customer.name == "Jane Doe" and made.staff.key == "sam"


def test_a_free_time_list_stored_by_the_code_of_before_can_be_picked(owner, salon):
    jane = customer(salon, "Jane Doe", JANE)
    booked(salon, customer(salon, "Bob Stone"), "2026-11-20 14:00")
    owner.say("today")
    at = local("2026-11-20 16:00")
    key = str(int(at.timestamp()))
    pending = {"action": "book_at", "service": "haircut", "staff": "sam", "customer": jane}
    _stored_as_before(
        salon,
        owner,
        "choose",
        pending={**pending, "label": "Jane Doe", "starts": {key: at.isoformat()}},
        choices=[f"slot:{key}"],
    )
    owner.say("4pm")
    owner.expect("Book Haircut with Sam for Jane Doe, Fri, Nov 20, 4:00 PM?")
    owner.say("yes")
    owner.expect("Booked:")
    assert len(appointments(salon)) == 2


def test_the_pending_dict_of_before_reads_as_a_draft():
    start = "2026-11-20T16:00:00-05:00"
    draft = OwnerBooking.of_pending({"action": "book", "service": "haircut", "start": start})
    assert draft.service == "haircut" and draft.start == draft.asked
    assert draft.start is not None and draft.start.isoformat() == start


def test_the_steps_table_names_every_step_the_booking_asks():
    assert [s.name for s in STEPS.steps] == ["book_what", "book_when", "book_pick", "book_confirm"]


# --- a move is the same draft, knowing its service and staff ---------------------------------


def test_a_move_without_a_time_asks_to_when_and_waits_for_it(owner, salon):
    appointment = booked(salon, customer(salon, "Jane Doe", JANE), "2026-11-18 10:00")
    owner.say(f"move #{appointment}")
    owner.expect("To when?")
    owner.say("saturday at 10")
    owner.expect("Move", "to Sat, Nov 21, 10:00 AM? The customer will be told.")
    owner.say("yes")
    owner.expect("Moved:")
    assert appointments(salon)[0].starts_at == local("2026-11-21 10:00")


@pytest.mark.parametrize(
    "correction, new_start",
    [("make it 11", "2026-11-21 11:00"), ("friday instead", "2026-11-20 14:00")],
)
def test_a_correction_at_the_move_question_keeps_the_rest(owner, salon, correction, new_start):
    appointment = booked(salon, customer(salon, "Jane Doe", JANE), "2026-11-18 10:00")
    owner.say(f"move #{appointment} to saturday at 2")
    owner.expect("to Sat, Nov 21, 2:00 PM?")
    owner.say(correction)
    when = local(new_start)
    owner.expect(when.strftime("to %a, %b %-d, ") + when.strftime("%-I:%M %p") + "?")
    owner.say("yes")
    assert appointments(salon)[0].starts_at == when


def test_a_move_by_name_picked_from_two_goes_on_with_the_time_said(owner, salon):
    jane = customer(salon, "Jane Doe", JANE)
    booked(salon, jane, "2026-11-18 10:00")
    booked(salon, jane, "2026-11-19 12:00")
    owner.say("move jane to saturday at 10")
    owner.expect("Which one?")
    owner.press("Wed, Nov 18")
    owner.expect("to Sat, Nov 21, 10:00 AM?")


def test_a_move_question_stored_by_the_code_of_before_moves_on_yes(owner, salon):
    appointment = booked(salon, customer(salon, "Jane Doe", JANE), "2026-11-18 10:00")
    owner.say("today")
    start = local("2026-11-21 10:00")
    pending = {"action": "move", "appointment": appointment, "start": start.isoformat()}
    _stored_as_before(salon, owner, "confirm", pending=pending)
    owner.say("yes")
    owner.expect("Moved:")
    assert appointments(salon)[0].starts_at == start


def test_a_move_list_stored_by_the_code_of_before_can_be_picked(owner, salon):
    appointment = booked(salon, customer(salon, "Jane Doe", JANE), "2026-11-18 10:00")
    owner.say("today")
    at = local("2026-11-21 11:00")
    key = str(int(at.timestamp()))
    pending = {"action": "move_at", "appointment": appointment, "starts": {key: at.isoformat()}}
    _stored_as_before(salon, owner, "choose", pending=pending, choices=[f"slot:{key}"])
    owner.say("11am")
    owner.expect("to Sat, Nov 21, 11:00 AM? The customer will be told.")
    owner.say("yes")
    assert appointments(salon)[0].starts_at == at
