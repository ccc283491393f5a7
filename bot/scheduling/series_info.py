"""Recurring series as people read them: the pattern in words and the dates still ahead,
for the owner's dashboard and the customer's portal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import UPCOMING_STATUSES, Appointment, RecurringSeries

_DAY_NAMES = {
    "MO": "Monday",
    "TU": "Tuesday",
    "WE": "Wednesday",
    "TH": "Thursday",
    "FR": "Friday",
    "SA": "Saturday",
    "SU": "Sunday",
}
_UNITS = {"DAILY": "day", "WEEKLY": "week", "MONTHLY": "month", "YEARLY": "year"}
_ORDINAL = {1: "first", 2: "second", 3: "third", 4: "fourth", -1: "last"}


@dataclass(frozen=True)
class SeriesInfo:
    """One series: who, what, with whom, how often, and the occurrences still ahead."""

    id: int
    customer_id: int
    customer_name: str
    service: str
    staff: str
    pattern: str
    ahead: list[Appointment]
    active: bool


def describe_rule(rule: str) -> str:
    """ "FREQ=WEEKLY;INTERVAL=2;BYDAY=FR" → "every other Friday"."""
    parts = dict(p.split("=", 1) for p in rule.split(";") if "=" in p)
    interval = int(parts.get("INTERVAL", "1"))
    unit = _UNITS.get(parts.get("FREQ", ""), "time")
    every = "every" if interval == 1 else "every other" if interval == 2 else f"every {interval}"
    days = []
    for code in filter(None, parts.get("BYDAY", "").split(",")):
        nth = code[:-2]
        name = _DAY_NAMES.get(code[-2:], code)
        days.append(f"{_ORDINAL.get(int(nth), nth)} {name}" if nth else name)
    if unit == "week" and days:
        text = f"{every} {' and '.join(days)}"
    elif unit == "month" and days:
        text = f"the {' and '.join(days)} of {every} month".replace("of every other", "every other")
    else:
        text = f"{every} {unit}" if interval <= 2 else f"every {interval} {unit}s"
    if "COUNT" in parts:
        text += f", {parts['COUNT']} times"
    return text


def series_for(
    session: Session, now: datetime, *, customer_id: int | None = None
) -> list[SeriesInfo]:
    """Series with occurrences still ahead (of one customer, or everyone), soonest first."""
    query = select(RecurringSeries)
    if customer_id is not None:
        query = query.where(RecurringSeries.customer_id == customer_id)
    found = []
    for series in session.scalars(query.order_by(RecurringSeries.id)):
        ahead = list(
            session.scalars(
                select(Appointment)
                .where(
                    Appointment.series_id == series.id,
                    Appointment.status.in_(UPCOMING_STATUSES),
                    Appointment.ends_at > now,
                )
                .order_by(Appointment.starts_at)
            )
        )
        if not ahead:
            continue
        first = ahead[0]
        found.append(
            SeriesInfo(
                id=series.id,
                customer_id=series.customer_id,
                customer_name=first.customer.name or "",
                service=first.service.name,
                staff=first.staff.name,
                pattern=describe_rule(series.rule),
                ahead=ahead,
                active=series.active,
            )
        )
    return sorted(found, key=lambda s: s.ahead[0].starts_at)
