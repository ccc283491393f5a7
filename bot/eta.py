"""When a staff member on the way will get there: the origin, the drive, the arrival time.

The origin is the staff member's shared location pin (in the message, or one shared in the
last `PIN_FRESH` minutes), else where they were last: the previous job of the day at a
customer's address, else the business's own address. The destination is the job's address.
Places and drive times come from `bot.places` (coordinates from the pin or a geocoder, a
travel time that says whether it is "estimated" or "routed").

Location pins a staff member shares are kept as admin audit rows (action "location"), so
any worker handling their next message can use them.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import zipcodes
from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import CANCELLED, NO_SHOW, AdminAudit, Appointment

PIN_ACTION = "location"
PIN_FRESH = timedelta(minutes=20)
ROUND_TO = 5  # minutes: "about 10:40", not "10:37"
_ZIP = re.compile(r"\b(\d{5})(?:-\d{4})?\b")


class Origin(StrEnum):
    """Where a drive is measured from."""

    PIN = "your location"
    PREVIOUS_JOB = "the previous job"
    BASE = "the shop"


@dataclass(frozen=True)
class Point:
    """A place on the map."""

    latitude: float
    longitude: float


@dataclass(frozen=True)
class Eta:
    """An arrival estimate: when, how long the drive, from where, and how it was worked out."""

    arrive_at: datetime
    minutes: int
    origin: Origin
    source: str  # "estimated" (straight line × road factor) or "routed"


# ------------------------------------------------------------------------------ places


def geocode(address: str | None, settings: dict[str, Any]) -> Point | None:
    """Coordinates for an address: the postal code's centroid (offline, a few km)."""
    if not address:
        return None
    found = _ZIP.findall(address)
    if not found:
        return None
    try:
        matches = zipcodes.matching(found[-1])
    except (TypeError, ValueError):
        return None
    if not matches:
        return None
    return Point(float(matches[0]["lat"]), float(matches[0]["long"]))


def travel_minutes(a: Point, b: Point, settings: dict[str, Any]) -> tuple[int, str]:
    """Drive time from a to b and its source: straight line × road factor at an average speed."""
    road = dict(settings.get("travel") or {})
    factor = float(road.get("road_factor", 1.3))
    speed = float(road.get("average_kmh", 30))
    km = _haversine_km(a, b) * factor
    return max(1, math.ceil(km / speed * 60)), "estimated"


def _haversine_km(a: Point, b: Point) -> float:
    lat1, lat2 = math.radians(a.latitude), math.radians(b.latitude)
    dlat = lat2 - lat1
    dlon = math.radians(b.longitude - a.longitude)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


# -------------------------------------------------------------------------------- pins


def keep_pin(session: Session, *, identity: str, channel: str, point: Point, now: datetime) -> None:
    """Remember a staff member's shared location."""
    session.add(
        AdminAudit(
            actor=identity,
            role="staff",
            channel=channel,
            action=PIN_ACTION,
            detail={"latitude": point.latitude, "longitude": point.longitude},
            at=now,
        )
    )


def latest_pin(session: Session, identity: str, now: datetime) -> Point | None:
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
    return Point(float(row.detail["latitude"]), float(row.detail["longitude"]))


# -------------------------------------------------------------------------------- ETAs


def job_place(job: Appointment, settings: dict[str, Any]) -> Point | None:
    """Where a job happens: the customer's address for on-site work, else the shop."""
    if job.service.on_site:
        return geocode(job.customer.address, settings)
    return geocode(settings.get("address"), settings)


def previous_job(session: Session, job: Appointment) -> Appointment | None:
    """The staff member's job before this one on the same day (not cancelled or missed)."""
    day_start = job.starts_at - timedelta(hours=16)
    return session.scalar(
        select(Appointment)
        .where(
            Appointment.staff_id == job.staff_id,
            Appointment.id != job.id,
            Appointment.starts_at < job.starts_at,
            Appointment.starts_at >= day_start,
            Appointment.status.not_in((CANCELLED, NO_SHOW)),
        )
        .order_by(Appointment.starts_at.desc())
        .limit(1)
    )


def origin_of(
    session: Session, job: Appointment, pin: Point | None, settings: dict[str, Any]
) -> tuple[Point, Origin] | None:
    """Where the staff member is setting off from, and how we know."""
    if pin is not None:
        return pin, Origin.PIN
    before = previous_job(session, job)
    if before is not None:
        place = job_place(before, settings)
        if place is not None:
            return place, Origin.PREVIOUS_JOB
    base = geocode(settings.get("address"), settings)
    return (base, Origin.BASE) if base is not None else None


def estimate(
    session: Session,
    job: Appointment,
    *,
    now: datetime,
    pin: Point | None,
    settings: dict[str, Any],
) -> Eta | None:
    """When the staff member setting off now reaches the job; None when a place is unknown."""
    destination = job_place(job, settings)
    origin = origin_of(session, job, pin, settings)
    if destination is None or origin is None:
        return None
    minutes, source = travel_minutes(origin[0], destination, settings)
    return Eta(rounded_up(now + timedelta(minutes=minutes)), minutes, origin[1], source)


def rounded_up(moment: datetime) -> datetime:
    """The next whole `ROUND_TO` minutes at or after `moment`."""
    base = moment.replace(second=0, microsecond=0)
    if base < moment:
        base += timedelta(minutes=1)
    extra = (-base.minute) % ROUND_TO
    return base + timedelta(minutes=extra)
