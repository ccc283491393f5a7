"""Booking dialogues off the happy path, on the demo salon (SQLite and PostgreSQL).

Times read against what is on screen, the safety rule (no day, time or staff member the
customer did not say, pick or accept), questions in passing at any step, open questions
that don't swallow requests, corrections at any step, and holds only once proposed.

Monday 16 Nov 2026, 10:00 in New York (the salon is closed on Mondays). Sam works Tue/Wed
9-17 and Thu/Fri 11-20; Alex has Wednesdays off; Priya alone does facials.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.config import apply_config, load_config
from bot.messaging.messages import SMS
from storage.db import Database
from storage.models import Appointment, Customer, SlotHold
from tests.conftest import DEMO_CONFIG
from tests.dialogue import Chat
from tests.factories import local

NOW = local("2026-11-16 10:00")
WED_MORNING = "haircut with sam on wednesday morning, I'm Lou"


@pytest.fixture
def salon(db: Database) -> Database:
    apply_config(db, load_config(DEMO_CONFIG))
    return db


@pytest.fixture
def chat(salon: Database) -> Chat:
    return Chat(salon, NOW)


@pytest.fixture
def sms(salon: Database) -> Chat:
    return Chat(salon, NOW, channel=SMS, sender="+12125550177")


def booked(db: Database) -> list[tuple[str, str, object]]:
    with db.read() as session:
        rows = session.scalars(select(Appointment).order_by(Appointment.id)).all()
        return [(r.service.key, r.staff.key, r.starts_at) for r in rows]


def holds(db: Database) -> list[object]:
    with db.read() as session:
        return [h.starts_at for h in session.scalars(select(SlotHold)).all()]


def notes_of(db: Database) -> list[str]:
    with db.read() as session:
        return [c.notes for c in session.scalars(select(Customer)).all()]


def count_appointments(db: Database) -> int:
    with db.read() as session:
        return session.scalar(select(func.count()).select_from(Appointment)) or 0


# --- 1. times read against what is on screen ----------------------------------------------


@pytest.mark.parametrize(
    ("typed", "proposed", "at"),
    [
        ("11:45", "Wed, Nov 18, 11:45 AM", "2026-11-18 11:45"),
        ("could I do 11.30 instead", "Wed, Nov 18, 11:30 AM", "2026-11-18 11:30"),
        ("half past eleven?", "Wed, Nov 18, 11:30 AM", "2026-11-18 11:30"),
        ("quarter past 3?", "Wed, Nov 18, 3:15 PM", "2026-11-18 15:15"),
    ],
)
def test_a_time_typed_under_a_days_times_means_that_day(chat, salon, typed, proposed, at):
    chat.say(WED_MORNING)
    chat.expect("Here's what I have", "Wed, Nov 18")
    chat.say(typed)
    chat.expect("shall I book", proposed)
    chat.expect_not("Mon, Nov 16", "Tue, Nov 17")
    chat.say("yes")
    [(service, staff, start)] = booked(salon)
    assert (service, staff) == ("haircut", "sam")
    assert start == local(at)


@pytest.mark.parametrize("typed", ["how about 3", "3 maybe?", "is 3 possible"])
def test_a_number_that_can_be_an_option_or_a_time_of_that_day_is_asked_about(chat, typed):
    chat.say(WED_MORNING)
    chat.say(typed)
    chat.expect("3:00 PM, or option 3", "Wed, Nov 18, 9:30 AM")
    chat.press("Wed, Nov 18, 3:00 PM")
    chat.expect("Lou, shall I book this?", "Wed, Nov 18, 3:00 PM")


def test_the_option_reading_of_an_ambiguous_number_picks_that_option(chat):
    chat.say(WED_MORNING)
    chat.say("how about 3")
    chat.press("Option 3")
    chat.expect("shall I book", "Wed, Nov 18, 9:30 AM")


def test_a_lone_number_still_picks_that_option(chat):
    chat.say(WED_MORNING)
    chat.say("2")
    chat.expect("shall I book", "Wed, Nov 18, 9:15 AM")


@pytest.mark.parametrize("typed", ["maybe 4?", "4 works better", "can you do 4"])
def test_a_number_that_cannot_be_an_option_is_a_time_of_that_day(sms, typed):
    sms.say(WED_MORNING)
    sms.expect("Wed, Nov 18")
    sms.say(typed)
    sms.expect("shall I book", "Wed, Nov 18, 4:00 PM")
    sms.expect_not("Mon, Nov 16")


@pytest.mark.parametrize("typed", ["something later?", "a little later please", "any later"])
def test_later_means_after_the_times_on_screen_that_day(chat, typed):
    chat.say(WED_MORNING)
    chat.say(typed)
    chat.expect("Here's what I have for Wed, Nov 18, after 10:00 AM")
    starts = [o for o in chat.options if "with Sam" in o]
    assert starts and all(o.startswith("Wed, Nov 18,") for o in starts)
    assert all(o not in starts for o in ("Wed, Nov 18, 10:00 AM with Sam",))


@pytest.mark.parametrize("typed", ["bit earlier?", "anything earlier", "slightly earlier pls"])
def test_earlier_means_before_the_proposal_that_day(chat, typed):
    chat.say("colour with alex thursday at 2, im Ray")
    chat.expect("Ray, shall I book this?", "Thu, Nov 19, 2:00 PM")
    chat.say(typed)
    chat.expect("before 2:00 PM")
    slots = [o for o in chat.options if "with Alex" in o]
    assert slots and all(o.startswith("Thu, Nov 19,") for o in slots)


@pytest.mark.parametrize("typed", ["got anything past 3", "any after 3 pm?", "after 3 then"])
def test_a_window_typed_under_a_days_times_is_on_that_day(chat, typed):
    chat.say(WED_MORNING)
    chat.say(typed)
    slots = [o for o in chat.options if "with Sam" in o]
    assert slots, chat.log()
    assert all(o.startswith("Wed, Nov 18,") and "PM" in o for o in slots), chat.log()


@pytest.mark.parametrize(
    ("change", "day"),
    [
        ("oops, thursday instead", "Thu, Nov 19"),
        ("hmm make it friday", "Fri, Nov 20"),
        ("actually saturday would be better", "Sat, Nov 21"),
    ],
)
def test_a_change_of_day_while_the_name_is_asked_is_applied(chat, salon, change, day):
    chat.say("haircut with sam wednesday at 2")
    chat.expect("What name")
    chat.say(change)
    chat.expect(f"{day}, 2:00 PM then", "What name")
    chat.say("Noor")
    chat.expect("Noor, shall I book this?", f"{day}, 2:00 PM")
    chat.expect_not("Wed, Nov 18")


# --- 2. the safety rule -------------------------------------------------------------------


def test_naming_someone_who_does_not_do_it_keeps_the_staff_already_chosen(chat, salon):
    chat.say("haircut with alex friday at 3, I'm Mo")
    chat.expect("Haircut with Alex")
    chat.say("priya instead")
    chat.expect("Priya doesn't do haircuts", "Mo, shall I book this?", "Haircut with Alex")
    chat.say("yes")
    assert booked(salon) == [("haircut", "alex", local("2026-11-20 15:00"))]


@pytest.mark.parametrize(
    ("request_", "who", "doers"),
    [
        ("facial with sam on friday at 11, I'm Kit", "Sam doesn't do facials", "Priya does"),
        ("beard trim with priya saturday, I'm Kit", "Priya doesn't do beard trims", "Jordan"),
        ("colour with jordan sunday, I'm Kit", "Jordan doesn't do colours", "Sam or Alex do"),
    ],
)
def test_a_staff_member_who_does_not_do_the_service_is_said_so_not_swapped(
    chat, salon, request_, who, doers
):
    chat.say(request_)
    chat.expect(who, doers)
    assert booked(salon) == []


def test_the_only_one_who_does_the_service_is_named_in_the_proposal(chat, salon):
    chat.say("facial with sam on friday at 11, I'm Kit")
    chat.expect("Sam doesn't do facials; Priya does.", "Facial with Priya", "Fri, Nov 20, 11:00")
    chat.say("yes")
    assert booked(salon) == [("facial", "priya", local("2026-11-20 11:00"))]


@pytest.mark.parametrize(
    "request_",
    ["haircut with alex on wednesday", "alex for a haircut wed afternoon", "cut with alex weds"],
)
def test_a_staff_members_day_off_is_explained_with_who_else_is_free(chat, salon, request_):
    chat.say(request_)
    chat.expect("Alex doesn't work Wednesdays", "Alex works Tue, Thu-Sun", "Others are free")
    offered = [o for o in chat.options if o.startswith("Wed, Nov 18")]
    assert offered and all("with Alex" not in o for o in offered)
    assert booked(salon) == [] and holds(salon) == []


@pytest.mark.parametrize(
    "request_",
    [
        "haircut with anyone monday at 11",
        "beard trim with sam on monday",
        "any chance of a facial mon afternoon",
    ],
)
def test_a_closed_weekday_is_explained_with_the_next_open_day(chat, request_):
    chat.say(request_)
    chat.expect("We're closed on Mondays", "Tue, Nov 17")
    chat.expect_not("isn't free")
    assert all(not o.startswith("Mon") for o in chat.options)


def test_a_holiday_is_explained_with_its_reason(chat):
    chat.say("beard trim with sam on nov 26 at noon")
    chat.expect("We're closed on Thu, Nov 26 (Thanksgiving)", "Fri, Nov 27")


def test_every_proposal_names_the_weekday_and_the_date(chat):
    chat.say("haircut with sam tomorrow at 4, I'm Lou")
    chat.expect("Tue, Nov 17, 4:00 PM")
    chat.say("make it 11 instead")
    chat.expect("Tue, Nov 17, 11:00 AM")


# --- 3. questions in passing -----------------------------------------------------------


@pytest.mark.parametrize(
    "question",
    ["how much would a facial be?", "what do you charge for a beard trim", "price list?"],
)
def test_a_price_question_is_answered_and_starts_no_booking(chat, salon, question):
    chat.say(question)
    chat.expect("$")
    chat.expect_not("any preference", "When would you like", "What would you like to book")
    chat.say("thanks")
    chat.expect("You're welcome")


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("are you guys open sundays?", "on Sundays we're open 10:00 AM-4:00 PM"),
        ("r u open on monday", "We're closed on Mondays"),
        ("what time do you close on thursday?", "9:00 AM-8:00 PM"),
        ("open late on fridays?", "on Fridays we're open 9:00 AM-8:00 PM"),
        ("you guys open on thanksgiving?", "We're closed on Thu, Nov 26 (Thanksgiving)"),
    ],
)
def test_opening_hours_on_a_day_are_answered(chat, question, answer):
    chat.say(question)
    chat.expect(answer)
    chat.expect_not("Here's what I have", "waitlist")


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("does priya work sundays", "Yes, Priya works Sundays"),
        ("is jordan in on tuesday?", "Jordan doesn't work Tuesdays"),
        ("what days does alex work", "Alex works Tue, Thu-Sun"),
    ],
)
def test_which_days_a_staff_member_works_is_answered(chat, salon, question, answer):
    chat.say(question)
    chat.expect(answer)
    chat.expect_not("Here's what I have", "waitlist")
    assert holds(salon) == []


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("do I need a deposit for colour?", "$24.00 deposit"),
        ("what's your cancellation policy", "up to 24 hours before"),
        ("is there parking near you?", "214 Grand St"),
        ("how long does a facial take", "60 min"),
        ("any holidays coming up?", "Thanksgiving"),
        ("is parking available?", "For parking"),
        ("what happens if i dont show up", "$25.00"),
    ],
)
def test_policies_place_and_durations_are_answered_when_idle(chat, question, answer):
    chat.say(question)
    chat.expect(answer)


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("how long does it take?", "A facial takes 60 min"),
        ("do i need to pay a deposit", "No deposit needed for a facial"),
        ("what does it cost", "Facial (60 min): $85.00"),
    ],
)
def test_a_question_about_it_while_booking_means_the_service_being_booked(chat, question, answer):
    chat.say("facial tuesday")
    chat.expect("Here's what I have", "with Priya")
    chat.say(question)
    chat.expect(answer, "Here are the times again")
    chat.expect_not("Haircut")


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("quick q, what's the price of a colour?", "Colour (90 min): $120.00"),
        ("does jordan work saturdays?", "Yes, Jordan works Saturdays"),
        ("when do you shut on sunday?", "10:00 AM-4:00 PM"),
    ],
)
def test_a_question_at_each_step_is_answered_and_the_step_asked_again(
    chat, salon, question, answer
):
    chat.say("haircut")
    chat.expect("any preference")
    chat.say(question)
    chat.expect(answer, "any preference")
    chat.say("sam")
    chat.expect("When would you like")
    chat.say(question)
    chat.expect(answer, "When would you like")
    chat.say("wednesday morning")
    chat.say(question)
    chat.expect(answer, "Here are the times again", "Wed, Nov 18")
    chat.say("the first one")
    chat.expect("What name")
    chat.say(question)
    chat.expect(answer, "What name")
    chat.say("Ola")
    chat.say(question)
    chat.expect(answer, "Ola, shall I book this?", "Haircut with Sam", "Wed, Nov 18, 9:00 AM")
    chat.say("yes")
    assert booked(salon) == [("haircut", "sam", local("2026-11-18 09:00"))]


# --- 4. open questions don't swallow requests --------------------------------------------


def _booked_and_asked_for_notes(chat: Chat) -> None:
    chat.say("haircut with sam tomorrow at 11, I'm Jo")
    chat.say("yes")
    chat.expect("You're booked", "allergies")


@pytest.mark.parametrize(
    ("reply", "answer"),
    [
        ("what have I got booked", "Haircut"),
        ("show me my bookings", "Haircut"),
        ("can I move it to thursday", "Thu"),
    ],
)
def test_a_request_at_the_notes_question_is_handled_not_noted(chat, salon, reply, answer):
    _booked_and_asked_for_notes(chat)
    chat.say(reply)
    chat.expect(answer)
    chat.expect_not("noted")
    assert notes_of(salon) == [""]


@pytest.mark.parametrize(
    "reply", ["is there parking?", "how much is a beard trim", "and a beard trim on saturday at 10"]
)
def test_a_question_or_new_booking_at_the_notes_question_is_not_a_note(chat, salon, reply):
    _booked_and_asked_for_notes(chat)
    chat.say(reply)
    chat.expect_not("noted")
    assert notes_of(salon) == [""]


def test_a_real_note_is_still_kept(chat, salon):
    _booked_and_asked_for_notes(chat)
    chat.say("my scalp is sensitive to strong products")
    chat.expect("noted")
    assert notes_of(salon) == ["my scalp is sensitive to strong products"]


@pytest.mark.parametrize(
    ("reply", "answer"),
    [
        ("actually just show my appointments", "no upcoming"),
        ("how much is it?", "Haircut (45 min): $45.00"),
        ("forget it, cancel", "stopped that booking"),
    ],
)
def test_a_request_at_the_name_question_is_handled_not_taken_as_a_name(chat, salon, reply, answer):
    chat.say("haircut with sam wednesday at 2")
    chat.expect("What name")
    chat.say(reply)
    chat.expect(answer)
    with salon.read() as session:
        assert session.scalars(select(Customer.name)).all() == [None]


@pytest.mark.parametrize("name", ["Ana Rates", "Will Parks", "Lee Hours"])
def test_a_name_with_a_question_word_in_it_is_still_a_name(chat, salon, name):
    chat.say("haircut with sam wednesday at 2")
    chat.expect("What name")
    chat.say(name)
    chat.expect(f"{name.split()[0]}, shall I book this?")
    with salon.read() as session:
        assert session.scalars(select(Customer.name)).all() == [name]


# --- 5. corrections at any step ----------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "lead", "summary"),
    [
        ("no wait, 5 instead", "Thu, Nov 19, 5:00 PM then.", "Colour with Alex"),
        ("switch to sam please", "With Sam then.", "Thu, Nov 19"),
        ("hmm make it saturday", "Sat, Nov 21, 2:00 PM then.", "Colour with Alex"),
    ],
)
def test_a_correction_at_the_confirmation_keeps_the_rest_and_says_what_changed(
    chat, salon, change, lead, summary
):
    chat.say("colour with alex thursday at 2, im Ray")
    chat.expect("Ray, shall I book this?")
    chat.say(change)
    chat.expect(lead, summary)
    chat.expect_not("What name", "What would you like to book")


def test_a_change_of_service_at_the_name_question_keeps_the_day_and_staff(chat):
    chat.say("haircut with sam wednesday at 2")
    chat.expect("What name")
    chat.say("actually make it a colour")
    chat.expect("A colour then.")
    chat.say("Ray")
    chat.expect("Colour with Sam", "Wed, Nov 18, 2:00 PM")


# --- 6. holds only once proposed -----------------------------------------------------------


def test_nothing_is_held_until_a_slot_is_proposed_for_confirmation(chat, salon):
    chat.say("haircut with sam on wednesday morning")
    assert holds(salon) == []
    chat.say("the second one")
    chat.expect("What name")
    assert holds(salon) == []
    chat.say("Lou")
    chat.expect("Lou, shall I book this?")
    assert holds(salon) == [local("2026-11-18 09:15")]


@pytest.mark.parametrize("bail", ["never mind", "forget it", "start over"])
def test_a_hold_is_released_at_once_when_the_customer_backs_out(chat, salon, bail):
    chat.say("haircut with sam wednesday at 2, I'm Lou")
    chat.expect("shall I book")
    assert holds(salon) == [local("2026-11-18 14:00")]
    chat.say(bail)
    assert holds(salon) == []
    assert count_appointments(salon) == 0


def test_a_change_or_a_new_list_releases_the_old_hold(chat, salon):
    chat.say("haircut with sam wednesday at 2, I'm Lou")
    assert holds(salon) == [local("2026-11-18 14:00")]
    chat.say("make it 3 instead")
    chat.expect("Wed, Nov 18, 3:00 PM")
    assert holds(salon) == [local("2026-11-18 15:00")]
    chat.say("bit later?")
    chat.expect("Here's what I have")
    assert holds(salon) == []
    chat.press("Wed, Nov 18, 3:30 PM")
    assert holds(salon) == [local("2026-11-18 15:30")]
    chat.say("yes")
    assert holds(salon) == []
    assert booked(salon) == [("haircut", "sam", local("2026-11-18 15:30"))]


# A time on its own, once a day is given, is a time of that day (never today's).
@pytest.mark.parametrize(
    ("first", "then", "day"),
    [
        ("haircut friday", "5pm", "Fri, Nov 20"),
        ("beard trim on saturday please", "with jordan around 2", "Sat, Nov 21"),
        ("colour thursday", "sam at 11", "Thu, Nov 19"),
    ],
)
def test_a_time_said_after_the_day_is_on_that_day(chat, first, then, day):
    chat.say(first)
    chat.say(then)
    assert day in chat.text
    assert "Mon, Nov 16" not in chat.text and "Tue, Nov 17" not in chat.text


# A question and a whole request in one message: the answer, and the booking goes on.
@pytest.mark.parametrize(
    "text",
    [
        "how much is a haircut? can i get one tmrw at 3 with sam, Jo",
        "are u open saturday? if so beard trim w alex 11am",
        "do you do facials, how much? priya thursday at 2 if poss",
    ],
)
def test_a_question_with_a_request_in_it_is_answered_and_the_booking_goes_on(chat, text):
    chat.say(text)
    assert "$" in chat.text or "open" in chat.text.lower()
    assert "shall i book" in chat.text.lower() or "what name" in chat.text.lower()
