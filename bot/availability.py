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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from bot.config import BookingRules, rules_from_settings
from bot.errors import NotFound
from storage.models import (
    CANCELLED,
    Appointment,
    Business,
    Resource,
    Service,
    SlotHold,
    Staff,
    StaffService,
    TimeOff,
    WorkingHours,
)

Interval = tuple[int, int]  # [start, end) in epoch seconds


@dataclass(frozen=True)
class Slot:
    """An open start time for a service with one staff member (and resource, if needed)."""

    start: datetime
    end: datetime
    staff_id: int
    resource_id: int | None = None


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


@dataclass
class BusinessContext:
    """The business facts availability needs, read once per query."""

    zone: ZoneInfo
    rules: BookingRules
    currency: str

    @classmethod
    def load(cls, session: Session) -> BusinessContext:
        """Read the business row written by the last config load."""
        business = session.get(Business, 1)
        if business is None:
            raise NotFound("no business configured: run `slotbot db upgrade` and load a config")
        return cls(
            zone=ZoneInfo(business.timezone),
            rules=rules_from_settings(business.settings),
            currency=business.currency,
        )


@dataclass
class _Calendar:
    """Everything known about the staff and resources over the searched range."""

    service: Service
    ctx: BusinessContext
    staff_ids: list[int]
    # Open working intervals per staff, chronological, already minus breaks.
    open: dict[int, list[Interval]] = field(default_factory=dict)
    busy: dict[int, list[Interval]] = field(default_factory=dict)
    resource_busy: dict[int, list[Interval]] = field(default_factory=dict)
    resource_ids: list[int] = field(default_factory=list)
    busy_index: dict[int, _Busy] = field(default_factory=dict)
    resource_index: dict[int, _Busy] = field(default_factory=dict)
    # (staff_id, local date) → live appointments that day, for per-day limits.
    day_counts: dict[tuple[int, date], int] = field(default_factory=dict)
    day_limit: dict[int, int | None] = field(default_factory=dict)


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


class _Busy:
    """A sorted, disjoint list of busy intervals with an O(log n) overlap test."""

    __slots__ = ("starts", "ends")

    def __init__(self, intervals: list[Interval]) -> None:
        merged = _merge(intervals)
        self.starts = [s for s, _ in merged]
        self.ends = [e for _, e in merged]

    def overlaps(self, start: int, end: int) -> bool:
        i = bisect_right(self.ends, start)
        return i < len(self.starts) and self.starts[i] < end


