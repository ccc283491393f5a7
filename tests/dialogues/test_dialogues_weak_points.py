"""Weak points of the booking dialogue, each said several ways (SQLite and PostgreSQL).

Cancel typed in the middle of a booking, the service asked about kept for "ok book one",
a short day word right next to "with", and opening hours and the move flow in the demo
locale's 12-hour clock.

Monday 16 Nov 2026, 10:00 in New York, on the demo salon (closed on Mondays).
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.config import apply_config, load_config
from storage.db import Database
from storage.models import CANCELLED, Appointment
from tests.conftest import DEMO_CONFIG
from tests.dialogue import Chat
from tests.factories import local

NOW = local("2026-11-16 10:00")


@pytest.fixture
def salon(db: Database) -> Database:
    apply_config(db, load_config(DEMO_CONFIG))
    return db


@pytest.fixture
def chat(salon: Database) -> Chat:
    return Chat(salon, NOW)


def statuses(db: Database) -> list[str]:
    with db.read() as session:
        return [a.status for a in session.scalars(select(Appointment).order_by(Appointment.id))]


def book_friday_haircut(chat: Chat) -> None:
    chat.say("haircut with sam friday at 4pm, I'm Lou")
    chat.press("Yes")
    chat.say("no")  # the notes question


# --- cancel typed in the middle of a booking ---------------------------------------------


@pytest.mark.parametrize("word", ["cancel", "cancel that", "scrap that"])
def test_cancel_during_a_booking_with_nothing_booked_just_stops_it(chat, salon, word):
    chat.say("colour with alex saturday")
    chat.say(word)
    chat.expect("stopped that booking", "Anything else?")
    chat.expect_not("Did you also want")
    chat.say("yes")  # nothing is pending: no cancellation, no booking
    assert statuses(salon) == []


@pytest.mark.parametrize(
    "request_",
    [
        "actually cancel my friday appointment",
        "cancel my haircut please",
        "wait, cancel the booking I have",
    ],
)
def test_cancel_of_a_booked_appointment_during_a_booking_stops_it_and_offers_that_one(
    chat, salon, request_
):
    book_friday_haircut(chat)
    chat.say("facial tuesday")
    chat.say(request_)
    chat.expect("stopped the new booking", "Cancel Haircut with Sam, Fri, Nov 20, 4:00 PM?")
    chat.press("Yes, cancel it")
    assert statuses(salon) == [CANCELLED]


@pytest.mark.parametrize("answer", ["yes", "yes please", "[Cancel that one too]"])
def test_a_plain_cancel_during_a_booking_asks_about_the_one_already_booked(chat, salon, answer):
    book_friday_haircut(chat)
    chat.say("beard trim with jordan")
    chat.say("cancel")
    chat.expect("stopped that booking", "cancel your Haircut, Fri, Nov 20, 4:00 PM?")
    if answer.startswith("["):
        chat.press(answer[1:-1])
    else:
        chat.say(answer)
    chat.expect("Cancel Haircut with Sam, Fri, Nov 20, 4:00 PM?")
    chat.press("Yes, cancel it")
    assert statuses(salon) == [CANCELLED]


@pytest.mark.parametrize("answer", ["no", "no thanks", "[No, keep it]"])
def test_declining_to_cancel_the_booked_one_keeps_it(chat, salon, answer):
    book_friday_haircut(chat)
    chat.say("facial on saturday")
    chat.say("cancel")
    if answer.startswith("["):
        chat.press(answer[1:-1])
    else:
        chat.say(answer)
    chat.expect("stays as it is")
    assert statuses(salon) == ["booked"]


# --- the service asked about is the one booked next --------------------------------------


@pytest.mark.parametrize(
    "question, follow_up, service",
    [
        ("how much is a colour?", "ok book one", "Colour"),
        ("what do you charge for a facial", "great, book me in", "Facial"),
        ("how long does a beard trim take?", "can I book one for friday at 4pm?", "Beard trim"),
    ],
)
def test_a_booking_right_after_a_price_question_keeps_that_service(
    chat, question, follow_up, service
):
    chat.say(question)
    chat.expect_not("shall I book")
    chat.say(follow_up)
    chat.expect_not("What would you like to book?")
    chat.expect(service)


def test_a_service_named_after_the_question_wins_over_the_one_asked_about(chat):
    chat.say("how much is a colour?")
    chat.say("actually book me a haircut")
    chat.expect("Haircut: any preference")


# --- a short day word next to "with" ------------------------------------------------------


@pytest.mark.parametrize(
    "request_, when",
    [
        ("haircut sat with sam at 2, I'm Lou", "Sat, Nov 21, 2:00 PM"),
        ("beard trim sun w/ jordan at 11am, I'm Lou", "Sun, Nov 22, 11:00 AM"),
        ("colour wed with sam at 10, I'm Lou", "Wed, Nov 18, 10:00 AM"),
    ],
)
def test_a_short_day_word_right_before_with_is_the_day(chat, request_, when):
    chat.say(request_)
    chat.expect("shall I book this?", when)


def test_a_day_word_after_a_pronoun_is_not_a_day(chat):
    chat.say("haircut with sam tuesday at 2, I sat with Sam last time, I'm Lou")
    chat.expect("Tue, Nov 17, 2:00 PM")


# --- the demo locale's 12-hour clock ------------------------------------------------------


@pytest.mark.parametrize(
    "question, answer",
    [
        ("open sunday?", "we're open 10:00 AM-4:00 PM"),
        ("what are your hours?", "Tue-Wed 9:00 AM-7:00 PM"),
        ("does alex work tuesdays?", "10:00 AM-7:00 PM"),
    ],
)
def test_opening_hours_are_told_in_the_locales_clock(chat, question, answer):
    chat.say(question)
    chat.expect(answer)
    chat.expect_not("19:00", "16:00")


def test_a_closed_day_names_the_next_open_day_in_the_locales_clock(chat):
    chat.say("haircut with sam on thanksgiving at 2")
    chat.expect("closed", "9:00 AM-8:00 PM")
    chat.expect_not("20:00")


@pytest.mark.parametrize(
    "request_, header",
    [
        ("move my haircut to saturday afternoon", "Sat, Nov 21"),
        ("can I move it to thursday after 3", "after 3:00 PM"),
        ("reschedule my appointment to friday between 2 and 5", "2:00 PM"),
    ],
)
def test_the_move_flow_lists_times_under_a_header_in_the_locales_clock(chat, request_, header):
    book_friday_haircut(chat)
    chat.say(request_)
    chat.expect("Here's what Sam has", header)
    chat.expect_not("15:00", "14:00", "17:00")


# --- several services in one visit, and booking for someone else -------------------------


def visits(db: Database) -> list[tuple[str, str, str, str | None, str | None]]:
    with db.read() as session:
        rows = session.scalars(select(Appointment).order_by(Appointment.starts_at)).all()
        return [
            (
                r.service.key,
                r.staff.key,
                r.starts_at.astimezone(NOW.tzinfo).strftime("%a %H:%M"),
                r.attendee,
                r.customer.name,
            )
            for r in rows
        ]


@pytest.mark.parametrize(
    "request_",
    [
        "cut and a beard trim after with sam saturday at 2, I'm Lou",
        "haircut plus beard trim, sat 2pm with sam - this is Lou",
        "can I get a haircut then a beard trim w/ sam on saturday at 2? I'm Lou",
    ],
)
def test_two_services_in_one_visit_are_booked_back_to_back_with_one_confirmation(
    chat, salon, request_
):
    chat.say(request_)
    chat.expect(
        "Lou, shall I book this?",
        "Haircut with Sam\nSat, Nov 21, 2:00 PM",
        "Then: Beard trim with Sam, 2:55 PM",
    )
    chat.say("yes")
    assert visits(salon) == [
        ("haircut", "sam", "Sat 14:00", None, "Lou"),
        ("beard-trim", "sam", "Sat 14:55", None, "Lou"),
    ]


def test_the_rest_of_a_visit_goes_to_whoever_does_it(chat, salon):
    chat.say("colour with alex and a facial after, saturday at 9:30, I'm Lou")
    chat.expect("Colour with Alex", "Then: Facial with Priya, 11:15 AM")
    chat.say("yes")
    assert [v[:3] for v in visits(salon)] == [
        ("colour", "alex", "Sat 09:30"),
        ("facial", "priya", "Sat 11:15"),
    ]


def test_a_start_is_offered_only_when_the_whole_visit_fits(chat, salon):
    # Sam's Saturday ends at 17:00: a 4:15 haircut fits, a beard trim after it does not.
    chat.say("haircut and beard trim with sam saturday at 4:15pm, I'm Lou")
    chat.expect("isn't free")
    chat.expect_not("shall I book")
    assert visits(salon) == []


@pytest.mark.parametrize("change", ["actually just the haircut", "only a haircut please"])
def test_dropping_a_service_from_the_visit_books_the_one_left(chat, salon, change):
    chat.say("haircut and beard trim with sam saturday at 2, I'm Lou")
    chat.say(change)
    chat.expect("shall I book this?", "Haircut with Sam")
    chat.expect_not("Then:")
    chat.say("yes")
    assert [v[0] for v in visits(salon)] == ["haircut"]


@pytest.mark.parametrize(
    "request_, attendee",
    [
        ("it's for my son Leo: a haircut and a beard trim with sam saturday at 2, I'm Ana", "Leo"),
        ("haircut with sam sat at 2 for my wife, Mia Ross. I'm Ana", "Mia Ross"),
        ("my daughter Zoe needs a haircut with sam on saturday at 2 - Ana here", "Zoe"),
    ],
)
def test_a_visit_for_someone_else_names_them_and_keeps_the_booker_as_contact(
    chat, salon, request_, attendee
):
    chat.say(request_)
    chat.expect("Ana, shall I book this?", f"For: {attendee}")
    chat.say("yes")
    made = visits(salon)
    assert made and all(v[3] == attendee and v[4] == "Ana" for v in made)


# --- an hour typed is that hour, not an option in the same hour ---------------------------


@pytest.mark.parametrize(
    "change",
    ["make it wednesday at 11", "actually wed at 11 please", "can I do 11am on wednesday?"],
)
def test_an_hour_typed_under_a_list_is_that_hour_not_an_option_within_it(chat, change):
    chat.say("haircut with sam wednesday after 11:40, I'm Lou")
    chat.expect("11:45 AM")
    chat.expect_not("11:00 AM")
    chat.say(change)
    chat.expect("shall I book this?", "Wed, Nov 18, 11:00 AM")
    chat.expect_not("11:45")


@pytest.mark.parametrize(
    "request_, when",
    [
        ("facial with priya saturday nov 21 10 am, I'm Lou", "Sat, Nov 21, 10:00 AM"),
        ("facial with priya dec 3 10 am, I'm Lou", "Thu, Dec 3, 10:00 AM"),
        ("facial with priya on nov 20 11 am please, I'm Lou", "Fri, Nov 20, 11:00 AM"),
    ],
)
def test_a_date_followed_by_an_hour_is_that_date_at_that_hour(chat, request_, when):
    chat.say(request_)
    chat.expect("shall I book this?", when)


@pytest.mark.parametrize(
    "request_, relation, answer",
    [
        ("my wife needs a haircut with sam saturday at 2, I'm Ana", "wife", "Mia"),
        ("haircut for my son with sam sat at 2pm - Ana here", "son", "his name is Leo"),
        ("can my daughter get a haircut w/ sam saturday at 2? I'm Ana", "daughter", "zoe"),
    ],
)
def test_a_relation_without_a_name_is_asked_for_the_attendees_name(
    chat, salon, request_, relation, answer
):
    chat.say(request_)
    chat.expect(f"what's your {relation}'s name")
    chat.say(answer)
    chat.expect("Ana, shall I book this?", "For: ")
    chat.say("yes")
    made = visits(salon)
    assert len(made) == 1 and made[0][3] in ("Mia", "Leo", "Zoe") and made[0][4] == "Ana"


def test_saying_the_booking_is_ones_own_after_all_names_no_attendee(chat, salon):
    chat.say("haircut for my husband with sam sat at 2, I'm Ana")
    chat.say("actually it's for me")
    chat.expect("Ana, shall I book this?")
    chat.expect_not("For:")
    chat.say("yes")
    assert visits(salon)[0][3] is None


@pytest.mark.parametrize(
    "change", ["no wait, 12/31", "sorry I meant dec 31", "oops, thursday dec 31"]
)
def test_a_day_typed_under_a_list_of_another_day_is_that_day_not_an_option(chat, change):
    # Jordan is away from Jan 2: Priya's times that day are listed, 12:00 PM among them.
    chat.say("30 minute massage jan 2 with jordan at 12:00, I'm Dee")
    chat.expect("Jordan is away", "Sat, Jan 2, 12:00 PM with Priya")
    chat.say(change)
    chat.expect_not("Sat, Jan 2, 12:00 PM (30 min)")
    chat.expect("Thu, Dec 31")


@pytest.mark.parametrize(
    "request_",
    [
        "haircut and a beard trim after, saturday at 2 with sam",
        "cut + beard trim w sam sat 2pm",
        "could i do a haircut then beard trim on saturday at 2, with sam",
    ],
)
def test_the_name_question_says_the_whole_visit_and_its_time(chat, salon, request_):
    chat.say(request_)
    chat.expect(
        "Haircut with Sam, then Beard trim with Sam, Sat, Nov 21, 2:00 PM is free", "What name"
    )
    chat.say("Lou Park")
    chat.expect("Lou, shall I book this?", "Then: Beard trim with Sam, 2:55 PM")
