"""When the business and each staff member work, in the words a customer reads.

Opening hours per weekday, closures (holidays), a staff member's working days and time off:
the facts behind "are you open on Mondays?", "does Jordan work Fridays?" and behind
explaining a closed day with the nearest open one instead of "isn't free". Read only when
such a question or a closed day comes up, never on every turn.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core.formatting import format_clock
from conversations.nlu.words import DAY_NAMES as DAY_NAMES
from storage.models import Staff, TimeOff, WorkingHours

DAY_SHORT = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

Week = dict[int, list[tuple[time, time]]]


def week(session: Session, staff_id: int | None = None) -> Week:
    """Working spans per weekday (Monday = 0): the business's, or a staff member's within it."""
    rows = session.execute(
        select(WorkingHours.staff_id, WorkingHours.weekday, WorkingHours.start, WorkingHours.end)
        .where(
            WorkingHours.is_break.is_(False),
            WorkingHours.staff_id.is_(None)
            if staff_id is None
            else WorkingHours.staff_id.in_([staff_id]) | WorkingHours.staff_id.is_(None),
        )
        .order_by(WorkingHours.weekday, WorkingHours.start)
    ).all()
    business: Week = {}
    own: Week = {}
    for row in rows:
        (business if row.staff_id is None else own).setdefault(row.weekday, []).append(
            (row.start, row.end)
        )
    if staff_id is None:
        return business
    # A staff member works where their hours meet the opening hours.
    out: Week = {}
    for day, spans in own.items():
        for s, e in spans:
            for bs, be in business.get(day, []):
                lo, hi = max(s, bs), min(e, be)
                if lo < hi:
                    out.setdefault(day, []).append((lo, hi))
    return out


def closure(
    session: Session, day: date, zone: ZoneInfo, staff_id: int | None = None
) -> TimeOff | None:
    """The whole-day closure (or, with `staff_id`, that person's time off) covering `day`.

    Whole-day: it covers all of that day's opening hours. A block of a few hours (the owner's
    "block friday 2-5pm") is not a closure: the times around it are still open.
    """
    spans = week(session, staff_id).get(day.weekday())
    if spans:
        start = datetime.combine(day, min(s for s, _ in spans), zone)
        end = datetime.combine(day, max(e for _, e in spans), zone)
    else:
        start = datetime.combine(day, time(0), zone)
        end = datetime.combine(day + timedelta(days=1), time(0), zone)
    query = select(TimeOff).where(
        TimeOff.resource_id.is_(None), TimeOff.starts_at <= start, TimeOff.ends_at >= end
    )
    query = query.where(
        TimeOff.staff_id.is_(None) if staff_id is None else TimeOff.staff_id == staff_id
    )
    return session.scalars(query.order_by(TimeOff.starts_at).limit(1)).first()


def works_on(
    session: Session,
    day: date,
    zone: ZoneInfo,
    staff_id: int | None = None,
    hours: Week | None = None,
) -> bool:
    """Whether the business (or the staff member) works on that local day at all."""
    spans = (hours if hours is not None else week(session, staff_id)).get(day.weekday())
    if not spans or closure(session, day, zone) is not None:
        return False
    return staff_id is None or closure(session, day, zone, staff_id) is None


def next_open_day(
    session: Session, after: date, zone: ZoneInfo, staff_id: int | None = None, *, limit: int = 21
) -> date | None:
    """The first day after `after` on which the business (or the staff member) works."""
    hours = week(session, staff_id)
    for offset in range(1, limit + 1):
        day = after + timedelta(days=offset)
        if works_on(session, day, zone, staff_id, hours):
            return day
    return None


def spans_text(spans: list[tuple[time, time]], locale: str | None = None) -> str:
    """ "9:00 AM-7:00 PM" in the locale's clock ("9:00-19:00" without one); several spans
    joined by commas."""
    return ", ".join(f"{_clock(s, locale)}-{_clock(e, locale)}" for s, e in spans)


def days_text(hours: Week) -> str:
    """The weekdays worked, compactly: "Tue, Thu-Sun"."""
    days = sorted(hours)
    runs: list[tuple[int, int]] = []
    for day in days:
        if runs and runs[-1][1] == day - 1:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    parts: list[str] = []
    for a, b in runs:
        if a == b:
            parts.append(DAY_SHORT[a])
        elif b == a + 1:
            parts += [DAY_SHORT[a], DAY_SHORT[b]]
        else:
            parts.append(f"{DAY_SHORT[a]}-{DAY_SHORT[b]}")
    return ", ".join(parts)


def closed_weekdays(hours: Week) -> list[int]:
    """Weekdays with no opening hours at all."""
    return [d for d in range(7) if not hours.get(d)]


def staff_working(session: Session, staff: list[Staff], day: date, zone: ZoneInfo) -> list[Staff]:
    """Of `staff`, those who work on `day`."""
    return [s for s in staff if works_on(session, day, zone, s.id)]


def _clock(moment: time, locale: str | None = None) -> str:
    if locale:
        return format_clock(moment, locale)
    return f"{moment.hour}:{moment.minute:02d}"
