"""The waitlist: a freed slot is held and offered to the first in line who fits; yes books
it, no or silence passes it on, and the first to accept while it is theirs gets it."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot.core.errors import InvalidRequest
from bot.scheduling.booking import Booked, Refused, book, cancel, reschedule
from bot.scheduling.waitlist import accept_offer, advance_offers, decline_offer, join_waitlist
from storage.db import Database
from storage.messaging import (
    ENTRY_BOOKED,
    ENTRY_EXPIRED,
    ENTRY_WAITING,
    OFFER_DECLINED,
    OFFER_LAPSED,
    OFFER_OPEN,
    OutboxMessage,
    WaitlistEntry,
    WaitlistOffer,
)
from storage.models import Appointment, AwaitingReply, SlotHold
from tests.factories import add_customer, local, service_id, setup_business, staff_id
from tests.outbox_worker import add_reachable_customer, messaging_salon_toml

NOW = local("2026-11-16 09:00")  # Monday morning, outside quiet hours
SLOT = local("2026-11-17 14:00")  # Tuesday 14:00 with Sam


@pytest.fixture
def salon(db: Database) -> Database:
    setup_business(db, messaging_salon_toml())
    return db


def _book(db: Database, customer: int, start: datetime = SLOT, service: str = "cut") -> int:
    with db.write() as session:
        outcome = book(
            session,
            customer_id=customer,
            service_id=service_id(session, service),
            start=start,
            staff_id=staff_id(session, "sam"),
            now=NOW,
        )
        assert isinstance(outcome, Booked), outcome
        return outcome.appointment.id


def _join(db: Database, customer: int, start: str, end: str, service: str = "cut", **kw) -> int:
    with db.write() as session:
        entry = join_waitlist(
            session, customer, service_id(session, service), local(start), local(end), now=NOW, **kw
        )
        return entry.id


def _cancel(db: Database, appointment_id: int, now: datetime = NOW) -> None:
    with db.write() as session:
        cancel(session, appointment_id, now=now)


def offers(db: Database) -> list[WaitlistOffer]:
    with db.read() as session:
        return list(session.scalars(select(WaitlistOffer).order_by(WaitlistOffer.id)))


def question_for(db: Database, offer: WaitlistOffer) -> AwaitingReply:
    with db.read() as session:
        questions = session.scalars(
            select(AwaitingReply).where(
                AwaitingReply.kind == "waitlist_offer", AwaitingReply.ref_id == offer.hold_id
            )
        ).all()
    [question] = [q for q in questions if q.data["offer_id"] == offer.id]
    return question


@pytest.fixture
def line(salon: Database) -> dict[str, int]:
    """Jane holds Tuesday 14:00; Ann then Bob wait for a Tuesday haircut."""
    people = {
        "jane": add_reachable_customer(salon, "Jane", "+15551230001"),
        "ann": add_reachable_customer(salon, "Ann", "+15551230002"),
        "bob": add_reachable_customer(salon, "Bob", "+15551230003"),
    }
    people["appointment"] = _book(salon, people["jane"])
    people["ann_entry"] = _join(salon, people["ann"], "2026-11-17 09:00", "2026-11-17 17:00")
    people["bob_entry"] = _join(salon, people["bob"], "2026-11-17 13:00", "2026-11-17 15:00")
    return people


def test_a_freed_slot_is_held_and_offered_to_the_first_in_line(salon, line):
    _cancel(salon, line["appointment"])
    [offer] = offers(salon)
    assert (offer.entry_id, offer.status, offer.starts_at) == (line["ann_entry"], OFFER_OPEN, SLOT)
    assert offer.expires_at == NOW + timedelta(minutes=30)
    with salon.read() as session:
        hold = session.get(SlotHold, offer.hold_id)
        assert hold.customer_id == line["ann"] and hold.expires_at == offer.expires_at
        [message] = session.scalars(
            select(OutboxMessage).where(OutboxMessage.purpose == "waitlist_offer")
        ).all()
    assert message.address == "+15551230002" and message.ref_id == offer.hold_id
    assert message.body["text"] == (
        "Good news: Haircut with Sam, Tue, Nov 17, 2:00 PM just opened up at Test Salon. "
        "We're holding it for you for 30 minutes."
    )
    assert [o["label"] for o in message.body["options"]] == ["Yes, book it", "No thanks"]
    question = question_for(salon, offer)
    assert question.data["replies"]["1"] == "yes" and question.expires_at == offer.expires_at
    # Held for Ann: nobody else can book it meanwhile.
    with salon.write() as session:
        other = book(
            session,
            customer_id=line["bob"],
            service_id=service_id(session, "cut"),
            start=SLOT,
            staff_id=staff_id(session, "sam"),
            now=NOW,
        )
        assert isinstance(other, Refused)


def test_accepting_the_offer_books_the_held_slot(salon, line):
    _cancel(salon, line["appointment"])
    [offer] = offers(salon)
    with salon.write() as session:
        outcome = accept_offer(session, question_for(salon, offer).id, NOW + timedelta(minutes=5))
        assert isinstance(outcome, Booked)
        assert outcome.appointment.customer_id == line["ann"]
    with salon.read() as session:
        entry = session.get(WaitlistEntry, line["ann_entry"])
        assert entry.status == ENTRY_BOOKED and entry.appointment_id == outcome.appointment.id
        assert session.scalars(select(SlotHold)).all() == []
        confirmations = session.scalars(
            select(OutboxMessage.address).where(OutboxMessage.purpose == "confirmation")
        ).all()
    assert "+15551230002" in confirmations


def test_declining_passes_the_slot_to_the_next_in_line(salon, line):
    _cancel(salon, line["appointment"])
    [first] = offers(salon)
    with salon.write() as session:
        following = decline_offer(
            session, question_for(salon, first).id, NOW + timedelta(minutes=2)
        )
    assert following is not None and following.entry_id == line["bob_entry"]
    first, second = offers(salon)
    assert first.status == OFFER_DECLINED and second.status == OFFER_OPEN
    with salon.read() as session:
        assert (
            session.get(WaitlistEntry, line["ann_entry"]).status == ENTRY_WAITING
        )  # keeps her place
        [hold] = session.scalars(select(SlotHold)).all()
        assert hold.customer_id == line["bob"]


def test_silence_lapses_the_offer_and_the_first_to_accept_while_it_is_theirs_wins(salon, line):
    _cancel(salon, line["appointment"])
    [ann_offer] = offers(salon)
    assert advance_offers(salon, NOW + timedelta(minutes=29)) == 0
    assert advance_offers(salon, NOW + timedelta(minutes=31)) == 1
    ann_offer, bob_offer = offers(salon)
    assert ann_offer.status == OFFER_LAPSED and bob_offer.entry_id == line["bob_entry"]
    later = NOW + timedelta(minutes=33)
    with salon.write() as session:
        too_late = accept_offer(session, question_for(salon, ann_offer).id, later)
        assert isinstance(too_late, Refused) and "someone else" in too_late.message
        won = accept_offer(session, question_for(salon, bob_offer).id, later)
        assert isinstance(won, Booked) and won.appointment.customer_id == line["bob"]


def test_the_same_slot_is_never_offered_twice_to_the_same_entry(salon, line):
    _cancel(salon, line["appointment"])
    advance_offers(salon, NOW + timedelta(minutes=31))  # Ann → Bob
    advance_offers(salon, NOW + timedelta(minutes=62))  # Bob lapses: nobody left
    assert [o.entry_id for o in offers(salon)] == [line["ann_entry"], line["bob_entry"]]
    with salon.read() as session:
        assert session.scalars(select(SlotHold)).all() == []


def test_entries_the_freed_slot_does_not_suit_are_skipped(salon):
    jane = add_reachable_customer(salon, "Jane", "+15551230001")
    dan = add_reachable_customer(salon, "Dan", "+15551230004")
    appointment = _book(salon, jane)
    _book(salon, dan, local("2026-11-17 15:30"))  # leaves no room for a 90-minute colour
    wrong_window = _join(
        salon,
        add_reachable_customer(salon, "W", "+15551230005"),
        "2026-11-17 09:00",
        "2026-11-17 12:00",
    )
    too_long = _join(
        salon,
        add_reachable_customer(salon, "L", "+15551230006"),
        "2026-11-17 09:00",
        "2026-11-17 17:00",
        "colour",
    )
    with salon.write() as session:
        alex_only = join_waitlist(
            session,
            dan,
            service_id(session, "cut"),
            local("2026-11-17 09:00"),
            local("2026-11-17 17:00"),
            staff_id=staff_id(session, "alex"),
            now=NOW,
        ).id
    unreachable = _join(
        salon, add_customer(salon, "Nobody"), "2026-11-17 09:00", "2026-11-17 17:00"
    )
    fits = _join(
        salon,
        add_reachable_customer(salon, "F", "+15551230007"),
        "2026-11-17 13:00",
        "2026-11-17 17:00",
    )
    _cancel(salon, appointment)
    [offer] = offers(salon)
    assert offer.entry_id == fits
    assert {wrong_window, too_long, alex_only, unreachable}.isdisjoint({offer.entry_id})


def test_a_reschedule_offers_the_old_time_to_the_waitlist(salon, line):
    with salon.write() as session:
        moved = reschedule(
            session, line["appointment"], new_start=local("2026-11-18 10:00"), now=NOW
        )
        assert isinstance(moved, Booked)
    [offer] = offers(salon)
    assert (offer.entry_id, offer.starts_at) == (line["ann_entry"], SLOT)


def test_an_offer_made_at_night_is_sent_and_held_from_the_morning(salon, line):
    night = local("2026-11-15 22:00")  # Sunday night, in quiet hours
    _cancel(salon, line["appointment"], now=night)
    [offer] = offers(salon)
    assert offer.expires_at == local("2026-11-16 08:30")
    with salon.read() as session:
        message = session.scalars(
            select(OutboxMessage).where(OutboxMessage.purpose == "waitlist_offer")
        ).one()
    assert message.send_at == local("2026-11-16 08:00")


def test_joining_twice_is_joining_once_and_a_window_must_make_sense(salon):
    ann = add_reachable_customer(salon, "Ann", "+15551230002")
    first = _join(salon, ann, "2026-11-17 09:00", "2026-11-17 17:00")
    assert _join(salon, ann, "2026-11-17 09:00", "2026-11-17 17:00") == first
    with pytest.raises(InvalidRequest):
        _join(salon, ann, "2026-11-17 17:00", "2026-11-17 09:00")
    with pytest.raises(InvalidRequest):
        _join(salon, ann, "2026-11-10 09:00", "2026-11-10 17:00")


def test_entries_expire_when_their_window_has_passed(salon):
    ann = add_reachable_customer(salon, "Ann", "+15551230002")
    entry = _join(salon, ann, "2026-11-17 09:00", "2026-11-17 17:00")
    advance_offers(salon, local("2026-11-17 17:00"))
    with salon.read() as session:
        assert session.get(WaitlistEntry, entry).status == ENTRY_EXPIRED
        assert session.scalars(select(Appointment)).all() == []
