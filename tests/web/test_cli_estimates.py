"""`slotbot estimate create / send / list`, run as a real process against a real database."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from bot.config import apply_config, load_config
from bot.messaging.messages import Reply
from storage.billing import ESTIMATE_DRAFT, ESTIMATE_SENT, Estimate
from storage.db import Database
from storage.messaging import OutboxMessage
from storage.migrate import upgrade
from storage.models import Customer, CustomerIdentity
from tests.conftest import DEMO_CONFIG
from tests.web.test_cli import one_error_line, slotbot

BOB = "+12125550402"


def _shop(tmp_path: Path) -> tuple[str, Database]:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    upgrade(url)
    database = Database(url)
    apply_config(database, load_config(DEMO_CONFIG))
    now = datetime.now(UTC)
    with database.write() as session:
        bob = Customer(name="Bob Stone", phone=BOB, created_at=now, notes="")
        session.add(bob)
        session.flush()
        session.add(
            CustomerIdentity(customer_id=bob.id, channel="sms", address=BOB, created_at=now)
        )
    return url, database


def _run(url: str, *args: str):
    return slotbot("--database", url, "--config", str(DEMO_CONFIG), "estimate", *args)


def test_an_owner_creates_and_sends_an_estimate_from_the_command_line(tmp_path):
    url, database = _shop(tmp_path)
    result = _run(
        url,
        "create",
        "--customer",
        "Bob Stone",
        "--items",
        "colour 120, toner 25",
        "--valid",
        "21",
        "--send",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "EST-0001 $157.87 sent to Bob Stone"
    with database.read() as session:
        estimate = session.scalars(select(Estimate)).one()
        assert estimate.status == ESTIMATE_SENT
        assert (estimate.valid_until - estimate.created_at).days == 21
        [message] = session.scalars(
            select(OutboxMessage).where(OutboxMessage.purpose == "estimate")
        )
        assert message.address == BOB and "EST-0001" in Reply.from_json(message.body).text
    listed = _run(url, "list")
    assert listed.returncode == 0 and "EST-0001  Bob Stone  $157.87  sent" in listed.stdout
    database.dispose()


def test_a_draft_is_sent_later_by_number(tmp_path):
    url, database = _shop(tmp_path)
    made = _run(url, "create", "--customer", "bob", "--items", "beard trim 20")
    assert made.returncode == 0 and "draft for Bob Stone" in made.stdout
    with database.read() as session:
        assert session.scalars(select(Estimate.status)).one() == ESTIMATE_DRAFT
    sent = _run(url, "send", "est-1")
    assert sent.returncode == 0 and "EST-0001 sent to Bob Stone" in sent.stdout
    with database.read() as session:
        assert session.scalars(select(Estimate.status)).one() == ESTIMATE_SENT
    database.dispose()


def test_cli_mistakes_are_one_line(tmp_path):
    url, database = _shop(tmp_path)
    assert "needs a description and a price" in one_error_line(
        _run(url, "create", "--customer", "Bob Stone", "--items", "colour")
    )
    assert "nobody matches" in one_error_line(
        _run(url, "create", "--customer", "Zed Nobody", "--items", "colour 120")
    )
    assert "no estimate" in one_error_line(_run(url, "send", "EST-0099"))
    with database.read() as session:
        assert session.scalars(select(Estimate)).all() == []
    database.dispose()
