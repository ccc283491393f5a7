"""Who is told what when an appointment changes, on which channel, in which words, and when.

`on_booked`, `on_moved`, `on_cancelled` and `on_status_changed` subscribe (in `bot.bootstrap`)
to the booking service's events and run inside its transaction: the messages are queued in
the outbox and commit (or roll back) with the change itself.

Who is told:
- the customer, always: a confirmation with an .ics on booking, a change notice with the
  updated .ics on a move, a cancellation with a METHOD:CANCEL .ics. Even for a change they
  made themselves, because their calendar must follow;
- the owners, about changes the customer (or slotbot itself) made, never about their own;
- the assigned staff member (and the previous one, on a move to someone else), unless staff
  made the change.
A recurring series gets one confirmation and one owner notice for the whole series.

A customer is reached where `bot.messaging.asking.customer_address` says (their most recently active
identity that is not opted out, the web chat last, else SMS to their phone, else not at
all). Texts are short and plain (SMS-friendly); times are in the business's zone and locale.
Non-urgent messages avoid quiet hours with `defer_for_quiet_hours`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta

from icalendar import Calendar, Event, vCalAddress, vText
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.config.context import BusinessContext, business_context
from bot.core import events
from bot.core.text import _, t
from bot.field.places.windows import format_window
from bot.messaging.asking import customer_address as customer_address
from bot.messaging.asking import tell_customer
from bot.messaging.messages import Attachment, Reply
from bot.messaging.outbox import (
    APPOINTMENT_BOUND,
    CANCEL_NOTICE,
    CHANGE_NOTICE,
    CONFIRMATION,
    OWNER_NOTICE,
    STAFF_NOTICE,
    enqueue,
    withdraw_pending,
)
from bot.scheduling.availability import local_instant
from storage.messaging import OutboxMessage
from storage.models import (
    AWAITING_DEPOSIT,
    BOOKED,
    CANCELLED,
    CONFIRMED,
    NO_SHOW,
    Appointment,
    AppointmentEvent,
    AwaitingReply,
    Staff,
)

CUSTOMER_ACTORS = ("customer", "system")


def _role(actor: str) -> str:
    return actor.partition(":")[0]


# ------------------------------------------------------------------------- addresses


def staff_addresses(
    session: Session, staff_id: int, info: BusinessContext
) -> list[tuple[str, str]]:
    """(channel, address) of a staff member's own identities from business.toml."""
    staff = session.get(Staff, staff_id)
    if staff is None:
        return []
    return list(info.staff_addresses(staff.key))


# ----------------------------------------------------------------------- quiet hours


def quiet_hours(info: BusinessContext) -> tuple[time, time] | None:
    """The business's quiet hours (local wall times, may wrap midnight), if any."""
    return info.quiet_hours


def defer_for_quiet_hours(
    moment: datetime, info: BusinessContext, *, latest: datetime | None = None
) -> datetime:
    """When a non-urgent message due at `moment` may go (quiet hours pushed to their end).

    `moment` itself when it is outside quiet hours.

    If deferring would carry it past `latest` (a reminder must arrive well before the
    appointment), it goes at `moment` after all.
    """
    span = quiet_hours(info)
    if span is None:
        return moment
    start, end = span
    local = moment.astimezone(info.zone)
    wall = local.time().replace(tzinfo=None)
    day = local.date()
    if start < end:
        inside = start <= wall < end
    else:
        inside = wall >= start or wall < end
        if wall >= start:
            day += timedelta(days=1)
    if not inside:
        return moment
    instants = local_instant(day, end, info.zone)
    # A wall time skipped by a DST jump: resume at the instant the clock jumps to.
    resume = instants[0] if instants else datetime.combine(day, end, info.zone).astimezone(UTC)
    if latest is not None and resume > latest:
        return moment
    return max(resume, moment)


# ------------------------------------------------------------------------- telling


