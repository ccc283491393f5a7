"""The business context: the business row read once per transaction, and never stale in it."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import time

import pytest
from sqlalchemy import event, update

from bot.config import apply_config, load_config, parse_config
from bot.config import context as context_module
from bot.config.context import UNCONFIGURED, business_context, business_row
from bot.core.errors import NotFound
from bot.messaging.messages import Inbound
from conversations.engine import Engine
from storage.db import Database
from storage.models import Business
from tests.conftest import DEMO_CONFIG, ROOT
from tests.factories import local

NOW = local("2026-11-16 10:00")
_FROM_BUSINESS = re.compile(r"\bFROM business\b", re.IGNORECASE)


@pytest.fixture
def salon(db: Database) -> Database:
    apply_config(db, load_config(DEMO_CONFIG))
    return db


@contextmanager
def business_reads(db: Database) -> Iterator[list[str]]:
    """The SELECTs on the business table sent while the block runs."""
    seen: list[str] = []

    def watch(_conn, _cursor, statement: str, *_args) -> None:  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("SELECT") and _FROM_BUSINESS.search(statement):
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", watch)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", watch)


def test_a_booking_turn_reads_the_business_row_once(salon: Database) -> None:
    engine = Engine(salon, clock=lambda: NOW)
    sender = "ann-0001"
    with business_reads(salon) as offer:
        first = engine.handle(
            Inbound(
                channel="web", sender=sender, text="haircut with Sam on Nov 19 at 11am, I'm Ann"
            )
        )
    assert "shall I book" in first[0].text
    with business_reads(salon) as booking:
        second = engine.handle(Inbound(channel="web", sender=sender, text="yes"))
    # Availability, the hold, the booking, the confirmation and the owner notice all ask.
    assert "You're booked" in second[0].text
    assert len(offer) == 1
    assert len(booking) == 1


def test_the_context_is_read_once_per_transaction(salon: Database) -> None:
    with business_reads(salon) as reads:
        with salon.write() as session:
            first = business_context(session)
            assert business_context(session) is first
        with salon.write() as session:
            again = business_context(session)
    assert again is not first and again == first
    assert len(reads) == 2


def test_the_context_is_typed(salon: Database) -> None:
    cfg = load_config(DEMO_CONFIG)
    with salon.read() as session:
        ctx = business_context(session)
    assert ctx.configured and ctx.name == cfg.name and ctx.zone == cfg.zone
    assert (ctx.currency, ctx.locale) == (cfg.currency, cfg.locale)
    assert ctx.rules == cfg.rules and ctx.billing == cfg.billing and ctx.travel == cfg.travel
    assert ctx.messaging == cfg.messaging and ctx.branding == cfg.branding
    assert ctx.owners == tuple(cfg.owners) and ctx.reminders == tuple(cfg.reminders)
    assert ctx.quiet_hours == cfg.quiet_hours
    assert ctx.when(local("2026-12-05 15:00")) == "Sat, Dec 5, 3:00 PM"


def test_a_change_to_the_business_row_in_the_same_transaction_is_seen(salon: Database) -> None:
    with salon.write() as session:
        before = business_context(session)
        row = business_row(session)
        assert row is not None
        row.settings = {**row.settings, "phone": "+13125550100", "quiet_hours": ["22:00", "07:00"]}
        after = business_context(session)
        assert before.phone != after.phone == "+13125550100"
        assert after.quiet_hours == (time(22), time(7))
        row.name = "Maple & Mane Uptown"
        assert business_context(session).name == "Maple & Mane Uptown"
        session.execute(update(Business).values(currency="EUR"))
        assert business_context(session).currency == "EUR"
    with business_reads(salon) as reads, salon.write() as session:
        business_context(session)
        session.expire_all()  # e.g. after another writer's change: read it again
        business_context(session)
    assert len(reads) == 2


def test_a_rolled_back_change_is_forgotten(salon: Database) -> None:
    with pytest.raises(RuntimeError), salon.write() as session:
        business_row(session).name = "Never Saved"  # type: ignore[union-attr]
        assert business_context(session).name == "Never Saved"
        raise RuntimeError("roll it back")
    with salon.read() as session:
        assert business_context(session).name == load_config(DEMO_CONFIG).name


def test_a_config_reload_reaches_the_next_transaction(salon: Database) -> None:
    with salon.write() as session:
        assert business_context(session).rules.hold_minutes == 10
    changed = DEMO_CONFIG.read_text().replace("hold_minutes = 10 ", "hold_minutes = 7  ", 1)
    apply_config(salon, parse_config(changed))
    with salon.write() as session:
        assert business_context(session).rules.hold_minutes == 7


def test_no_business_yet(db: Database) -> None:
    with db.read() as session:
        with pytest.raises(NotFound, match="no business configured"):
            business_context(session)
        assert business_context(session, required=False) is UNCONFIGURED
    apply_config(db, load_config(DEMO_CONFIG))
    with db.read() as session:
        assert business_context(session).configured


# The loader; the config writer (apply_config) changes the row it gets from the loader.
_ROW_OWNERS = ("bot/config/context.py", "bot/config/sync.py", "bot/config/stored.py")


def _modules() -> Iterator[tuple[str, ast.Module]]:
    for folder in ("bot", "conversations", "webhooks"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            name = path.relative_to(ROOT).as_posix()
            yield name, ast.parse(path.read_text(encoding="utf-8"), filename=name)


def test_only_the_context_loader_reads_the_business_row() -> None:
    readers, reparsers = [], []
    for name, tree in _modules():
        if name.startswith(_ROW_OWNERS):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "storage.models":
                readers += [name for alias in node.names if alias.name == "Business"]
            if isinstance(node, ast.Call):
                called = node.func.attr if isinstance(node.func, ast.Attribute) else None
                called = node.func.id if isinstance(node.func, ast.Name) else called
                if called and called.endswith("_from_settings"):
                    reparsers.append(f"{name}:{node.lineno}")
    assert readers == [], "read the business through bot.config.context.business_context"
    assert reparsers == [], "the settings blob is parsed once, by bot.config.context"


def test_a_start_rewrites_a_stored_blob_that_does_not_validate_as_it_stands(
    salon: Database,
) -> None:
    # Same business.toml (same digest), but the stored blob holds a key this version refuses:
    # applying the config at start (no force) must rewrite it, and the business reads meanwhile.
    with salon.write() as session:
        row = business_row(session)
        assert row is not None
        row.settings = {**row.settings, "a_key_since_removed": True}
    with salon.read() as session:
        assert business_context(session).name == load_config(DEMO_CONFIG).name
    apply_config(salon, load_config(DEMO_CONFIG))
    with salon.read() as session:
        row = business_row(session)
        assert row is not None and "a_key_since_removed" not in row.settings


def test_a_config_load_overwrites_a_blob_an_older_slotbot_wrote(salon: Database) -> None:
    with salon.write() as session:
        row = business_row(session)
        assert row is not None
        row.settings = {**row.settings, "a_key_since_removed": True}
    apply_config(salon, load_config(DEMO_CONFIG), force=True)
    with salon.read() as session:
        assert business_context(session).name == load_config(DEMO_CONFIG).name


def test_a_blob_seen_before_is_not_validated_again(
    salon: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    validated: list[object] = []
    real = context_module.business_settings

    def counting(blob):  # type: ignore[no-untyped-def]
        validated.append(blob)
        return real(blob)

    monkeypatch.setattr(context_module, "business_settings", counting)
    monkeypatch.setattr(context_module, "_VALIDATED", {})
    with business_reads(salon) as reads:
        with salon.write() as session:
            first = business_context(session)
        with salon.write() as session:
            again = business_context(session)
    # The row is read in each transaction; the unchanged blob is validated once.
    assert len(reads) == 2 and len(validated) == 1
    assert again is not first and again == first and again.rules is first.rules
    with salon.write() as session:
        row = business_row(session)
        assert row is not None
        row.settings = {**row.settings, "phone": "+13125550100"}
    with salon.read() as session:
        changed = business_context(session)
    assert changed.phone == "+13125550100" and len(validated) == 2
    with salon.write() as session:
        row = business_row(session)
        assert row is not None
        rules = {**row.settings["rules"], "slot_interval_minutes": 1}
        row.settings = {**row.settings, "rules": rules}
    with pytest.raises(ValueError, match="slot_interval_minutes"), salon.read() as session:
        business_context(session)  # a bad blob is refused every time, never kept
    with pytest.raises(ValueError, match="slot_interval_minutes"), salon.read() as session:
        business_context(session)
    assert len(validated) == 4
