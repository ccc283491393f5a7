"""A field team's day in the database as a routing Problem, and the solution back as changes.

`load_day` reads one local day: technicians with a home base who work that weekday (shift =
their hours ∩ opening hours; breaks, time off, and jobs that cannot move become fixed breaks)
and the on-site jobs that can still move (booked, with coordinates, not yet started). Travel
comes from `bot.field.places.travel` (estimated or routed). `as_booked` is the day as it stands in the
database, in the same terms, so the checker can judge what was applied; `changes` compares it
with an optimised solution job by job.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config.context import business_context
from bot.field.places import LatLon, travel
from bot.field.places.windows import arrival_window
from bot.field.routing.model import (
    Break,
    BreakTaken,
    Problem,
    Route,
    Solution,
    Stop,
    Vehicle,
    Visit,
)
from storage.models import (
    AWAITING_DEPOSIT,
    BOOKED,
    CANCELLED,
    CONFIRMED,
    Appointment,
    Staff,
    TimeOff,
    WorkingHours,
)

MOVABLE = (AWAITING_DEPOSIT, BOOKED, CONFIRMED)
LATE_PENALTY_KM_PER_MINUTE = 50.0  # a late minute costs as much as 50 km of driving


@dataclass(frozen=True)
class Day:
    """One local day ready to optimise: the problem and what its ids stand for."""

    day: date
    zone: ZoneInfo
    midnight: datetime  # local midnight, in UTC
    problem: Problem
    appointments: dict[str, Appointment]  # visit id -> the appointment
    staff: dict[str, Staff]  # vehicle id (staff key) -> the technician
    points: tuple[LatLon, ...]  # place index -> coordinates

    def minute(self, moment: datetime) -> int:
        """Minutes from local midnight."""
        return int((moment - self.midnight).total_seconds() // 60)

    def moment(self, minute: int) -> datetime:
        """The UTC instant `minute` minutes after local midnight."""
        return self.midnight + timedelta(minutes=minute)


@dataclass(frozen=True)
class Change:
    """How one job moves: technician, start, and the arrival window the customer was given."""

    appointment_id: int
    old_staff: str
    new_staff: str
    old_start: datetime
    new_start: datetime
    old_window: tuple[datetime, datetime]
    new_window: tuple[datetime, datetime]

    @property
    def changes_hands(self) -> bool:
        """Whether another technician takes the job."""
        return self.old_staff != self.new_staff

    @property
    def window_changed(self) -> bool:
        """Whether the customer's promised arrival window is no longer the same."""
        return self.old_window != self.new_window


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def _intersect(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> list[tuple[int, int]]:
    return [(max(s1, s2), min(e1, e2)) for s1, e1 in a for s2, e2 in b if max(s1, s2) < min(e1, e2)]


def _window(appointment: Appointment) -> tuple[datetime, datetime]:
    if appointment.window_start is not None and appointment.window_end is not None:
        return appointment.window_start, appointment.window_end
    return appointment.starts_at, appointment.starts_at


def load_day(session: Session, day: date, *, now: datetime) -> Day:
    """The technicians and movable jobs of `day` (local) as a routing Problem."""
    business = business_context(session, required=False)
    zone = business.zone
    settings = business.travel
    midnight = datetime.combine(day, time(0), zone).astimezone(UTC)
    next_midnight = datetime.combine(day + timedelta(days=1), time(0), zone).astimezone(UTC)

    def minute(moment: datetime) -> int:
        return int((moment - midnight).total_seconds() // 60)

    hours: dict[int | None, list[tuple[time, time, bool]]] = {}
    for row in session.scalars(select(WorkingHours).where(WorkingHours.weekday == day.weekday())):
        hours.setdefault(row.staff_id, []).append((row.start, row.end, row.is_break))

    def span(start: time, end: time) -> tuple[int, int]:
        return (
            minute(datetime.combine(day, start, zone).astimezone(UTC)),
            minute(datetime.combine(day, end, zone).astimezone(UTC)),
        )

    opening = [span(s, e) for s, e, brk in hours.get(None, []) if not brk]
    jobs = list(
        session.scalars(
            select(Appointment)
            .where(
                Appointment.block_start < next_midnight,
                Appointment.block_end > midnight,
                Appointment.status != CANCELLED,
            )
            .order_by(Appointment.block_start, Appointment.id)
        )
    )
    movable = [
        a
        for a in jobs
        if a.status in MOVABLE and a.lat is not None and a.lon is not None and a.starts_at > now
    ]
    fixed_jobs = [a for a in jobs if a not in movable]
    offs = list(
        session.scalars(
            select(TimeOff).where(
                TimeOff.starts_at < next_midnight,
                TimeOff.ends_at > midnight,
                TimeOff.resource_id.is_(None),
            )
        )
    )

    staff_rows = [
        s
        for s in session.scalars(select(Staff).where(Staff.active.is_(True)).order_by(Staff.id))
        if s.home_lat is not None and s.home_lon is not None
    ]
    points: list[LatLon] = []
    vehicles: list[Vehicle] = []
    staff: dict[str, Staff] = {}
    for person in staff_rows:
        working = _intersect(
            opening, [span(s, e) for s, e, brk in hours.get(person.id, []) if not brk]
        )
        if not working:
            continue
        shift = (min(s for s, _ in working), max(e for _, e in working))
        busy = [(e1, s2) for (_, e1), (s2, _) in zip(working, working[1:], strict=False) if e1 < s2]
        busy += [span(s, e) for s, e, brk in hours.get(person.id, []) + hours.get(None, []) if brk]
        busy += [
            (minute(t.starts_at), minute(t.ends_at))
            for t in offs
            if t.staff_id in (None, person.id)
        ]
        busy += [
            (minute(a.block_start), minute(a.block_end))
            for a in fixed_jobs
            if a.staff_id == person.id
        ]
        clipped = [(max(s, shift[0]), min(e, shift[1])) for s, e in busy]
        breaks = tuple(Break(s, s, e - s) for s, e in _merge([c for c in clipped if c[0] < c[1]]))
        points.append(LatLon(person.home_lat, person.home_lon))
        vehicles.append(
            Vehicle(
                id=person.key,
                start=shift[0],
                end=shift[1],
                home=len(points) - 1,
                skills=frozenset(str(s) for s in (person.skills or [])),
                breaks=breaks,
            )
        )
        staff[person.key] = person

    keys = {s.id: s.key for s in staff_rows}
    visits: list[Visit] = []
    appointments: dict[str, Appointment] = {}
    for job in movable:
        points.append(LatLon(job.lat, job.lon))
        before = job.starts_at - job.block_start
        early, late = _window(job)
        visits.append(
            Visit(
                id=str(job.id),
                place=len(points) - 1,
                duration=minute(job.block_end) - minute(job.block_start),
                earliest=minute(early - before),
                latest=minute(late - before),
                skill=job.service.skill,
                pinned=keys.get(job.staff_id, f"staff-{job.staff_id}")
                if job.staff_pinned
                else None,
            )
        )
        appointments[str(job.id)] = job

    legs = [[travel(a, b, settings) if a != b else None for b in points] for a in points]
    problem = Problem(
        vehicles=tuple(vehicles),
        visits=tuple(visits),
        time=tuple(tuple(leg.minutes if leg else 0 for leg in row) for row in legs),
        cost=tuple(tuple(leg.km if leg else 0.0 for leg in row) for row in legs),
        late_penalty=LATE_PENALTY_KM_PER_MINUTE,
        home_within_shift=False,
    )
    return Day(day, zone, midnight, problem, appointments, staff, tuple(points))


def as_booked(session: Session, day: Day) -> Solution:
    """The day's movable jobs as the database has them now, as routes the checker can judge."""
    keys = {s.id: key for key, s in day.staff.items()}
    by_staff: dict[str, list[Appointment]] = {}
    for visit_id in day.appointments:
        job = session.get(Appointment, int(visit_id))
        session.refresh(job)
        by_staff.setdefault(keys.get(job.staff_id, f"staff-{job.staff_id}"), []).append(job)
    places = {v.id: v.place for v in day.problem.visits}
    routes = []
    for vehicle in day.problem.vehicles:
        mine = sorted(by_staff.get(vehicle.id, []), key=lambda a: a.block_start)
        taken = tuple(BreakTaken(b.earliest, b.earliest + b.duration) for b in vehicle.breaks)
        if not mine:
            routes.append(Route(vehicle.id, vehicle.start, (), vehicle.start, taken))
            continue
        stops = tuple(
            Stop(
                str(a.id),
                day.minute(a.block_start),
                day.minute(a.block_start),
                day.minute(a.block_end),
            )
            for a in mine
        )
        first, last = places[stops[0].visit], places[stops[-1].visit]
        leave = stops[0].start - day.problem.time[vehicle.home][first]
        back = stops[-1].end + day.problem.time[last][vehicle.home]
        routes.append(Route(vehicle.id, leave, stops, back, taken))
    strays = [key for key in by_staff if key not in day.staff]
    for key in strays:  # jobs held by someone who is not on the road that day
        stops = tuple(
            Stop(
                str(a.id),
                day.minute(a.block_start),
                day.minute(a.block_start),
                day.minute(a.block_end),
            )
            for a in by_staff[key]
        )
        routes.append(Route(key, stops[0].start, stops, stops[-1].end))
    return Solution(tuple(routes), solver="as booked")


def changes(session: Session, day: Day, solution: Solution) -> list[Change]:
    """Every job whose technician or start the solution changes, with its new window."""
    keys = {s.id: key for key, s in day.staff.items()}
    out: list[Change] = []
    for route in solution.routes:
        for stop in route.stops:
            job = day.appointments[stop.visit]
            before = job.starts_at - job.block_start
            new_start = day.moment(stop.start) + before
            old_window = _window(job)
            length = old_window[1] - old_window[0]
            if old_window[0] <= new_start <= old_window[1]:
                new_window = old_window
            elif length:  # the window on the business's grid that holds the new arrival
                new_window = arrival_window(new_start, int(length.total_seconds() // 60), day.zone)
            else:
                new_window = (new_start, new_start)
            old_staff = keys.get(job.staff_id, f"staff-{job.staff_id}")
            if old_staff != route.vehicle or new_start != job.starts_at:
                out.append(
                    Change(
                        job.id,
                        old_staff,
                        route.vehicle,
                        job.starts_at,
                        new_start,
                        old_window,
                        new_window,
                    )
                )
    return sorted(out, key=lambda c: (c.new_staff, c.new_start))


@dataclass(frozen=True)
class DayStop:
    """One job on a technician's day as it stands: the appointment and where it is."""

    appointment: Appointment
    point: LatLon


@dataclass(frozen=True)
class DayRoute:
    """A technician's day as it stands: home base, jobs in order, driving along them."""

    staff: Staff
    home: LatLon
    stops: tuple[DayStop, ...]
    minutes: int
    km: float


def routes_of_day(session: Session, day: date) -> list[DayRoute]:
    """Every technician's on-site jobs of a local day in order, with the driving between them."""
    business = business_context(session, required=False)
    zone = business.zone
    settings = business.travel
    start = datetime.combine(day, time(0), zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), zone).astimezone(UTC)
    jobs = session.scalars(
        select(Appointment)
        .where(
            Appointment.starts_at >= start,
            Appointment.starts_at < end,
            Appointment.status != CANCELLED,
            Appointment.lat.is_not(None),
        )
        .order_by(Appointment.starts_at, Appointment.id)
    ).all()
    out: list[DayRoute] = []
    for person in session.scalars(select(Staff).order_by(Staff.id)):
        mine = [j for j in jobs if j.staff_id == person.id]
        if person.home_lat is None or person.home_lon is None:
            if not mine:
                continue
            home = LatLon(mine[0].lat, mine[0].lon)
        else:
            home = LatLon(person.home_lat, person.home_lon)
        if not mine and not person.active:
            continue
        stops = tuple(DayStop(j, LatLon(j.lat, j.lon)) for j in mine)
        path = [home, *(s.point for s in stops), home] if stops else []
        legs = [travel(a, b, settings) for a, b in zip(path, path[1:], strict=False) if a != b]
        out.append(
            DayRoute(
                person,
                home,
                stops,
                sum(leg.minutes for leg in legs),
                round(sum(leg.km for leg in legs), 1),
            )
        )
    return out
