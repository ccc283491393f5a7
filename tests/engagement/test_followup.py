"""After the visit: the thank-you and feedback request, what a score sets off, and the
rebooking nudge when a service is due again."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot.core.errors import InvalidRequest
from bot.engagement.followup import record_feedback, scan_followups
from bot.scheduling.booking import Booked, book, set_status
from storage.db import Database
from storage.messaging import Feedback, OutboxMessage
from storage.models import COMPLETED, IN_PROGRESS, AwaitingReply
from tests.factories import local, service_id, setup_business, staff_id
from tests.outbox_worker import OWNER, add_reachable_customer, messaging_salon_toml

BOOKED_AT = local("2026-11-16 09:00")
VISIT = local("2026-11-17 10:00")
DONE = local("2026-11-17 11:00")
PHONE = "+15551230001"


@pytest.fixture
def salon(db: Database) -> Database:
    toml = messaging_salon_toml().replace(
        'price = "40.00"\n', 'price = "40.00"\nrebook_after_days = 28\n'
    )
    setup_business(db, toml)
    return db


def _visit(
    db: Database, customer: int, start: datetime = VISIT, *, now=BOOKED_AT, done=True
) -> int:
    with db.write() as session:
        outcome = book(
            session,
            customer_id=customer,
            service_id=service_id(session, "cut"),
            start=start,
            staff_id=staff_id(session, "sam"),
            now=now,
        )
        assert isinstance(outcome, Booked), outcome
        appointment_id = outcome.appointment.id
        if done:
            set_status(session, appointment_id, IN_PROGRESS, now=start)
            set_status(session, appointment_id, COMPLETED, now=start + timedelta(hours=1))
        return appointment_id


def outbox(db: Database, purpose: str) -> list[OutboxMessage]:
    with db.read() as session:
        return list(
            session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.purpose == purpose)
                .order_by(OutboxMessage.id)
            )
        )


def feedback_question(db: Database) -> AwaitingReply:
    with db.read() as session:
        return session.scalars(select(AwaitingReply).where(AwaitingReply.kind == "feedback")).one()


def test_a_completed_visit_gets_one_thank_you_and_feedback_request(salon):
    appointment = _visit(salon, add_reachable_customer(salon, phone=PHONE))
    assert scan_followups(salon, DONE + timedelta(minutes=59)) == 0
    assert scan_followups(salon, DONE + timedelta(minutes=61)) == 1
    assert scan_followups(salon, DONE + timedelta(minutes=62)) == 0
    [request] = outbox(salon, "feedback_request")
    assert request.address == PHONE and request.ref_id == appointment
    assert request.body["text"] == (
        "Thanks for visiting Test Salon, Jane! How was your Haircut? Reply 1-5 (5 = great)."
    )
    question = feedback_question(salon)
    assert (question.ref_id, question.address) == (appointment, PHONE)
    assert question.data["replies"]["5"] == "5"


def test_a_visit_completed_in_the_evening_is_thanked_the_next_morning(salon):
    evening = local("2026-11-17 16:00")
    _visit(salon, add_reachable_customer(salon, phone=PHONE), evening)
    scan_followups(salon, local("2026-11-17 21:30"))
    [request] = outbox(salon, "feedback_request")
    assert request.send_at == local("2026-11-18 08:00")


def test_a_low_score_alerts_the_owners_with_the_comment(salon):
    _visit(salon, add_reachable_customer(salon, phone=PHONE))
    scan_followups(salon, DONE + timedelta(hours=2))
    with salon.write() as session:
        record_feedback(
            session, feedback_question(salon).id, 2, " Felt rushed ", now=DONE + timedelta(hours=3)
        )
    [alert] = outbox(salon, "feedback_alert")
    assert alert.address == OWNER
    assert (
        alert.body["text"]
        == 'Feedback 2/5 from Jane Doe for Haircut with Sam, Tue, Nov 17, 10:00 AM: "Felt rushed"'
    )
    assert outbox(salon, "review_request") == []
    with salon.read() as session:
        stored = session.scalars(select(Feedback)).one()
        assert (stored.score, stored.comment) == (2, "Felt rushed")
        assert session.get(AwaitingReply, feedback_question(salon).id).answered_at is not None


def test_a_five_gets_the_review_link_and_a_four_gets_nothing_more(salon):
    _visit(salon, add_reachable_customer(salon, phone=PHONE))
    scan_followups(salon, DONE + timedelta(hours=2))
    question = feedback_question(salon).id
    at = DONE + timedelta(hours=3)
    with salon.write() as session:
        record_feedback(session, question, 4, now=at)
    assert outbox(salon, "review_request") == [] and outbox(salon, "feedback_alert") == []
    with salon.write() as session:
        record_feedback(session, question, 5, "Lovely", now=at)  # changed their mind
    [review] = outbox(salon, "review_request")
    assert review.address == PHONE and review.send_at == at
    assert review.body["text"].endswith("https://example.com/review")
    with salon.read() as session:
        assert session.scalars(select(Feedback.score)).all() == [5]


def test_a_score_must_be_one_to_five(salon):
    _visit(salon, add_reachable_customer(salon, phone=PHONE))
    scan_followups(salon, DONE + timedelta(hours=2))
    with pytest.raises(InvalidRequest), salon.write() as session:
        record_feedback(session, feedback_question(salon).id, 6, now=DONE)


def test_a_customer_due_for_their_next_visit_is_nudged_once(salon):
    jane = add_reachable_customer(salon, phone=PHONE)
    _visit(salon, jane)
    due = VISIT + timedelta(days=28)
    assert scan_followups(salon, due - timedelta(hours=1)) == 0
    assert scan_followups(salon, due + timedelta(minutes=30)) == 1
    assert scan_followups(salon, due + timedelta(days=1)) == 0
    [nudge] = outbox(salon, "rebook_nudge")
    assert nudge.body["text"] == (
        "Hi Jane, it's been about 4 weeks since your Haircut at Test Salon. "
        "Want to book the next one? Reply with a day that suits you."
    )
    with salon.read() as session:
        question = session.scalars(
            select(AwaitingReply).where(AwaitingReply.kind == "rebook")
        ).one()
        assert question.ref_id == service_id(session, "cut")


def test_no_nudge_for_a_customer_who_has_already_booked_again(salon):
    jane = add_reachable_customer(salon, phone=PHONE)
    _visit(salon, jane)
    _visit(salon, jane, local("2026-12-18 10:00"), now=local("2026-12-10 09:00"), done=False)
    assert scan_followups(salon, VISIT + timedelta(days=28, hours=1)) == 0


def test_a_first_run_does_not_nudge_for_visits_long_past(salon):
    _visit(salon, add_reachable_customer(salon, phone=PHONE))
    assert scan_followups(salon, VISIT + timedelta(days=60)) == 0
    assert outbox(salon, "feedback_request") == []  # that visit's thank-you moment has passed too
