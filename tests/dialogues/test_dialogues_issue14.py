"""Issue 14's capabilities said in more ways (SQLite and PostgreSQL): the gaps the audit of
the other dialogue files found, and the classes the red-team conversations broke.

Questions in passing (the price list, the address, holidays, deposits and the cancellation
policy in other words, who does a service), corrections at the name and staff questions,
every proposal naming its weekday and date, requests at the notes question, holds only
once proposed, services named inflected ("coloured") and names signed at the end ("- Robin").

Monday 16 Nov 2026, 10:00 in New York, on the demo salon (closed on Mondays). Sam works
Tue/Wed 9-17 and Thu/Fri 11-20; Alex has Wednesdays off; Jordan works Thu-Sun; Priya alone
does facials.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.config import apply_config, load_config
from storage.db import Database
from storage.engagement import Handover
from storage.models import Appointment, Customer, SlotHold
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


def booked(db: Database) -> list[tuple[str, str, object]]:
    with db.read() as session:
        rows = session.scalars(select(Appointment).order_by(Appointment.id)).all()
        return [(r.service.key, r.staff.key, r.starts_at) for r in rows if r.status != "cancelled"]


def statuses(db: Database) -> list[str]:
    with db.read() as session:
        return [a.status for a in session.scalars(select(Appointment).order_by(Appointment.id))]


def holds(db: Database) -> list[object]:
    with db.read() as session:
        return [h.starts_at for h in session.scalars(select(SlotHold)).all()]


def notes_of(db: Database) -> list[str]:
    with db.read() as session:
        return [c.notes for c in session.scalars(select(Customer)).all()]


def names_of(db: Database) -> list[str | None]:
    with db.read() as session:
        return list(session.scalars(select(Customer.name)).all())


# --- 5. questions in passing, in more words ------------------------------------------------


@pytest.mark.parametrize(
    "question", ["what are your prices?", "how much do things cost there", "got a price list"]
)
def test_the_price_list_is_answered_with_every_service(chat, salon, question):
    chat.say(question)
    chat.expect("Haircut (45 min): $45.00", "Colour (90 min): $120.00", "Facial (60 min): $85.00")
    chat.expect_not("any preference", "When would you like")
    assert booked(salon) == []


@pytest.mark.parametrize(
    "question",
    ["what's the damage for a beard trim?", "is a beard trim 20 bucks?", "beard trim still $20?"],
)
def test_a_price_asked_in_slang_or_with_a_figure_is_answered(chat, salon, question):
    chat.say(question)
    chat.expect("Beard trim (20 min): $20.00")
    chat.expect_not("any preference", "When would you like")


@pytest.mark.parametrize(
    "question", ["where are you located?", "what's the address", "how do I find you"]
)
def test_the_address_is_answered(chat, question):
    chat.say(question)
    chat.expect("We're at 214 Grand St, New York, NY 10013.")


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("are you open on christmas day?", "We're closed on Fri, Dec 25 (Christmas Day)"),
        ("closed for christmas?", "We're closed on Fri, Dec 25 (Christmas Day)"),
        ("open new year's day?", "We're closed on Fri, Jan 1 (New Year's Day)"),
    ],
)
def test_a_holiday_asked_about_by_name_is_said_closed_with_the_next_open_day(
    chat, question, answer
):
    chat.say(question)
    chat.expect(answer, "we're open")
    chat.expect_not("Here's what I have", "waitlist")


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("do I have to pay anything upfront for a colour?", "Colour: $24.00 deposit"),
        ("do i pay when i book a colour", "Colour: $24.00 deposit"),
        ("is there a down payment for the long massage", "Massage (60 min): $20.00 deposit"),
    ],
)
def test_a_deposit_asked_without_the_word_is_answered_not_booked(chat, salon, question, answer):
    chat.say(question)
    chat.expect(answer)
    chat.expect_not("any preference", "When would you like")
    assert booked(salon) == []


@pytest.mark.parametrize(
    "question",
    [
        "can I cancel for free?",
        "is there a fee if i cancel",
        "what if I need to cancel last minute",
    ],
)
def test_the_cancellation_policy_asked_in_other_words_is_answered(chat, salon, question):
    chat.say(question)
    chat.expect("up to 24 hours before it")
    chat.expect_not("no upcoming appointments")


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("who does facials?", "Facials: Priya does."),
        ("can alex do colour?", "Yes, Alex does colours."),
        ("does jordan do facials", "Jordan doesn't do facials; Priya does."),
    ],
)
def test_who_does_a_service_is_answered_and_starts_no_booking(chat, salon, question, answer):
    chat.say(question)
    chat.expect(answer)
    chat.expect_not("When would you like", "any preference")
    assert booked(salon) == [] and holds(salon) == []


@pytest.mark.parametrize(
    "question", ["who does colours?", "can jordan do colour?", "does sam do colour"]
)
def test_who_does_a_service_asked_while_booking_is_answered_and_the_step_asked_again(
    chat, question
):
    chat.say("beard trim")
    chat.expect("any preference")
    chat.say(question)
    chat.expect("colours", "Beard trim: any preference")


def test_who_does_it_with_a_day_and_time_is_a_request(chat):
    chat.say("can sam do a haircut wednesday at 2?")
    chat.expect("What name")


# --- 2. corrections at the name and staff questions -----------------------------------------


@pytest.mark.parametrize(
    ("change", "when"),
    [
        ("no wait, make it 11", "Wed, Nov 18, 11:00 AM"),
        ("sorry, 4 not 2", "Wed, Nov 18, 4:00 PM"),
        ("could it be 10am instead", "Wed, Nov 18, 10:00 AM"),
    ],
)
def test_a_change_of_time_at_the_name_question_keeps_the_day_and_says_so(chat, salon, change, when):
    chat.say("haircut with sam wednesday at 2")
    chat.expect("What name")
    chat.say(change)
    chat.expect(f"{when} then", "What name")
    chat.say("Noor")
    chat.expect("Noor, shall I book this?", "Haircut with Sam", when)


@pytest.mark.parametrize(
    ("change", "who"),
    [
        ("switch me to alex", "Alex"),
        ("actually with jordan please", "Jordan"),
        ("can I have alex instead", "Alex"),
    ],
)
def test_a_change_of_staff_at_the_name_question_keeps_the_rest(chat, salon, change, who):
    chat.say("haircut with sam thursday at 2")
    chat.expect("What name")
    chat.say(change)
    chat.expect(f"With {who} then", "What name")
    chat.say("Noor")
    chat.expect("Noor, shall I book this?", f"Haircut with {who}", "Thu, Nov 19, 2:00 PM")
    chat.expect_not("with Sam")


@pytest.mark.parametrize(
    ("change", "service"),
    [
        ("oh wait, I meant a beard trim", "Beard trim"),
        ("make that a colour actually", "Colour"),
        ("hmm no, a beard trim", "Beard trim"),
    ],
)
def test_a_change_of_service_at_the_name_question_keeps_day_time_and_staff(chat, change, service):
    chat.say("haircut with sam wednesday at 2")
    chat.expect("What name")
    chat.say(change)
    chat.expect(f"A {service.lower()} then.", "What name")
    chat.say("Noor")
    chat.expect(f"{service} with Sam", "Wed, Nov 18, 2:00 PM")


@pytest.mark.parametrize(
    ("change", "day"),
    [
        ("oh and make it thursday", "Thu, Nov 19"),
        ("actually friday is better", "Fri, Nov 20"),
        ("wait, saturday not wednesday", "Sat, Nov 21"),
    ],
)
def test_a_change_of_day_for_anyone_at_the_name_question_keeps_the_time(chat, change, day):
    chat.say("haircut wednesday at 2")
    chat.expect("Wed, Nov 18, 2:00 PM is free", "What name")
    chat.say(change)
    chat.expect(f"{day}, 2:00 PM then", "What name")
    chat.say("Noor")
    chat.expect("Noor, shall I book this?", f"{day}, 2:00 PM")
    chat.expect_not("Wed, Nov 18")


# --- 4. every proposal names the weekday and the date ---------------------------------------


@pytest.mark.parametrize(
    ("request_", "proposed"),
    [
        ("haircut with sam tomorrow at 4, I'm Lou", "Tue, Nov 17, 4:00 PM"),
        ("haircut with sam the day after tomorrow at 11, I'm Lou", "Wed, Nov 18, 11:00 AM"),
        ("haircut with sam on the 20th at 2, I'm Lou", "Fri, Nov 20, 2:00 PM"),
    ],
)
def test_a_relative_day_is_proposed_with_its_weekday_and_date(chat, request_, proposed):
    chat.say(request_)
    chat.expect("Lou, shall I book this?", proposed)


# --- 6. requests at the notes question ----------------------------------------------------


def _booked_and_asked_for_notes(chat: Chat) -> None:
    chat.say("haircut with sam tomorrow at 11, I'm Jo")
    chat.say("yes")
    chat.expect("You're booked", "allergies")


@pytest.mark.parametrize(
    "reply", ["actually please cancel it", "cancel that appointment", "I need to cancel"]
)
def test_a_cancel_at_the_notes_question_cancels_not_notes(chat, salon, reply):
    _booked_and_asked_for_notes(chat)
    chat.say(reply)
    chat.expect_not("noted")
    chat.expect("cancel")
    assert notes_of(salon) == [""]


@pytest.mark.parametrize(
    "reply", ["can I speak to someone", "I'd like to talk to a human", "get me a real person"]
)
def test_asking_for_a_person_at_the_notes_question_reaches_the_team(chat, salon, reply):
    _booked_and_asked_for_notes(chat)
    chat.say(reply)
    chat.expect("a person from the team will answer you here")
    assert notes_of(salon) == [""]
    with salon.read() as session:
        assert session.scalars(select(Handover)).all()


@pytest.mark.parametrize(
    "reply",
    [
        "can I also book a beard trim saturday at 10",
        "and a colour with alex on friday at 3 please",
        "book me another haircut next tuesday at 2",
    ],
)
def test_another_booking_at_the_notes_question_starts_it(chat, salon, reply):
    _booked_and_asked_for_notes(chat)
    chat.say(reply)
    chat.expect_not("noted")
    assert "shall i book" in chat.text.lower() or "any preference" in chat.text.lower()
    assert notes_of(salon) == [""]


# --- 11. holds only once proposed -----------------------------------------------------------


@pytest.mark.parametrize(
    ("request_", "pick"),
    [
        ("haircut with sam on wednesday morning", "the third one"),
        ("beard trim with jordan saturday afternoon", "2"),
        ("facial thursday after 3", "the first"),
        ("haircut with alex friday afternoon", "second please"),
    ],
)
def test_a_list_and_a_pick_hold_nothing_until_the_name_makes_a_proposal(
    chat, salon, request_, pick
):
    chat.say(request_)
    chat.expect("Here's what I have")
    assert holds(salon) == []
    chat.say(pick)
    chat.expect("What name")
    assert holds(salon) == []
    chat.say("Lou")
    chat.expect("Lou, shall I book this?")
    assert len(holds(salon)) == 1


@pytest.mark.parametrize(
    ("change", "now_held"),
    [
        ("make it 4 instead", "2026-11-18 16:00"),
        ("actually thursday", "2026-11-19 14:00"),
        ("can we do 11:30", "2026-11-18 11:30"),
    ],
)
def test_a_change_at_the_proposal_moves_the_hold(chat, salon, change, now_held):
    chat.say("haircut with sam wednesday at 2, I'm Lou")
    assert holds(salon) == [local("2026-11-18 14:00")]
    chat.say(change)
    chat.expect("shall I book")
    assert holds(salon) == [local(now_held)]


# --- the red team's classes: inflected services, signed names -------------------------------


@pytest.mark.parametrize(
    ("request_", "service"),
    [
        ("could I get my hair coloured with sam wednesday at 10, I'm Lou", "Colour with Sam"),
        ("need my beard trimmed saturday at 11 with jordan, I'm Lou", "Beard trim with Jordan"),
        ("hair colouring with alex thursday at 3pm, I'm Lou", "Colour with Alex"),
    ],
)
def test_a_service_named_by_an_inflected_word_is_that_service(chat, request_, service):
    chat.say(request_)
    chat.expect("Lou, shall I book this?", service)


@pytest.mark.parametrize(
    ("request_", "name"),
    [
        ("can I book a haircut with sam wednesday at 2? - Robin", "Robin"),
        ("haircut with sam wednesday at 2, thanks, Robin Vale", "Robin Vale"),
        ("beard trim w jordan sat 11am -Kit", "Kit"),
        ("facial with priya thursday at 11 please. Thanks so much, Mia", "Mia"),
        ("haircut with sam wednesday at 2. Best, Robin Vale", "Robin Vale"),
    ],
)
def test_a_name_signed_at_the_end_is_the_customers_name(chat, salon, request_, name):
    chat.say(request_)
    chat.expect(f"{name.split()[0]}, shall I book this?")
    chat.expect_not("What name")
    chat.say("yes")
    assert names_of(salon) == [name]


@pytest.mark.parametrize(
    "request_",
    [
        "haircut with sam wednesday at 2 - thanks",
        "haircut with sam - Wed at 2",
        "haircut with sam wednesday at 2 - Cheers!",
        "haircut with sam wednesday at 2, thanks in advance!",
    ],
)
def test_a_signature_that_is_no_name_is_not_taken(chat, salon, request_):
    chat.say(request_)
    chat.expect("What name should I put the booking under?")
    assert names_of(salon) == [None]


@pytest.mark.parametrize(
    ("answer", "service"),
    [
        ("the long one", "Massage (60 min)"),
        ("shorter please", "Massage (30 min)"),
        ("the longer", "Massage (60 min)"),
    ],
)
def test_which_version_of_a_service_is_answered_by_its_length(chat, answer, service):
    chat.say("massage sunday at 11")
    chat.expect("Which one: Massage (30 min) or Massage (60 min)?")
    chat.say(answer)
    chat.expect(f"{service} with Priya, Sun, Nov 22, 11:00 AM")


@pytest.mark.parametrize(
    ("request_", "name"),
    [
        ("beard trim with jordan thursday at 5 pls, name is kit", "Kit"),
        ("haircut with sam wednesday at 2. name: Ola Berg", "Ola Berg"),
        ("the name is Dee, haircut with sam wednesday at 2", "Dee"),
    ],
)
def test_a_name_given_as_name_is_is_taken(chat, salon, request_, name):
    chat.say(request_)
    chat.expect(f"{name.split()[0]}, shall I book this?")
    chat.say("yes")
    assert names_of(salon) == [name]


# --- 9. a service added to the visit under way -----------------------------------------------


def visit_of(db: Database) -> list[tuple[str, str]]:
    with db.read() as session:
        rows = session.scalars(select(Appointment).order_by(Appointment.starts_at)).all()
        return [
            (r.service.key, r.starts_at.astimezone(NOW.tzinfo).strftime("%a %H:%M")) for r in rows
        ]


@pytest.mark.parametrize(
    "addition", ["oh and a beard trim after", "can I add a beard trim too?", "plus a beard trim"]
)
def test_a_service_added_at_the_name_question_joins_the_visit(chat, salon, addition):
    chat.say("haircut with sam saturday at 2")
    chat.expect("What name")
    chat.say(addition)
    chat.expect("What name")
    chat.say("Lou")
    chat.expect("Haircut with Sam", "Sat, Nov 21, 2:00 PM", "Then: Beard trim with Sam, 2:55 PM")
    chat.say("yes")
    assert visit_of(salon) == [("haircut", "Sat 14:00"), ("beard-trim", "Sat 14:55")]


@pytest.mark.parametrize(
    "change", ["actually a beard trim instead", "make it a beard trim", "no, a beard trim"]
)
def test_a_service_said_instead_still_replaces_the_one_asked_for(chat, change):
    chat.say("haircut with sam saturday at 2")
    chat.say(change)
    chat.expect("A beard trim then.")
    chat.say("Lou")
    chat.expect("Beard trim with Sam", "Sat, Nov 21, 2:00 PM")
    chat.expect_not("Then:", "Haircut")


# --- a short day word after the staff member's name is the day ------------------------------


@pytest.mark.parametrize(
    ("request_", "day"),
    [
        ("haircut with jordan sun first thing, I'm Lou", "Sun, Nov 22"),
        ("beard trim with alex sat, I'm Lou", "Sat, Nov 21"),
        ("haircut w sam wed early, I'm Lou", "Wed, Nov 18"),
        ("haircut with sam wed between 2 and 4, I'm Lou", "Wed, Nov 18"),
    ],
)
def test_a_short_day_word_after_the_staff_name_is_that_day(chat, request_, day):
    chat.say(request_)
    chat.expect(day)
    chat.expect_not("Tue, Nov 17", "Thu, Nov 19", "doesn't work")


def test_a_short_day_word_after_a_pronoun_is_still_no_day(chat):
    chat.say("haircut with sam tuesday at 2, same chair I sat, I'm Lou")
    chat.expect("Tue, Nov 17, 2:00 PM")


# --- the staff member named, never swapped for "anyone" or for the one ruled out ------------


@pytest.mark.parametrize(
    ("change", "who"),
    [
        ("no, not sam - alex", "Alex"),
        ("alex rather than sam please", "Alex"),
        ("not sam, jordan", "Jordan"),
    ],
)
def test_a_staff_member_ruled_out_at_the_name_question_gives_way_to_the_other(chat, change, who):
    chat.say("haircut with sam thursday at 2")
    chat.expect("What name")
    chat.say(change)
    chat.expect(f"With {who} then", "What name")
    chat.say("Lou")
    chat.expect(f"Haircut with {who}", "Thu, Nov 19, 2:00 PM")


@pytest.mark.parametrize(
    "request_",
    [
        "haircut with sam next available",
        "first available haircut with sam",
        "beard trim with sam, soonest free",
    ],
)
def test_next_available_with_a_staff_member_named_lists_only_theirs(chat, request_):
    chat.say(request_)
    chat.expect("Here's what I have")
    offered = [o for o in chat.options if o != "Other times"]
    assert offered and all(o.endswith("with Sam") for o in offered), chat.log()


@pytest.mark.parametrize("answer", ["next available", "first available please", "soonest free"])
def test_next_available_alone_at_the_staff_question_is_anyone(chat, answer):
    chat.say("haircut")
    chat.expect("any preference")
    chat.say(answer)
    chat.expect_not("any preference")
    staff = {o.rsplit(" with ", 1)[-1] for o in chat.options if " with " in o}
    assert len(staff) > 1, chat.log()  # anyone's times, not one person's


# --- the attendee named with "his / her name is", never taken for the booker ----------------


def people_of(db: Database) -> list[tuple[str | None, str | None]]:
    with db.read() as session:
        rows = session.scalars(select(Appointment)).all()
        return [(r.customer.name, r.attendee) for r in rows]


@pytest.mark.parametrize(
    ("request_", "reply", "attendee"),
    [
        ("haircut with sam friday at 2 for my daughter", "her name is Ivy", "Ivy"),
        ("haircut with sam friday at 2 for my son", "he's called Max", "Max"),
        ("beard trim with sam friday at 4 for my husband", "his name's Tom", "Tom"),
    ],
)
def test_their_name_at_the_name_question_names_the_attendee_and_asks_the_bookers(
    chat, salon, request_, reply, attendee
):
    chat.say(request_)
    chat.expect("What name")
    chat.say(reply)
    chat.expect("What name")
    chat.expect_not("shall I book")
    chat.say("Ana")
    chat.expect("Ana, shall I book this?", f"For: {attendee}")
    chat.say("yes")
    assert people_of(salon) == [("Ana", attendee)]


@pytest.mark.parametrize(
    ("request_", "attendee"),
    [
        ("my husband wants a beard trim with sam sat at 11, he's called Tom, I'm Ana", "Tom"),
        ("haircut with sam friday at 2 for my daughter, her name is Ivy - Ana", "Ivy"),
        ("my son needs a cut with sam friday at 2, his name's Max. I'm Ana", "Max"),
    ],
)
def test_a_relation_named_later_in_the_same_message_is_the_attendee(
    chat, salon, request_, attendee
):
    chat.say(request_)
    chat.expect("Ana, shall I book this?", f"For: {attendee}")
    chat.expect_not("what's your")
    chat.say("yes")
    assert people_of(salon) == [("Ana", attendee)]


@pytest.mark.parametrize("reply", ["he's called Max", "her name is Ivy", "she's Zoe"])
def test_someone_elses_name_is_never_taken_for_the_bookers(chat, salon, reply):
    chat.say("haircut with sam friday at 2")
    chat.expect("What name")
    chat.say(reply)
    chat.expect_not("shall I book")
    assert names_of(salon) == [None]


# --- "no 2" under a list is a correction back to 2, asked about, never option 2 -------------


@pytest.mark.parametrize("reply", ["actually no 2 is fine", "no 2 then", "oh no 2 works"])
def test_going_back_to_an_hour_under_a_list_is_asked_not_taken_as_option_two(chat, reply):
    chat.say("haircut with sam on friday at 2")
    chat.say("could we do 3 instead")
    chat.expect("3:00 PM isn't free", "Fri, Nov 20, 2:00 PM with Sam", "Fri, Nov 20, 2:15 PM")
    chat.say(reply)
    chat.expect_not("2:15 PM is free", "shall I book")
    chat.expect("2:00 PM, or option 2")
    chat.press("Fri, Nov 20, 2:00 PM with Sam")
    chat.say("Lou")
    chat.expect("Lou, shall I book this?", "Fri, Nov 20, 2:00 PM")


# --- "move it to 1" at the proposal: that hour of the day proposed ---------------------------


@pytest.mark.parametrize(
    ("change", "when"),
    [
        ("hmm can i bring it forward to 1?", "Wed, Nov 18, 1:00 PM"),
        ("push it to 3 please", "Wed, Nov 18, 3:00 PM"),
        ("could we shift it to 11", "Wed, Nov 18, 11:00 AM"),
    ],
)
def test_moving_the_proposal_to_an_hour_is_that_hour_of_its_day(chat, change, when):
    chat.say("haircut with sam wednesday at 2, I'm Lou")
    chat.expect("Lou, shall I book this?", "Wed, Nov 18, 2:00 PM")
    chat.say(change)
    chat.expect(f"{when} then", "Lou, shall I book this?")
    chat.expect_not("noted it for the team", "no upcoming appointments")


def test_quarter_to_an_hour_is_still_a_quarter_before_it(chat):
    chat.say("haircut with sam wednesday at 2, I'm Lou")
    chat.say("make it quarter to 4")
    chat.expect("Wed, Nov 18, 3:45 PM then")


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("are you open christmas eve?", "On Thu, Dec 24 we're open 9:00 AM-8:00 PM."),
        ("open on xmas eve", "On Thu, Dec 24 we're open 9:00 AM-8:00 PM."),
        ("you guys open new years eve?", "On Thu, Dec 31 we're open 9:00 AM-8:00 PM."),
    ],
)
def test_the_eve_of_a_holiday_is_its_own_day_not_the_holiday(chat, question, answer):
    chat.say(question)
    chat.expect(answer)
    chat.expect_not("Christmas Day", "New Year's Day")
