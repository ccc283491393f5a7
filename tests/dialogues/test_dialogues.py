"""Scripted customer dialogues, one per flow, on the demo salon (SQLite and PostgreSQL).

Monday 16 Nov 2026 (the salon is closed on Mondays), 10:00 in New York; "tomorrow" is Tuesday.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.config import apply_config, load_config
from bot.messaging.messages import TELEGRAM
from storage.db import Database
from storage.messaging import OutboxMessage
from storage.models import (
    CANCELLED,
    CONFIRMED,
    Appointment,
    AwaitingReply,
    Customer,
    CustomerIdentity,
    InboundMessage,
)
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


def appointments(db: Database) -> list[Appointment]:
    with db.read() as session:
        rows = session.scalars(select(Appointment).order_by(Appointment.id)).all()
        for row in rows:
            _ = (row.service.name, row.staff.name, row.customer.name)
        return list(rows)


def test_a_new_customer_books_by_pressing_buttons(chat, salon):
    chat.say("hi")
    chat.expect("Maple & Mane", "Book an appointment")
    chat.press("Book an appointment")
    chat.expect("What would you like to book?", "Haircut", "Colour")
    chat.press("Haircut")
    chat.expect("any preference", "Sam", "Alex", "Anyone")
    chat.press("Sam")
    chat.expect("When would you like")
    chat.say("tomorrow afternoon")
    chat.expect("Here's what I have", "with Sam")
    assert all("PM" in label for label in chat.options if "with Sam" in label)
    chat.press("with Sam")
    chat.expect("What name")
    chat.say("Jane Smith")
    chat.expect("Jane, shall I book this?", "Haircut with Sam", "$45.00", "45 min")
    chat.press("Yes, book it")
    chat.expect("You're booked", "Haircut with Sam", "allergies")
    chat.say("no")
    chat.expect("All set")
    [booked] = appointments(salon)
    assert booked.customer.name == "Jane Smith"
    assert booked.staff.name == "Sam Rivera"
    assert booked.starts_at.astimezone(NOW.tzinfo).hour >= 12


def test_one_shot_booking_takes_the_request_and_a_yes(chat, salon):
    chat.say("haircut with Sam tomorrow at 3, I'm Jane")
    chat.expect("shall I book", "Haircut with Sam", "Tue, Nov 17, 3:00", "$45.00")
    chat.say("yes")
    chat.expect("You're booked")
    [booked] = appointments(salon)
    assert booked.starts_at == local("2026-11-17 15:00")
    assert booked.customer.name == "Jane"
    assert len(chat.transcript) > 0


def test_typos_still_book(chat, salon):
    chat.say("can i get a hiarcut wiht sam tmrw after 2pm")
    chat.expect("Here's what I have", "with Sam")
    chat.say("the first one")
    chat.expect("What name")
    chat.say("its bob")
    chat.expect("Bob, shall I book this?")
    chat.say("yep")
    chat.expect("You're booked")
    assert appointments(salon)[0].starts_at >= local("2026-11-17 14:00")


def test_changing_ones_mind_mid_flow_changes_the_service(chat, salon):
    chat.say("I'd like a haircut on friday")
    chat.expect("Here's what I have for Fri")  # a day given: no staff question first
    chat.say("actually make it a beard trim")
    chat.expect("Beard trim", "Here's what I have for Fri")
    chat.say("2")
    chat.say("Tom")
    chat.expect("Beard trim with")
    chat.say("yes")
    assert appointments(salon)[0].service.name == "Beard trim"


def test_go_back_returns_to_the_previous_question(chat, salon):
    chat.say("haircut with alex")
    chat.expect("When would you like")
    chat.say("saturday morning")
    chat.expect("Here's what I have")
    chat.say("go back")
    chat.expect("When would you like")
    chat.say("sunday")
    chat.expect("Here's what I have", "Sun")


def test_an_unrelated_question_is_answered_and_the_question_asked_again(chat, salon):
    chat.say("book a colour")
    chat.expect("any preference")
    chat.say("anyone")
    chat.expect("When would you like")
    chat.say("how much is a colour?")
    chat.expect("Colour (90 min): $120.00", "When would you like")
    chat.say("what are your opening hours?")
    chat.expect("Tue-Wed 9:00 AM-7:00 PM", "When would you like")


def test_a_returning_customer_is_never_asked_their_name_again(chat, salon):
    chat.say("haircut with sam tomorrow at 11, I'm Jane Doe")
    chat.say("yes")
    chat.say("no")
    chat.say("and a beard trim with sam on saturday at 10")
    chat.expect("Jane, shall I book this?")
    chat.expect_not("What name")
    chat.say("yes")
    assert len(appointments(salon)) == 2


def test_an_ambiguous_service_is_asked_about(chat):
    chat.say("I need a massage")
    chat.expect("Which one", "Massage (30 min)", "Massage (60 min)")
    chat.say("the 60 minute one")
    chat.expect("Massage (60 min): any preference")


def test_a_slot_taken_meanwhile_is_apologised_for_with_alternatives(chat, salon):
    chat.say("haircut with sam tomorrow afternoon")
    offered = [o for r in chat.replies for o in r.options if o.id.startswith("slot:")]
    rival = Chat(salon, NOW, sender="rival-00001")
    rival.say(
        f"haircut with sam tomorrow at {offered[0].label.split(', ')[2].split(' with')[0]}, I'm Rita"
    )
    rival.say("yes")
    rival.expect("You're booked")
    chat.say(option=offered[0].id)
    chat.expect("just taken", "nearest")


def test_an_exact_time_that_is_taken_offers_the_nearest(chat, salon):
    other = Chat(salon, NOW, sender="early-bird-1")
    other.say("haircut with sam tomorrow at 3, I'm Ed")
    other.say("yes")
    chat.say("haircut with sam tomorrow at 3")
    chat.expect("isn't free", "nearest times")


def test_nothing_in_the_window_offers_the_nearest_outside_it(chat):
    chat.say("haircut with anyone on dec 25")
    chat.expect("Nothing's free", "nearest times")


def test_an_on_site_service_asks_for_a_complete_address(chat, salon):
    chat.say("home visit haircut tomorrow at 10, I'm Ann")
    chat.expect("address for the visit")
    chat.say("Grand Street")
    chat.expect("house number")
    chat.say("214 Grand St, New York, NY 10013")
    chat.expect("shall I book", "214 Grand St", "Deposit")


def test_rescheduling_moves_the_appointment_in_the_same_chat(chat, salon):
    chat.say("haircut with sam tomorrow at 11, I'm Jane")
    chat.say("yes")
    chat.say("no")
    chat.say("can I move my appointment?")
    chat.expect("When would suit you instead")
    chat.say("wednesday afternoon")
    chat.expect("Here's what Sam has")
    chat.say("1")
    chat.expect("Done. Moved")
    [moved] = appointments(salon)
    assert moved.starts_at.astimezone(NOW.tzinfo).date().isoformat() == "2026-11-18"
    with salon.read() as session:
        assert session.get(Appointment, moved.id).events[-1].kind == "rescheduled"


def test_cancelling_asks_for_a_reason_and_records_it(chat, salon):
    chat.say("haircut with sam on friday at 11, I'm Jane")
    chat.say("yes")
    chat.say("no")
    chat.say("I need to cancel")
    chat.expect("Cancel Haircut with Sam")
    chat.say("my car broke down")
    chat.expect("Cancelled")
    [gone] = appointments(salon)
    assert gone.status == CANCELLED and gone.cancel_reason == "my car broke down"


def test_cancelling_inside_the_cutoff_explains_the_policy(chat, salon):
    chat.say("haircut with sam tomorrow at 11, I'm Jane")
    chat.say("yes")
    chat.say("no")
    chat.wait(hours=12)
    chat.say("cancel my appointment")
    chat.expect("less than 24 hours away", "Talk to a person")
    assert appointments(salon)[0].status == "booked"


def test_my_appointments_lists_upcoming_and_history(chat, salon):
    chat.say("my appointments")
    chat.expect("no upcoming appointments")
    chat.say("haircut with sam tomorrow at 11, I'm Jane")
    chat.say("yes")
    chat.say("no")
    chat.say("when is my appointment?")
    chat.expect("Your upcoming appointment", "Haircut with Sam", "Reschedule", "Cancel")


def remind(db: Database, chat: Chat) -> None:
    """Leave the open question a reminder for the chat's only appointment leaves."""
    [booked] = appointments(db)
    with db.write() as session:
        session.add(
            AwaitingReply(
                channel=chat.channel,
                address=chat.sender,
                customer_id=booked.customer_id,
                kind="reminder",
                ref_id=booked.id,
                created_at=NOW,
                expires_at=booked.starts_at,
            )
        )


