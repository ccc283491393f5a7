"""The event log of an appointment: what happened to it, when, by whom, in one table.

Every change in an appointment's life is one `appointment_event` row, written by `record`
where the change happens, in the same transaction: booked, moved, reassigned, reminded,
confirmed, on the way, running late, arrived, completed, paid, cancelled, no-show. Status
changes keep `from_status`/`to_status` (job timing reads them); moves keep the old and new
start; anything else (an ETA, minutes late, a location pin, a payment) is in `detail`.

Reading: `entries` gives the log in words for the dashboard and the owner's chat;
`timings` gives time in transit (on the way → arrived) and on the job (arrived → done).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core.formatting import format_money, format_when, plain
from bot.core.text import N_, _, t
from storage.models import (
    CANCELLED,
    COMPLETED,
    CONFIRMED,
    IN_PROGRESS,
    NO_SHOW,
    Appointment,
    AppointmentEvent,
)


class Kind(StrEnum):
    """What an event log entry records (the `appointment_event.kind` column)."""

    BOOKED = "booked"
    MOVED = "rescheduled"  # the value rows written before the log had kinds carry too
    REASSIGNED = "reassigned"
    REMINDED = "reminded"
    CONFIRMED = "confirmed"
    ON_THE_WAY = "on_the_way"
    RUNNING_LATE = "running_late"
    ARRIVED = "arrived"
    COMPLETED = "completed"
    PAID = "paid"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"
    WEATHER = "weather"  # flagged for bad weather (outdoor work), another day offered
    STATUS = "status"  # any other status change (and every one recorded before 0018)


_STATUS_KINDS = {
    CONFIRMED: Kind.CONFIRMED,
    IN_PROGRESS: Kind.ARRIVED,
    COMPLETED: Kind.COMPLETED,
    CANCELLED: Kind.CANCELLED,
    NO_SHOW: Kind.NO_SHOW,
}


def status_kind(from_status: str | None, to_status: str) -> Kind:
    """The kind of a status change: a first status is the booking itself."""
    if from_status is None:
        return Kind.BOOKED
    return _STATUS_KINDS.get(to_status, Kind.STATUS)


def _json_safe(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def record(
    session: Session,
    appointment: Appointment | int,
    kind: Kind,
    *,
    at: datetime,
    actor: str = "system",
    from_status: str | None = None,
    to_status: str | None = None,
    old_starts_at: datetime | None = None,
    new_starts_at: datetime | None = None,
    reason: str = "",
    **detail: Any,
) -> AppointmentEvent:
    """Add one entry to an appointment's event log (it commits with the change)."""
    appointment_id = appointment if isinstance(appointment, int) else appointment.id
    event = AppointmentEvent(
        appointment_id=appointment_id,
        kind=str(kind),
        from_status=from_status,
        to_status=to_status,
        old_starts_at=old_starts_at,
        new_starts_at=new_starts_at,
        actor=actor[:64],
        reason=reason,
        at=at,
        detail=_json_safe(detail),
    )
    session.add(event)
    return event


def annotate(session: Session, appointment_id: int, kind: Kind, **detail: Any) -> None:
    """Add details to the newest entry of `kind` (a location pin on "arrived")."""
    event = session.scalar(
        select(AppointmentEvent)
        .where(AppointmentEvent.appointment_id == appointment_id, AppointmentEvent.kind == kind)
        .order_by(AppointmentEvent.id.desc())
        .limit(1)
    )
    if event is not None:
        event.detail = {**(event.detail or {}), **_json_safe(detail)}


def events_of(session: Session, appointment_id: int) -> list[AppointmentEvent]:
    """An appointment's log, oldest first."""
    return list(
        session.scalars(
            select(AppointmentEvent)
            .where(AppointmentEvent.appointment_id == appointment_id)
            .order_by(AppointmentEvent.at, AppointmentEvent.id)
        )
    )


# --------------------------------------------------------------------------- in words


@dataclass(frozen=True)
class Entry:
    """One log entry as a person reads it."""

    at: datetime
    kind: str
    when: str  # "Tue, Nov 17, 10:32 AM"
    text: str  # "Arrived (location shared)"
    by: str  # "the customer", "Sam", "" for slotbot itself
    map_url: str | None = None


