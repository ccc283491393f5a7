"""Issue 14 point 7 end to end, in phrasings of this file's own, and the manage draft.

A move is a move (never an offer to cancel), a free-text reply to a reminder moves that
appointment inside the reminder's thread, and "cancel my <service>" with one of that kind
takes it without a list. The demo salon on SQLite and PostgreSQL, Monday 16 Nov 2026, 10:00.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.config import apply_config, load_config
from bot.engagement.reminders import queue_reminders
from bot.messaging.messages import SMS, TELEGRAM
from conversations.nlu.moves import move_target
from storage.db import Database
from storage.models import CANCELLED, Appointment, AwaitingReply, Conversation
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


@pytest.fixture(params=[(TELEGRAM, "5550777"), (SMS, "+12125550777")], ids=["telegram", "sms"])
def reminded(request: pytest.FixtureRequest, salon: Database) -> Chat:
    """A customer booked for Wed 11:00 who has just had the 24-hour reminder."""
    channel, sender = request.param
    chat = Chat(salon, NOW, channel=channel, sender=sender)
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


# --- conversations stored mid-change before the draft existed go on -------------------------


def _stored_as_before(db: Database, chat: Chat, step: str, **data: object) -> None:
    """Put the chat's conversation where the code of before left it: loose keys, ISO times."""
    chat.say("no thanks")  # the offers question after a first booking, out of the way
    with db.write() as session:
        row = session.scalars(
            select(Conversation).where(
                Conversation.channel == chat.channel, Conversation.address == chat.sender
            )
        ).one()
        row.flow, row.step, row.data = "manage", step, dict(data)


def _stored(db: Database, chat: Chat) -> dict:
    with db.read() as session:
        return session.scalars(
            select(Conversation.data).where(Conversation.address == chat.sender)
        ).one()


def test_a_proposal_stored_with_the_old_keys_is_accepted_after_the_deploy(chat, salon):
    book(chat, "haircut with sam wednesday at 11, I'm Pat")
    [appointment] = appointments(salon)
    new = local("2026-11-20 14:00")
    _stored_as_before(
        salon, chat, "move_confirm", appointment=appointment.id, start=new.isoformat()
    )
    chat.say("yes please")
    chat.expect("Done. Moved from Wed, Nov 18, 11:00 AM to Fri, Nov 20, 2:00 PM")
    assert appointments(salon)[0].starts_at == new


def test_a_list_of_times_stored_with_the_old_keys_can_still_be_picked(chat, salon):
    book(chat, "haircut with sam wednesday at 11, I'm Pat")
    [appointment] = appointments(salon)
    offered = [
        {"id": f"slot:{i}", "start": local(at).isoformat(), "staff_id": appointment.staff_id}
        for i, at in enumerate(["2026-11-20 14:00", "2026-11-20 15:00"])
    ]
    _stored_as_before(salon, chat, "move_pick", appointment=appointment.id, offered=offered)
    chat.say("the 3pm one")
    chat.expect("Done. Moved from Wed, Nov 18, 11:00 AM to Fri, Nov 20, 3:00 PM")


def test_a_which_one_stored_with_the_old_keys_goes_on_and_is_stored_as_a_draft(chat, salon):
    book(chat, "haircut with sam wednesday at 11, I'm Pat")
    book(chat, "facial with priya friday at 2")
    haircut, facial = appointments(salon)
    _stored_as_before(
        salon, chat, "choose_move", ids=[haircut.id, facial.id], request="move it to saturday"
    )
    chat.say("the facial")
    chat.expect("Here's what Priya has Sat, Nov 21")
    stored = _stored(salon, chat)
    assert not {"ids", "request", "appointment", "offered", "start"} & set(stored), (
        "loose keys gone"
    )
    assert stored["change"]["appointment"] == facial.id and stored["change"]["offered"]


def test_a_cancel_stored_with_the_old_keys_takes_the_reason(chat, salon):
    book(chat, "haircut with sam wednesday at 11, I'm Pat")
    [appointment] = appointments(salon)
    _stored_as_before(salon, chat, "cancel_reason", appointment=appointment.id)
    chat.say("my car broke down")
    chat.expect("Cancelled: Haircut")
    with salon.read() as session:
        assert session.get(Appointment, appointment.id).cancel_reason == "my car broke down"


# --- go back --------------------------------------------------------------------------------


def test_going_back_from_a_proposal_asks_when_again_and_moves_nothing(chat, salon):
    book(chat, "haircut with sam wednesday at 11, I'm Pat")
    chat.say("can we do friday at 2 instead?")
    chat.expect("to Fri, Nov 20, 2:00 PM?")
    chat.say("go back")
    chat.expect("When would suit you instead?")
    chat.say("saturday at 10")
    chat.expect("to Sat, Nov 21, 10:00 AM?")
    assert appointments(salon)[0].starts_at == local("2026-11-18 11:00")


def test_going_back_from_a_proposal_picked_from_a_list_shows_the_list_again(chat, salon):
    book(chat, "haircut with sam wednesday at 11, I'm Pat")
    book(chat, "facial with priya friday at 2")
    chat.say("I need to move an appointment")
    chat.expect("Which one would you like to move?")
    chat.press("Facial")
    chat.say("go back")
    chat.expect("Which one would you like to move?")
    assert len(chat.options) == 2


def test_going_back_at_the_cancel_question_keeps_the_appointment(chat, salon):
    book(chat, "haircut with sam wednesday at 11, I'm Pat")
    chat.say("cancel my haircut")
    chat.expect("Cancel Haircut with Sam")
    chat.say("go back")
    chat.expect("stays booked")
    assert appointments(salon)[0].status != CANCELLED


