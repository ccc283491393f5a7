"""Statuses, outbox purposes and channels are StrEnums whose members are the very strings
the database holds, so rows, queries and the texts that quote them are unchanged."""

from __future__ import annotations

import json
from enum import StrEnum

import pytest
from sqlalchemy import select

from bot.messaging.messages import CHANNELS, SMS, Channel, Reply, ReplyKind
from bot.messaging.outbox import REMINDER, Purpose, enqueue
from storage import billing, messaging, models
from storage.db import Database
from storage.messaging import OutboxMessage
from storage.types import StoredEnum
from tests.factories import local, setup_business

NOW = local("2026-11-16 09:00")

VOCABULARIES = [
    models.AppointmentStatus,
    billing.InvoiceStatus,
    billing.EstimateStatus,
    billing.ChargeStatus,
    billing.PaymentKind,
    billing.PaymentMethod,
    messaging.OutboxStatus,
    messaging.EntryStatus,
    messaging.OfferStatus,
    Purpose,
    Channel,
    ReplyKind,
]


@pytest.mark.parametrize("vocabulary", VOCABULARIES, ids=lambda v: v.__name__)
def test_each_vocabulary_is_a_strenum_of_the_stored_strings(vocabulary: type[StrEnum]) -> None:
    assert issubclass(vocabulary, StoredEnum)
    for member in vocabulary:
        assert member == member.value and f"{member}" == member.value
        assert repr(member) == repr(member.value)
        assert json.dumps(member) == json.dumps(member.value)


def test_the_old_constant_names_are_the_members() -> None:
    assert models.BOOKED is models.AppointmentStatus.BOOKED
    assert billing.PAID is billing.InvoiceStatus.PAID
    assert billing.ESTIMATE_SENT is billing.EstimateStatus.SENT
    assert messaging.PENDING is messaging.OutboxStatus.PENDING
    assert REMINDER is Purpose.REMINDER and SMS is Channel.SMS
    assert tuple(Channel) == CHANNELS


def test_a_tuple_of_statuses_reads_as_it_always_did() -> None:
    # quoted in error messages ("use one of ('card', 'cash', …)")
    assert str(billing.PAYMENT_METHODS) == "('card', 'cash', 'cheque', 'bank_transfer', 'other')"


def test_a_member_is_stored_and_queried_as_its_string(db: Database) -> None:
    setup_business(db)
    with db.write() as session:
        enqueue(
            session,
            channel=Channel.SMS,
            address="+15551230001",
            reply=Reply("hi"),
            purpose=Purpose.REMINDER,
            now=NOW,
        )
    with db.read() as session:
        row = session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.purpose == "reminder", OutboxMessage.status == messaging.PENDING
            )
        ).one()
        assert type(row.purpose) is str and row.purpose == Purpose.REMINDER
        assert row.channel == "sms" and row.kind == ReplyKind.TRANSACTIONAL
