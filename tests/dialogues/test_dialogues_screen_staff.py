"""A staff member named with a time typed under a list is taken with it: "is sam free at
2?" is 2:00 with Sam, never 2:00 with whoever, and "3:30 with alex" never picks Sam's 3:30
on the list (demo salon, SQLite and PostgreSQL; Monday 16 Nov 2026, 10:00 in New York).
"""

from __future__ import annotations

import pytest

from bot.config import apply_config, load_config
from storage.db import Database
from tests.conftest import DEMO_CONFIG
from tests.dialogue import Chat
from tests.factories import local

NOW = local("2026-11-16 10:00")


@pytest.fixture
def chat(db: Database) -> Chat:
    apply_config(db, load_config(DEMO_CONFIG))
    return Chat(db, NOW)


@pytest.mark.parametrize(
    ("typed", "staff", "clock"),
    [
        ("is sam free at 2?", "Sam", "2:00 PM"),
        ("2pm with alex?", "Alex", "2:00 PM"),
        ("could alex do 11:30", "Alex", "11:30 AM"),
    ],
)
def test_a_time_typed_under_the_list_with_a_name_is_that_person_then(chat, typed, staff, clock):
    chat.say("haircut friday")
    chat.expect("Here's what I have for Fri, Nov 20")
    chat.say(typed)
    chat.expect(f"Fri, Nov 20, {clock}, with {staff} then.", "What name")
    chat.say("Jo")
    chat.expect("Jo, shall I book this?", f"Haircut with {staff}", f"Fri, Nov 20, {clock}")


@pytest.mark.parametrize(
    "typed", ["3:30 with alex then", "alex at 3:30?", "make it 3:30 with alex"]
)
def test_a_listed_time_with_another_persons_name_is_not_a_pick(chat, typed):
    chat.say("haircut with sam friday at 3")
    chat.expect("isn't free", "3:30 PM with Sam")
    chat.say(typed)
    chat.expect("with Alex then", "What name")
    chat.say("Jo")
    chat.expect("Haircut with Alex", "Fri, Nov 20, 3:30 PM")