def _eligible_staff(session: Session, service: Service, staff_id: int | None) -> list[int]:
    stmt = (
        select(Staff.id)
        .join(StaffService, StaffService.staff_id == Staff.id)
        .where(StaffService.service_id == service.id, Staff.active.is_(True))
        .order_by(Staff.id)
    )
    if staff_id is not None:
        stmt = stmt.where(Staff.id == staff_id)
    return list(session.scalars(stmt))


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
    staff_ids = _eligible_staff(session, service, query.staff_id)
    cal = _Calendar(service=service, ctx=ctx, staff_ids=staff_ids)
    if not staff_ids:
        return cal
    days = local_days(_from_epoch(range_start), _from_epoch(range_end), zone)
    # Whole local days, so per-day limits count every appointment of those days.
    lo = _from_epoch(_day_edge(days[0], time(0), zone))
    hi = _from_epoch(_day_edge(days[-1] + timedelta(days=1), time(0), zone))

    hours: dict[int | None, dict[int, list[tuple[time, time, bool]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for row in session.execute(
        select(
            WorkingHours.staff_id,
            WorkingHours.weekday,
            WorkingHours.start,
            WorkingHours.end,
            WorkingHours.is_break,
        ).where(or_(WorkingHours.staff_id.is_(None), WorkingHours.staff_id.in_(staff_ids)))
    ):
        hours[row.staff_id][row.weekday].append((row.start, row.end, row.is_break))

    staff_rows = session.execute(
        select(Staff.id, Staff.per_day_limit).where(Staff.id.in_(staff_ids))
    ).all()
    for row in staff_rows:
        cal.day_limit[row.id] = row.per_day_limit or ctx.rules.per_day_limit

    for sid in staff_ids:
        intervals: list[Interval] = []
        for day in days:
            weekday = day.weekday()
            opening = [(s, e) for s, e, brk in hours[None][weekday] if not brk]
            working = [(s, e) for s, e, brk in hours[sid][weekday] if not brk]
            breaks = [(s, e) for s, e, brk in hours[sid][weekday] + hours[None][weekday] if brk]
            as_epoch = [
                [(_day_edge(day, s, zone), _day_edge(day, e, zone)) for s, e in part]
                for part in (opening, working, breaks)
            ]
            intervals += _subtract(_intersect(as_epoch[0], as_epoch[1]), as_epoch[2])
        cal.open[sid] = intervals

    busy: dict[int, list[Interval]] = defaultdict(list)
    closures: list[Interval] = []
    for row in session.execute(
        select(TimeOff.staff_id, TimeOff.resource_id, TimeOff.starts_at, TimeOff.ends_at).where(
            TimeOff.starts_at < hi,
            TimeOff.ends_at > lo,
            or_(TimeOff.staff_id.is_(None), TimeOff.staff_id.in_(staff_ids)),
        )
    ):
        interval = (_epoch(row.starts_at), _epoch(row.ends_at))
        if row.staff_id is not None:
            busy[row.staff_id].append(interval)
        elif row.resource_id is None:
            closures.append(interval)

    appointments = select(
        Appointment.staff_id, Appointment.block_start, Appointment.block_end, Appointment.starts_at
    ).where(
        Appointment.staff_id.in_(staff_ids),
        Appointment.status != CANCELLED,
        Appointment.block_start < hi,
        Appointment.block_end > lo,
    )
    if query.ignore_appointment_id is not None:
        appointments = appointments.where(Appointment.id != query.ignore_appointment_id)
    counts: dict[tuple[int, date], int] = defaultdict(int)
    for row in session.execute(appointments):
        busy[row.staff_id].append((_epoch(row.block_start), _epoch(row.block_end)))
        counts[(row.staff_id, row.starts_at.astimezone(zone).date())] += 1
    cal.day_counts = counts

    holds = select(SlotHold.staff_id, SlotHold.block_start, SlotHold.block_end).where(
        SlotHold.staff_id.in_(staff_ids),
        SlotHold.expires_at > now,
        SlotHold.block_start < hi,
        SlotHold.block_end > lo,
    )
    if query.customer_id is not None:
        holds = holds.where(SlotHold.customer_id != query.customer_id)
    for row in session.execute(holds):
        busy[row.staff_id].append((_epoch(row.block_start), _epoch(row.block_end)))

    for sid in staff_ids:
        cal.busy[sid] = busy[sid] + closures

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
    return cal


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
        Appointment.resource_id, Appointment.block_start, Appointment.block_end
    ).where(
        Appointment.resource_id.in_(rids),
        Appointment.status != CANCELLED,
        Appointment.block_start < hi,
        Appointment.block_end > lo,
    )
    if query.ignore_appointment_id is not None:
        appointments = appointments.where(Appointment.id != query.ignore_appointment_id)
    holds = select(SlotHold.resource_id, SlotHold.block_start, SlotHold.block_end).where(
        SlotHold.resource_id.in_(rids),
        SlotHold.expires_at > now,
        SlotHold.block_start < hi,
        SlotHold.block_end > lo,
    )
    if query.customer_id is not None:
        holds = holds.where(SlotHold.customer_id != query.customer_id)
    off = select(TimeOff.resource_id, TimeOff.starts_at, TimeOff.ends_at).where(
        and_(TimeOff.resource_id.in_(rids), TimeOff.starts_at < hi, TimeOff.ends_at > lo)
    )
    for stmt in (appointments, holds, off):
        for rid, start, end in session.execute(stmt):
            busy[rid].append((_epoch(start), _epoch(end)))
    for rid in rids:
        cal.resource_busy[rid] = busy[rid] + closures


def _grid_starts(cal: _Calendar, range_start: int, range_end: int) -> list[int]:
    """Every grid start time (local wall clock, aligned to midnight) inside the range."""
    zone = cal.ctx.zone
    step = cal.ctx.rules.slot_interval_minutes
    starts: set[int] = set()
    for day in local_days(_from_epoch(range_start), _from_epoch(range_end), zone):
        for minute in range(0, 24 * 60, step):
            wall = time(minute // 60, minute % 60)
            for instant in local_instant(day, wall, zone):
                seconds = _epoch(instant)
                if range_start <= seconds < range_end:
                    starts.add(seconds)
    return sorted(starts)


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
    end = start + service.duration_minutes * 60
    if not any(a <= start and end <= b for a, b in cal.open[staff_id]):
        return False, None
    block = (start - service.buffer_before_minutes * 60, end + service.buffer_after_minutes * 60)
    if cal.busy_index[staff_id].overlaps(*block):
        return False, None
    if enforce_limits:
        limit = cal.day_limit.get(staff_id)
        if limit is not None:
            day = _from_epoch(start).astimezone(cal.ctx.zone).date()
            if cal.day_counts.get((staff_id, day), 0) >= limit:
                return False, None
    if not cal.service.resource_kinds:
        return True, None
    for rid in cal.resource_ids:
        if not cal.resource_index[rid].overlaps(*block):
            return True, rid
    return False, None


def _prepare(cal: _Calendar) -> None:
    # Sort and merge the raw interval lists once per query so each check is a bisect.
    cal.busy_index = {sid: _Busy(v) for sid, v in cal.busy.items()}
    cal.resource_index = {rid: _Busy(v) for rid, v in cal.resource_busy.items()}


def open_slots(session: Session, query: SlotQuery, *, now: datetime) -> list[Slot]:
    """Every open start time in the query's window, chronological, one staff member each.

    When several staff members are free at the same time ("anyone"), the one with the fewest
    appointments that day gets it, so work spreads evenly.
    """
    ctx = BusinessContext.load(session)
    service = session.get(Service, query.service_id)
    if service is None or not service.active:
        raise NotFound(f"no service with id {query.service_id}")
    range_start, range_end = _search_range(ctx, query, now)
    if range_start >= range_end:
        return []
    cal = _load_calendar(session, ctx, service, query, range_start, range_end, now)
    if not cal.staff_ids:
        return []
    _prepare(cal)
    duration = service.duration_minutes * 60
    slots: list[Slot] = []
    for start in _grid_starts(cal, range_start, range_end):
        day = _from_epoch(start).astimezone(ctx.zone).date()
        ranked = sorted(cal.staff_ids, key=lambda sid: (cal.day_counts.get((sid, day), 0), sid))
        for sid in ranked:
            ok, resource = _fits(cal, sid, start, query.enforce_rules)
            if ok:
                slots.append(Slot(_from_epoch(start), _from_epoch(start + duration), sid, resource))
                break
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
    ctx = BusinessContext.load(session)
    service = session.get(Service, query.service_id)
    if service is None:
        raise NotFound(f"no service with id {query.service_id}")
    start = _epoch(query.start)
    range_start, range_end = _search_range(ctx, query, now)
    if not range_start <= start < range_end:
        return None
    single = SlotQuery(**{**query.__dict__, "staff_id": staff_id})
    cal = _load_calendar(session, ctx, service, single, start, start + 1, now)
    if staff_id not in cal.staff_ids:
        return None
    _prepare(cal)
    ok, resource = _fits(cal, staff_id, start, query.enforce_rules)
    if not ok:
        return None
    end = query.start + timedelta(minutes=service.duration_minutes)
    return Slot(query.start, end, staff_id, resource)


def rank_slots(
    slots: Sequence[Slot], zone: ZoneInfo, *, target: datetime | None, limit: int
) -> list[Slot]:
    """The `limit` best slots: nearest the target first, spread over days for wide windows.

    Within one local day, slots are ordered by distance to the target (or chronologically
    without one). When the slots span several days, days take turns — nearest day first —
    so "next week" offers Monday 10:00, Tuesday 10:00 … rather than six Mondays.
    """
    if not slots:
        return []
    by_day: dict[date, list[Slot]] = defaultdict(list)
    for slot in slots:
        by_day[slot.start.astimezone(zone).date()].append(slot)
    anchor = target or slots[0].start
    anchor_local = anchor.astimezone(zone)

    def in_day_key(slot: Slot) -> tuple[float, datetime]:
        local = slot.start.astimezone(zone)
        if target is None:
            return (0.0, slot.start)
        if len(by_day) == 1:
            return (abs((slot.start - target).total_seconds()), slot.start)
        # Spread over days: match the asked time of day on each day.
        minutes = local.hour * 60 + local.minute
        asked = anchor_local.hour * 60 + anchor_local.minute
        return (float(abs(minutes - asked)), slot.start)

    if len(by_day) == 1:
        return sorted(slots, key=in_day_key)[:limit]
    days = sorted(by_day, key=lambda d: (abs((d - anchor_local.date()).days), d))
    queues = [sorted(by_day[d], key=in_day_key) for d in days]
    picked: list[Slot] = []
    depth = 0
    while len(picked) < limit and any(depth < len(q) for q in queues):
        for queue in queues:
            if depth < len(queue):
                picked.append(queue[depth])
                if len(picked) == limit:
                    break
        depth += 1
    return picked


def best_slots(session: Session, query: SlotQuery, *, now: datetime, limit: int = 5) -> list[Slot]:
    """The best `limit` open slots for what was asked (see `rank_slots`)."""
    slots = open_slots(session, query, now=now)
    zone = BusinessContext.load(session).zone
    return rank_slots(slots, zone, target=query.target, limit=limit)


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
