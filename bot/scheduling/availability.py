"""The availability engine: which start times are open for a service, and which are best.

Everything is computed in the business's own zone: opening hours, breaks and the slot grid
are local wall-clock times, turned into UTC instants one local day at a time with zoneinfo,
so DST days get the right number of hours (a wall time that does not exist is skipped; one
that happens twice is offered twice). Internally instants are integer epoch seconds: a week
for 25 staff is tens of thousands of interval checks and ints keep that fast.

Rules honoured: working hours ∩ opening hours, breaks, closures and time off, existing
appointments with both buffers, other customers' live holds, minimum notice, maximum days
ahead, the slot grid, per-day limits per staff member, and a resource (room, chair) when the
service needs one.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam, or_, select
from sqlalchemy.orm import Session

from bot.config.context import BusinessContext, business_context
from bot.core.errors import NotFound
from bot.field.places.geo import LatLon
from bot.field.places.slots import TravelCheck
from bot.field.places.windows import arrival_window
from bot.scheduling import fit_memo
from storage.models import (
    CANCELLED,
    Appointment,
    Resource,
    Service,
    SlotHold,
    Staff,
    StaffService,
    TimeOff,
    WorkingHours,
)
from storage.types import epoch_seconds

Interval = tuple[int, int]  # [start, end) in epoch seconds
# The longest block an appointment can have: business.toml caps a duration and each buffer
# at 1,440 minutes. It bounds range scans from below, so they don't read all history.
MAX_BLOCK = timedelta(days=3)
T = TypeVar("T")


@dataclass(frozen=True)
class Slot:
    """An open start time for a service with one staff member (and resource, if needed)."""

    start: datetime
    end: datetime
    staff_id: int
    resource_id: int | None = None
    # Services with arrival windows: the window promised for this start (UTC).
    window_start: datetime | None = None
    window_end: datetime | None = None


@dataclass(frozen=True)
class SlotQuery:
    """What to look for: a service, a window of acceptable start times, and preferences."""

    service_id: int
    start: datetime
    end: datetime
    staff_id: int | None = None  # None: anyone who does the service
    customer_id: int | None = None  # their own holds do not block them
    target: datetime | None = None  # nearest to this first
    ignore_appointment_id: int | None = None  # rescheduling: the old booking does not block
    enforce_rules: bool = True  # owners booking by phone may ignore notice/horizon/limits
    within_horizon: bool = True  # recurring series book beyond the rolling horizon
    # Only starts at these local times of day, as [from, to) minutes after midnight, on
    # every day of the window ("next week after 5").
    daily: tuple[int, int] | None = None
    # Where an on-site visit is: the technician must be able to drive there and on.
    place: LatLon | None = None
    duration_minutes: int | None = None  # an owner's edit: this long, not the service's


@dataclass
class _Calendar:
    """Everything known about the staff and resources over the searched range."""

    service: Service
    ctx: BusinessContext
    staff_ids: list[int]
    days: list[date] = field(default_factory=list)
    day_starts: list[int] = field(default_factory=list)  # epoch of each local midnight
    open: dict[int, _Intervals] = field(default_factory=dict)  # working time minus breaks
    busy: dict[int, _Intervals] = field(default_factory=dict)
    resource_ids: list[int] = field(default_factory=list)
    resource_busy: dict[int, _Intervals] = field(default_factory=dict)
    # (staff_id, index into days) → live appointments that day, for per-day limits.
    day_counts: dict[tuple[int, int], int] = field(default_factory=dict)
    day_limit: dict[int, int | None] = field(default_factory=dict)
    # On-site visits with a place: the drive from the previous job and to the next.
    road: TravelCheck | None = None
    shift_starts: dict[tuple[int, int], int | None] = field(default_factory=dict)
    duration_override: int | None = None  # minutes, when the query asks for its own length

    # Services with arrival windows: the business's opening minute per weekday.
    window_anchors: dict[int, int] = field(default_factory=dict)

    @property
    def minutes(self) -> int:
        """How long the appointment being fitted lasts."""
        return self.duration_override or self.service.duration_minutes

    def day_index(self, seconds: int) -> int:
        """Which of `days` the instant falls on."""
        return bisect_right(self.day_starts, seconds) - 1

    def staff_order(self, day: int) -> list[int]:
        """Staff for a day, least booked first, so "anyone" spreads the work."""
        return sorted(self.staff_ids, key=lambda sid: (self.day_counts.get((sid, day), 0), sid))


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def _from_epoch(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def local_days(start: datetime, end: datetime, zone: ZoneInfo) -> list[date]:
    """The local dates touched by [start, end)."""
    first = start.astimezone(zone).date()
    last = (end - timedelta(microseconds=1)).astimezone(zone).date()
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def local_instant(day: date, wall: time, zone: ZoneInfo) -> list[datetime]:
    """The UTC instants at which the local clock shows `wall` on `day` (0, 1 or 2 of them)."""
    first = datetime.combine(day, wall, tzinfo=zone)
    second = first.replace(fold=1)
    if first.utcoffset() == second.utcoffset():
        return [first.astimezone(UTC)]
    # Offsets differ: either the wall time happened twice (fall back) or never (spring forward).
    naive = datetime.combine(day, wall)
    valid = [
        candidate.astimezone(UTC)
        for candidate in (first, second)
        if candidate.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == naive
    ]
    return sorted(set(valid))


def _day_edge(day: date, wall: time, zone: ZoneInfo) -> int:
    """An interval edge: for a nonexistent wall time, the instant the clock jumps to."""
    return _epoch(datetime.combine(day, wall, tzinfo=zone))


def _merge(intervals: Iterable[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _subtract(base: list[Interval], cuts: list[Interval]) -> list[Interval]:
    result: list[Interval] = []
    for start, end in base:
        pieces = [(start, end)]
        for cut_start, cut_end in cuts:
            next_pieces = []
            for a, b in pieces:
                if cut_end <= a or cut_start >= b:
                    next_pieces.append((a, b))
                    continue
                if a < cut_start:
                    next_pieces.append((a, cut_start))
                if cut_end < b:
                    next_pieces.append((cut_end, b))
            pieces = next_pieces
        result.extend(pieces)
    return result


def _intersect(a: list[Interval], b: list[Interval]) -> list[Interval]:
    out = []
    for a0, a1 in a:
        for b0, b1 in b:
            lo, hi = max(a0, b0), min(a1, b1)
            if lo < hi:
                out.append((lo, hi))
    return sorted(out)


class _Intervals:
    """Sorted, disjoint intervals with O(log n) overlap and containment tests."""

    __slots__ = ("starts", "ends")

    def __init__(self, intervals: Iterable[Interval]) -> None:
        merged = _merge(intervals)
        self.starts = [s for s, _ in merged]
        self.ends = [e for _, e in merged]

    def overlaps(self, start: int, end: int) -> bool:
        """Whether any interval overlaps [start, end)."""
        i = bisect_right(self.ends, start)
        return i < len(self.starts) and self.starts[i] < end

    def contains(self, start: int, end: int) -> bool:
        """Whether one interval covers all of [start, end)."""
        i = bisect_right(self.starts, start) - 1
        return i >= 0 and end <= self.ends[i]


def eligible_staff(
    session: Session, service: Service, staff_id: int | None
) -> dict[int, int | None]:
    """Staff who do the service (or just `staff_id`), with their own per-day limits."""
    stmt = (
        select(Staff.id, Staff.per_day_limit)
        .join(StaffService, StaffService.staff_id == Staff.id)
        .where(StaffService.service_id == service.id, Staff.active.is_(True))
        .order_by(Staff.id)
    )
    if staff_id is not None:
        stmt = stmt.where(Staff.id == staff_id)
    return dict(session.connection().execute(stmt).all())


# The calendar's statements, built once (building them per call was a measurable part of
# a booking turn); every value is a bound parameter.
_TIME_OFF = select(
    TimeOff.staff_id,
    TimeOff.resource_id,
    epoch_seconds(TimeOff.starts_at),
    epoch_seconds(TimeOff.ends_at),
).where(
    TimeOff.starts_at < bindparam("b_hi"),
    TimeOff.ends_at > bindparam("b_lo"),
    or_(TimeOff.staff_id.is_(None), TimeOff.staff_id.in_(bindparam("b_staff_ids", expanding=True))),
)
_APPOINTMENTS = select(
    Appointment.staff_id,
    epoch_seconds(Appointment.block_start),
    epoch_seconds(Appointment.block_end),
    epoch_seconds(Appointment.starts_at),
).where(
    Appointment.staff_id.in_(bindparam("b_staff_ids", expanding=True)),
    Appointment.status != CANCELLED,
    Appointment.block_start < bindparam("b_hi"),
    Appointment.block_start > bindparam("b_lo_block"),
    Appointment.block_end > bindparam("b_lo"),
)
_APPOINTMENTS_BUT = _APPOINTMENTS.where(Appointment.id != bindparam("b_ignore"))
_HOLDS = select(
    SlotHold.staff_id, epoch_seconds(SlotHold.block_start), epoch_seconds(SlotHold.block_end)
).where(
    SlotHold.staff_id.in_(bindparam("b_staff_ids", expanding=True)),
    SlotHold.expires_at > bindparam("b_now"),
    SlotHold.block_start < bindparam("b_hi"),
    SlotHold.block_end > bindparam("b_lo"),
)
_HOLDS_NOT_MINE = _HOLDS.where(SlotHold.customer_id != bindparam("b_customer"))


def _load_calendar(
    session: Session,
    ctx: BusinessContext,
    service: Service,
    query: SlotQuery,
    range_start: int,
    range_end: int,
    now: datetime,
) -> _Calendar:
    zone = ctx.zone
    limits = eligible_staff(session, service, query.staff_id)
    staff_ids = list(limits)
    cal = _Calendar(service=service, ctx=ctx, staff_ids=staff_ids)
    cal.duration_override = query.duration_minutes
    if not staff_ids:
        return cal
    cal.day_limit = {sid: limit or ctx.rules.per_day_limit for sid, limit in limits.items()}
    cal.days = local_days(_from_epoch(range_start), _from_epoch(range_end), zone)
    cal.day_starts = [_day_edge(day, time(0), zone) for day in cal.days]
    # Whole local days, so per-day limits count every appointment of those days.
    lo = _from_epoch(cal.day_starts[0])
    hi = _from_epoch(_day_edge(cal.days[-1] + timedelta(days=1), time(0), zone))

    _load_hours(session, cal)
    busy: dict[int, list[Interval]] = defaultdict(list)
    closures: list[Interval] = []
    connection = session.connection()
    window = {"b_staff_ids": staff_ids, "b_lo": lo, "b_hi": hi}
    for staff_id, resource_id, start, end in connection.execute(_TIME_OFF, window):
        if staff_id is not None:
            busy[staff_id].append((start, end))
        elif resource_id is None:
            closures.append((start, end))

    counts: dict[tuple[int, int], int] = defaultdict(int)
    if query.ignore_appointment_id is None:
        rows = connection.execute(_APPOINTMENTS, {**window, "b_lo_block": lo - MAX_BLOCK})
    else:
        rows = connection.execute(
            _APPOINTMENTS_BUT,
            {**window, "b_lo_block": lo - MAX_BLOCK, "b_ignore": query.ignore_appointment_id},
        )
    for staff_id, block_start, block_end, starts_at in rows.all():
        busy[staff_id].append((block_start, block_end))
        counts[(staff_id, cal.day_index(starts_at))] += 1
    cal.day_counts = counts

    if query.customer_id is None:
        held = connection.execute(_HOLDS, {**window, "b_now": now})
    else:
        held = connection.execute(
            _HOLDS_NOT_MINE, {**window, "b_now": now, "b_customer": query.customer_id}
        )
    for staff_id, start, end in held.all():
        busy[staff_id].append((start, end))

    cal.busy = {sid: _Intervals(busy[sid] + closures) for sid in staff_ids}
    kinds = list(service.resource_kinds or [])
    if kinds:
        cal.resource_ids = list(
            session.scalars(
                select(Resource.id)
                .where(Resource.kind == kinds[0], Resource.active.is_(True))
                .order_by(Resource.id)
            )
        )
        _load_resource_busy(session, cal, query, lo, hi, now, closures)
    if service.on_site and query.place is not None:
        cal.road = TravelCheck(
            session,
            staff_ids,
            lo,
            hi,
            query.place,
            ctx.travel,
            query.ignore_appointment_id,
        )
    return cal


def _drives(cal: _Calendar, staff_id: int, start: int, end: int) -> bool:
    """Whether the technician has time to drive in from their last job and on to the next."""
    assert cal.road is not None
    day = cal.day_index(start)
    bounds = (
        cal.day_starts[day],
        cal.day_starts[day + 1]
        if day + 1 < len(cal.day_starts)
        else _day_edge(cal.days[day] + timedelta(days=1), time(0), cal.ctx.zone),
    )
    if (staff_id, day) not in cal.shift_starts:
        opening = cal.open[staff_id]
        i = bisect_right(opening.ends, bounds[0])
        first = opening.starts[i] if i < len(opening.starts) else None
        cal.shift_starts[(staff_id, day)] = (
            max(first, bounds[0]) if first is not None and first < bounds[1] else None
        )
    return cal.road.fits(staff_id, start, end, bounds, cal.shift_starts[(staff_id, day)])


def _load_hours(session: Session, cal: _Calendar) -> None:
    """Working intervals per staff member: opening hours ∩ their hours, minus breaks."""
    zone = cal.ctx.zone
    hours: dict[int | None, dict[int, list[tuple[time, time, bool]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for row in session.connection().execute(
        select(
            WorkingHours.staff_id,
            WorkingHours.weekday,
            WorkingHours.start,
            WorkingHours.end,
            WorkingHours.is_break,
        ).where(or_(WorkingHours.staff_id.is_(None), WorkingHours.staff_id.in_(cal.staff_ids)))
    ):
        hours[row.staff_id][row.weekday].append((row.start, row.end, row.is_break))
    for weekday, spans in hours[None].items():
        opens = [start for start, _, brk in spans if not brk]
        if opens:
            cal.window_anchors[weekday] = min(opens).hour * 60 + min(opens).minute
    edges: dict[tuple[date, time], int] = {}

    def edge(day: date, wall: time) -> int:
        if (day, wall) not in edges:
            edges[(day, wall)] = _day_edge(day, wall, zone)
        return edges[(day, wall)]

    for sid in cal.staff_ids:
        intervals: list[Interval] = []
        for day in cal.days:
            weekday = day.weekday()
            opening = [(s, e) for s, e, brk in hours[None][weekday] if not brk]
            working = [(s, e) for s, e, brk in hours[sid][weekday] if not brk]
            breaks = [(s, e) for s, e, brk in hours[sid][weekday] + hours[None][weekday] if brk]
            as_epoch = [
                [(edge(day, s), edge(day, e)) for s, e in part]
                for part in (opening, working, breaks)
            ]
            intervals += _subtract(_intersect(as_epoch[0], as_epoch[1]), as_epoch[2])
        cal.open[sid] = _Intervals(intervals)


def _load_resource_busy(
    session: Session,
    cal: _Calendar,
    query: SlotQuery,
    lo: datetime,
    hi: datetime,
    now: datetime,
    closures: list[Interval],
) -> None:
    rids = cal.resource_ids
    busy: dict[int, list[Interval]] = defaultdict(list)
    appointments = select(
        Appointment.resource_id,
        epoch_seconds(Appointment.block_start),
        epoch_seconds(Appointment.block_end),
    ).where(
        Appointment.resource_id.in_(rids),
        Appointment.status != CANCELLED,
        Appointment.block_start < hi,
        Appointment.block_start > lo - MAX_BLOCK,
        Appointment.block_end > lo,
    )
    if query.ignore_appointment_id is not None:
        appointments = appointments.where(Appointment.id != query.ignore_appointment_id)
    holds = select(
        SlotHold.resource_id,
        epoch_seconds(SlotHold.block_start),
        epoch_seconds(SlotHold.block_end),
    ).where(
        SlotHold.resource_id.in_(rids),
        SlotHold.expires_at > now,
        SlotHold.block_start < hi,
        SlotHold.block_end > lo,
    )
    if query.customer_id is not None:
        holds = holds.where(SlotHold.customer_id != query.customer_id)
    off = select(
        TimeOff.resource_id, epoch_seconds(TimeOff.starts_at), epoch_seconds(TimeOff.ends_at)
    ).where(and_(TimeOff.resource_id.in_(rids), TimeOff.starts_at < hi, TimeOff.ends_at > lo))
    for stmt in (appointments, holds, off):
        for rid, start, end in session.connection().execute(stmt).all():
            busy[rid].append((start, end))
    cal.resource_busy = {rid: _Intervals(busy[rid] + closures) for rid in rids}


def _minute_of_day(seconds: int, zone: ZoneInfo) -> int:
    local = _from_epoch(seconds).astimezone(zone)
    return local.hour * 60 + local.minute


def _grid_by_day(
    cal: _Calendar, range_start: int, range_end: int, daily: tuple[int, int] | None = None
) -> dict[int, list[int]]:
    """Grid start times (local wall clock, aligned to midnight) in the range, per day index."""
    zone = cal.ctx.zone
    step = cal.ctx.rules.slot_interval_minutes
    walls = [time(minute // 60, minute % 60) for minute in range(0, 24 * 60, step)]
    grid: dict[int, list[int]] = {}
    for index, day in enumerate(cal.days):
        midnight = cal.day_starts[index]
        next_midnight = _day_edge(day + timedelta(days=1), time(0), zone)
        if next_midnight - midnight == 86_400:
            # No clock change today: wall time is midnight plus elapsed time.
            starts = {midnight + step * 60 * i for i in range(len(walls))}
        else:
            starts = {_epoch(i) for wall in walls for i in local_instant(day, wall, zone)}
        inside = sorted(s for s in starts if range_start <= s < range_end)
        if daily is not None:
            inside = [s for s in inside if daily[0] <= _minute_of_day(s, zone) < daily[1]]
        if inside:
            grid[index] = inside
    return grid


def _search_range(ctx: BusinessContext, query: SlotQuery, now: datetime) -> tuple[int, int]:
    start, end = _epoch(query.start), _epoch(query.end)
    if query.enforce_rules:
        start = max(start, _epoch(now) + ctx.rules.minimum_notice_minutes * 60)
        if query.within_horizon:
            end = min(end, _epoch(now + timedelta(days=ctx.rules.maximum_days_ahead)))
    else:
        start = max(start, _epoch(now))
    return start, end


def _fits(
    cal: _Calendar, staff_id: int, start: int, enforce_limits: bool
) -> tuple[bool, int | None]:
    """Whether `staff_id` can take the service at `start`, and which resource it would use."""
    service = cal.service
    end = start + cal.minutes * 60
    if not cal.open[staff_id].contains(start, end):
        return False, None
    block = (start - service.buffer_before_minutes * 60, end + service.buffer_after_minutes * 60)
    if cal.busy[staff_id].overlaps(*block):
        return False, None
    if enforce_limits:
        limit = cal.day_limit.get(staff_id)
        if limit is not None and cal.day_counts.get((staff_id, cal.day_index(start)), 0) >= limit:
            return False, None
    if cal.road is not None and not _drives(cal, staff_id, start, end):
        return False, None
    if not service.resource_kinds:
        return True, None
    for rid in cal.resource_ids:
        if not cal.resource_busy[rid].overlaps(*block):
            return True, rid
    return False, None


def _first_fit(cal: _Calendar, start: int, order: list[int], enforce: bool) -> Slot | None:
    """The slot at `start` with the first staff member in `order` who can take it."""
    for sid in order:
        ok, resource = _fits(cal, sid, start, enforce)
        if ok:
            duration = cal.minutes * 60
            return _with_window(
                cal, Slot(_from_epoch(start), _from_epoch(start + duration), sid, resource)
            )
    return None


def _with_window(cal: _Calendar, slot: Slot) -> Slot:
    """The slot with the arrival window its start is promised, for services that have one."""
    minutes = cal.service.window_minutes
    if not minutes:
        return slot
    opens, closes = arrival_window(slot.start, minutes, cal.ctx.zone, _anchor(cal, slot.start))
    return replace(slot, window_start=opens, window_end=closes)


def _anchor(cal: _Calendar, moment: datetime) -> int:
    """Where a day's arrival windows start: the business's opening time that weekday."""
    return cal.window_anchors.get(moment.astimezone(cal.ctx.zone).weekday(), 0)


def _windows_by_day(
    cal: _Calendar, grid: dict[int, list[int]]
) -> tuple[dict[int, list[int]], dict[int, list[int]]]:
    """Arrival windows instead of exact starts: window openings per day, and the grid
    starts inside each window (the first that fits is booked; the window is promised)."""
    minutes = cal.service.window_minutes
    assert minutes
    windows: dict[int, list[int]] = {}
    inside: dict[int, list[int]] = defaultdict(list)
    for day, starts in grid.items():
        for start in starts:
            moment = _from_epoch(start)
            opens = _epoch(arrival_window(moment, minutes, cal.ctx.zone, _anchor(cal, moment))[0])
            if opens not in inside:
                windows.setdefault(day, []).append(opens)
            inside[opens].append(start)
    return windows, inside


def _first_in_window(
    cal: _Calendar, starts: list[int], order: list[int], enforce: bool
) -> Slot | None:
    """The earliest start inside a window that someone can take."""
    for start in starts:
        slot = _first_fit(cal, start, order, enforce)
        if slot is not None:
            return slot
    return None


def _prepare_query(
    session: Session, query: SlotQuery, now: datetime
) -> tuple[_Calendar, dict[int, list[int]]] | None:
    """Load the calendar and grid for a query; None when nothing can be open."""
    ctx = business_context(session)
    service = session.get(Service, query.service_id)
    if service is None or not service.active:
        raise NotFound(f"no service with id {query.service_id}")
    range_start, range_end = _search_range(ctx, query, now)
    if range_start >= range_end:
        return None
    cal = _load_calendar(session, ctx, service, query, range_start, range_end, now)
    if not cal.staff_ids:
        return None
    return cal, _grid_by_day(cal, range_start, range_end, query.daily)


def open_slots(session: Session, query: SlotQuery, *, now: datetime) -> list[Slot]:
    """Every open start time in the query's window, chronological, one staff member each.

    When several staff members are free at the same time ("anyone"), the one with the fewest
    appointments that day gets it, so work spreads evenly.
    """
    prepared = _prepare_query(session, query, now)
    if prepared is None:
        return []
    cal, grid = prepared
    slots = []
    if cal.service.window_minutes:
        windows, inside = _windows_by_day(cal, grid)
        for day, openings in windows.items():
            order = cal.staff_order(day)
            for opens in openings:
                slot = _first_in_window(cal, inside[opens], order, query.enforce_rules)
                if slot is not None:
                    slots.append(slot)
        return slots
    for day, starts in grid.items():
        order = cal.staff_order(day)
        for start in starts:
            slot = _first_fit(cal, start, order, query.enforce_rules)
            if slot is not None:
                slots.append(slot)
    return slots


def slot_fits(
    session: Session,
    query: SlotQuery,
    staff_id: int,
    *,
    now: datetime,
) -> Slot | None:
    """Whether exactly `query.start` is open for `staff_id`; the slot (with resource) if so.

    Unlike `open_slots` this does not require the start to lie on the grid, so an owner can
    book 10:10 by hand; customers only ever pick from offered, on-grid slots.
    """
    ctx = business_context(session)
    service = session.get(Service, query.service_id)
    if service is None:
        raise NotFound(f"no service with id {query.service_id}")
    start = _epoch(query.start)
    range_start, range_end = _search_range(ctx, query, now)
    if not range_start <= start < range_end:
        return None
    # Asked again in the same transaction (read the request, then hold it): see fit_memo.
    key = (
        "slot_fits",
        service.id,
        start,
        staff_id,
        query.customer_id,
        query.ignore_appointment_id,
        query.enforce_rules,
        query.place,
        query.duration_minutes,
        now,
    )
    kept = fit_memo.recall(session, key)
    if kept is not fit_memo.MISSING:
        return kept  # type: ignore[no-any-return]
    single = replace(query, staff_id=staff_id)
    cal = _load_calendar(session, ctx, service, single, start, start + 1, now)
    fit = (
        _first_fit(cal, start, [staff_id], query.enforce_rules)
        if staff_id in cal.staff_ids
        else None
    )
    fit_memo.keep(session, key, fit)
    return fit


def _ranked(
    grid: dict[int, list[int]],
    days: list[date],
    zone: ZoneInfo,
    target: datetime | None,
    limit: int,
    pick: Callable[[int, int], T | None],
) -> list[T]:
    """The first `limit` candidates, in ranking order, that `pick(day, start)` accepts.

    One day: nearest the target first (chronological without one). Several days: days take
    turns — nearest day first — each offering its start nearest the asked time of day, so
    "next week" offers Monday 10:00, Tuesday 10:00 … rather than six Mondays. Candidates
    are tried lazily, so ten good slots cost ten-odd checks, not a week's worth.
    """
    if not grid:
        return []
    target_epoch = _epoch(target) if target else None
    if len(grid) == 1:
        [(day, starts)] = grid.items()
        if target_epoch is None:
            return _spread(day, starts, limit, pick)
        ordered = sorted(starts, key=lambda s: (abs(s - target_epoch), s))
        return _take(((day, s) for s in ordered), limit, pick)
    anchor = (target or _from_epoch(min(min(v) for v in grid.values()))).astimezone(zone)
    asked = anchor.hour * 60 + anchor.minute

    def time_of_day_distance(seconds: int) -> tuple[int, int]:
        local = _from_epoch(seconds).astimezone(zone)
        return (abs(local.hour * 60 + local.minute - asked), seconds)

    order = sorted(grid, key=lambda d: (abs((days[d] - anchor.date()).days), days[d]))
    queues = {
        d: iter(sorted(grid[d], key=time_of_day_distance) if target else grid[d]) for d in order
    }
    picked: list[T] = []
    while queues and len(picked) < limit:
        for day in list(queues):
            found = _take(((day, s) for s in queues[day]), 1, pick)
            if not found:
                del queues[day]
                continue
            picked.append(found[0])
            if len(picked) == limit:
                break
    return picked


def _spread(
    day: int, starts: list[int], limit: int, pick: Callable[[int, int], T | None]
) -> list[T]:
    """`limit` free starts spread over the day, not its first hour: "Saturday" offers the
    morning, midday and afternoon. From the first free start to the last, the span is cut
    into `limit` equal parts and each gives its first free start; parts with none leave
    room for more from the others (a busy day still offers `limit` when it has them)."""
    if limit <= 0:
        return []
    seen: dict[int, T | None] = {}

    def free(start: int) -> T | None:
        if start not in seen:
            seen[start] = pick(day, start)
        return seen[start]

    first = next((i for i, start in enumerate(starts) if free(start) is not None), None)
    if first is None:
        return []
    last = next(i for i in range(len(starts) - 1, first - 1, -1) if free(starts[i]) is not None)
    span = starts[first : last + 1]
    cuts = [round(k * len(span) / limit) for k in range(limit + 1)]  # `limit` even parts
    taken: list[int] = []
    for low, high in zip(cuts, cuts[1:], strict=False):
        found = next((start for start in span[low:high] if free(start) is not None), None)
        if found is not None:
            taken.append(found)
    for start in span:  # a busy day: the rest in order, from what is left
        if len(taken) >= limit:
            break
        if start not in taken and free(start) is not None:
            taken.append(start)
    return [item for start in sorted(taken) if (item := free(start)) is not None]


def _take(
    candidates: Iterable[tuple[int, int]], limit: int, pick: Callable[[int, int], T | None]
) -> list[T]:
    taken: list[T] = []
    for day, start in candidates:
        item = pick(day, start)
        if item is not None:
            taken.append(item)
            if len(taken) == limit:
                break
    return taken


def rank_slots(
    slots: Sequence[Slot], zone: ZoneInfo, *, target: datetime | None, limit: int
) -> list[Slot]:
    """Rank already-found slots the way `best_slots` does (see `_ranked`)."""
    if not slots:
        return []
    days = local_days(
        min(s.start for s in slots), max(s.start for s in slots) + timedelta(seconds=1), zone
    )
    index = {day: i for i, day in enumerate(days)}
    by_start = {_epoch(s.start): s for s in slots}
    grid: dict[int, list[int]] = defaultdict(list)
    for seconds in sorted(by_start):
        grid[index[_from_epoch(seconds).astimezone(zone).date()]].append(seconds)
    return _ranked(grid, days, zone, target, limit, lambda _day, start: by_start[start])


def best_slots(session: Session, query: SlotQuery, *, now: datetime, limit: int = 5) -> list[Slot]:
    """The best `limit` open slots for what was asked (see `_ranked`)."""
    prepared = _prepare_query(session, query, now)
    if prepared is None:
        return []
    cal, grid = prepared
    orders: dict[int, list[int]] = {}
    inside: dict[int, list[int]] = {}
    if cal.service.window_minutes:
        grid, inside = _windows_by_day(cal, grid)

    def pick(day: int, start: int) -> Slot | None:
        if day not in orders:
            orders[day] = cal.staff_order(day)
        if inside:
            return _first_in_window(cal, inside[start], orders[day], query.enforce_rules)
        return _first_fit(cal, start, orders[day], query.enforce_rules)

    return _ranked(grid, cal.days, cal.ctx.zone, query.target, limit, pick)


def nearest_slots(
    session: Session, query: SlotQuery, *, now: datetime, limit: int = 3, days: int = 14
) -> list[Slot]:
    """Open slots nearest the query's target (or start), looking `days` either side.

    For "that one was just taken" and "nothing fits that window": offer what is closest.
    """
    target = query.target or query.start
    wide = SlotQuery(
        **{
            **query.__dict__,
            "start": max(now, target - timedelta(days=days)),
            "end": target + timedelta(days=days),
        }
    )
    slots = open_slots(session, wide, now=now)
    return sorted(slots, key=lambda s: (abs((s.start - target).total_seconds()), s.start))[:limit]