def test_a_reminder_reply_of_c_confirms_the_appointment(chat, salon):
    chat.say("haircut with sam tomorrow at 11, I'm Jane")
    chat.say("yes")
    chat.say("no")
    remind(salon, chat)
    chat.say("C")
    chat.expect("you're confirmed")
    assert appointments(salon)[0].status == CONFIRMED


def test_a_reminder_reply_of_r_starts_rescheduling(chat, salon):
    chat.say("haircut with sam friday at 11, I'm Jane")
    chat.say("yes")
    chat.say("no")
    remind(salon, chat)
    chat.say("R")
    chat.expect("When would suit you instead")


def test_an_idle_chat_left_for_hours_starts_fresh(chat):
    chat.say("book a haircut")
    chat.wait(hours=3)
    chat.say("hello")
    chat.expect("start fresh")


def test_asking_for_a_person_tells_the_owners(chat, salon):
    chat.say("I want to talk to a real person")
    chat.expect("a person from the team will answer you here")
    with salon.read() as session:
        notices = session.scalars(
            select(OutboxMessage).where(OutboxMessage.purpose == "handover_notice")
        ).all()
    assert {n.channel for n in notices} == {"web", "telegram", "sms"}


def test_stop_silences_everything_until_start(salon):
    chat = Chat(salon, NOW, channel=TELEGRAM, sender="5550001")
    chat.say("STOP")
    chat.expect("unsubscribed")
    chat.say("haircut tomorrow")
    assert chat.replies == []
    chat.say("START")
    chat.expect("Welcome back")
    with salon.read() as session:
        identity = session.scalars(select(CustomerIdentity)).one()
        assert identity.opted_out_at is None


