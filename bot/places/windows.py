"""Arrival windows: the span a field technician promises to arrive in ("between 8 and 10").

A service with `window_minutes` divides each local day into windows of that length from
midnight (8:00–10:00, 10:00–12:00 …); a job starting at 9:15 is promised the 8–10 window.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_time

from bot.formatting import format_day, plain

_SUFFIX = re.compile(r"^(?P<clock>[\d:.]+)\s*(?P<suffix>\D*)$")


def arrival_window(
    start: datetime, window_minutes: int, zone: ZoneInfo
) -> tuple[datetime, datetime]:
    """The window (UTC) a job starting at `start` is promised, on the local wall clock."""
    local = start.astimezone(zone)
    minute = local.hour * 60 + local.minute
    first = minute // window_minutes * window_minutes
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    opens = (midnight + timedelta(minutes=first)).replace(tzinfo=zone)
    closes = (midnight + timedelta(minutes=first + window_minutes)).replace(tzinfo=zone)
    return opens.astimezone(UTC), closes.astimezone(UTC)


def _clock(moment: datetime, zone: ZoneInfo, locale: str) -> tuple[str, str]:
    text = plain(format_time(moment.astimezone(zone), "short", locale=locale))
    match = _SUFFIX.match(text)
    if match is None:
        return text, ""
    clock = match.group("clock")
    if locale.startswith("en") and clock.endswith(":00"):
        clock = clock[:-3]
    return clock, match.group("suffix").strip()


def format_window(start: datetime, end: datetime, zone: ZoneInfo, locale: str) -> str:
    """A promised window as customers read it: "Tue, Dec 8, between 8 and 10 AM"."""
    (first, first_suffix), (last, last_suffix) = (_clock(m, zone, locale) for m in (start, end))
    if first_suffix == last_suffix:
        span = f"between {first} and {last} {last_suffix}".rstrip()
    else:
        span = f"between {first} {first_suffix} and {last} {last_suffix}".rstrip()
    return f"{format_day(start, zone, locale)}, {span}"
