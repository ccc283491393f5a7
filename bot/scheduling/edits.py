"""Editing a booked appointment: another staff member, another service, another length,
another time, new notes — any of them at once, checked against the same availability as a
new booking (working hours, breaks, closures, other appointments, rooms and equipment).

`edit_appointment` changes the appointment in place (its id, reminders, invoices and threads
stay with it), records one event per kind of change, and tells the customer what changed
(with the updated .ics) and the staff members involved — all in the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.config.context import BusinessContext, business_context
from bot.core.errors import NotFound
from bot.core.text import _, t
from bot.messaging.asking import tell_customer
from bot.messaging.messages import Reply
from bot.messaging.notify import (
    calendar_file,
    customer_name,
    tell_staff,
)
from bot.messaging.outbox import APPOINTMENT_BOUND, CHANGE_NOTICE, withdraw_pending
from bot.scheduling.availability import SlotQuery, eligible_staff, slot_fits
from bot.scheduling.booking import NOT_ALLOWED, TAKEN, Refused
from storage.db import lock_calendars
from storage.models import (
    IN_PROGRESS,
    UPCOMING_STATUSES,
    Appointment,
    AppointmentEvent,
    Resource,
    Service,
    Staff,
)

MAX_MINUTES = 1440


class Change(StrEnum):
    """A kind of edit, as the event log records it."""

    STAFF = "reassigned"
    SERVICE = "service_changed"
    DURATION = "duration_changed"
    TIME = "rescheduled"
    NOTES = "notes_changed"


@dataclass(frozen=True)
class Edit:
    """What to change; None leaves a field as it is."""

    staff_id: int | None = None
    service_id: int | None = None
    duration_minutes: int | None = None
    start: datetime | None = None
    notes: str | None = None

    def is_empty(self) -> bool:
        """Whether nothing would change."""
        return all(
            v is None
            for v in (self.staff_id, self.service_id, self.duration_minutes, self.start, self.notes)
        )


@dataclass
class Edited:
    """An edit that happened: the appointment now, and what changed (before → after words)."""

    appointment: Appointment
    changes: dict[Change, tuple[str, str]] = field(default_factory=dict)

    def summary(self) -> str:
        """ "staff Sam → Priya; service Haircut → Colour"."""
        names = {
            Change.STAFF: "staff",
            Change.SERVICE: "service",
            Change.DURATION: "length",
            Change.TIME: "time",
            Change.NOTES: "notes",
        }
        return "; ".join(f"{names[c]} {a} → {b}" for c, (a, b) in self.changes.items())


def _minutes(appointment: Appointment) -> int:
    return int((appointment.ends_at - appointment.starts_at).total_seconds() // 60)


def _first(name: str | None) -> str:
    return (name or "").split(" ")[0] or "?"


def _fit(
    session: Session,
    appointment: Appointment,
    service: Service,
    start: datetime,
    minutes: int,
    staff_id: int | None,
    now: datetime,
) -> tuple[int, int | None] | Refused:
    """(staff, resource) free for the edited appointment, or why not."""
    if staff_id is not None:
        candidates = [staff_id]
        if staff_id not in eligible_staff(session, service, staff_id):
            member = session.get(Staff, staff_id)
            return Refused(
                NOT_ALLOWED, t("{first} doesn't do {service}.", first=_first(member.name if member else None), service=service.name)
            )
    else:
        # The same person if they do the new service, else anyone who does.
        doers = list(eligible_staff(session, service, None))
        if not doers:
            return Refused(NOT_ALLOWED, t("Nobody does {service} at the moment.", service=service.name))
        candidates = [appointment.staff_id] if appointment.staff_id in doers else doers
        if candidates == [appointment.staff_id]:
            staff_id = appointment.staff_id  # the refusal names them
    rooms = (
        list(session.scalars(select(Resource.id).where(Resource.kind == service.resource_kinds[0])))
        if service.resource_kinds
        else []
    )
    lock_calendars(session, candidates, rooms)
    query = SlotQuery(
        service_id=service.id,
        start=start,
        end=start + timedelta(minutes=1),
        customer_id=appointment.customer_id,
        ignore_appointment_id=appointment.id,
        enforce_rules=False,
        duration_minutes=minutes,
    )
    for sid in candidates:
        slot = slot_fits(session, query, sid, now=now)
        if slot is not None:
            return slot.staff_id, slot.resource_id
    if staff_id is not None:
        member = session.get(Staff, staff_id)
        who = _first(member.name if member else None)
        return Refused(
            TAKEN, t("{who} isn't free for that ({minutes} min from {clock}).", who=who, minutes=minutes, clock=_clock(session, start))
        )
    return Refused(TAKEN, t("Nobody is free for that ({minutes} min from {clock}).", minutes=minutes, clock=_clock(session, start)))


def _clock(session: Session, moment: datetime) -> str:
    return business_context(session, required=False).when(moment)


def _target(
    session: Session, appointment: Appointment, edit: Edit
) -> tuple[Service, int, datetime, bool] | Refused:
    """The service, length and start the edit asks for, and whether the calendar must agree."""
    timing = (edit.staff_id, edit.service_id, edit.duration_minutes, edit.start)
    live = appointment.status in UPCOMING_STATUSES and appointment.status != IN_PROGRESS
    if any(v is not None for v in timing) and not live:
        return Refused(NOT_ALLOWED, t("This appointment is {status}.", status=appointment.status.replace('_', ' ')))
    if edit.duration_minutes is not None and not 5 <= edit.duration_minutes <= MAX_MINUTES:
        return Refused(NOT_ALLOWED, _("A length between 5 minutes and 24 hours, please."))
    service = appointment.service
    if edit.service_id is not None and edit.service_id != service.id:
        found = session.get(Service, edit.service_id)
        if found is None or not found.active:
            raise NotFound(f"no service with id {edit.service_id}")
        service = found
    if edit.duration_minutes is not None:
        minutes = edit.duration_minutes
    elif service.id != appointment.service_id:
        minutes = service.duration_minutes  # a new service takes its own time
    else:
        minutes = _minutes(appointment)
    start = edit.start or appointment.starts_at
    moving = (
        service.id != appointment.service_id
        or minutes != _minutes(appointment)
        or start != appointment.starts_at
        or (edit.staff_id is not None and edit.staff_id != appointment.staff_id)
    )
    return service, minutes, start, moving


def check_edit(
    session: Session, appointment_id: int, edit: Edit, *, now: datetime
) -> Refused | None:
    """Why the edit cannot be made now, or None if it can (nothing is written)."""
    appointment = session.get(Appointment, appointment_id)
    if appointment is None:
        raise NotFound(f"no appointment with id {appointment_id}")
    target = _target(session, appointment, edit)
    if isinstance(target, Refused):
        return target
    service, minutes, start, moving = target
    if not moving:
        return None
    fit = _fit(session, appointment, service, start, minutes, edit.staff_id, now)
    return fit if isinstance(fit, Refused) else None


def edit_appointment(
    session: Session, appointment_id: int, edit: Edit, *, now: datetime, actor: str
) -> Edited | Refused:
    """Apply `edit` to an upcoming appointment if the calendar allows it; tell who needs to know."""
    appointment = session.get(Appointment, appointment_id)
    if appointment is None:
        raise NotFound(f"no appointment with id {appointment_id}")
    target = _target(session, appointment, edit)
    if isinstance(target, Refused):
        return target
    service, minutes, start, moving = target
    info = business_context(session, required=False)
    before = {
        Change.STAFF: _first(appointment.staff.name),
        Change.SERVICE: appointment.service.name,
        Change.DURATION: t("{minutes} min", minutes=_minutes(appointment)),
        Change.TIME: info.when(appointment.starts_at),
        Change.NOTES: appointment.notes or "(none)",
    }
    old_start, old_staff = appointment.starts_at, appointment.staff_id
    if moving:
        fit = _fit(session, appointment, service, start, minutes, edit.staff_id, now)
        if isinstance(fit, Refused):
            return fit
        staff_id, resource_id = fit
        kept = (
            appointment.service_id,
            appointment.staff_id,
            appointment.resource_id,
            appointment.starts_at,
            appointment.ends_at,
            appointment.block_start,
            appointment.block_end,
            appointment.price_minor,
        )
        try:
            with session.begin_nested():
                if service.id != appointment.service_id:
                    appointment.price_minor = service.price_minor
                appointment.service_id = service.id
                appointment.service = service
                appointment.staff_id = staff_id
                appointment.resource_id = resource_id
                appointment.starts_at = start
                appointment.ends_at = start + timedelta(minutes=minutes)
                appointment.block_start = start - timedelta(minutes=service.buffer_before_minutes)
                appointment.block_end = appointment.ends_at + timedelta(
                    minutes=service.buffer_after_minutes
                )
                session.flush()
        except IntegrityError:
            (
                appointment.service_id,
                appointment.staff_id,
                appointment.resource_id,
                appointment.starts_at,
                appointment.ends_at,
                appointment.block_start,
                appointment.block_end,
                appointment.price_minor,
            ) = kept
            return Refused(TAKEN, _("That time was just taken."))
        session.refresh(appointment, ["staff", "service", "resource"])
    if edit.notes is not None:
        appointment.notes = edit.notes.strip()
    after = {
        Change.STAFF: _first(appointment.staff.name),
        Change.SERVICE: appointment.service.name,
        Change.DURATION: t("{minutes} min", minutes=_minutes(appointment)),
        Change.TIME: info.when(appointment.starts_at),
        Change.NOTES: appointment.notes or "(none)",
    }
    result = Edited(appointment)
    for change in Change:
        if before[change] != after[change]:
            result.changes[change] = (before[change], after[change])
    if not result.changes:
        return result
    appointment.updated_at = now
    for change, (was, now_) in result.changes.items():
        session.add(
            AppointmentEvent(
                appointment_id=appointment.id,
                kind=str(change),
                old_starts_at=old_start if change is Change.TIME else None,
                new_starts_at=appointment.starts_at if change is Change.TIME else None,
                actor=actor[:64],
                reason=f"{was} → {now_}"[:500],
                at=now,
            )
        )
    session.flush()
    _tell(session, result, info, old_start=old_start, old_staff=old_staff, now=now)
    return result


def _tell(
    session: Session,
    result: Edited,
    info: BusinessContext,
    *,
    old_start: datetime,
    old_staff: int,
    now: datetime,
) -> None:
    """The customer hears what changed (not the private notes); staff hear about their jobs."""
    appointment = result.appointment
    visible = {c: v for c, v in result.changes.items() if c is not Change.NOTES}
    if Change.TIME in visible:
        withdraw_pending(
            session, ref_id=appointment.id, purposes=APPOINTMENT_BOUND, reason="appointment edited"
        )
    now_text = (
        t("{service} with {first}, "
        "{when} ({minutes} min)", service=appointment.service.name, first=_first(appointment.staff.name), when=info.when(appointment.starts_at), minutes=_minutes(appointment))
    )
    if visible:
        what = ", ".join(
            {
                Change.STAFF: t("now with {new} (was {old})", new=b, old=a),
                Change.SERVICE: t("now a {new} (was {old})", new=b.lower(), old=a.lower()),
                Change.DURATION: t("now {new} (was {old})", new=b, old=a),
                Change.TIME: t("now {new} (was {old})", new=b, old=a),
            }[c]
            for c, (a, b) in visible.items()
        )
        tell_customer(
            session,
            appointment.customer_id,
            Reply(
                t("Changed: your appointment at {business}: {what}. It is {now}.", business=info.name, what=what, now=now_text),
                attachments=(calendar_file(session, appointment, info, now=now),),
            ),
            purpose=CHANGE_NOTICE,
            ref_id=appointment.id,
            now=now,
        )
    who = customer_name(appointment)
    for staff_id in dict.fromkeys([appointment.staff_id, old_staff]):
        if staff_id == old_staff and staff_id != appointment.staff_id:
            text = t("Reassigned: {who}, {when} is now {first}'s.", who=who, when=info.when(old_start), first=_first(appointment.staff.name))
        else:
            text = t("Changed: {who}, {now} ({summary}).", who=who, now=now_text, summary=result.summary())
        tell_staff(session, staff_id, text, now=now, ref_id=appointment.id)