# --- the docs' copy of the tables ------------------------------------------------------------


def test_the_docs_show_the_manage_and_owner_booking_tables_as_the_code_has_them():
    path = Path(__file__).resolve().parents[2] / "docs" / "manage_tables.py"
    spec = importlib.util.spec_from_file_location("manage_tables", path)
    assert spec is not None and spec.loader is not None
    tables = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tables)
    assert tables.block() in tables.DOC.read_text(), "run: python docs/manage_tables.py"


@pytest.mark.parametrize(
    "aside, again",
    [
        ("help", "to Fri, Nov 20, 2:00 PM?"),
        ("how much is a haircut?", "to Fri, Nov 20, 2:00 PM?"),
        ("do you have parking?", "to Fri, Nov 20, 2:00 PM?"),
    ],
)
def test_an_aside_at_the_proposal_asks_it_again(chat, salon, aside, again):
    book(chat, "haircut with sam wednesday at 11, I'm Pat")
    chat.say("can we do friday at 2 instead?")
    chat.say(aside)
    chat.expect(again, "Yes, move it")
    chat.press("Yes, move it")
    assert appointments(salon)[0].starts_at == local("2026-11-20 14:00")


# --- a change of mind between moving and cancelling ---------------------------------------------


@pytest.mark.parametrize(
    "second_thought, proposal",
    [
        ("actually can we move it to friday at 2 instead?", "to Fri, Nov 20, 2:00 PM?"),
        ("wait, could I do thursday at 3 rather", "to Thu, Nov 19, 3:00 PM?"),
        ("hmm no, push it back an hour instead", "to Wed, Nov 18, 12:00 PM?"),
    ],
)
def test_a_new_time_asked_for_at_the_cancel_question_moves_instead(
    chat, salon, second_thought, proposal
):
    book(chat, "facial with priya wednesday at 11, I'm Pat")
    chat.say("cancel my facial")
    chat.expect("Cancel Facial with Priya")
    chat.say(second_thought)
    chat.expect("Move Facial with Priya, Wed, Nov 18, 11:00 AM " + proposal)
    assert appointments(salon)[0].status != CANCELLED
    chat.press("Yes, move it")
    chat.expect("Done. Moved")
    assert appointments(salon)[0].status != CANCELLED


@pytest.mark.parametrize(
    "question", ["is there a fee if I cancel?", "what's your cancellation policy?"]
)
def test_a_question_at_the_cancel_question_is_answered_not_taken_as_the_reason(
    chat, salon, question
):
    book(chat, "facial with priya wednesday at 11, I'm Pat")
    chat.say("cancel my facial")
    chat.say(question)
    chat.expect("Cancel Facial with Priya")
    assert appointments(salon)[0].status != CANCELLED


@pytest.mark.parametrize(
    "reason", ["can't make it on wednesday, cancel please", "I can't make it, sorry", "ill"]
)
def test_a_reason_that_sounds_like_a_move_still_cancels(chat, salon, reason):
    book(chat, "facial with priya wednesday at 11, I'm Pat")
    chat.say("cancel my facial")
    chat.say(reason)
    chat.expect("Cancelled: Facial")


@pytest.mark.parametrize(
    "second_thought", ["on second thought leave it", "no wait, keep it", "keep my current one"]
)
def test_leaving_it_at_the_cancel_question_keeps_the_appointment(chat, salon, second_thought):
    book(chat, "facial with priya wednesday at 11, I'm Pat")
    chat.say("cancel my facial")
    chat.say(second_thought)
    chat.expect("stays booked")
    assert appointments(salon)[0].status != CANCELLED


@pytest.mark.parametrize(
    "second_thought", ["actually just cancel it", "cancel it instead", "no, cancel the whole thing"]
)
def test_cancelling_instead_during_a_move_asks_the_cancel_question(chat, salon, second_thought):
    book(chat, "facial with priya wednesday at 11, I'm Pat")
    chat.say("can we do friday at 2 instead?")
    chat.expect("Move Facial with Priya")
    chat.say(second_thought)
    chat.expect("Cancel Facial with Priya, Wed, Nov 18, 11:00 AM?")
    assert appointments(salon)[0].status != CANCELLED
    chat.press("Yes, cancel it")
    chat.expect("Cancelled: Facial")


@pytest.mark.parametrize(
    "second_thought",
    ["can we reschedule instead?", "I'd rather move it", "could I change the time instead"],
)
def test_a_move_asked_for_without_a_time_at_the_cancel_question_asks_when_and_cancels_nothing(
    chat, salon, second_thought
):
    book(chat, "facial with priya wednesday at 11, I'm Pat")
    chat.say("cancel my facial")
    chat.expect("Cancel Facial with Priya")
    chat.say(second_thought)
    chat.expect("When would suit you instead?")
    assert appointments(salon)[0].status != CANCELLED


@pytest.mark.parametrize("stale", ["mine", "book", "svc:haircut"])
def test_a_stale_button_at_the_cancel_question_cancels_nothing(chat, salon, stale):
    book(chat, "facial with priya wednesday at 11, I'm Pat")
    chat.say("cancel my facial")
    chat.say(option=stale)
    assert appointments(salon)[0].status != CANCELLED


@pytest.mark.parametrize(
    "question", ["will priya be in that day?", "is the parking free?", "do you do gift cards?"]
)
def test_any_question_at_the_cancel_question_cancels_nothing(chat, salon, question):
    book(chat, "facial with priya wednesday at 11, I'm Pat")
    chat.say("cancel my facial")
    chat.say(question)
    assert appointments(salon)[0].status != CANCELLED
