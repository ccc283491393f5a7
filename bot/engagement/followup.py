"""After the visit: thank-you and feedback request, what a score sets off, rebooking nudges.

- `queue_feedback_requests`: once an appointment has been completed for
  `feedback_delay_minutes`, a thank-you asking "How was your visit? Reply 1-5", with an
  `AwaitingReply` (kind "feedback") for the conversation engine, which calls
  `record_feedback` with the answer. A score of 3 or less alerts the owners with the
  comment; a 5 is answered with the business's review link, when it has one.
- `queue_rebook_nudges`: when a service has `rebook_after_days`, a customer whose last
  completed visit for it was that long ago, and who has nothing booked ahead, is asked
  whether they want the next one. A customer on a recurring series always has something
  booked ahead, so the series' own reminders serve instead.

Both run from one scheduled scan (`scan_followups`), dedupe on the appointment, look back
a few days only (so a first run does not message years of history) and respect quiet
hours.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, aliased, selectinload

from bot.config.context import business_context
from bot.core.clock import utcnow
from bot.core.errors import InvalidRequest, NotFound
from bot.core.text import _, t
from bot.messaging.asking import Awaiting, ask
from bot.messaging.messages import Option, Reply
from bot.messaging.notify import (
    customer_name,
    defer_for_quiet_hours,
    describe,
    first_name,
    tell_owners,
)
from bot.messaging.outbox import (
    FEEDBACK_ALERT,
    FEEDBACK_REQUEST,
    REBOOK_NUDGE,
    REVIEW_REQUEST,
    enqueue,
)
from bot.messaging.senders.render import reply_map
from storage.db import Database
from storage.messaging import Feedback, OutboxMessage
from storage.models import (
    COMPLETED,
    UPCOMING_STATUSES,
    Appointment,
    AwaitingReply,
    Customer,
    Service,
)

FEEDBACK_KIND = "feedback"
REBOOK_KIND = "rebook"
FEEDBACK_OPTIONS = tuple(Option(str(score), str(score)) for score in range(1, 6))
LOW_SCORE = 3  # this or less alerts the owners
FEEDBACK_LOOKBACK = timedelta(days=3)
REBOOK_LOOKBACK = timedelta(days=14)
ANSWER_WINDOW = timedelta(days=7)


def _already(session: Session, key: str) -> bool:
    return (
        session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key)) is not None
    )


def queue_feedback_requests(session: Session, now: datetime) -> list[OutboxMessage]:
    """Queue a thank-you and feedback request for each recently completed appointment."""
    info = business_context(session, required=False)
    settings = info.messaging
    if not settings.feedback_requests:
        return []
    ready = now - timedelta(minutes=settings.feedback_delay_minutes)
    appointments = session.scalars(
        select(Appointment)
        .where(
            Appointment.status == COMPLETED,
            Appointment.updated_at <= ready,
            Appointment.updated_at > ready - FEEDBACK_LOOKBACK,
        )
        .options(selectinload(Appointment.service), selectinload(Appointment.customer))
        .order_by(Appointment.updated_at, Appointment.id)
    ).all()
    queued = []
    for appointment in appointments:
        key = f"feedback:{appointment.id}"
        if _already(session, key):
            continue
        name = appointment.customer.name
        greeting = f", {first_name(name)}" if name else ""
        text = (
            t("Thanks for visiting {business}{greeting}! How was your "
            "{service}? Reply 1-5 (5 = great).", business=info.name, greeting=greeting, service=appointment.service.name)
        )
        message = ask(
            session,
            appointment.customer_id,
            Reply(text, FEEDBACK_OPTIONS),
            awaiting=Awaiting(
                FEEDBACK_KIND,
                appointment.id,
                expires=ANSWER_WINDOW,
                data={"replies": reply_map(FEEDBACK_OPTIONS)},
            ),
            purpose=FEEDBACK_REQUEST,
            ref_id=appointment.id,
            send_at=defer_for_quiet_hours(now, info),
            dedupe_key=key,
            now=now,
        )
        if message is None:
            continue
        queued.append(message)
    return queued


def record_feedback(
    session: Session,
    awaiting_id: int,
    score: int,
    comment: str = "",
    now: datetime | None = None,
) -> Feedback:
    """Store the customer's 1-5 answer, alert owners on a low score, send a 5 the review link."""
    now = now or utcnow()
    awaiting = session.get(AwaitingReply, awaiting_id)
    if awaiting is None or awaiting.kind != FEEDBACK_KIND or awaiting.ref_id is None:
        raise NotFound(f"no feedback request {awaiting_id}")
    if not 1 <= score <= 5:
        raise InvalidRequest(f"a score is 1 to 5, got {score}")
    appointment = session.get(Appointment, awaiting.ref_id)
    if appointment is None:
        raise NotFound(f"no appointment with id {awaiting.ref_id}")
    comment = comment.strip()
    feedback = session.scalar(select(Feedback).where(Feedback.appointment_id == appointment.id))
    if feedback is None:
        feedback = Feedback(
            appointment_id=appointment.id,
            customer_id=appointment.customer_id,
            score=score,
            comment=comment,
            created_at=now,
        )
        session.add(feedback)
    else:
        feedback.score, feedback.comment = score, comment
    awaiting.answered_at = now
    session.flush()
    info = business_context(session, required=False)
    if score <= LOW_SCORE:
        said = f': "{comment}"' if comment else _(" (no comment)")
        tell_owners(
            session,
            t("Feedback {score}/5 from {customer_name} for "
            "{appointment}{said}", score=score, customer_name=customer_name(appointment), appointment=describe(appointment, info), said=said),
            purpose=FEEDBACK_ALERT,
            now=now,
            ref_id=appointment.id,
        )
    review_url = info.review_url
    if score == 5 and review_url:
        # An answer to the customer's own message: sent at once, whatever the hour.
        enqueue(
            session,
            channel=awaiting.channel,
            address=awaiting.address,
            reply=Reply(t("Thank you! If you have a minute, a review helps us a lot: {review_url}", review_url=review_url)),
            purpose=REVIEW_REQUEST,
            customer_id=appointment.customer_id,
            ref_id=appointment.id,
            dedupe_key=f"review:{appointment.id}",
            now=now,
        )
    return feedback