def test_stop_on_sms_is_silent_because_the_carrier_confirms(salon):
    chat = Chat(salon, NOW, channel="sms", sender="+12125550123")
    chat.say("stop")
    assert chat.replies == []
    with salon.read() as session:
        assert session.scalars(select(CustomerIdentity)).one().opted_out_at is not None


def test_the_same_delivery_twice_is_handled_once(chat, salon):
    chat.say("hi", provider_id="SM-dup-1")
    first = chat.replies
    chat.say("hi", provider_id="SM-dup-1")
    assert first and chat.replies == []
    with salon.read() as session:
        assert session.scalar(select(func.count()).select_from(InboundMessage)) == 1


def test_one_phone_number_is_one_customer_across_channels(salon):
    sms = Chat(salon, NOW, channel="sms", sender="+12125550123")
    sms.say("haircut with sam tomorrow at 11, I'm Jane")
    sms.say("yes")
    whatsapp = Chat(salon, NOW, channel="whatsapp", sender="+12125550123")
    whatsapp.say("my appointments")
    whatsapp.expect("Haircut with Sam")
    with salon.read() as session:
        assert session.scalar(select(func.count()).select_from(Customer)) == 1


def test_replies_are_queued_in_the_outbox_for_asynchronous_channels(salon):
    chat = Chat(salon, NOW, channel="sms", sender="+12125550123")
    chat.say("hello")
    with salon.read() as session:
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.channel == "sms")).all()
    assert [r.status for r in rows] == ["pending"] and "Maple & Mane" in rows[0].body["text"]


