"""Asking a customer and waiting for the answer: one message, one open question on the chat
it went to, and nothing at all when the customer cannot be reached."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.messaging import notify
from bot.messaging.asking import Awaiting, ask, customer_address, tell_customer
from bot.messaging.messages import Option, Reply
from storage.db import Database
from storage.messaging import OutboxMessage
from storage.models import AwaitingReply
from tests.factories import add_customer, local, setup_business
from tests.outbox_worker import add_reachable_customer

NOW = local("2026-11-16 09:00")
PHONE = "+15551230001"
YES_NO = (Option("yes", "Yes"), Option("no", "No"))


@pytest.fixture
def salon(db: Database) -> Database:
    setup_business(db)
    return db


def _questions(db: Database) -> list[AwaitingReply]:
    with db.read() as session:
        return list(session.scalars(select(AwaitingReply).order_by(AwaitingReply.id)))


def test_a_question_is_queued_and_left_open_on_the_chat_it_went_to(salon: Database) -> None:
    customer = add_reachable_customer(salon, phone=PHONE)
    with salon.write() as session:
        message = ask(
            session,
            customer,
            Reply("Still on for tomorrow?", YES_NO),
            awaiting=Awaiting("reminder", 7, expires=NOW + timedelta(days=1), data={"a": 1}),
            purpose="reminder",
            ref_id=7,
            now=NOW,
        )
        assert message is not None
        outbox_id = message.id
    [question] = _questions(salon)
    assert (question.channel, question.address) == ("sms", PHONE)
    assert question.customer_id == customer and question.kind == "reminder"
    assert question.ref_id == 7 and question.data == {"a": 1, "outbox_id": outbox_id}
    assert question.expires_at == NOW + timedelta(days=1)


def test_a_question_open_for_a_while_counts_from_when_the_message_goes_out(
    salon: Database,
) -> None:
    customer = add_reachable_customer(salon, phone=PHONE)
    later = NOW + timedelta(hours=3)
    with salon.write() as session:
        ask(
            session,
            customer,
            Reply("How was it?"),
            awaiting=Awaiting("feedback", 1, expires=timedelta(days=7)),
            purpose="feedback_request",
            send_at=later,
            now=NOW,
        )
    [question] = _questions(salon)
    assert question.expires_at == later + timedelta(days=7)


def test_a_customer_who_cannot_be_reached_is_asked_nothing(salon: Database) -> None:
    customer = add_customer(salon)  # no phone, no identity
    with salon.write() as session:
        asked = ask(
            session,
            customer,
            Reply("Still on?"),
            awaiting=Awaiting("reminder", 1, expires=NOW),
            purpose="reminder",
            now=NOW,
        )
        assert asked is None
        assert session.scalars(select(OutboxMessage)).all() == []
    assert _questions(salon) == []


def test_a_question_asked_twice_under_one_dedupe_key_is_asked_once(salon: Database) -> None:
    customer = add_reachable_customer(salon, phone=PHONE)
    for _ in range(2):
        with salon.write() as session:
            ask(
                session,
                customer,
                Reply("Still on?"),
                awaiting=Awaiting("reminder", 1, expires=NOW),
                purpose="reminder",
                dedupe_key="reminder:1",
                now=NOW,
            )
    assert len(_questions(salon)) == 1


def test_an_address_already_looked_up_is_used_as_given(salon: Database) -> None:
    customer = add_reachable_customer(salon, phone=PHONE)
    with salon.write() as session:
        message = tell_customer(
            session, customer, Reply("hi"), purpose="reply", now=NOW, to=("web", "w-1")
        )
        assert message is not None and (message.channel, message.address) == ("web", "w-1")


def test_there_is_one_way_to_reach_a_customer(salon: Database) -> None:
    # notify (and, before, billing's contact module) reach customers through this one function
    assert notify.customer_address is customer_address
    assert notify.tell_customer is tell_customer
    customer = add_reachable_customer(salon, phone=PHONE)
    with salon.read() as session:
        assert customer_address(session, customer) == ("sms", PHONE)
