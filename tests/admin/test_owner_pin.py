"""The owner PIN over SMS: caller ID can be forged, so with `owner_pin` set, destructive or
bulk owner commands by SMS ask for the PIN first; other channels are unaffected."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from bot.config import ConfigError, apply_config, load_config
from conversations.engine import Engine
from storage.db import Database
from storage.models import BOOKED, CANCELLED, AdminAudit, Appointment
from tests.admin.test_admin import NOW, booked, customer
from tests.conftest import DEMO_CONFIG, ROOT
from tests.dialogue import Chat

PIN = "4821"
OWNER_PHONE = "+12125550199"  # "sms:+12125550199" is an owner in the demo business.toml


def _config_with(tmp_path: Path, line: str) -> Path:
    logo = "webhooks/static/demo-logo.svg"
    text = DEMO_CONFIG.read_text().replace(f'"{logo}"', f'"{ROOT / logo}"')
    config = tmp_path / "business.toml"
    config.write_text(text.replace("[business]\n", f"[business]\n{line}\n", 1))
    return config


@pytest.fixture
def salon(db: Database, tmp_path: Path) -> Database:
    apply_config(db, load_config(_config_with(tmp_path, f'owner_pin = "{PIN}"')))
    return db


def _status(db: Database, appointment: int) -> str:
    with db.read() as session:
        found = session.get(Appointment, appointment)
        assert found is not None
        return found.status


def _actions(db: Database) -> list[str]:
    with db.read() as session:
        return list(session.scalars(select(AdminAudit.action).order_by(AdminAudit.id)))


def test_a_cancel_by_sms_asks_for_the_pin_then_confirms_and_never_repeats_it(salon):
    appointment = booked(salon, customer(salon, "Jane Doe", "+12125550201"), "2026-11-18 10:00")
    owner = Chat(salon, NOW, channel="sms", sender=OWNER_PHONE)
    owner.say(f"cancel #{appointment}")
    owner.expect("Reply with your owner PIN")
    assert _status(salon, appointment) == BOOKED
    # The wait for the PIN is in the database: another worker's engine takes the reply.
    other_worker = Chat(
        salon, NOW, channel="sms", sender=OWNER_PHONE, engine=Engine(salon, clock=lambda: NOW)
    )
    other_worker.say(PIN)
    other_worker.expect("Cancel", "The customer will be told")
    other_worker.expect_not(PIN)
    other_worker.say("yes")
    other_worker.expect("Cancelled")
    assert _status(salon, appointment) == CANCELLED
    assert "pin_accepted" in _actions(salon)
    assert all(
        PIN not in line
        for line in owner.transcript[1:] + other_worker.transcript[1:]
        if not line.startswith(">")
    )


def test_a_wrong_pin_refuses_and_changes_nothing(salon):
    appointment = booked(salon, customer(salon, "Jane Doe", "+12125550201"), "2026-11-18 10:00")
    owner = Chat(salon, NOW, channel="sms", sender=OWNER_PHONE)
    owner.say(f"cancel #{appointment}")
    owner.say("1234")
    owner.expect("That isn't the PIN, so nothing changed.")
    owner.expect_not("1234")
    owner.say("yes")  # a "yes" now confirms nothing
    assert _status(salon, appointment) == BOOKED
    assert _actions(salon) == ["pin_refused"]


def test_after_five_wrong_pins_guarded_commands_by_sms_pause_for_a_while(salon):
    appointment = booked(salon, customer(salon, "Jane Doe", "+12125550201"), "2026-11-18 10:00")
    owner = Chat(salon, NOW, channel="sms", sender=OWNER_PHONE)
    for guess in ("0000", "1111", "2222", "3333", "4444"):
        owner.say(f"cancel #{appointment}")
        owner.say(guess)
        owner.expect("isn't the PIN")
    owner.say(f"cancel #{appointment}")
    owner.expect("Too many wrong PINs")
    owner.say(PIN)  # even the right PIN is not asked for now
    assert _status(salon, appointment) == BOOKED
    owner.wait(minutes=16)
    owner.say(f"cancel #{appointment}")
    owner.expect("Reply with your owner PIN")
    owner.say(PIN)
    owner.expect("Cancel")


def test_saying_no_or_another_command_instead_of_the_pin_drops_the_waiting_one(salon):
    owner = Chat(salon, NOW, channel="sms", sender=OWNER_PHONE)
    owner.say("/broadcast 20% off colour this week!")
    owner.expect("Reply with your owner PIN")
    owner.say("no")
    owner.expect("OK, nothing changed.")
    owner.say("/broadcast 20% off colour this week!")
    owner.say("today")  # not a PIN: the broadcast lapses, the agenda is answered
    owner.expect("Nothing booked")
    owner.say(PIN)
    owner.expect_not("Preview")


def test_a_broadcast_by_sms_needs_the_pin_and_then_previews(salon):
    owner = Chat(salon, NOW, channel="sms", sender=OWNER_PHONE)
    owner.say("/broadcast 20% off colour this week!")
    owner.say(f" {PIN} ")
    owner.expect("Preview", "20% off colour this week!", "Send it?")


def test_reading_commands_by_sms_need_no_pin(salon):
    owner = Chat(salon, NOW, channel="sms", sender=OWNER_PHONE)
    owner.say("today")
    owner.expect("Nothing booked")
    owner.say("help")
    owner.expect_not("PIN")


@pytest.mark.parametrize(("channel", "sender"), [("telegram", "1000"), ("web", "owner")])
def test_other_channels_are_not_asked_for_the_pin(salon, channel, sender):
    appointment = booked(salon, customer(salon, "Jane Doe", "+12125550201"), "2026-11-18 10:00")
    owner = Chat(salon, NOW, channel=channel, sender=sender)
    owner.say(f"cancel #{appointment}")
    owner.expect("Cancel", "The customer will be told")
    owner.expect_not("PIN")


def test_without_an_owner_pin_sms_commands_work_as_before(db):
    apply_config(db, load_config(DEMO_CONFIG))
    appointment = booked(db, customer(db, "Jane Doe", "+12125550201"), "2026-11-18 10:00")
    owner = Chat(db, NOW, channel="sms", sender=OWNER_PHONE)
    owner.say(f"cancel #{appointment}")
    owner.expect("Cancel", "The customer will be told")


@pytest.mark.parametrize("pin", ["12", "12345678901234", "abcd", "48 21"])
def test_an_owner_pin_must_be_4_to_12_digits(tmp_path, pin):
    with pytest.raises(ConfigError, match="business.owner_pin"):
        load_config(_config_with(tmp_path, f'owner_pin = "{pin}"'))


def test_marking_an_invoice_paid_by_sms_needs_the_pin(salon):
    from bot.billing.ledger.invoices import get_invoice
    from tests.billing.test_payments_sandbox import _invoice

    invoice_id, _token = _invoice(salon)
    with salon.read() as session:
        number = get_invoice(session, invoice_id).number
    owner = Chat(salon, NOW, channel="sms", sender=OWNER_PHONE)
    owner.say(f"mark {number} paid 10 cash")
    owner.expect("Reply with your owner PIN")
    owner.say(PIN)
    owner.expect(f"Record $10.00 cash on {number}")
    owner.say("yes")
    assert "mark_paid" in _actions(salon)
