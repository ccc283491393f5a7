"""Managing appointments by chat, names anywhere in a message, nicknames for staff.

The demo salon (SQLite and PostgreSQL), Monday 16 Nov 2026, 10:00 in New York. Each
capability is driven with several phrasings; the held-out evaluation uses others, so what
these pin down is the mechanism (moves read against the appointment, not against today).
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.config import apply_config, load_config, parse_config
from bot.core.errors import ConfigError
from bot.engagement.reminders import queue_reminders
from bot.messaging.messages import TELEGRAM
from storage.db import Database
from storage.models import CANCELLED, Appointment, AwaitingReply
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


def book(chat: Chat, request: str) -> None:
    """Book through the chat and decline the notes question."""
    chat.say(request)
    chat.expect("shall I book")
    chat.say("yes")
    chat.expect("You're booked")
    chat.say("no")


# --- moving: "same time another day", never a cancellation ----------------------------------


@pytest.mark.parametrize(
    "request_, new_start",
    [
        ("sorry, something came up - same time on friday instead?", "2026-11-20 11:00"),
        ("I can't make it then, could we do the same time thursday", "2026-11-19 11:00"),
        ("wont be able to come, same slot next week pls", "2026-11-25 11:00"),
        ("any chance of the same time on saturday?", "2026-11-21 11:00"),
    ],
)
def test_asking_for_the_same_time_on_another_day_proposes_that_move(
    chat, salon, request_, new_start
):
    book(chat, "haircut with sam wednesday at 11, I'm Jane")
    chat.say(request_)
    chat.expect("Move Haircut with Sam, Wed, Nov 18, 11:00 AM to", "Yes, move it")
    chat.expect(local(new_start).strftime("%a, %b %-d, 11:00 AM"))
    chat.expect_not("Cancel")
    chat.press("Yes, move it")
    chat.expect("Done. Moved from Wed, Nov 18, 11:00 AM")
    [moved] = appointments(salon)
    assert moved.starts_at == local(new_start) and moved.status != CANCELLED


def test_a_proposed_move_that_is_declined_keeps_the_appointment(chat, salon):
    book(chat, "haircut with sam wednesday at 11, I'm Jane")
    chat.say("could we do the same time on friday?")
    chat.expect("to Fri, Nov 20, 11:00 AM?")
    chat.say("no actually leave it")
    chat.expect("stays booked")
    assert appointments(salon)[0].starts_at == local("2026-11-18 11:00")


def test_a_move_to_a_taken_time_offers_the_nearest_instead_of_booking_it(chat, salon):
    book(chat, "haircut with sam wednesday at 11, I'm Jane")
    # Sam's lunch break is 12:30-13:00 on Wednesdays: 12:00 for 45 minutes does not fit.
    chat.say("can you bump it an hour later?")
    chat.expect("Sam isn't free at Wed, Nov 18, 12:00 PM", "Here's what Sam has")
    chat.expect_not("Move Haircut")
    assert appointments(salon)[0].starts_at == local("2026-11-18 11:00")


# --- replies to a reminder, in the reminder's thread ------------------------------------------


@pytest.fixture
def reminded(salon: Database) -> Chat:
    """A Telegram customer booked for Wed 11:00 who has just had the 24-hour reminder."""
    chat = Chat(salon, NOW, channel=TELEGRAM, sender="5550123")
    book(chat, "haircut with sam wednesday at 11, I'm Jane")
    chat.now = local("2026-11-17 11:00")
    with salon.write() as session:
        assert queue_reminders(session, chat.now)
    return chat


def _open_reminders(db: Database) -> int:
    with db.read() as session:
        return len(
            session.scalars(select(AwaitingReply).where(AwaitingReply.answered_at.is_(None))).all()
        )


@pytest.mark.parametrize(
    "reply, new_start",
    [
        ("could you put me 2 hours later?", "2026-11-18 13:00"),
        ("is 3 possible instead?", "2026-11-18 15:00"),
        ("can we make it the next day", "2026-11-19 11:00"),
        ("bring it forward half an hour please", "2026-11-18 10:30"),
        ("would friday at 4 be ok?", "2026-11-20 16:00"),
    ],
)
def test_a_free_text_reply_to_a_reminder_reschedules_that_appointment(
    reminded, salon, reply, new_start
):
    reminded.say(reply)
    when = local(new_start)
    reminded.expect("Move Haircut with Sam, Wed, Nov 18, 11:00 AM to")
    reminded.expect(when.strftime("%a, %b %-d, ") + when.strftime("%-I:%M %p"))
    reminded.expect_not("What would you like to book")
    assert _open_reminders(salon) == 0
    reminded.say("yes please")
    reminded.expect("Done. Moved")
    [moved] = appointments(salon)
    assert moved.starts_at == when
    assert len(appointments(salon)) == 1


def test_a_reminder_acknowledged_with_a_day_is_not_taken_for_a_move(reminded, salon):
    reminded.say("great, see you tomorrow")
    reminded.expect_not("Move Haircut")
    assert appointments(salon)[0].starts_at == local("2026-11-18 11:00")


# --- cancelling the one of a kind without a list --------------------------------------------


@pytest.mark.parametrize(
    "request_", ["please cancel my beard trim", "cxl the beard trim", "drop my beard trim pls"]
)
def test_cancelling_a_service_takes_the_only_one_of_that_kind_after_a_confirmation(
    chat, salon, request_
):
    book(chat, "haircut with sam wednesday at 11, I'm Jane")
    book(chat, "beard trim with alex friday at 2")
    chat.say(request_)
    chat.expect("Cancel Beard trim with Alex, Fri, Nov 20, 2:00 PM?")
    chat.expect_not("Which one")
    assert all(a.status != CANCELLED for a in appointments(salon))
    chat.say("yes")
    chat.expect("Cancelled: Beard trim")
    haircut, beard = appointments(salon)
    assert beard.status == CANCELLED and haircut.status != CANCELLED


def test_cancelling_a_service_booked_twice_asks_which(chat, salon):
    book(chat, "haircut with sam wednesday at 11, I'm Jane")
    book(chat, "haircut with sam friday at 12")
    book(chat, "beard trim with alex friday at 2")
    chat.say("need to cancel my haircut")
    chat.expect("Which one would you like to cancel?")
    assert len(chat.options) == 2 and all("Haircut" in o for o in chat.options)
    chat.press("Fri, Nov 20")
    chat.expect("Cancel Haircut with Sam, Fri, Nov 20, 12:00 PM?")


def test_cancelling_a_service_not_booked_says_so_and_lists_the_rest(chat, salon):
    book(chat, "haircut with sam wednesday at 11, I'm Jane")
    book(chat, "beard trim with alex friday at 2")
    chat.say("cancel my facial")
    chat.expect("can't find a facial", "Which one would you like to cancel?")


# --- names anywhere in a message ------------------------------------------------------------


def customer_names(db: Database) -> list[str | None]:
    with db.read() as session:
        return [a.customer.name for a in session.scalars(select(Appointment)).all()]


@pytest.mark.parametrize(
    "request_, name",
    [
        ("beard trim with alex friday at 2 - Marco here", "Marco"),
        ("haircut with sam thursday at 4, this is Walt", "Walt"),
        ("hey name's Dee, facial with priya saturday at 11", "Dee"),
        ("haircut with sam friday at 12 - I'm Ana Ruiz btw", "Ana Ruiz"),
        ("massage (30 min) with jordan sunday at 11. it's Hana", "Hana"),
        ("Kofi here, haircut with alex saturday at 10 please", "Kofi"),
    ],
)
def test_a_name_given_anywhere_in_the_request_is_the_customers_name(chat, salon, request_, name):
    chat.say(request_)
    chat.expect(f"{name.split()[0]}, shall I book this?")
    chat.expect_not("What name")
    chat.say("yes")
    chat.expect("You're booked")
    assert customer_names(salon) == [name]


@pytest.mark.parametrize(
    "request_",
    [
        "haircut with sam friday at 2, I'm free all day",
        "haircut with sam friday at 2 this is urgent",
        "haircut with sam friday at 2, I'm around after lunch anyway",
        "haircut with sam friday at 2 - I am Priya's client usually",
    ],
)
def test_words_after_an_introduction_that_are_not_names_are_not_taken(chat, salon, request_):
    chat.say(request_)
    chat.expect("What name should I put the booking under?")
    chat.say("Rosa")
    chat.expect("Rosa, shall I book this?")


def test_introducing_oneself_before_asking_anything_is_remembered(chat, salon):
    chat.say("evening! Gus here")
    chat.expect("Hi Gus!")
    chat.say("haircut with sam friday at 2")
    chat.expect("Gus, shall I book this?")


# --- nicknames and diminutives for staff ------------------------------------------------------


@pytest.mark.parametrize(
    "request_, who",
    [
        ("haircut with sammy friday at 2, I'm Jo", "Haircut with Sam"),  # an alias in the toml
        ("beard trim with lex friday at 2, I'm Jo", "Beard trim with Alex"),  # an alias
        ("facial with pri saturday at 11, I'm Jo", "Facial with Priya"),  # a prefix
        ("facial w/ priy saturday at 11, I'm Jo", "Facial with Priya"),  # a longer prefix
        ("haircut with jordy saturday at 10, I'm Jo", "Haircut with Jordan"),  # a diminutive
        ("haircut with jord saturday at 10, I'm Jo", "Haircut with Jordan"),
        ("haircut with sammie thursday at 4, I'm Jo", "Haircut with Sam"),  # a diminutive
    ],
)
def test_staff_are_found_by_nickname_and_diminutive(chat, salon, request_, who):
    chat.say(request_)
    chat.expect("shall I book", who)
    chat.say("yes")
    chat.expect("You're booked", who)


PRIYANKA = """
[[staff]]
key = "priyanka"
name = "Priyanka Rao"
services = ["facial"]
"""


def test_a_nickname_two_staff_share_is_asked_about_not_guessed(db):
    apply_config(db, parse_config(DEMO_CONFIG.read_text() + PRIYANKA))
    chat = Chat(db, NOW)
    chat.say("facial with pri saturday at 11, I'm Jo")
    chat.expect("any preference", "Priya", "Priyanka")
    chat.expect_not("shall I book")
    chat.press("Priyanka")
    chat.expect("Facial with Priyanka")


def test_a_staff_members_full_first_name_beats_another_ones_prefix(db):
    apply_config(db, parse_config(DEMO_CONFIG.read_text() + PRIYANKA))
    chat = Chat(db, NOW)
    chat.say("facial with priya saturday at 11, I'm Jo")
    chat.expect("shall I book", "Facial with Priya")


def test_staff_aliases_are_read_from_business_toml():
    cfg = load_config(DEMO_CONFIG)
    assert {m.key: m.aliases for m in cfg.staff}["sam"] == ["sammy"]
    assert {m.key: m.aliases for m in cfg.staff}["jordan"] == []


@pytest.mark.parametrize(
    "change, problem",
    [
        (
            ('aliases = ["lex"]', 'aliases = ["sammy"]'),
            "staff[alex].aliases: 'sammy' is listed twice",
        ),
        (
            ('aliases = ["lex"]', 'aliases = ["lex", ""]'),
            "staff[alex].aliases: must hold non-empty",
        ),
        (('aliases = ["lex"]', 'aliases = "lex"'), "staff[alex].aliases"),
    ],
)
def test_a_broken_staff_alias_is_refused_with_the_field_named(change, problem):
    old, new = change
    with pytest.raises(ConfigError) as caught:
        parse_config(DEMO_CONFIG.read_text().replace(old, new))
    assert problem in str(caught.value)


# --- recurring by chat: a summary of the series first, then the series ----------------------


def series_rows(db: Database) -> list[Appointment]:
    return [a for a in appointments(db) if a.series_id is not None]


@pytest.mark.parametrize(
    "request_, first, step",
    [
        ("facial with priya every other thursday at 4 starting next week, I'm Jo", "Nov 26", 14),
        ("massage (60 min) with jordan every friday at 1pm from dec 4, I'm Jo", "Dec 4", 7),
        ("haircut w/ sam every 2nd wednesday at 10am, I'm Jo", "Nov 18", 14),
    ],
)
def test_a_recurring_request_shows_the_series_and_books_it_on_yes(
    chat, salon, request_, first, step
):
    chat.say(request_)
    chat.expect("here's the series", "6 appointments", "Yes, book the series")
    assert first in chat.text.split("appointments:")[1].splitlines()[1]  # the first date listed
    clashes = chat.text.count("(not free)")
    assert appointments(salon) == []  # nothing is booked before the yes
    chat.press("Yes, book the series")
    chat.expect("Booked")
    booked = series_rows(salon)
    starts = sorted(a.starts_at for a in booked)
    assert len({a.series_id for a in booked}) == 1 and len(booked) == 6 - clashes
    assert all((b - a).days % step == 0 for a, b in zip(starts, starts[1:], strict=False))


def test_a_series_summary_names_the_dates_that_are_not_free(chat, salon):
    # Sam is away Dec 26-31: the fourth Saturday clashes.
    chat.say("haircut with sam every saturday at 10 from dec 5, 4 times, this is Walt")
    chat.expect(
        "Sat, Dec 5, 10:00 AM", "Sat, Dec 19, 10:00 AM", "Sat, Dec 26, 10:00 AM  (not free)"
    )
    chat.expect("1 of them is not free; shall I book the other 3?")
    chat.say("yes")
    chat.expect("Booked 3", "1 could not be booked")
    assert len(series_rows(salon)) == 3


def test_a_series_asks_for_what_the_request_leaves_out(chat, salon):
    chat.say("could I have a standing slot every other tuesday at 11")
    chat.expect("which service?")
    chat.press("Beard trim")
    chat.expect("who with?")
    chat.press("Alex")
    chat.expect("What name")
    chat.say("Noor")
    chat.expect("Noor, here's the series: Beard trim with Alex at 11:00 AM, every other Tuesday")
    chat.say("no thanks")
    chat.expect("no series booked")
    assert appointments(salon) == []


@pytest.mark.parametrize(
    "request_",
    [
        "could I come friday at 2 for a facial too",
        "can we do a beard trim thursday at 3?",
        "my son needs a haircut, same time on friday?",
    ],
)
def test_a_new_booking_with_a_move_cue_is_not_taken_for_a_move(chat, salon, request_):
    book(chat, "haircut with sam wednesday at 11, I'm Jane")
    chat.say(request_)
    chat.expect_not("Move Haircut", "Moving Haircut")
    assert appointments(salon)[0].starts_at == local("2026-11-18 11:00")


# --- booking for someone else: the attendee's name on the appointment -------------------------


@pytest.mark.parametrize(
    "request_, attendee",
    [
        ("haircut with sam friday at 2, it's for my son Leo. I'm Ana", "Leo"),
        ("I'm Ana - beard trim with alex friday at 3 for my husband, Raj Patel", "Raj Patel"),
        ("my daughter Mia needs a haircut with sam friday at 11, this is Ana", "Mia"),
    ],
)
def test_a_booking_for_someone_else_keeps_the_booker_and_names_the_attendee(
    chat, salon, request_, attendee
):
    chat.say(request_)
    chat.expect("Ana, shall I book this?", f"For: {attendee}")
    chat.say("yes")
    chat.expect("You're booked")
    [booked] = appointments(salon)
    assert booked.customer.name == "Ana" and booked.attendee == attendee


def test_a_relation_without_a_name_is_asked_for_not_guessed(chat, salon):
    chat.say("my son needs a haircut with sam friday at 2, I'm Ana")
    chat.expect("what's your son's name")
    chat.expect_not("For:", "shall I book")
    chat.say("Leo")
    chat.expect("Ana, shall I book this?", "For: Leo")
    chat.say("yes")
    [booked] = appointments(salon)
    assert booked.attendee == "Leo" and booked.customer.name == "Ana"


@pytest.mark.parametrize(
    "request_, name, who",
    [
        ("haircut with sam friday at 12 - I'm Ana Lee btw", "Ana Lee", "Haircut with Sam"),
        ("beard trim w/ alex friday at 3, this is Mo Patel", "Mo Patel", "Beard trim with Alex"),
        ("facial with priya saturday at 11. Li Rivera here", "Li Rivera", "Facial with Priya"),
    ],
)
def test_a_customer_sharing_a_staff_surname_keeps_the_staff_member_asked_for(
    chat, salon, request_, name, who
):
    chat.say(request_)
    chat.expect(f"{name.split()[0]}, shall I book this?", who)
    chat.say("yes")
    assert customer_names(salon) == [name]


@pytest.mark.parametrize(
    "request_", ["same time on wednesday instead?", "could I come at 11 instead"]
)
def test_asking_to_move_to_the_time_already_booked_says_so_and_asks_again(chat, salon, request_):
    book(chat, "haircut with sam wednesday at 11, I'm Jane")
    chat.say(request_)
    chat.expect("That's the time you already have", "When would suit you instead?")
    chat.say("friday at 2 then")
    chat.expect("to Fri, Nov 20, 2:00 PM?")


def _book_series(chat: Chat) -> None:
    chat.say("facial with priya every thursday at 4 from dec 3, 4 times, I'm Jo")
    chat.expect("here's the series")
    chat.say("yes")
    chat.expect("Booked 4")


@pytest.mark.parametrize(
    "answer", ["all of them from then on", "the rest too please", "going forward, yes"]
)
def test_moving_a_series_occurrence_can_move_all_later_ones(chat, salon, answer):
    _book_series(chat)
    chat.say("can we do 5 instead?")
    chat.expect("Which one would you like to move?")
    chat.press("Dec 10")
    chat.expect("to Thu, Dec 10, 5:00 PM?", "Just this one", "This and all later ones")
    chat.say(answer)
    chat.expect("Moved 3 appointments")
    hours = [a.starts_at.astimezone(NOW.tzinfo).hour for a in series_rows(salon)]
    assert sorted(hours) == [16, 17, 17, 17]


def test_moving_a_series_occurrence_alone_leaves_the_others(chat, salon):
    _book_series(chat)
    chat.say("could we push it back an hour")
    chat.press("Dec 17")
    chat.press("Just this one")
    chat.expect("Done. Moved from Thu, Dec 17, 4:00 PM to Thu, Dec 17, 5:00 PM")
    hours = [a.starts_at.astimezone(NOW.tzinfo).hour for a in series_rows(salon)]
    assert sorted(hours) == [16, 16, 16, 17]