_CHANNEL_WORDS = {
    "sms": N_("SMS"),
    "whatsapp": N_("WhatsApp"),
    "telegram": N_("Telegram"),
    "web": N_("web chat"),
    "email": "email",
}
_ROLE_WORDS = {"customer": N_("the customer"), "owner": N_("the owner"), "staff": N_("staff")}


def _by(actor: str, staff_names: dict[str, str]) -> str:
    role, _, identity = actor.partition(":")
    if role == "staff" and identity in staff_names:
        return staff_names[identity]
    if role == "owner" and identity == "dashboard":
        return t("the owner (dashboard)")
    return t(_ROLE_WORDS[role]) if role in _ROLE_WORDS else ""  # `_` is taken here


def maps_url(latitude: float, longitude: float) -> str:
    """A Google Maps link to a point."""
    return f"https://www.google.com/maps/search/?api=1&query={latitude:.6f},{longitude:.6f}"


def _clock(value: str | None, zone: ZoneInfo, locale: str) -> str:
    if not value:
        return ""
    return format_when(datetime.fromisoformat(value), zone, locale).split(", ")[-1]


def describe_event(
    event: AppointmentEvent, zone: ZoneInfo, locale: str, staff_names: dict[int, str]
) -> str:
    """What one entry says, e.g. "Moved from Tue, Nov 17, 10:00 AM to Wed, Nov 18, 2:00 PM"."""
    d = event.detail or {}

    def when(moment: datetime | None) -> str:
        return format_when(moment, zone, locale) if moment else "?"

    kind = event.kind
    if kind == Kind.BOOKED:
        text = _("Booked") if event.to_status != "awaiting_deposit" else _("Booked, awaiting deposit")
    elif kind == Kind.MOVED:
        text = t("Moved from {old} to {new}", old=when(event.old_starts_at), new=when(event.new_starts_at))
    elif kind == Kind.REASSIGNED:
        before = staff_names.get(d.get("from_staff", 0), "?")
        after = staff_names.get(d.get("to_staff", 0), "?")
        text = t("Reassigned from {before} to {after}", before=before, after=after)
    elif kind == Kind.REMINDED:
        channel = _(_CHANNEL_WORDS[d["channel"]]) if d.get("channel") in _CHANNEL_WORDS else d.get("channel")
        text = _("Reminder sent") + (t(" by {channel}", channel=channel) if channel else "")
    elif kind == Kind.CONFIRMED:
        text = _("Confirmed")
    elif kind == Kind.ON_THE_WAY:
        text = _("On the way")
        if d.get("eta"):
            text += t(", arriving about {clock}", clock=_clock(d['eta'], zone, locale))
            text += t(" ({minutes} min drive from {origin})", minutes=d.get('minutes'), origin=_(d['origin']) if d.get('origin') else d.get('origin', _('unknown')))
    elif kind == Kind.RUNNING_LATE:
        text = t("Running {minutes} min late", minutes=d.get('minutes', '?'))
        if d.get("eta"):
            text += t(", now arriving about {clock}", clock=_clock(d['eta'], zone, locale))
    elif kind == Kind.ARRIVED:
        text = _("Arrived, job started")
    elif kind == Kind.COMPLETED:
        text = _("Completed")
    elif kind == Kind.PAID:
        amount = format_money(int(d.get("amount_minor", 0)), d.get("currency", "USD"), locale)
        text = t("Paid {amount}", amount=amount) + (t(" on {invoice}", invoice=d['invoice']) if d.get("invoice") else "")
        text += t(" by {method}", method=d['method'].replace('_', ' ')) if d.get("method") else ""
    elif kind == Kind.CANCELLED:
        text = _("Cancelled")
    elif kind == Kind.NO_SHOW:
        text = _("Marked a no-show")
    elif kind == Kind.WEATHER:
        text = t("Flagged for {reason}", reason=event.reason or _('the weather'))
        offered = d.get("offered")
        text += t(", offered {when}", when=when(datetime.fromisoformat(offered))) if offered else ""
        return plain(text if offered else text + _(", no other day free"))
    else:
        before = (event.from_status or "new").replace("_", " ")
        text = t("Status {before} → {to_status}", before=before, to_status=(event.to_status or '?').replace('_', ' '))
    if event.reason and kind not in (Kind.BOOKED,):
        text += f": {event.reason}"
    if d.get("latitude") is not None and kind in (Kind.ARRIVED, Kind.COMPLETED, Kind.ON_THE_WAY):
        text += _(" (location shared)")
    return plain(text)


