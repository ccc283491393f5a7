"""Someone else's visit asked for during a booking is booked after it, never in its place;
"for my son Max and me" is two bookings, the sender's then Max's (demo salon, SQLite and
PostgreSQL; Monday 16 Nov 2026, 10:00 in New York).
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.config import apply_config, load_config
from storage.db import Database
from storage.models import Appointment
from tests.conftest import DEMO_CONFIG
from tests.dialogue import Chat
from tests.factories import local

NOW = local("2026-11-16 10:00")


@pytest.fixture
def chat(db: Database) -> Chat:
    apply_config(db, load_config(DEMO_CONFIG))
    return Chat(db, NOW)


def booked(chat: Chat) -> list[tuple[str, str | None, str]]:
    with chat.db.read() as session:
        rows = session.scalars(select(Appointment).order_by(Appointment.id)).all()
        return [(a.service.key, a.attendee, chat_when(a)) for a in rows]


def chat_when(appointment: Appointment) -> str:
    return appointment.starts_at.astimezone(NOW.tzinfo).strftime("%a %H:%M")


@pytest.mark.parametrize(
    ("ask", "who", "name_asked", "attendee"),
    [
        ("can my sister get a haircut too", "Your sister's haircut", True, "Ana"),
        ("my wife Ana wants a haircut as well", "Ana's haircut", False, "Ana"),
        ("also one haircut for my son Leo please", "Leo's haircut", False, "Leo"),
    ],
)
def test_another_persons_visit_mid_booking_comes_after_this_one(
    chat, ask, who, name_asked, attendee
):
    chat.say("beard trim with jordan thursday at 5pm, I'm Ollie")
    chat.expect("Ollie, shall I book this?", "Beard trim with Jordan")
    chat.say(ask)
    chat.expect(
        f"{who} next, once this one is booked.", "Beard trim with Jordan", "Thu, Nov 19, 5:00 PM"
    )
    assert "then." not in chat.text  # not a change of this booking
    chat.say("yes")
    chat.expect("booked", "Now")
    if name_asked:
        chat.expect("what's your sister's name")
        chat.say(attendee)
    chat.expect("shall I book this?", "Haircut with", "Thu, Nov 19, 5:00 PM", f"For: {attendee}")
    chat.say("yes")
    assert booked(chat) == [("beard-trim", None, "Thu 17:00"), ("haircut", attendee, "Thu 17:00")]


@pytest.mark.parametrize(
    ("request_", "other", "when"),
    [
        ("haircut for my son Max and me friday at 3, I'm Jo", "Max", "Fri 15:00"),
        ("me and my daughter Mia both need haircuts saturday at 11, I'm Jo", "Mia", "Sat 11:00"),
        ("a haircut for me and my husband Raj on friday at 2, I'm Jo", "Raj", "Fri 14:00"),
    ],
)
def test_the_sender_and_someone_else_in_one_request_are_two_bookings(chat, request_, other, when):
    chat.say(request_)
    chat.expect(f"{other}'s haircut next", "Jo, shall I book this?")
    assert "For:" not in chat.text  # the first is the sender's own
    chat.say("yes")
    chat.expect(f"Now {other}'s haircut.", f"For: {other}")
    chat.say("yes")
    assert booked(chat) == [("haircut", None, when), ("haircut", other, when)]
