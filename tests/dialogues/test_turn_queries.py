"""How many statements a turn sends to the database: counts, pinned (never wall-clock time).

The figures in docs/BENCHMARKS.md (issue 13) come from bench/turns.py; these tests keep a
greeting and the two-turn one-shot booking from drifting back up. A statement is anything
the driver's cursor executes (BEGIN and SAVEPOINT included), counted by a
`before_cursor_execute` listener, as the benchmark counts them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from bot.config import apply_config, load_config
from bot.messaging.messages import Inbound
from bot.scheduling.availability import SlotQuery, slot_fits
from bot.scheduling.booking import Booked, book
from conversations.engine import Engine
from storage.db import Database
from storage.models import Conversation
from tests.conftest import DEMO_CONFIG
from tests.factories import add_customer, local, service_id, setup_business, staff_id

NOW = local("2026-11-16 10:00")
# What each turn may cost on SQLite. Before issue 13: 23, 19, 43 + 61.
GREETING_NEW_SENDER = 12
GREETING_AGAIN = 9
BOOKING_REQUEST = 23
BOOKING_YES = 32  # the named staff member pinned in the INSERT, not a later UPDATE


@pytest.fixture
def salon(sqlite_url: str) -> Iterator[Database]:
    db = Database(sqlite_url)
    apply_config(db, load_config(DEMO_CONFIG))
    yield db
    db.dispose()


class Statements:
    """The statements sent while counting."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def __call__(self, _conn, _cursor, statement: str, *_args) -> None:  # type: ignore[no-untyped-def]
        """before_cursor_execute: remember one statement."""
        self.sent.append(" ".join(statement.split()))

    def __len__(self) -> int:
        return len(self.sent)

    def __str__(self) -> str:
        return "\n".join(self.sent)


@contextmanager
def counting(db: Database) -> Iterator[Statements]:
    """Count the statements sent in the block."""
    statements = Statements()
    event.listen(db.engine, "before_cursor_execute", statements)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", statements)


def test_a_greeting_from_a_new_sender_and_again_stays_within_its_statements(salon):
    engine = Engine(salon, clock=lambda: NOW)
    engine.handle(Inbound(channel="web", sender="warm-up", text="hi"))  # caches, the pool
    with counting(salon) as first:
        replies = engine.handle(Inbound(channel="web", sender="greeter", text="hi"))
    assert replies and "book" in replies[0].text.lower()
    with counting(salon) as again:
        assert engine.handle(Inbound(channel="web", sender="greeter", text="hi"))
    assert len(first) <= GREETING_NEW_SENDER, str(first)
    assert len(again) <= GREETING_AGAIN, str(again)
    # The new sender's conversation is written once, with its customer.
    assert sum(s.startswith("INSERT INTO conversation") for s in first.sent) == 1
    assert not any(s.startswith("UPDATE conversation SET customer_id") for s in first.sent)
    with salon.read() as session:
        conversation = session.scalars(
            select(Conversation).where(Conversation.address == "greeter")
        ).one()
    assert conversation.customer_id is not None and conversation.version == 2


def test_the_one_shot_booking_stays_within_its_statements(salon):
    engine = Engine(salon, clock=lambda: NOW)
    engine.handle(Inbound(channel="web", sender="warm-up", text="hi"))
    request = "haircut with Sam on Nov 19 at 11am, I'm Ann"
    with counting(salon) as asked:
        first = engine.handle(Inbound(channel="web", sender="booker", text=request))
    assert "shall I book" in first[0].text
    with counting(salon) as confirmed:
        second = engine.handle(Inbound(channel="web", sender="booker", text="yes"))
    assert "You're booked" in second[0].text
    assert len(asked) <= BOOKING_REQUEST, str(asked)
    assert len(confirmed) <= BOOKING_YES, str(confirmed)
    # The exact slot is checked once in the request turn (read, then held): one calendar.
    assert sum(s.startswith("SELECT working_hours") for s in asked.sent) == 1


# --- bot.scheduling.fit_memo: an exact-slot check kept for the transaction, on SQLite ----------------


@pytest.fixture
def small_salon(sqlite_url: str) -> Iterator[Database]:
    db = Database(sqlite_url)
    setup_business(db)
    yield db
    db.dispose()


def _query(session, customer: int) -> tuple[SlotQuery, int]:
    start = local("2026-11-17 10:00")
    query = SlotQuery(
        service_id(session, "cut"), start, start + timedelta(minutes=1), customer_id=customer
    )
    return query, staff_id(session, "sam")


def test_an_exact_slot_asked_twice_in_a_transaction_is_read_once(small_salon):
    customer = add_customer(small_salon)
    with small_salon.write() as session:
        query, sam = _query(session, customer)
        first = slot_fits(session, query, sam, now=NOW)
        with counting(small_salon) as again:
            second = slot_fits(session, query, sam, now=NOW)
    assert first is not None and second == first
    assert not any("working_hours" in s or "appointment" in s for s in again.sent), str(again)


def test_a_booking_in_the_same_transaction_makes_the_slot_be_read_again(small_salon):
    customer, other = add_customer(small_salon), add_customer(small_salon, "Other")
    with small_salon.write() as session:
        query, sam = _query(session, customer)
        assert slot_fits(session, query, sam, now=NOW) is not None
        booked = book(
            session,
            customer_id=other,
            service_id=query.service_id,
            start=query.start,
            staff_id=sam,
            now=NOW,
        )
        assert isinstance(booked, Booked)
        assert slot_fits(session, query, sam, now=NOW) is None  # taken now: not the old answer


def test_the_next_transaction_of_the_same_session_reads_the_slot_again(small_salon):
    customer, other = add_customer(small_salon), add_customer(small_salon, "Other")
    with Session(small_salon.engine, expire_on_commit=False) as session:
        query, sam = _query(session, customer)
        assert slot_fits(session, query, sam, now=NOW) is not None
        session.commit()
        with small_salon.write() as elsewhere:  # another transaction books it in between
            booked = book(
                elsewhere,
                customer_id=other,
                service_id=query.service_id,
                start=query.start,
                staff_id=sam,
                now=NOW,
            )
            assert isinstance(booked, Booked)
        assert slot_fits(session, query, sam, now=NOW) is None
