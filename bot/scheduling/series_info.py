"""Recurring series as people read them: the pattern in words and the dates still ahead,
for the owner's dashboard and the customer's portal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core.text import N_, _, t
from storage.models import UPCOMING_STATUSES, Appointment, RecurringSeries

_DAY_NAMES = {
    "MO": N_("Monday"),
    "TU": N_("Tuesday"),
    "WE": N_("Wednesday"),
    "TH": N_("Thursday"),
    "FR": N_("Friday"),
    "SA": N_("Saturday"),
    "SU": N_("Sunday"),
}
_UNITS = {"DAILY": N_("day"), "WEEKLY": N_("week"), "MONTHLY": N_("month"), "YEARLY": N_("year")}
_ORDINAL = {1: N_("first"), 2: N_("second"), 3: N_("third"), 4: N_("fourth"), -1: N_("last")}


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
    unit = _UNITS.get(parts.get("FREQ", ""), N_("time"))
    every = _("every") if interval == 1 else _("every other") if interval == 2 else t("every {interval}", interval=interval)
    days = []
    for code in filter(None, parts.get("BYDAY", "").split(",")):
        nth = code[:-2]
        name = _(_DAY_NAMES[code[-2:]]) if code[-2:] in _DAY_NAMES else code
        ordinal = (_(_ORDINAL[int(nth)]) if int(nth) in _ORDINAL else nth) if nth else ""
        days.append(t("{ordinal} {day}", ordinal=ordinal, day=name) if nth else name)
    if unit == "week" and days:
        text = t("{every} {days}", every=every, days=_(" and ").join(days))
    elif unit == "month" and days:
        text = t("the {days} of {every} month", days=_(" and ").join(days), every=every).replace(
            _("of every other"), _("every other")
        )
    else:
        text = t("{every} {unit}", every=every, unit=_(unit)) if interval <= 2 else t("every {interval} {unit}s", interval=interval, unit=_(unit))
    if "COUNT" in parts:
        text += t(", {count} times", count=parts['COUNT'])
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
