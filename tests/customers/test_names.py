"""Names are cleaned on the way in — bidi controls, control and zero-width characters out,
whitespace collapsed, length capped — at every entry (WhatsApp, Telegram, a name typed in a
chat, a name the owner types), and migration 0011 cleans the names stored before.

Tests that take `db` or `db_url` run on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from alembic import command
from sqlalchemy import insert, select
from sqlalchemy import text as sql_text
from telegram import Bot, Update

from bot.config import apply_config, load_config
from bot.core.names import clean_display_name, clean_text
from bot.messaging.inbox import record
from bot.messaging.messages import WEB, Inbound
from conversations.engine import Engine
from storage.db import Database
from storage.migrate import alembic_config, upgrade
from storage.models import Customer, CustomerIdentity, InboundMessage
from tests.conftest import DEMO_CONFIG
from tests.dialogue import Chat
from tests.factories import local
from webhooks.telegram import inbound_from_update
from webhooks.twilio import inbound_from_form

NOW = local("2026-11-17 08:00")
RLO, LRI, PDI, ZWSP, BOM = "\u202e", "\u2066", "\u2069", "\u200b", "\ufeff"
INVISIBLE = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F)}
HOSTILE = f"{RLO}Jane{ZWSP}\t\x07Doe\x1b[31m\u0085 {LRI}exe.{PDI}{BOM}"


def assert_clean(name: str | None) -> None:
    assert name is not None
    assert not (set(name) & INVISIBLE), repr(name)
    assert all(ord(c) >= 0x20 and not 0x7F <= ord(c) <= 0x9F for c in name), repr(name)
    assert "  " not in name and name == name.strip() and len(name) <= 80


def customer_names(db: Database) -> list[str | None]:
    with db.read() as session:
        return list(session.scalars(select(Customer.name).order_by(Customer.id)))


def test_bidi_controls_control_and_zero_width_characters_are_removed():
    assert clean_display_name(HOSTILE) == "Jane Doe[31m exe."
    assert clean_display_name(f"Bob{RLO}gnp.exe") == "Bobgnp.exe"
    assert clean_display_name("  Jane \n\n  Doe  ") == "Jane Doe"
    assert clean_display_name("Zoë O\u2019Brien") == "Zoë O\u2019Brien"  # letters are kept
    assert clean_display_name("e\u0301") == "\u00e9"  # composed (NFC)


def test_a_name_is_capped_and_nothing_printable_is_no_name():
    assert clean_display_name("A" * 500) == "A" * 80
    assert clean_display_name(f"{RLO}{ZWSP} \x00") is None
    assert clean_display_name("") is None
    assert clean_display_name(42) is None  # a provider sent a number where a name goes


def test_message_text_keeps_its_characters_but_loses_what_no_database_stores():
    assert clean_text("hi \ud800 there\x00") == "hi \ufffd there"
    assert clean_text(f"{RLO} stays") == f"{RLO} stays"


def test_a_whatsapp_profile_name_is_cleaned_before_it_is_stored(db: Database):
    apply_config(db, load_config(DEMO_CONFIG))
    form = {
        "From": "whatsapp:+15551230007",
        "Body": "hi",
        "MessageSid": "SM" + "7" * 32,
        "ProfileName": HOSTILE,
    }
    inbound = inbound_from_form(form, "US", NOW)
    assert inbound is not None and inbound.display_name == "Jane Doe[31m exe."
    record(db, inbound)
    Engine(db, clock=lambda: NOW).handle_recorded(inbound)
    [name] = customer_names(db)
    assert_clean(name)
    with db.read() as session:
        payload = session.scalar(select(InboundMessage.payload))
    assert_clean(payload["display_name"])


def test_telegram_first_last_and_user_names_are_cleaned(db: Database):
    apply_config(db, load_config(DEMO_CONFIG))
    user = {"id": 77, "is_bot": False, "first_name": f"{RLO}Ja\x00ne", "last_name": f"D{ZWSP}oe\n"}
    update = {
        "update_id": 9001,
        "message": {
            "message_id": 1,
            "date": 1_763_290_000,
            "chat": {"id": 77, "type": "private"},
            "from": user,
            "text": "hi",
        },
    }
    inbound = inbound_from_update(db, Update.de_json(update, Bot("1:x")), "US", NOW)
    assert inbound is not None and inbound.display_name == "Jane Doe"
    nameless = {**update, "update_id": 9002}
    nameless["message"] = {
        **update["message"],
        "from": {"id": 77, "is_bot": False, "first_name": RLO, "username": f"jane{BOM}_d"},
    }
    inbound = inbound_from_update(db, Update.de_json(nameless, Bot("1:x")), "US", NOW)
    assert inbound is not None and inbound.display_name == "jane_d"


def test_a_name_typed_in_the_chat_is_cleaned(db: Database):
    apply_config(db, load_config(DEMO_CONFIG))
    chat = Chat(db, NOW, channel=WEB, sender="names-test-01")
    chat.say("book")
    chat.press("Haircut")
    chat.press("Sam")
    chat.say("friday afternoon")
    slot = next(o.id for r in chat.replies for o in r.options if o.id.startswith("slot"))
    chat.say(option=slot)
    chat.say(f"{LRI}Jane{PDI}   Smith{ZWSP}")
    [name] = customer_names(db)
    assert name == "Jane Smith"


def test_a_name_the_owner_types_is_cleaned(db: Database):
    apply_config(db, load_config(DEMO_CONFIG))
    owner = Chat(db, NOW, channel="web", sender="owner")
    owner.say(f"book {RLO}Jane{ZWSP} Doe 212-555-0299 haircut with sam friday at 4")
    owner.expect("for Jane Doe,")
    owner.say("yes")
    owner.expect("Booked:")
    assert "Jane Doe" in customer_names(db)  # (the owner's own chat has a nameless row)


def test_an_inbound_message_cleans_itself_whoever_builds_it():
    inbound = Inbound(channel=WEB, sender="s" * 8, text="a\udfffb", display_name=f" {RLO}Al ")
    assert inbound.text == "a\ufffdb" and inbound.display_name == "Al"


def test_migration_0011_cleans_the_names_stored_before(db_url: str):
    command.downgrade(alembic_config(db_url), "0011-1")
    db = Database(db_url)
    try:
        with db.write() as session:
            # Plain SQL: the models carry columns later migrations add (not there yet).
            for name in (HOSTILE, "Plain Name", None, f"{RLO}{ZWSP}"):
                session.execute(
                    sql_text(
                        "INSERT INTO customer (name, created_at, notes) VALUES (:n, :t, '')"
                    ),
                    {"n": name, "t": NOW},
                )
            session.execute(
                insert(InboundMessage).values(
                    channel="whatsapp",
                    address="+15551230007",
                    provider_id="SMold",
                    text="hi",
                    payload={"display_name": f"{RLO}Old{ZWSP} Name", "option_id": None},
                    received_at=NOW,
                    handled_at=NOW,
                )
            )
        upgrade(db_url)
        assert customer_names(db) == ["Jane Doe[31m exe.", "Plain Name", None, None]
        with db.read() as session:
            payload = session.scalar(select(InboundMessage.payload))
            assert session.scalar(select(CustomerIdentity.id)) is None
        assert payload == {"display_name": "Old Name", "option_id": None}
    finally:
        db.dispose()
