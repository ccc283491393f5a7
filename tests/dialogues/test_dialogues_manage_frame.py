"""Issue 14 point 7 end to end, in phrasings of this file's own, and the manage draft.

A move is a move (never an offer to cancel), a free-text reply to a reminder moves that
appointment inside the reminder's thread, and "cancel my <service>" with one of that kind
takes it without a list. The demo salon on SQLite and PostgreSQL, Monday 16 Nov 2026, 10:00.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.config import apply_config, load_config
from bot.engagement.reminders import queue_reminders
from bot.messaging.messages import TELEGRAM
from conversations.nlu.moves import move_target
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


# --- "same time another day" moves, never cancels ---------------------------------------------


@pytest.mark.parametrize(
    "request_, new_start",
    [
        ("I have to cancel wednesday, can we do the same time friday instead?", "2026-11-20 11:00"),
        ("cant do wednesday anymore - same time on thursday would be better", "2026-11-19 11:00"),
        ("need to switch to saturday, same time if possible", "2026-11-21 11:00"),
        ("is the same hour on friday free instead?", "2026-11-20 11:00"),
    ],
)
def test_the_same_time_on_another_day_is_a_move_even_with_the_word_cancel(
    chat, salon, request_, new_start
):
    book(chat, "haircut with sam wednesday at 11, I'm Pat")
    chat.say(request_)
    when = local(new_start)
    chat.expect("Move Haircut with Sam, Wed, Nov 18, 11:00 AM to", when.strftime("%a, %b %-d, "))
    chat.expect_not("Cancel Haircut", "Yes, cancel it")
    chat.press("Yes, move it")
    chat.expect("Done. Moved")
    [moved] = appointments(salon)
    assert moved.starts_at == when and moved.status != CANCELLED


# --- a free-text reply to a reminder moves that appointment, in the thread ---------------------


@pytest.fixture
def reminded(salon: Database) -> Chat:
    """A Telegram customer booked for Wed 11:00 who has just had the 24-hour reminder."""
    chat = Chat(salon, NOW, channel=TELEGRAM, sender="5550777")
    book(chat, "haircut with sam wednesday at 11, I'm Pat")
    chat.now = local("2026-11-17 11:00")
    with salon.write() as session:
        assert queue_reminders(session, chat.now)
    return chat


def _open_questions(db: Database) -> int:
    with db.read() as session:
        rows = session.scalars(select(AwaitingReply).where(AwaitingReply.answered_at.is_(None)))
        return len(rows.all())


@pytest.mark.parametrize(
    "reply, new_start",
    [
        ("can we push it back 30 mins?", "2026-11-18 11:30"),
        ("any chance I could come at 2 instead?", "2026-11-18 14:00"),
        ("I'd rather do 4pm if that works", "2026-11-18 16:00"),
        ("move it an hour earlier pls", "2026-11-18 10:00"),
        ("thursday same time would suit me better", "2026-11-19 11:00"),
    ],
)
def test_a_reminder_answered_in_words_moves_that_appointment(reminded, salon, reply, new_start):
    reminded.say(reply)
    when = local(new_start)
    reminded.expect("Move Haircut with Sam, Wed, Nov 18, 11:00 AM to")
    reminded.expect(when.strftime("%a, %b %-d, ") + when.strftime("%-I:%M %p").lstrip("0"))
    reminded.expect_not("What would you like to book", "any preference who with")
    assert _open_questions(salon) == 0, "the reminder's question is answered"
    reminded.say("yep")
    reminded.expect("Done. Moved")
    [moved] = appointments(salon)
    assert moved.starts_at == when


# --- one of a kind is cancelled without a list ----------------------------------------------


@pytest.mark.parametrize(
    "request_",
    [
        "I need to cancel the haircut",
        "won't make my haircut, please cancel it",
        "cancel the haircut I booked",
        "pls cancel haircut",
    ],
)
def test_the_only_appointment_of_a_kind_is_cancelled_without_a_list(chat, salon, request_):
    book(chat, "haircut with sam wednesday at 11, I'm Pat")
    book(chat, "facial with priya friday at 2")
    chat.say(request_)
    chat.expect("Cancel Haircut with Sam, Wed, Nov 18, 11:00 AM?")
    chat.expect_not("Which one")
    chat.press("Yes, cancel it")
    chat.expect("Cancelled: Haircut")
    haircut, facial = appointments(salon)
    assert haircut.status == CANCELLED and facial.status != CANCELLED


@pytest.mark.parametrize(
    "text, new_start",
    [
        ("I have to cancel wednesday, can we do the same time friday instead?", "2026-11-20 11:00"),
        ("can't do wednesday but thursday at 2 works", "2026-11-19 14:00"),
        ("wednesday, at 2 instead?", "2026-11-18 14:00"),
        ("same time wednesday next week", "2026-11-25 11:00"),
    ],
)
def test_a_move_naming_the_old_day_and_a_new_one_takes_the_new_one(text, new_start):
    current = local("2026-11-18 11:00")
    target = move_target(text, current, NOW)
    assert target is not None and target.start == local(new_start)