def test_the_conversation_survives_a_new_engine(chat, salon):
    from conversations.engine import Engine

    chat.say("haircut with sam tomorrow")
    chat.expect("Here's what I have")
    chat.engine = Engine(salon, clock=lambda: chat.now)  # a fresh worker: nothing in memory
    chat.say("2")
    chat.expect("What name")
    assert chat.now - NOW < timedelta(minutes=1)


def test_a_time_of_day_across_several_days_is_kept_on_every_day(chat):
    chat.say("haircut with alex next week after 5pm")
    chat.expect("Here's what I have")
    starts = [label for label in chat.options if "with Alex" in label]
    assert len(starts) >= 3
    assert all(" PM" in label and int(label.split(", ")[2].split(":")[0]) >= 5 for label in starts)
    assert len({label.split(", ")[1] for label in starts}) >= 2  # spread over days


def test_when_nothing_fits_the_customer_can_join_the_waitlist_and_gets_the_freed_slot(salon):
    early = Chat(salon, NOW, sender="early-bird-2")
    early.say("haircut with sam tomorrow at 3, I'm Ed")
    early.say("yes")
    early.say("no")
    waiting = Chat(salon, NOW, sender="waiting-0001")
    for hour in ("9", "10", "11", "1", "2", "4"):
        other = Chat(salon, NOW, sender=f"filler-{hour}-0001")
        other.say(f"haircut with sam tomorrow at {hour}, I'm Fil")
        other.say("yes")
    waiting.say("haircut with sam tomorrow afternoon, I'm Wendy")
    waiting.expect("Nothing's free", "Waitlist for")
    waiting.press("Waitlist")
    waiting.expect("on the waitlist")
    early.say("cancel my appointment")
    early.say("yes")
    early.expect("Cancelled")
    with salon.read() as session:
        offer = session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.address == "waiting-0001", OutboxMessage.purpose == "waitlist_offer"
            )
        ).one()
    assert "3:00" in offer.body["text"] or "15:00" in offer.body["text"]
    waiting.say("yes")
    waiting.expect("You're booked")


def test_a_feedback_reply_with_a_low_score_reaches_the_owners(chat, salon):
    from bot.engagement.followup import queue_feedback_requests
    from bot.scheduling.booking import set_status

    chat.say("haircut with sam tomorrow at 11, I'm Jane")
    chat.say("yes")
    chat.say("no")
    [booked] = appointments(salon)
    done, later = local("2026-11-17 12:00"), local("2026-11-17 13:30")
    with salon.write() as session:
        set_status(session, booked.id, "completed", now=done, actor="staff")
    with salon.write() as session:
        assert queue_feedback_requests(session, later)  # an hour after completion
    chat.now = later
    chat.say("2 - felt rushed")
    chat.expect("passed it to the team")
    with salon.read() as session:
        alert = session.scalars(
            select(OutboxMessage).where(OutboxMessage.purpose == "feedback_alert")
        ).first()
    assert alert is not None and "felt rushed" in alert.body["text"]


def test_yes_to_a_rebooking_nudge_starts_booking_the_same_service(chat, salon):
    from storage.models import Service

    chat.say("hi, I'm Jane")
    with salon.write() as session:
        haircut = session.scalars(select(Service).where(Service.key == "haircut")).one()
        session.add(
            AwaitingReply(
                channel="web",
                address=chat.sender,
                kind="rebook",
                ref_id=haircut.id,
                data={},
                created_at=NOW,
                expires_at=NOW + timedelta(days=3),
            )
        )
    chat.say("yes please")
    chat.expect("Haircut: any preference")


# --- a time given: no staff question first ----------------------------------------------