def entries(
    session: Session,
    appointment: Appointment,
    *,
    zone: ZoneInfo,
    locale: str,
    staff_names: dict[int, str],
    staff_by_identity: dict[str, str] | None = None,
) -> list[Entry]:
    """The appointment's log in words, oldest first."""
    found = []
    for event in events_of(session, appointment.id):
        if event.kind == Kind.MOVED and event.old_starts_at == event.new_starts_at:
            continue  # a change of staff only: its "reassigned" entry says it
        d = event.detail or {}
        pin = (
            maps_url(float(d["latitude"]), float(d["longitude"]))
            if d.get("latitude") is not None and d.get("longitude") is not None
            else None
        )
        found.append(
            Entry(
                at=event.at,
                kind=event.kind,
                when=format_when(event.at, zone, locale),
                text=describe_event(event, zone, locale, staff_names),
                by=_by(event.actor, staff_by_identity or {}),
                map_url=pin,
            )
        )
    return found


# ---------------------------------------------------------------------------- timing


@dataclass(frozen=True)
class Timing:
    """When a job's staff member set off, arrived and finished (any may be unknown)."""

    set_off: datetime | None = None
    arrived: datetime | None = None
    done: datetime | None = None

    @property
    def transit_minutes(self) -> int | None:
        """Minutes from "on my way" to "arrived"."""
        if self.set_off is None or self.arrived is None or self.arrived < self.set_off:
            return None
        return int((self.arrived - self.set_off).total_seconds() // 60)

    @property
    def job_minutes(self) -> int | None:
        """Minutes from "arrived" to "done"."""
        if self.arrived is None or self.done is None:
            return None
        return int((self.done - self.arrived).total_seconds() // 60)


def timings(session: Session, appointment_ids: Iterable[int]) -> dict[int, Timing]:
    """Set-off, arrival and finish of each appointment, from its log."""
    ids = list(appointment_ids)
    if not ids:
        return {}
    marks: dict[int, dict[str, datetime]] = {i: {} for i in ids}
    for event in session.scalars(
        select(AppointmentEvent)
        .where(AppointmentEvent.appointment_id.in_(ids))
        .order_by(AppointmentEvent.at, AppointmentEvent.id)
    ):
        mark = marks[event.appointment_id]
        if event.kind == Kind.ON_THE_WAY:
            mark.setdefault("set_off", event.at)
        elif event.to_status == IN_PROGRESS:
            mark.setdefault("arrived", event.at)
        elif event.to_status == COMPLETED:
            mark.setdefault("done", event.at)
    return {i: Timing(**m) for i, m in marks.items()}


@dataclass(frozen=True)
class DayTotals:
    """One staff member's day: minutes in transit and on jobs, over the jobs measured."""

    transit_minutes: int
    job_minutes: int
    jobs: int


def totals(found: Iterable[Timing]) -> DayTotals:
    """Add up a day's timings."""
    items = list(found)
    return DayTotals(
        transit_minutes=sum(t.transit_minutes or 0 for t in items),
        job_minutes=sum(t.job_minutes or 0 for t in items),
        jobs=sum(1 for t in items if t.job_minutes is not None),
    )


def duration(minutes: int) -> str:
    """ "40 min", "1 h 20 min"."""
    hours, rest = divmod(max(minutes, 0), 60)
    if not hours:
        return t("{minutes} min", minutes=rest)
    return t("{hours} h {minutes} min", hours=hours, minutes=rest) if rest else t("{hours} h", hours=hours)
