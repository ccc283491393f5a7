"""Reminders before appointments, the owner's heads-up about unconfirmed ones, no-shows.

Nothing here is scheduled per appointment: each job scans the database for what is due now
and is safe to run twice, late, or after downtime.

- `queue_reminders` (every minute) queues at most one reminder per appointment per scan:
  the latest offset whose time has come. After downtime across several offsets only that
  one goes; a reminder whose time passed before the appointment was last changed is
  skipped (the confirmation or change notice just said it all); nothing is queued once the
  appointment has started. The dedupe key `reminder:{id}:{offset}:{starts_at}` makes
  double runs no-ops and lets a moved appointment be reminded again for its new time.
  Each reminder leaves an `AwaitingReply` (kind "reminder") so the conversation engine
  knows what C / R / X answer; `confirm_appointment` is the "C".
- `flag_unconfirmed` tells the owners, once per appointment, when a customer who was
  reminded has still not confirmed `unconfirmed_alert_hours` before the start.
- `mark_no_shows` marks appointments nobody started within the grace period as no-shows
  (the owners are told by bot.messaging.notify); it looks back two days only, so switching it on
  does not rewrite old history.

Reminders and alerts are non-urgent: quiet hours defer them, but never later than 30
minutes before the appointment.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, selectinload

from bot.config.context import business_context
from bot.core.clock import utcnow
from bot.core.errors import NotFound
from bot.core.text import N_, _, t
from bot.messaging.asking import Awaiting, ask
from bot.messaging.messages import Option, Reply
from bot.messaging.notify import (
    customer_name,
    defer_for_quiet_hours,
    describe,
    tell_owners,
)
from bot.messaging.outbox import REMINDER, UNCONFIRMED_ALERT
from bot.messaging.senders.render import reply_map
from bot.scheduling import booking, timeline
from bot.scheduling.timeline import Kind
from storage.db import Database
from storage.messaging import SENT, OutboxMessage
from storage.models import BOOKED, CONFIRMED, NO_SHOW, Appointment, AwaitingReply

KIND = "reminder"
REMINDER_OPTIONS = (
    Option("confirm", N_("Confirm")),
    Option("reschedule", N_("Reschedule")),
    Option("cancel", N_("Cancel")),
)
# Quiet hours may hold a reminder back, but not past this long before the start.
LATEST_BEFORE_START = timedelta(minutes=30)
NO_SHOW_LOOKBACK = timedelta(days=2)
_REMINDED = (BOOKED, CONFIRMED)


def reminder_key(appointment_id: int, offset: int, starts_at: datetime) -> str:
    """The outbox dedupe key of one reminder of one appointment at one start time."""
    return f"reminder:{appointment_id}:{offset}:{starts_at.astimezone(UTC).isoformat()}"


def due_offset(
    starts_at: datetime, offsets: Iterable[int], now: datetime, planned_at: datetime
) -> int | None:
    """The reminder offset (minutes before) to send now, or None.

    Of the offsets whose time has come (and came after the appointment was last changed,
    `planned_at`), the latest: the one closest to the start. None once it has started.
    """
    if now >= starts_at:
        return None
    due = [
        minutes
        for minutes in offsets
        if planned_at <= starts_at - timedelta(minutes=minutes) <= now
    ]
    return min(due) if due else None


def _existing_keys(session: Session, keys: list[str]) -> set[str]:
    found: set[str] = set()
    for i in range(0, len(keys), 500):
        found.update(
            session.scalars(
                select(OutboxMessage.dedupe_key).where(
                    OutboxMessage.dedupe_key.in_(keys[i : i + 500])
                )
            )
        )
    return found


def queue_reminders(session: Session, now: datetime) -> list[OutboxMessage]:
    """Queue every reminder due now (see the module docstring); returns the new rows."""
    info = business_context(session, required=False)
    offsets = list(info.reminders)
    if not offsets:
        return []
    appointments = session.scalars(
        select(Appointment)
        .where(
            Appointment.status.in_(_REMINDED),
            Appointment.starts_at > now,
            Appointment.starts_at <= now + timedelta(minutes=max(offsets)),
        )
        .options(selectinload(Appointment.service), selectinload(Appointment.staff))
        .order_by(Appointment.starts_at, Appointment.id)
    ).all()
    planned: list[tuple[Appointment, int, str]] = []
    for appointment in appointments:
        offset = due_offset(appointment.starts_at, offsets, now, appointment.updated_at)
        if offset is not None:
            key = reminder_key(appointment.id, offset, appointment.starts_at)
            planned.append((appointment, offset, key))
    done = _existing_keys(session, [key for _, _, key in planned])
    queued = []
    for appointment, offset, key in planned:
        if key in done:
            continue
        send_at = defer_for_quiet_hours(
            now, info, latest=appointment.starts_at - LATEST_BEFORE_START
        )
        message = ask(
            session,
            appointment.customer_id,
            Reply(t("Reminder: {appointment} at {business}.", appointment=describe(appointment, info), business=info.name), tuple(Option(o.id, _(o.label)) for o in REMINDER_OPTIONS)),
            awaiting=Awaiting(
                KIND,
                appointment.id,
                expires=appointment.starts_at,
                data={
                    "offset_minutes": offset,
                    "starts_at": appointment.starts_at.astimezone(UTC).isoformat(),
                    "replies": reply_map([Option(o.id, _(o.label)) for o in REMINDER_OPTIONS]),
                },
            ),
            purpose=REMINDER,
            ref_id=appointment.id,
            send_at=send_at,
            dedupe_key=key,
            ref_starts_at=appointment.starts_at,
            now=now,
        )
        if message is None:
            continue
        timeline.record(session, appointment, Kind.REMINDED, at=now, channel=message.channel)
        queued.append(message)
    return queued


def scan_reminders(db: Database, now: datetime | None = None) -> int:
    """The scheduled job: queue due reminders in one transaction; how many were queued."""
    with db.write() as session:
        return len(queue_reminders(session, now or utcnow()))


def confirm_appointment(
    session: Session, appointment_id: int, now: datetime
) -> booking.Changed | booking.Refused:
    """The customer confirms (a reminder's "C"). Confirming twice is fine."""
    appointment = session.get(Appointment, appointment_id)
    if appointment is None:
        raise NotFound(f"no appointment with id {appointment_id}")
    if appointment.status == CONFIRMED:
        result: booking.Changed | booking.Refused = booking.Changed(appointment, CONFIRMED)
    else:
        result = booking.set_status(session, appointment_id, CONFIRMED, now=now, actor="customer")
    if isinstance(result, booking.Changed):
        for question in session.scalars(
            select(AwaitingReply).where(
                AwaitingReply.kind == KIND,
                AwaitingReply.ref_id == appointment_id,
                AwaitingReply.answered_at.is_(None),
            )
        ):
            question.answered_at = now
    return result


def flag_unconfirmed(db: Database, now: datetime | None = None) -> int:
    """Tell the owners about reminded-but-unconfirmed appointments starting soon."""
    now = now or utcnow()
    with db.write() as session:
        info = business_context(session, required=False)
        hours = info.messaging.unconfirmed_alert_hours
        if hours <= 0:
            return 0
        reminded = exists().where(
            OutboxMessage.purpose == REMINDER,
            OutboxMessage.ref_id == Appointment.id,
            OutboxMessage.status == SENT,
        )
        appointments = session.scalars(
            select(Appointment)
            .where(
                Appointment.status == BOOKED,
                Appointment.starts_at > now,
                Appointment.starts_at <= now + timedelta(hours=hours),
                reminded,
            )
            .order_by(Appointment.starts_at)
        ).all()
        count = 0
        for appointment in appointments:
            send_at = defer_for_quiet_hours(
                now, info, latest=appointment.starts_at - LATEST_BEFORE_START
            )
            queued = tell_owners(
                session,
                t("Not confirmed yet: {customer_name}, {appointment}.", customer_name=customer_name(appointment), appointment=describe(appointment, info)),
                purpose=UNCONFIRMED_ALERT,
                now=now,
                ref_id=appointment.id,
                dedupe_key=f"unconfirmed:{appointment.id}",
                send_at=send_at,
                ref_starts_at=appointment.starts_at,
            )
            count += bool(queued)
        return count


def mark_no_shows(db: Database, now: datetime | None = None) -> int:
    """Mark appointments nobody started within the grace period as no-shows; how many."""
    now = now or utcnow()
    with db.write() as session:
        settings = business_context(session, required=False).messaging
        if not settings.auto_no_show:
            return 0
        grace = timedelta(minutes=settings.no_show_grace_minutes)
        ids = session.scalars(
            select(Appointment.id)
            .where(
                Appointment.status.in_(_REMINDED),
                Appointment.starts_at <= now - grace,
                Appointment.starts_at > now - NO_SHOW_LOOKBACK,
            )
            .order_by(Appointment.starts_at)
        ).all()
        reason = t("not started within {minutes} minutes of its start", minutes=settings.no_show_grace_minutes)
        for appointment_id in ids:
            booking.set_status(
                session, appointment_id, NO_SHOW, now=now, actor="system", reason=reason
            )
        return len(ids)
