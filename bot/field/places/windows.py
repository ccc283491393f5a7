"""Arrival windows: the span a field technician promises to arrive in ("between 8 and 10").

A service with `window_minutes` divides each local day into windows of that length from
the business's opening time that day (open at 7:00: 7–9, 9–11 …; at 8:00: 8–10, 10–12 …);
a job starting at 9:15 is promised the window it starts in.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.core.formatting import format_clock, format_day, format_when
from bot.core.text import t
from storage.models import Appointment, WorkingHours

_SUFFIX = re.compile(r"^(?P<clock>[\d:.]+)\s*(?P<suffix>\D*)$")


def arrival_window(
    start: datetime, window_minutes: int, zone: ZoneInfo, anchor_minute: int = 0
) -> tuple[datetime, datetime]:
    """The window (UTC) a job starting at `start` is promised, on the local wall clock.

    Windows are counted from `anchor_minute` after local midnight (the opening time).
    """
    local = start.astimezone(zone)
    minute = local.hour * 60 + local.minute
    first = anchor_minute + (minute - anchor_minute) // window_minutes * window_minutes
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    opens = (midnight + timedelta(minutes=first)).replace(tzinfo=zone)
    closes = (midnight + timedelta(minutes=first + window_minutes)).replace(tzinfo=zone)
    return opens.astimezone(UTC), closes.astimezone(UTC)


def _clock(moment: datetime, zone: ZoneInfo, locale: str) -> tuple[str, str]:
    text = format_clock(moment.astimezone(zone), locale)
    match = _SUFFIX.match(text)
    if match is None:
        return text, ""
    clock, suffix = match.group("clock"), match.group("suffix").strip()
    if locale.startswith("en") and suffix and clock.endswith(":00"):
        clock = clock[:-3]  # "8 AM", as people say it; a 24-hour "08:00" stays whole
    return clock, suffix


def format_window(start: datetime, end: datetime, zone: ZoneInfo, locale: str) -> str:
    """A promised window as customers read it: "Tue, Dec 8, between 8 and 10 AM"."""
    (first, first_suffix), (last, last_suffix) = (_clock(m, zone, locale) for m in (start, end))
    if first_suffix == last_suffix:
        span = t(
            "between {first} and {last} {suffix}", first=first, last=last, suffix=last_suffix
        ).rstrip()
    else:
        span = t(
            "between {first} {first_suffix} and {last} {last_suffix}",
            first=first,
            first_suffix=first_suffix,
            last=last,
            last_suffix=last_suffix,
        ).rstrip()
    return f"{format_day(start, zone, locale)}, {span}"


def promised(appointment: Appointment, zone: ZoneInfo, locale: str) -> str:
    """When the customer was told to expect us: the arrival window if any, else the start."""
    if appointment.window_start is not None and appointment.window_end is not None:
        return format_window(appointment.window_start, appointment.window_end, zone, locale)
    return format_when(appointment.starts_at, zone, locale)


def opening_minute(session: Session, weekday: int) -> int:
    """When the business opens on a weekday (Monday = 0), in minutes after midnight; 0 if closed."""
    opens = session.scalar(
        select(func.min(WorkingHours.start)).where(
            WorkingHours.staff_id.is_(None),
            WorkingHours.weekday == weekday,
            WorkingHours.is_break.is_(False),
        )
    )
    return opens.hour * 60 + opens.minute if opens is not None else 0


def window_for(
    session: Session, start: datetime, window_minutes: int, zone: ZoneInfo
) -> tuple[datetime, datetime]:
    """The arrival window promised for a job starting at `start`, counted from opening."""
    anchor = opening_minute(session, start.astimezone(zone).weekday())
    return arrival_window(start, window_minutes, zone, anchor)
