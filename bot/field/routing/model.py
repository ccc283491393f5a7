"""The routing problem and its answer as plain data: technicians, jobs, a travel matrix, routes.

Times are integer units from a common origin (minutes from midnight for a field day, scaled
Solomon time for the reference instances); places are indexes into the problem's matrices.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Break:
    """A break of `duration` that must start between `earliest` and `latest`."""

    earliest: int
    latest: int
    duration: int


@dataclass(frozen=True)
class Vehicle:
    """A technician: shift, home base (a place index), skills, breaks, and an optional load limit."""

    id: str
    start: int
    end: int
    home: int
    skills: frozenset[str] = frozenset()
    breaks: tuple[Break, ...] = ()
    capacity: int | None = None


@dataclass(frozen=True)
class Visit:
    """A job: its place, how long it takes, its arrival window, the skill it needs, a pinned technician."""

    id: str
    place: int
    duration: int
    earliest: int
    latest: int
    skill: str | None = None
    pinned: str | None = None
    demand: int = 0


@dataclass(frozen=True)
class Problem:
    """Vehicles, visits, and square matrices of travel time and driving cost between places."""

    vehicles: tuple[Vehicle, ...]
    visits: tuple[Visit, ...]
    time: tuple[tuple[int, ...], ...]
    cost: tuple[tuple[float, ...], ...]
    hard_windows: bool = False
    vehicle_fixed_cost: float = 0.0
    late_penalty: float = 0.0  # cost units per time unit late (soft windows only)
    # Solomon: back at the depot by its closing time. A field day: the last job ends within
    # the shift and the drive home (still counted as driving) may run past it.
    home_within_shift: bool = True
    droppable: bool = False  # a job no one can fit is left out (and reported) instead of failing

    def can_serve(self, vehicle: Vehicle, visit: Visit) -> bool:
        """Whether this technician may take this job (skill and pin)."""
        if visit.pinned is not None and visit.pinned != vehicle.id:
            return False
        return visit.skill is None or visit.skill in vehicle.skills


@dataclass(frozen=True)
class Stop:
    """A visit in a route: when the technician arrives and when the job starts and ends."""

    visit: str
    arrival: int
    start: int
    end: int


@dataclass(frozen=True)
class BreakTaken:
    """When a technician's break starts and ends."""

    start: int
    end: int


@dataclass(frozen=True)
class Route:
    """One technician's day: leaving home, the stops in order, breaks, back home."""

    vehicle: str
    leave: int
    stops: tuple[Stop, ...]
    back: int
    breaks: tuple[BreakTaken, ...] = ()


@dataclass(frozen=True)
class Solution:
    """Every technician's route, the jobs left unassigned, and how long solving took."""

    routes: tuple[Route, ...]
    unassigned: tuple[str, ...] = ()
    seconds: float = 0.0
    solver: str = ""
    notes: dict[str, str] = field(default_factory=dict)

    def route_of(self, vehicle: str) -> Route | None:
        """The route of one technician, if any."""
        return next((r for r in self.routes if r.vehicle == vehicle), None)


def driving(problem: Problem, solution: Solution) -> float:
    """Total driving cost of a solution (sum of matrix cost along every used route)."""
    homes = {v.id: v.home for v in problem.vehicles}
    places = {v.id: v.place for v in problem.visits}
    total = 0.0
    for route in solution.routes:
        if not route.stops:
            continue
        path = [homes[route.vehicle], *(places[s.visit] for s in route.stops), homes[route.vehicle]]
        total += sum(problem.cost[a][b] for a, b in zip(path, path[1:], strict=False))
    return total


def driving_time(problem: Problem, solution: Solution) -> int:
    """Total driving time of a solution (sum of matrix time along every used route)."""
    homes = {v.id: v.home for v in problem.vehicles}
    places = {v.id: v.place for v in problem.visits}
    total = 0
    for route in solution.routes:
        if not route.stops:
            continue
        path = [homes[route.vehicle], *(places[s.visit] for s in route.stops), homes[route.vehicle]]
        total += sum(problem.time[a][b] for a, b in zip(path, path[1:], strict=False))
    return total
