"""The booking service: hold, book, reschedule, cancel, change status, list, recurring series.

Use-case functions take a SQLAlchemy session inside a write transaction (`Database.write()`)
so that whatever else a change causes — a conversation step, an outbox message — commits or
rolls back with it. What a change sets off is not called from here: each change publishes a
domain event (`bot.core.events`: booked, moved, cancelled, status changed) whose subscribers
(`bot.bootstrap`: notices, the waitlist, billing) run in the same transaction. Expected "no"s (the slot was just taken, too late to cancel) come back as
`Refused` results; only misuse raises.

Race safety, in three layers: SQLite's BEGIN IMMEDIATE (or a PostgreSQL advisory lock per
staff member and resource) makes check-then-insert atomic; the insert runs in a savepoint;
and the database refuses overlapping appointments on its own (exclusion constraint or
trigger), which comes back here as a clean `Refused(TAKEN)`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from dateutil.rrule import rrulestr
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.config.context import BusinessContext, business_context
from bot.core import events
from bot.core.errors import InvalidRequest, NotFound
from bot.core.text import _, t
from bot.field.places.geo import PlaceSource
from bot.field.places.geocode import Located, customer_location
from bot.scheduling import timeline
from bot.scheduling.availability import Slot, SlotQuery, eligible_staff, local_instant, slot_fits
from bot.scheduling.timeline import Kind
from storage.db import lock_calendars
from storage.models import (
    AWAITING_DEPOSIT,
    BOOKED,
    CANCELLED,
    COMPLETED,
    CONFIRMED,
    IN_PROGRESS,
    NO_SHOW,
    UPCOMING_STATUSES,
    Appointment,
    RecurringSeries,
    Resource,
    Service,
    SlotHold,
)

TAKEN = "taken"
TOO_LATE = "too_late"
NOT_ALLOWED = "not_allowed"

# Which status may follow which. Final statuses have no way out.
TRANSITIONS: dict[str, frozenset[str]] = {
    AWAITING_DEPOSIT: frozenset({BOOKED, CANCELLED}),
    BOOKED: frozenset({CONFIRMED, IN_PROGRESS, COMPLETED, CANCELLED, NO_SHOW}),
    CONFIRMED: frozenset({BOOKED, IN_PROGRESS, COMPLETED, CANCELLED, NO_SHOW}),
    IN_PROGRESS: frozenset({COMPLETED}),
    COMPLETED: frozenset(),
    CANCELLED: frozenset(),
    NO_SHOW: frozenset(),
}


@dataclass(frozen=True)
class Held:
    """A slot kept for one customer until `expires_at`."""

    hold_id: int
    slot: Slot
    expires_at: datetime


@dataclass(frozen=True)
class Booked:
    """A booking made or moved: the appointment as it now stands."""

    appointment: Appointment


@dataclass(frozen=True)
class Changed:
    """A status change that happened."""

    appointment: Appointment
    from_status: str


@dataclass(frozen=True)
class Refused:
    """An expected "no", with a reason code and a sentence a person can read."""

    reason: str
    message: str


@dataclass(frozen=True)
class Conflict:
    """An occurrence of a series that could not be booked, and why."""

    start: datetime
    reason: str


@dataclass
class SeriesResult:
    """What creating or moving a series did: the bookings made and the ones that failed."""

    series_id: int
    booked: list[Appointment] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)


def _event(
    session: Session,
    appointment: Appointment,
    *,
    kind: str,
    now: datetime,
    actor: str,
    from_status: str | None = None,
    to_status: str | None = None,
    old_start: datetime | None = None,
    reason: str = "",
) -> None:
    timeline.record(
        session,
        appointment,
        timeline.status_kind(from_status, to_status) if to_status else Kind.MOVED,
        at=now,
        actor=actor,
        from_status=from_status,
        to_status=to_status,
        old_starts_at=old_start,
        new_starts_at=appointment.starts_at if kind == "rescheduled" else None,
        reason=reason,
    )


def _service(session: Session, service_id: int) -> Service:
    service = session.get(Service, service_id)
    if service is None or not service.active:
        raise NotFound(f"no service with id {service_id}")
    return service


def _candidate_staff(session: Session, service: Service, staff_id: int | None) -> list[int]:
    return [staff_id] if staff_id is not None else list(eligible_staff(session, service, None))


def _resources_for(session: Session, service: Service) -> list[int]:
    if not service.resource_kinds:
        return []
    return list(
        session.scalars(select(Resource.id).where(Resource.kind == service.resource_kinds[0]))
    )


def _find_fit(
    session: Session,
    service: Service,
    start: datetime,
    *,
    staff_id: int | None,
    customer_id: int | None,
    now: datetime,
    enforce_rules: bool,
    ignore_appointment_id: int | None = None,
    within_horizon: bool = True,
    place: Located | None = None,
    duration_minutes: int | None = None,
) -> Slot | None:
    """Lock the calendars involved, then find a staff member free at exactly `start`."""
    candidates = _candidate_staff(session, service, staff_id)
    lock_calendars(session, candidates, _resources_for(session, service))
    query = SlotQuery(
        service_id=service.id,
        start=start,
        end=start + timedelta(minutes=1),
        customer_id=customer_id,
        ignore_appointment_id=ignore_appointment_id,
        enforce_rules=enforce_rules,
        within_horizon=within_horizon,
        place=place.point if place is not None and service.on_site else None,
        duration_minutes=duration_minutes,
    )
    for sid in candidates:
        slot = slot_fits(session, query, sid, now=now)
        if slot is not None:
            return slot
    return None


def _taken(start: datetime) -> Refused:
    return Refused(TAKEN, _("That time is no longer available."))


def hold_slot(
    session: Session,
    *,
    customer_id: int,
    service_id: int,
    start: datetime,
    now: datetime,
    staff_id: int | None = None,
    place: Located | None = None,
) -> Held | Refused:
    """Keep a slot for a customer for the business's hold time while they confirm.

    A customer holds one slot at a time: a new hold replaces their previous one. For an
    on-site visit with a `place`, the technician must have time to drive there and on.
    """
    service = _service(session, service_id)
    ctx = business_context(session)
    if place is None and service.on_site:
        place = customer_location(session, customer_id, ctx.travel)
    # The customer's own holds never block them, so the fit is found before the old hold
    # goes (and the check made while reading their request still holds: fit_memo).
    slot = _find_fit(
        session,
        service,
        start,
        staff_id=staff_id,
        customer_id=customer_id,
        now=now,
        enforce_rules=True,
        place=place,
    )
    session.execute(delete(SlotHold).where(SlotHold.customer_id == customer_id))
    if slot is None:
        return _taken(start)
    expires = now + timedelta(minutes=ctx.rules.hold_minutes)
    hold = SlotHold(
        customer_id=customer_id,
        service_id=service.id,
        staff_id=slot.staff_id,
        resource_id=slot.resource_id,
        starts_at=slot.start,
        ends_at=slot.end,
        block_start=slot.start - timedelta(minutes=service.buffer_before_minutes),
        block_end=slot.end + timedelta(minutes=service.buffer_after_minutes),
        expires_at=expires,
        created_at=now,
    )
    session.add(hold)
    session.flush()
    return Held(hold.id, slot, expires)


def release_hold(session: Session, hold_id: int) -> None:
    """Give a held slot back (the customer changed their mind)."""
    session.execute(delete(SlotHold).where(SlotHold.id == hold_id))


def book(
    session: Session,
    *,
    customer_id: int,
    service_id: int,
    start: datetime,
    now: datetime,
    staff_id: int | None = None,
    status: str = BOOKED,
    actor: str = "customer",
    notes: str = "",
    enforce_rules: bool = True,
    series_id: int | None = None,
    within_horizon: bool = True,
    place: Located | None = None,
    staff_pinned: bool = False,
) -> Booked | Refused:
    """Book `start` for the customer with the given staff member, or anyone free.

    `staff_pinned`: the customer asked for this staff member by name, so the route
    optimiser keeps the job with them.

    An on-site visit keeps its coordinates and where they came from (the `place` given, else
    the customer's address geocoded), and needs the technician to have time to drive there
    from the job before and on to the next; a service with arrival windows records the
    window promised.
    """
    if status not in (BOOKED, CONFIRMED, AWAITING_DEPOSIT):
        raise InvalidRequest(f"a new appointment cannot start as {status!r}")
    service = _service(session, service_id)
    ctx = business_context(session)
    if place is None and service.on_site:
        # Whoever books it, it has a place.
        place = customer_location(session, customer_id, ctx.travel)
    slot = _find_fit(
        session,
        service,
        start,
        staff_id=staff_id,
        customer_id=customer_id,
        now=now,
        enforce_rules=enforce_rules,
        within_horizon=within_horizon,
        place=place,
    )
    if slot is None:
        return _taken(start)
    appointment = Appointment(
        customer_id=customer_id,
        service_id=service.id,
        staff_id=slot.staff_id,
        resource_id=slot.resource_id,
        series_id=series_id,
        starts_at=slot.start,
        ends_at=slot.end,
        block_start=slot.start - timedelta(minutes=service.buffer_before_minutes),
        block_end=slot.end + timedelta(minutes=service.buffer_after_minutes),
        status=status,
        price_minor=service.price_minor,
        currency=ctx.currency,
        notes=notes,
        staff_pinned=staff_pinned,
        created_at=now,
        updated_at=now,
        window_start=slot.window_start,
        window_end=slot.window_end,
    )
    if place is not None and service.on_site:
        appointment.lat, appointment.lon = place.lat, place.lon
        appointment.place_source = str(place.source)
    try:
        with session.begin_nested():
            session.add(appointment)
            session.flush()
    except IntegrityError:
        # The database's own overlap guard fired: someone else got there first.
        return _taken(start)
    _event(session, appointment, kind="status", now=now, actor=actor, to_status=status)
    session.execute(
        delete(SlotHold).where(
            SlotHold.customer_id == customer_id, SlotHold.starts_at == appointment.starts_at
        )
    )
    events.publish(
        session, events.AppointmentBooked(at=now, appointment_id=appointment.id, actor=actor)
    )
    return Booked(appointment)


def book_hold(
    session: Session,
    hold_id: int,
    *,
    now: datetime,
    status: str = BOOKED,
    actor: str = "customer",
    notes: str = "",
    place: Located | None = None,
    staff_pinned: bool = False,
) -> Booked | Refused:
    """Turn a hold into an appointment. An expired hold still books if the slot is free."""
    hold = session.get(SlotHold, hold_id)
    if hold is None:
        return Refused(TAKEN, _("That hold has lapsed; let's find you another time."))
    return book(
        session,
        customer_id=hold.customer_id,
        service_id=hold.service_id,
        start=hold.starts_at,
        staff_id=hold.staff_id,
        now=now,
        status=status,
        actor=actor,
        notes=notes,
        place=place,
        staff_pinned=staff_pinned,
    )


def place_of(appointment: Appointment) -> Located | None:
    """Where an on-site appointment is, when its coordinates are known."""
    if appointment.lat is None or appointment.lon is None:
        return None
    source = PlaceSource(appointment.place_source or PlaceSource.POSTAL_CODE)
    return Located(appointment.lat, appointment.lon, source)


def _get(session: Session, appointment_id: int) -> Appointment:
    appointment = session.get(Appointment, appointment_id)
    if appointment is None:
        raise NotFound(f"no appointment with id {appointment_id}")
    return appointment


def _before_cutoff(session: Session, appointment: Appointment, now: datetime) -> bool:
    hours = business_context(session).rules.cancellation_cutoff_hours
    return appointment.starts_at - now >= timedelta(hours=hours)


def reschedule(
    session: Session,
    appointment_id: int,
    *,
    new_start: datetime,
    now: datetime,
    staff_id: int | None = None,
    actor: str = "customer",
    enforce_rules: bool = True,
) -> Booked | Refused:
    """Move an upcoming appointment to a new time (and maybe staff); the old time is history.

    The appointment keeps its identity, so reminders, invoices and threads follow it; an
    event row records where it was.
    """
    appointment = _get(session, appointment_id)
    if appointment.status not in UPCOMING_STATUSES or appointment.status == IN_PROGRESS:
        return Refused(NOT_ALLOWED, t("This appointment is {status}.", status=appointment.status.replace('_', ' ')))
    if enforce_rules and not _before_cutoff(session, appointment, now):
        return Refused(TOO_LATE, _cutoff_message(session, "reschedule"))
    # An appointment the owner made longer or shorter (bot.scheduling.edits) keeps its length.
    length = int((appointment.ends_at - appointment.starts_at).total_seconds() // 60)
    minutes = None if length == appointment.service.duration_minutes else length
    slot = _find_fit(
        session,
        appointment.service,
        new_start,
        staff_id=staff_id if staff_id is not None else appointment.staff_id,
        customer_id=appointment.customer_id,
        now=now,
        enforce_rules=enforce_rules,
        ignore_appointment_id=appointment.id,
        place=place_of(appointment),
        duration_minutes=minutes,
    )
    if slot is None and staff_id is None:
        slot = _find_fit(
            session,
            appointment.service,
            new_start,
            staff_id=None,
            customer_id=appointment.customer_id,
            now=now,
            enforce_rules=enforce_rules,
            ignore_appointment_id=appointment.id,
            place=place_of(appointment),
            duration_minutes=minutes,
        )
    if slot is None:
        return _taken(new_start)
    return _move(session, appointment, slot, now=now, actor=actor)


def _move(
    session: Session, appointment: Appointment, slot: Slot, *, now: datetime, actor: str
) -> Booked | Refused:
    service = appointment.service
    old = (
        appointment.starts_at,
        appointment.ends_at,
        appointment.block_start,
        appointment.block_end,
        appointment.staff_id,
        appointment.resource_id,
    )
    try:
        with session.begin_nested():
            appointment.starts_at = slot.start
            appointment.ends_at = slot.end
            appointment.block_start = slot.start - timedelta(minutes=service.buffer_before_minutes)
            appointment.block_end = slot.end + timedelta(minutes=service.buffer_after_minutes)
            appointment.staff_id = slot.staff_id
            appointment.resource_id = slot.resource_id
            appointment.updated_at = now
            session.flush()
    except IntegrityError:
        (
            appointment.starts_at,
            appointment.ends_at,
            appointment.block_start,
            appointment.block_end,
            appointment.staff_id,
            appointment.resource_id,
        ) = old
        return _taken(slot.start)
    appointment.window_start, appointment.window_end = slot.window_start, slot.window_end
    _event(session, appointment, kind="rescheduled", now=now, actor=actor, old_start=old[0])
    if appointment.staff_id != old[4]:
        timeline.record(
            session,
            appointment,
            Kind.REASSIGNED,
            at=now,
            actor=actor,
            from_staff=old[4],
            to_staff=appointment.staff_id,
        )
    events.publish(
        session,
        events.AppointmentMoved(
            at=now,
            appointment_id=appointment.id,
            old_start=old[0],
            old_staff_id=old[4],
            actor=actor,
        ),
    )
    return Booked(appointment)


def _cutoff_message(session: Session, verb: str) -> str:
    hours = business_context(session).rules.cancellation_cutoff_hours
    return (
        t("Appointments can't be {verb}d online less than {hours} hours ahead. "
        "Please call us and we'll sort it out.", verb=verb, hours=hours)
    )


def cancel(
    session: Session,
    appointment_id: int,
    *,
    now: datetime,
    reason: str = "",
    actor: str = "customer",
    enforce_cutoff: bool = True,
) -> Changed | Refused:
    """Cancel an upcoming appointment, honouring the cancellation cut-off for customers."""
    appointment = _get(session, appointment_id)
    if appointment.status not in UPCOMING_STATUSES:
        return Refused(NOT_ALLOWED, t("This appointment is {status}.", status=appointment.status.replace('_', ' ')))
    if enforce_cutoff and not _before_cutoff(session, appointment, now):
        return Refused(TOO_LATE, _cutoff_message(session, "cancel"))
    return _set(session, appointment, CANCELLED, now=now, actor=actor, reason=reason)


def set_status(
    session: Session,
    appointment_id: int,
    status: str,
    *,
    now: datetime,
    actor: str = "staff",
    reason: str = "",
) -> Changed | Refused:
    """Move an appointment along its life: confirmed, in progress, completed, no-show."""
    appointment = _get(session, appointment_id)
    if status not in TRANSITIONS.get(appointment.status, frozenset()):
        return Refused(
            NOT_ALLOWED,
            t("An appointment that is {status} "
            "cannot become {new}.", status=appointment.status.replace('_', ' '), new=status.replace('_', ' ')),
        )
    return _set(session, appointment, status, now=now, actor=actor, reason=reason)


def _set(
    session: Session,
    appointment: Appointment,
    status: str,
    *,
    now: datetime,
    actor: str,
    reason: str,
) -> Changed:
    previous = appointment.status
    appointment.status = status
    appointment.updated_at = now
    if status == CANCELLED:
        appointment.cancel_reason = reason or None
    _event(
        session,
        appointment,
        kind="status",
        now=now,
        actor=actor,
        from_status=previous,
        to_status=status,
        reason=reason,
    )
    session.flush()
    event: events.Event
    if status == CANCELLED:
        event = events.AppointmentCancelled(
            at=now, appointment_id=appointment.id, previous=previous, actor=actor, reason=reason
        )
    else:
        event = events.StatusChanged(
            at=now,
            appointment_id=appointment.id,
            previous=previous,
            status=status,
            actor=actor,
            reason=reason,
        )
    events.publish(session, event)
    return Changed(appointment, previous)


def upcoming(session: Session, customer_id: int, *, now: datetime) -> list[Appointment]:
    """The customer's appointments still ahead (or under way), soonest first."""
    return list(
        session.scalars(
            select(Appointment)
            .where(
                Appointment.customer_id == customer_id,
                Appointment.status.in_(UPCOMING_STATUSES),
                Appointment.ends_at > now,
            )
            .order_by(Appointment.starts_at)
        )
    )


def history(session: Session, customer_id: int, *, now: datetime) -> list[Appointment]:
    """The customer's past and closed appointments, newest first."""
    return [
        a
        for a in session.scalars(
            select(Appointment)
            .where(Appointment.customer_id == customer_id)
            .order_by(Appointment.starts_at.desc())
        )
        if a.status not in UPCOMING_STATUSES or a.ends_at <= now
    ]


# --- recurring series -----------------------------------------------------------------


def occurrences(
    rule: str, first: datetime, zone_ctx: BusinessContext, *, until: datetime | None = None
) -> list[datetime]:
    """The UTC starts of an RFC 5545 rule anchored at `first`, keeping local wall time.

    "Every Monday at 10:00" stays 10:00 on the wall across a DST change. A wall time that
    does not exist that day (spring forward) moves to the instant the clock jumps to.
    """
    zone = zone_ctx.zone
    local_first = first.astimezone(zone).replace(tzinfo=None)
    try:
        rrule = rrulestr(rule, dtstart=local_first)
    except (ValueError, TypeError) as exc:
        raise InvalidRequest(f"not a recurrence rule: {rule!r} ({exc})") from exc
    limit_local = until.astimezone(zone).replace(tzinfo=None) if until else None
    starts: list[datetime] = []
    for index, wall in enumerate(rrule):
        if limit_local is not None and wall > limit_local:
            break
        if limit_local is None and index >= 500:
            raise InvalidRequest("a recurrence rule needs COUNT or UNTIL (or an end date)")
        instants = local_instant(wall.date(), wall.time(), zone)
        starts.append(instants[0] if instants else wall.replace(tzinfo=zone).astimezone(UTC))
    return starts


def create_series(
    session: Session,
    *,
    customer_id: int,
    service_id: int,
    staff_id: int,
    rule: str,
    first_start: datetime,
    now: datetime,
    until: datetime | None = None,
    actor: str = "customer",
) -> SeriesResult:
    """Book every free occurrence of a recurring rule and report each one that is not.

    The horizon limit does not apply: a series is an explicit standing arrangement. Notice,
    working hours, per-day limits and existing bookings do.
    """
    ctx = business_context(session)
    starts = occurrences(rule, first_start, ctx, until=until)
    series = RecurringSeries(
        customer_id=customer_id,
        service_id=service_id,
        staff_id=staff_id,
        rule=rule,
        local_start=first_start.astimezone(ctx.zone).replace(tzinfo=None).isoformat(),
        created_at=now,
    )
    session.add(series)
    session.flush()
    result = SeriesResult(series.id)
    for start in starts:
        outcome = book(
            session,
            customer_id=customer_id,
            service_id=service_id,
            start=start,
            staff_id=staff_id,
            now=now,
            actor=actor,
            series_id=series.id,
            within_horizon=False,
        )
        if isinstance(outcome, Booked):
            result.booked.append(outcome.appointment)
        else:
            result.conflicts.append(Conflict(start, outcome.message))
    return result


def _following(session: Session, appointment: Appointment) -> Sequence[Appointment]:
    if appointment.series_id is None:
        return [appointment]
    return list(
        session.scalars(
            select(Appointment)
            .where(
                Appointment.series_id == appointment.series_id,
                Appointment.starts_at >= appointment.starts_at,
                Appointment.status.in_(UPCOMING_STATUSES),
            )
            .order_by(Appointment.starts_at)
        )
    )


def cancel_following(
    session: Session,
    appointment_id: int,
    *,
    now: datetime,
    reason: str = "",
    actor: str = "customer",
    enforce_cutoff: bool = True,
) -> list[Changed | Refused]:
    """Cancel this occurrence and every later one in its series; the series ends."""
    appointment = _get(session, appointment_id)
    results: list[Changed | Refused] = [
        cancel(session, a.id, now=now, reason=reason, actor=actor, enforce_cutoff=enforce_cutoff)
        for a in _following(session, appointment)
    ]
    if appointment.series_id is not None:
        series = session.get(RecurringSeries, appointment.series_id)
        if series is not None:
            series.active = False
    return results


def reschedule_following(
    session: Session,
    appointment_id: int,
    *,
    new_start: datetime,
    now: datetime,
    staff_id: int | None = None,
    actor: str = "customer",
) -> SeriesResult:
    """Move this occurrence and every later one by the same change of day and wall time.

    "From now on, 3 pm instead of 10 am": each later occurrence keeps its own date shifted
    by the same number of days, at the new local time. Conflicts are reported, not skipped.
    """
    appointment = _get(session, appointment_id)
    zone = business_context(session).zone
    old_local = appointment.starts_at.astimezone(zone)
    new_local = new_start.astimezone(zone)
    day_shift = (new_local.date() - old_local.date()).days
    result = SeriesResult(appointment.series_id or 0)
    for item in _following(session, appointment):
        day: date = item.starts_at.astimezone(zone).date() + timedelta(days=day_shift)
        instants = local_instant(day, new_local.time().replace(tzinfo=None), zone)
        if not instants:
            result.conflicts.append(Conflict(item.starts_at, _("That time does not exist that day.")))
            continue
        # A series keeps its staff member unless told otherwise: no silent swap to "anyone".
        outcome = reschedule(
            session,
            item.id,
            new_start=instants[0],
            now=now,
            staff_id=staff_id if staff_id is not None else item.staff_id,
            actor=actor,
        )
        if isinstance(outcome, Booked):
            result.booked.append(outcome.appointment)
        else:
            result.conflicts.append(Conflict(instants[0], outcome.message))
    return result
