"""Bad weather on a day: flag its outdoor jobs and offer each customer another day.

A service is outdoor when business.toml marks it (`outdoor = true`). When the owner marks a
day ("rain wednesday"), `outdoor_jobs` finds that day's live outdoor appointments and
`offer_another_day` finds each one the nearest free time with the same staff member on a
later day (the same wall time if it is free), records the flag in the event log, and asks
the customer "move it?" through the outbox, leaving an `AwaitingReply` ("weather_offer")
for the conversation layer to act on: yes moves it (`accept_offer`), no keeps it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config.context import business_context
from bot.core.text import N_, _, t
from bot.messaging.asking import Awaiting, ask
from bot.messaging.messages import Option, Reply
from bot.messaging.notify import first_name
from bot.messaging.outbox import Purpose
from bot.messaging.senders.render import reply_map
from bot.scheduling import timeline
from bot.scheduling.availability import Slot, SlotQuery, best_slots, local_instant
from bot.scheduling.booking import Booked, Refused, reschedule
from bot.scheduling.timeline import Kind
from storage.models import UPCOMING_STATUSES, Appointment, AwaitingReply, Service

KIND = "weather_offer"
PURPOSE = Purpose.WEATHER_OFFER
LOOK_AHEAD_DAYS = 7
OPTIONS = (Option("yes", N_("Move it")), Option("no", N_("Keep it")))


@dataclass(frozen=True)
class Offer:
    """What one customer was offered: the appointment and the new time (None: none free)."""

    appointment: Appointment
    new_start: datetime | None
    told: bool


def outdoor_jobs(session: Session, start: datetime, end: datetime) -> list[Appointment]:
    """Live appointments of outdoor services starting in [start, end)."""
    return list(
        session.scalars(
            select(Appointment)
            .join(Service, Service.id == Appointment.service_id)
            .where(
                Service.outdoor.is_(True),
                Appointment.starts_at >= start,
                Appointment.starts_at < end,
                Appointment.status.in_(UPCOMING_STATUSES),
            )
            .order_by(Appointment.starts_at, Appointment.staff_id)
        )
    )


def another_day(session: Session, appointment: Appointment, *, now: datetime) -> Slot | None:
    """The first later day with the same staff member free, at the nearest time to the
    appointment's own wall time."""
    zone = business_context(session).zone
    local = appointment.starts_at.astimezone(zone)
    for offset in range(1, LOOK_AHEAD_DAYS + 1):
        day = local.date() + timedelta(days=offset)
        midnight = local_instant(day, time(0), zone)[0]
        same_time = local_instant(day, local.time().replace(tzinfo=None), zone)
        found = best_slots(
            session,
            SlotQuery(
                service_id=appointment.service_id,
                start=midnight,
                end=local_instant(day + timedelta(days=1), time(0), zone)[0],
                staff_id=appointment.staff_id,
                customer_id=appointment.customer_id,
                target=same_time[0] if same_time else midnight,
                ignore_appointment_id=appointment.id,
            ),
            now=now,
            limit=1,
        )
        if found:
            return found[0]
    return None


def offer_another_day(
    session: Session, appointment: Appointment, *, now: datetime, reason: str, actor: str
) -> Offer:
    """Flag the job for the weather and ask its customer whether to move it."""
    info = business_context(session, required=False)
    slot = another_day(session, appointment, now=now)
    timeline.record(
        session,
        appointment,
        Kind.WEATHER,
        at=now,
        actor=actor,
        reason=reason,
        offered=slot.start if slot else None,
    )
    service = appointment.service.name.lower()
    when = info.when(appointment.starts_at)
    if slot is None:
        return Offer(appointment, None, told=False)
    text = (
        t("{reason} is forecast for your {service} on {when}. "
        "We can move it to {new_when} with {first_name}. "
        "Move it, or keep it as it is?", reason=reason.capitalize(), service=service, when=when, new_when=info.when(slot.start), first_name=first_name(appointment.staff.name))
    )
    message = ask(
        session,
        appointment.customer_id,
        Reply(text, tuple(Option(o.id, _(o.label)) for o in OPTIONS)),
        awaiting=Awaiting(
            KIND,
            appointment.id,
            expires=appointment.starts_at,
            data={
                "start": slot.start.astimezone(UTC).isoformat(),
                "staff_id": slot.staff_id,
                "replies": reply_map([Option(o.id, _(o.label)) for o in OPTIONS]),
            },
        ),
        purpose=PURPOSE,
        now=now,
        ref_id=appointment.id,
        dedupe_key=f"weather:{appointment.id}:{slot.start.astimezone(UTC).isoformat()}",
    )
    if message is None:
        return Offer(appointment, slot.start, told=False)
    return Offer(appointment, slot.start, told=True)


def accept_offer(session: Session, question: AwaitingReply, now: datetime) -> Booked | Refused:
    """The customer said yes: move the appointment to the offered time (if still free)."""
    data = question.data or {}
    return reschedule(
        session,
        question.ref_id or 0,
        new_start=datetime.fromisoformat(data["start"]),
        staff_id=data.get("staff_id"),
        now=now,
        actor="customer",
        enforce_rules=False,
    )