def _tell_each(
    session: Session,
    addresses: Sequence[tuple[str, str]],
    text: str,
    *,
    purpose: str,
    now: datetime,
    ref_id: int | None,
    dedupe_key: str | None,
    send_at: datetime | None,
    ref_starts_at: datetime | None,
    flush: bool = True,
) -> list[OutboxMessage]:
    queued = []
    for channel, address in addresses:
        message = enqueue(
            session,
            channel=channel,
            address=address,
            reply=Reply(text),
            purpose=purpose,
            ref_id=ref_id,
            send_at=send_at,
            dedupe_key=f"{dedupe_key}:{channel}:{address}" if dedupe_key else None,
            now=now,
            ref_starts_at=ref_starts_at,
            flush=False,
        )
        if message is not None:
            queued.append(message)
    if flush and queued:
        session.flush()  # all of them in one flush
    return queued


def tell_owners(
    session: Session,
    text: str,
    *,
    purpose: str = OWNER_NOTICE,
    now: datetime,
    ref_id: int | None = None,
    dedupe_key: str | None = None,
    send_at: datetime | None = None,
    ref_starts_at: datetime | None = None,
    flush: bool = True,
) -> list[OutboxMessage]:
    """Queue `text` to every owner identity in business.toml (`flush=False`: left pending)."""
    owners = business_context(session, required=False).owner_addresses
    return _tell_each(
        session,
        owners,
        text,
        purpose=purpose,
        now=now,
        ref_id=ref_id,
        dedupe_key=dedupe_key,
        send_at=send_at,
        ref_starts_at=ref_starts_at,
        flush=flush,
    )


def tell_staff(
    session: Session,
    staff_id: int,
    text: str,
    *,
    now: datetime,
    ref_id: int | None = None,
    dedupe_key: str | None = None,
    flush: bool = True,
) -> list[OutboxMessage]:
    """Queue `text` to a staff member's own identities (`flush=False`: left pending)."""
    addresses = staff_addresses(session, staff_id, business_context(session, required=False))
    return _tell_each(
        session,
        addresses,
        text,
        purpose=STAFF_NOTICE,
        now=now,
        ref_id=ref_id,
        dedupe_key=dedupe_key,
        send_at=None,
        ref_starts_at=None,
        flush=flush,
    )


# ---------------------------------------------------------------------- describing


def first_name(name: str | None) -> str:
    """The first word of a name ("Sam Rivera" → "Sam")."""
    return (name or "").split(" ")[0] or "us"


def describe(appointment: Appointment, info: BusinessContext, start: datetime | None = None) -> str:
    """ "Haircut with Sam, Tue 17 Nov, 10:00"."""
    service = appointment.service.name
    staff = first_name(appointment.staff.name)
    if start is None and appointment.window_start and appointment.window_end:
        # A field visit promises an arrival window, not a minute.
        window = format_window(
            appointment.window_start, appointment.window_end, info.zone, info.locale
        )
        return t("{service} with {staff}, {window}", service=service, staff=staff, window=window)
    return t("{service} with {staff}, {when}", service=service, staff=staff, when=info.when(start or appointment.starts_at))


def customer_name(appointment: Appointment) -> str:
    """The customer's name as staff see it."""
    return appointment.customer.name or appointment.customer.phone or _("A customer")


def _sequence(session: Session, appointment: Appointment, cancelled: bool) -> int:
    moves = session.scalar(
        select(func.count())
        .select_from(AppointmentEvent)
        .where(
            AppointmentEvent.appointment_id == appointment.id,
            AppointmentEvent.kind == "rescheduled",
        )
    )
    return int(moves or 0) + (1 if cancelled else 0)


