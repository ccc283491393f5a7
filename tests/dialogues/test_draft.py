"""The booking draft (conversations.flows.draft): stored once under the data's "draft" key,
and a conversation saved before the draft existed (its loose keys) goes on after a deploy.

Monday 16 Nov 2026, 10:00 in New York, on the demo salon (SQLite and PostgreSQL).
"""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from bot.config import apply_config, load_config
from conversations.flows.draft import KEY, BookingDraft, Window
from storage.db import Database
from storage.models import Conversation
from tests.conftest import DEMO_CONFIG
from tests.dialogue import Chat
from tests.factories import local

NOW = local("2026-11-16 10:00")


@pytest.fixture
def chat(db: Database) -> Chat:
    apply_config(db, load_config(DEMO_CONFIG))
    return Chat(db, NOW)


def _data(chat: Chat) -> dict:
    with chat.db.read() as session:
        return dict(
            session.scalar(select(Conversation.data).where(Conversation.address == chat.sender))
        )


def _store(chat: Chat, data: dict) -> None:
    with chat.db.write() as session:
        row = session.scalar(select(Conversation).where(Conversation.address == chat.sender))
        row.data = data


def test_the_draft_is_stored_under_one_key_with_its_times_as_iso_text(chat):
    chat.say("haircut with sam friday")
    chat.expect("Fri, Nov 20")
    data = _data(chat)
    assert "service" not in data and "when" not in data  # no loose keys any more
    draft = data[KEY]
    assert draft["service"] == "haircut" and draft["staff"] == "sam"
    assert datetime.fromisoformat(draft["when"]["start"]) == local("2026-11-20 00:00")
    assert draft["offered"][0]["id"] == "slot:0"


def test_a_conversation_saved_with_the_loose_keys_of_before_goes_on(chat):
    chat.say("haircut with sam friday")
    first = chat.options[0]
    # As the code before the draft stored it: the same fields, loose in the data.
    data = _data(chat)
    _store(chat, {**{k: v for k, v in data.items() if k != KEY}, **data[KEY]})
    assert "draft" not in _data(chat) and _data(chat)["service"] == "haircut"
    chat.press(first)
    chat.expect("What name")
    after = _data(chat)
    assert after[KEY]["slot"]["staff_id"] and "service" not in after and "offered" not in after
    chat.say("Jo Park")
    chat.expect("Jo, shall I book this?", "Haircut with Sam", first.split(" with ")[0])


def test_loose_keys_written_by_hand_as_before_are_read_into_the_draft():
    before = {
        "trail": ["when"],
        "service": "haircut",
        "staff": "any",
        "when": {
            "start": "2026-11-20T15:00:00-05:00",
            "end": "2026-11-20T15:01:00-05:00",
            "target": "2026-11-20T15:00:00-05:00",
            "exact": True,
            "label": "Fri, Nov 20, 3:00 PM",
            "daily": None,
        },
        "pin": [40.7, -74.0],
        "_offered": ["yes"],
    }
    draft = BookingDraft.read(before)
    assert draft.service == "haircut" and draft.trail == ["when"] and draft.pin == (40.7, -74.0)
    assert draft.when == Window.at(local("2026-11-20 15:00"), "Fri, Nov 20, 3:00 PM")
    written = draft.written(before)
    assert written["_offered"] == ["yes"] and set(written) == {"_offered", KEY}
    assert BookingDraft.read(written).model_dump() == draft.model_dump()


def test_an_unreadable_draft_starts_afresh_and_an_empty_one_is_not_stored():
    assert BookingDraft.read({KEY: {"when": {"start": "soon"}}}) == BookingDraft()
    assert BookingDraft().written({"_offered": []}) == {"_offered": []}
