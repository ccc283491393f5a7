"""A question the bot cannot answer, at any step of a booking: noted for the team, a person
offered, the step asked again; never "Sorry, I didn't get that", never taken as a name, and
a question about a staff member never makes them the choice (demo salon, SQLite and
PostgreSQL; Monday 16 Nov 2026, 10:00 in New York).
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.config import apply_config, load_config
from storage.db import Database
from storage.models import Customer
from tests.conftest import DEMO_CONFIG
from tests.dialogue import Chat
from tests.factories import local

NOW = local("2026-11-16 10:00")
PASSED_ON = "noted it for the team"


@pytest.fixture
def chat(db: Database) -> Chat:
    apply_config(db, load_config(DEMO_CONFIG))
    return Chat(db, NOW)


def _notes(chat: Chat) -> str:
    with chat.db.read() as session:
        return "\n".join(n or "" for n in session.scalars(select(Customer.notes)))


@pytest.mark.parametrize(
    "question",
    [
        "do you use organic products?",
        "is jordan good with curly hair?",
        "has alex done balayage before?",
    ],
)
def test_at_the_proposal_a_question_is_noted_and_the_proposal_asked_again(chat, question):
    chat.say("haircut with alex friday at 3, I'm Jo")
    chat.expect("Jo, shall I book this?", "Haircut with Alex")
    chat.say(question)
    chat.expect(PASSED_ON, "Talk to a person", "Jo, shall I book this?", "Haircut with Alex")
    assert "didn't get that" not in chat.text
    assert question in _notes(chat)
    chat.say("yes")
    chat.expect("booked", "Haircut with Alex, Fri, Nov 20, 3:00 PM")


@pytest.mark.parametrize(
    "question", ["do you have wifi?", "can I bring my dog?", "is jordan good with kids?"]
)
def test_at_the_name_question_a_question_is_no_name(chat, question):
    chat.say("haircut friday at 3")
    chat.expect("What name should I put the booking under?")
    chat.say(question)
    chat.expect(PASSED_ON, "What name should I put the booking under?")
    chat.say("Will Smith")  # no question: a name, even one starting like one
    chat.expect("Will, shall I book this?")


@pytest.mark.parametrize(
    "question", ["do you sell gift cards?", "are the chairs comfy?", "is sam nice?"]
)
def test_with_times_listed_a_question_picks_no_time(chat, question):
    chat.say("haircut friday")
    chat.expect("Here's what I have for Fri, Nov 20")
    chat.say(question)
    chat.expect(PASSED_ON, "Here are the times again")
    assert "What name" not in chat.text


def test_a_short_message_that_only_starts_like_a_question_still_gets_the_hint(chat):
    chat.say("haircut friday")
    chat.say("will smith")
    chat.expect("Sorry, I didn't get that. Pick one of the times")