def calendar_file(
    session: Session, appointment: Appointment, info: BusinessContext, *, now: datetime
) -> Attachment:
    """An iCalendar invitation for the appointment as it now stands.

    The UID is stable per appointment and SEQUENCE counts its moves (plus one when
    cancelled), so calendar apps update or remove the entry they already have instead of
    adding another. A cancelled appointment gives METHOD:CANCEL.
    """
    cancelled = appointment.status == CANCELLED
    email = info.email
    domain = email.partition("@")[2] if email else "slotbot.invalid"
    calendar = Calendar()
    calendar.add("prodid", "-//slotbot//appointments//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancelled else "REQUEST")
    event = Event()
    event.add("uid", f"appointment-{appointment.id}@{domain}")
    event.add("sequence", _sequence(session, appointment, cancelled))
    event.add("dtstamp", now.astimezone(UTC))
    service = appointment.service
    staff = first_name(appointment.staff.name)
    if appointment.window_start is not None and appointment.window_end is not None:
        # A field visit promises an arrival window, not a minute: the entry spans from the
        # window opening to the latest the job can end (arriving as the window closes).
        event.add("dtstart", appointment.window_start.astimezone(UTC))
        event.add(
            "dtend",
            (appointment.window_end + (appointment.ends_at - appointment.starts_at)).astimezone(
                UTC
            ),
        )
        window = format_window(
            appointment.window_start, appointment.window_end, info.zone, info.locale
        )
        summary = t(
            "{service} with {first_name} — {business} (arrival {window})",
            service=service.name,
            first_name=staff,
            business=info.name,
            window=window,
        )
        event.add("summary", summary)
        minutes = round((appointment.ends_at - appointment.starts_at).total_seconds() / 60)
        event.add(
            "description",
            t(
                "{first_name} arrives {window}; the job takes about {minutes} min.",
                first_name=staff,
                window=window,
                minutes=minutes,
            ),
        )
    else:
        event.add("dtstart", appointment.starts_at.astimezone(UTC))
        event.add("dtend", appointment.ends_at.astimezone(UTC))
        summary = t(
            "{service} with {first_name} — {business}",
            service=service.name,
            first_name=staff,
            business=info.name,
        )
        event.add("summary", summary)
    location = appointment.customer.address if service.on_site else info.address
    if location:
        event.add("location", location)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    if email:
        organizer = vCalAddress(f"mailto:{email}")
        organizer.params["cn"] = vText(info.name)
        event.add("organizer", organizer)
    calendar.add_component(event)
    return Attachment(
        content_type="text/calendar",
        filename=f"appointment-{appointment.id}.ics",
        data=calendar.to_ical(),
    )


def _expire_reminder_questions(session: Session, appointment_id: int, now: datetime) -> None:
    """A reply to an old reminder must not confirm (or move) what has since changed."""
    session.execute(
        update(AwaitingReply)
        .where(
            AwaitingReply.kind == "reminder",
            AwaitingReply.ref_id == appointment_id,
            AwaitingReply.answered_at.is_(None),
            AwaitingReply.expires_at > now,
        )
        .values(expires_at=now)
        .execution_options(synchronize_session=False)
    )


# ------------------------------------------------------------------- the subscribers


def on_booked(session: Session, event: events.AppointmentBooked) -> None:
    """A new booking: confirmation (.ics) to the customer, notices to owners and staff."""
    _confirm(session, events.appointment_of(session, event), now=event.at, actor=event.actor)


def _confirm(session: Session, appointment: Appointment, *, now: datetime, actor: str) -> None:
    """The confirmation and notices of a booking; one awaiting its deposit waits for it."""
    if appointment.status not in (BOOKED, CONFIRMED):
        return
    info = business_context(session, required=False)
    series = appointment.series_id
    what = describe(appointment, info)
    text = t("You're booked: {appointment} at {business}.", appointment=what, business=info.name)
    if series is not None:
        text += _(" It repeats as arranged; we'll remind you before each visit.")
    tell_customer(
        session,
        appointment.customer_id,
        Reply(text, attachments=(calendar_file(session, appointment, info, now=now),)),
        purpose=CONFIRMATION,
        ref_id=appointment.id,
        now=now,
        dedupe_key=f"confirmation:series:{series}" if series else None,
        flush=False,
    )
    who = customer_name(appointment)
    repeat = _(" (recurring)") if series else ""
    if _role(actor) in CUSTOMER_ACTORS:
        tell_owners(
            session,
            t("New booking{repeat}: {who}, {what}.", repeat=repeat, who=who, what=what),
            now=now,
            ref_id=appointment.id,
            dedupe_key=f"booked:series:{series}" if series else None,
            flush=False,
        )
    if _role(actor) != "staff":
        tell_staff(
            session,
            appointment.staff_id,
            t("New booking for you{repeat}: {who}, {service}, "
            "{when}.", repeat=repeat, who=who, service=appointment.service.name, when=info.when(appointment.starts_at)),
            now=now,
            ref_id=appointment.id,
            dedupe_key=f"staff-booked:series:{series}" if series else None,
            flush=False,
        )
    # The confirmation and the notices left pending above, in one flush.
    session.flush()


def on_moved(session: Session, event: events.AppointmentMoved) -> None:
    """A reschedule: change notices to both sides and the updated .ics."""
    appointment = events.appointment_of(session, event)
    old_start, old_staff_id, now, actor = event.old_start, event.old_staff_id, event.at, event.actor
    withdraw_pending(
        session, ref_id=appointment.id, purposes=APPOINTMENT_BOUND, reason="appointment moved"
    )
    _expire_reminder_questions(session, appointment.id, now)
    info = business_context(session, required=False)
    new, old = describe(appointment, info), info.when(old_start)
    tell_customer(
        session,
        appointment.customer_id,
        Reply(
            t("Changed: your {new} at {business} (was {old}).", new=new, business=info.name, old=old),
            attachments=(calendar_file(session, appointment, info, now=now),),
        ),
        purpose=CHANGE_NOTICE,
        ref_id=appointment.id,
        now=now,
    )
    who = customer_name(appointment)
    if _role(actor) in CUSTOMER_ACTORS:
        tell_owners(session, t("Moved: {who}, {new} (was {old}).", who=who, new=new, old=old), now=now, ref_id=appointment.id)
    if _role(actor) != "staff":
        staff_ids = dict.fromkeys([appointment.staff_id, old_staff_id])
        for staff_id in staff_ids:
            tell_staff(
                session,
                staff_id,
                t("Moved: {who}, {new} (was {old}).", who=who, new=new, old=old),
                now=now,
                ref_id=appointment.id,
            )


def on_status_changed(session: Session, event: events.StatusChanged) -> None:
    """A status change: automatic no-shows are told.

    A booking whose deposit was paid (awaiting_deposit → booked) gets its confirmation now.
    """
    appointment = events.appointment_of(session, event)
    previous, now, actor, status = event.previous, event.at, event.actor, event.status
    if previous == AWAITING_DEPOSIT and status in (BOOKED, CONFIRMED):
        _confirm(session, appointment, now=now, actor=actor)
    elif status == NO_SHOW:
        withdraw_pending(
            session, ref_id=appointment.id, purposes=APPOINTMENT_BOUND, reason="no-show"
        )
        if _role(actor) == "system":
            info = business_context(session, required=False)
            tell_owners(
                session,
                t("No-show: {customer_name}, {appointment}. "
                "Marked automatically.", customer_name=customer_name(appointment), appointment=describe(appointment, info)),
                now=now,
                ref_id=appointment.id,
                dedupe_key=f"no-show:{appointment.id}",
            )


def on_cancelled(session: Session, event: events.AppointmentCancelled) -> None:
    """A cancellation: notices to both sides, the .ics that removes the calendar entry."""
    appointment = events.appointment_of(session, event)
    previous, now, actor, reason = event.previous, event.at, event.actor, event.reason
    withdraw_pending(
        session, ref_id=appointment.id, purposes=APPOINTMENT_BOUND, reason="appointment cancelled"
    )
    _expire_reminder_questions(session, appointment.id, now)
    info = business_context(session, required=False)
    what = describe(appointment, info)
    text = t("Cancelled: your {what} at {business}.", what=what, business=info.name)
    if reason and _role(actor) not in CUSTOMER_ACTORS:
        text += t(" Reason: {reason}.", reason=reason)
    # A booking that never got past its deposit never sent a calendar entry to remove.
    attachments: tuple[Attachment, ...] = ()
    if previous != AWAITING_DEPOSIT:
        attachments = (calendar_file(session, appointment, info, now=now),)
    tell_customer(
        session,
        appointment.customer_id,
        Reply(text, attachments=attachments),
        purpose=CANCEL_NOTICE,
        ref_id=appointment.id,
        now=now,
    )
    who = customer_name(appointment)
    if _role(actor) in CUSTOMER_ACTORS:
        tell_owners(session, t("Cancelled: {who}, {what}.", who=who, what=what), now=now, ref_id=appointment.id)
    if _role(actor) != "staff":
        tell_staff(
            session,
            appointment.staff_id,
            t("Cancelled: {who}, {what}.", who=who, what=what),
            now=now,
            ref_id=appointment.id,
        )