def _ago(days: int) -> str:
    if days >= 14 and days % 7 == 0:
        return t("{weeks} weeks", weeks=days // 7)
    return t("{days} days", days=days)


def queue_rebook_nudges(session: Session, now: datetime) -> list[OutboxMessage]:
    """Nudge customers due for their next visit of a service with `rebook_after_days`."""
    info = business_context(session, required=False)
    if not info.messaging.rebook_nudges:
        return []
    later = aliased(Appointment)
    ahead = aliased(Appointment)
    queued = []
    services = session.scalars(
        select(Service).where(Service.rebook_after_days.is_not(None), Service.active.is_(True))
    ).all()
    for service in services:
        days = service.rebook_after_days or 0
        due = now - timedelta(days=days)
        newer_visit = exists().where(
            later.customer_id == Appointment.customer_id,
            later.service_id == Appointment.service_id,
            later.status == COMPLETED,
            later.starts_at > Appointment.starts_at,
        )
        booked_ahead = exists().where(
            ahead.customer_id == Appointment.customer_id,
            ahead.status.in_(UPCOMING_STATUSES),
            ahead.starts_at > now,
        )
        visits = session.scalars(
            select(Appointment)
            .where(
                Appointment.service_id == service.id,
                Appointment.status == COMPLETED,
                Appointment.starts_at <= due,
                Appointment.starts_at > due - REBOOK_LOOKBACK,
                ~newer_visit,
                ~booked_ahead,
            )
            .order_by(Appointment.starts_at, Appointment.id)
        ).all()
        for visit in visits:
            key = f"rebook:{visit.id}"
            if _already(session, key):
                continue
            customer = session.get(Customer, visit.customer_id)
            hello = (
                t("Hi {first_name}, it's", first_name=first_name(customer.name)) if customer and customer.name else _("It's")
            )
            text = (
                t("{hello} been about {ago} since your {service} at {business}. "
                "Want to book the next one? Reply with a day that suits you.", hello=hello, ago=_ago(days), service=service.name, business=info.name)
            )
            message = ask(
                session,
                visit.customer_id,
                Reply(text),
                awaiting=Awaiting(
                    REBOOK_KIND,
                    service.id,
                    expires=ANSWER_WINDOW,
                    data={"appointment_id": visit.id, "staff_id": visit.staff_id},
                ),
                purpose=REBOOK_NUDGE,
                ref_id=visit.id,
                send_at=defer_for_quiet_hours(now, info),
                dedupe_key=key,
                now=now,
            )
            if message is None:
                continue
            queued.append(message)
    return queued


def scan_followups(db: Database, now: datetime | None = None) -> int:
    """The scheduled job: queue due feedback requests and rebooking nudges; how many."""
    now = now or utcnow()
    with db.write() as session:
        return len(queue_feedback_requests(session, now)) + len(queue_rebook_nudges(session, now))
