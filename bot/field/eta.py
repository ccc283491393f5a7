"""When a staff member on the way will get there: the origin, the drive, the arrival time.

The origin is the staff member's shared location pin (in the message, or one shared in the
last `PIN_FRESH` minutes), else where they were last: the previous job of the day, else
their home base, else the business's own address. The destination is the job's place.
Coordinates and drive times come from `bot.field.places` (the appointment's own coordinates, or
the address through the cached geocoder; a travel time that says whether it is "estimated"
or "routed").

Location pins a staff member shares are kept as admin audit rows (action "location"), so
any worker handling their next message can use them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config.context import BusinessContext
from bot.core.text import N_
from bot.field.places import LatLon, TravelConfig, geocode, travel
from storage.models import CANCELLED, NO_SHOW, AdminAudit, Appointment

PIN_ACTION = "location"
PIN_FRESH = timedelta(minutes=20)
ROUND_TO = 5  # minutes: "about 10:40", not "10:37"


class Origin(StrEnum):
    """Where a drive is measured from."""

    PIN = N_("your location")
    PREVIOUS_JOB = N_("the previous job")
    HOME = N_("home")
    BASE = N_("the shop")


@dataclass(frozen=True)
class Eta:
    """An arrival estimate: when, how long the drive, from where, and how it was worked out."""

    arrive_at: datetime
    minutes: int
    origin: Origin
    source: str  # "estimated" (straight line × road factor) or "routed"


# ------------------------------------------------------------------------------ places


def place_of_address(
    session: Session, address: str | None, settings: TravelConfig
) -> LatLon | None:
    """Coordinates for an address (cached; offline postal-code centroid by default)."""
    if not address:
        return None
    found = geocode(session, address, settings)
    return LatLon(found.lat, found.lon) if found is not None else None


def job_place(session: Session, job: Appointment, business: BusinessContext) -> LatLon | None:
    """Where a job happens: its own coordinates, the customer's address, else the shop."""
    if job.lat is not None and job.lon is not None:
        return LatLon(job.lat, job.lon)
    if job.service.on_site:
        return place_of_address(session, job.customer.address, business.travel)
    return place_of_address(session, business.address, business.travel)


# -------------------------------------------------------------------------------- pins


def keep_pin(
    session: Session, *, identity: str, channel: str, point: LatLon, now: datetime
) -> None:
    """Remember a staff member's shared location."""
    session.add(
        AdminAudit(
            actor=identity,
            role="staff",
            channel=channel,
            action=PIN_ACTION,
            detail={"latitude": point.lat, "longitude": point.lon},
            at=now,
        )
    )


def latest_pin(session: Session, identity: str, now: datetime) -> LatLon | None:
    """The location this person shared in the last `PIN_FRESH`, if any."""
    row = session.scalar(
        select(AdminAudit)
        .where(
            AdminAudit.actor == identity,
            AdminAudit.action == PIN_ACTION,
            AdminAudit.at > now - PIN_FRESH,
            AdminAudit.at <= now,
        )
        .order_by(AdminAudit.at.desc(), AdminAudit.id.desc())
        .limit(1)
    )
    if row is None:
        return None
    return LatLon(float(row.detail["latitude"]), float(row.detail["longitude"]))


# -------------------------------------------------------------------------------- ETAs


def previous_job(session: Session, job: Appointment) -> Appointment | None:
    """The staff member's job before this one on the same day (not cancelled or missed)."""
    return session.scalar(
        select(Appointment)
        .where(
            Appointment.staff_id == job.staff_id,
            Appointment.id != job.id,
            Appointment.starts_at < job.starts_at,
            Appointment.starts_at >= job.starts_at - timedelta(hours=16),
            Appointment.status.not_in((CANCELLED, NO_SHOW)),
        )
        .order_by(Appointment.starts_at.desc())
        .limit(1)
    )


def origin_of(
    session: Session, job: Appointment, pin: LatLon | None, business: BusinessContext
) -> tuple[LatLon, Origin] | None:
    """Where the staff member is setting off from, and how we know."""
    if pin is not None:
        return pin, Origin.PIN
    before = previous_job(session, job)
    if before is not None:
        place = job_place(session, before, business)
        if place is not None:
            return place, Origin.PREVIOUS_JOB
    staff = job.staff
    if staff.home_lat is not None and staff.home_lon is not None:
        return LatLon(staff.home_lat, staff.home_lon), Origin.HOME
    base = place_of_address(session, business.address, business.travel)
    return (base, Origin.BASE) if base is not None else None


def estimate(
    session: Session,
    job: Appointment,
    *,
    now: datetime,
    pin: LatLon | None,
    business: BusinessContext,
) -> Eta | None:
    """When the staff member setting off now reaches the job; None when a place is unknown."""
    destination = job_place(session, job, business)
    origin = origin_of(session, job, pin, business)
    if destination is None or origin is None:
        return None
    drive = travel(origin[0], destination, business.travel)
    arrive = rounded_up(now + timedelta(minutes=drive.minutes))
    return Eta(arrive, drive.minutes, origin[1], str(drive.source))


def rounded_up(moment: datetime) -> datetime:
    """The next whole `ROUND_TO` minutes at or after `moment`."""
    base = moment.replace(second=0, microsecond=0)
    if base < moment:
        base += timedelta(minutes=1)
    return base + timedelta(minutes=(-base.minute) % ROUND_TO)