@pytest.mark.parametrize(
    ("request_", "said_back"),
    [
        ("beard trim thursday at 2pm", "Beard trim with"),
        ("could i get a haircut on wednesday at 11", "Haircut with"),
        ("haircut tmrw 3pm pls", "Haircut with"),
    ],
)
def test_a_request_with_a_time_names_who_is_free_instead_of_asking_who_first(
    chat, salon, request_, said_back
):
    chat.say(request_)
    chat.expect_not("any preference")
    chat.expect(said_back, "is free", "What name")
    chat.say("Dana Reyes")
    chat.expect("Dana, shall I book this?")
    chat.say("yes")
    chat.expect("You're booked")
    assert len(appointments(salon)) == 1


@pytest.mark.parametrize(
    "preference", ["with jordan please", "can it be jordan?", "jordan instead"]
)
def test_a_staff_preference_said_at_the_proposal_moves_it_to_that_person(chat, salon, preference):
    chat.say("haircut thursday at 2pm, I'm Lee Park")
    chat.expect("shall I book this?")
    chat.say(preference)
    chat.expect("Haircut with Jordan", "Thu, Nov 19, 2:00 PM")
    chat.say("yes")
    [booked] = appointments(salon)
    assert booked.staff.name.startswith("Jordan")
    assert booked.starts_at == local("2026-11-19 14:00")


def test_a_request_without_a_time_still_asks_who_with(chat):
    chat.say("i'd like to book a haircut")
    chat.expect("Haircut: any preference", "Anyone")


@pytest.mark.parametrize(
    "request_", ["haircut with sam on friday", "can sam do a cut friday?", "fri haircut w sam"]
)
def test_a_day_with_no_time_lists_times_spread_over_the_day(chat, request_):
    chat.say(request_)
    chat.expect("Here's what I have for Fri, Nov 20")
    hours = [
        int(label.split(", ")[2].split(":")[0]) % 12 + (12 if "PM" in label else 0)
        for label in chat.options
        if label.startswith("Fri, Nov 20, ")
    ]
    assert len(hours) >= 4 and hours == sorted(hours)
    assert hours[-1] - hours[0] >= 5  # across the day, not its first hour


@pytest.mark.parametrize(
    ("answer", "proposed"),
    [
        ("ok, friday then", ("Haircut with Sam", "Fri, Nov 20, 2:00 PM")),
        ("sure, with alex", ("Haircut with Alex", "Thu, Nov 19, 2:00 PM")),
        ("yes but at 4pm", ("Haircut with Sam", "Thu, Nov 19, 4:00 PM")),
    ],
)
def test_a_yes_with_a_change_in_it_proposes_the_change_and_books_nothing_yet(
    chat, salon, answer, proposed
):
    chat.say("haircut with sam thursday at 2pm, I'm Lee Park")
    chat.expect("shall I book this?", "Thu, Nov 19, 2:00 PM")
    chat.say(answer)
    chat.expect("shall I book this?", *proposed)
    assert appointments(salon) == []
    chat.say("yes")
    [booked] = appointments(salon)
    assert booked.staff.name.startswith(proposed[0].split(" with ")[1])


@pytest.mark.parametrize("forged", ["at:not-a-time", "at:2026-11-19T14:00", "at:"])
def test_a_malformed_time_button_is_not_understood_never_a_crash(chat, salon, forged):
    chat.say("haircut with sam thursday")
    chat.say(option=forged)
    chat.expect_not("shall I book")
    assert appointments(salon) == []


@pytest.mark.parametrize(
    "text",
    ["haircut for \U00011053 hour", "massage ² hours friday", "cut ① min", "appt:\u00b2:move"],
)
def test_digits_that_are_not_decimal_are_read_as_words_never_a_crash(chat, text):
    chat.say("book a massage")
    chat.say(text)  # the chat itself fails on the apology a crash would send
    chat.say(
        option=text if text.startswith("appt:") else None,
        text="" if text.startswith("appt:") else "hi",
    )
    assert chat.replies
