"""The demo field business's busiest day (60 jobs, 8 technicians) optimised and applied by
chat; the checker reads the applied schedule back from the database."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.config import apply_config, load_config
from bot.field.places.demo import EXAMPLES_DIR, seed_busiest_day
from bot.field.routing import plans
from bot.field.routing.check import check
from bot.field.routing.day import as_booked, load_day
from bot.field.routing.model import driving_time
from storage.db import Database
from storage.messaging import OutboxMessage
from tests.dialogue import Chat

DAY = date(2026, 12, 8)
NOW = datetime(2026, 12, 7, 17, 0, tzinfo=ZoneInfo("America/Chicago"))


def test_the_busiest_day_applied_by_chat_keeps_every_rule_and_drives_less(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(plans, "DEFAULT_SECONDS", 2.0)
    apply_config(db, load_config(EXAMPLES_DIR / "field-service" / "business.toml"))
    with db.write() as session:
        assert len(seed_busiest_day(session, DAY, now=NOW - timedelta(days=7))) == 60
    with db.read() as session:
        day = load_day(session, DAY, now=NOW)
        booked_minutes = driving_time(day.problem, as_booked(session, day))
    with db.read() as session:
        sent_before = session.scalar(select(func.count()).select_from(OutboxMessage))
    chat = Chat(db, NOW, channel="web", sender="owner")
    chat.say("plan tomorrow's routes")
    chat.expect("Routes for Tue, Dec 8", "Maria:", "Apply these routes?")
    chat.say("apply")
    chat.expect("Applied:")
    with db.read() as session:
        applied = as_booked(session, day)
        assert check(day.problem, applied) == []
        assert driving_time(day.problem, applied) < booked_minutes
        told = session.scalar(select(func.count()).select_from(OutboxMessage)) - sent_before
    assert told >= 1  # at least the technicians whose day changed
