"""Solving a routing Problem: PyVRP where it models the whole problem, else Google OR-Tools.

`solve` is the portfolio (README, "Why OR-Tools and PyVRP"); `solve_ortools` is the OR-Tools
model, which covers everything a field day has. Skills and pinned jobs are allowed-vehicle sets, shifts are the start/end ranges of each
technician's time, breaks are OR-Tools break intervals, arrival windows are hard ranges
(Solomon) or soft upper bounds with a per-minute penalty (a field day: a late arrival is
allowed only when it saves far more driving than it costs), and a job that cannot be placed at
all is dropped at a huge penalty and reported rather than failing the whole day.
"""

from __future__ import annotations

import time as clock
from dataclasses import replace

from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from bot.field.routing import hgs
from bot.field.routing.model import BreakTaken, Problem, Route, Solution, Stop

COST_SCALE = 1000  # driving cost (km, or Solomon distance) to integer units
DROP_PENALTY = 10**10


def search_parameters(problem: Problem, first: str):  # noqa: ANN201 - a protobuf message
    """OR-Tools search parameters for `problem`: the first solution, then guided local search."""
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = getattr(routing_enums_pb2.FirstSolutionStrategy, first)
    params.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    return params


def solve(
    problem: Problem,
    seconds: float = 5.0,
    *,
    first: str = "PARALLEL_CHEAPEST_INSERTION",
    initial: Solution | None = None,
) -> Solution:
    """The best routes for `problem` within `seconds`: PyVRP where it models the whole problem.

    A pure VRPTW (hard windows, no breaks, skills or pins) goes to PyVRP alone; a day without
    breaks, skills or pins but with soft windows gets PyVRP's hard-window routes as the start
    for OR-Tools (half the budget each); anything else is OR-Tools from `initial` if given.
    """
    began = clock.perf_counter()
    if problem.visits and hgs.pure(problem):
        share = seconds if problem.hard_windows and not problem.droppable else seconds / 2
        found = hgs.solve(problem, share)
        if found is not None and share == seconds:
            return found
        initial = found or initial
        seconds -= clock.perf_counter() - began
    solution = solve_ortools(problem, seconds, first=first, initial=initial)
    if solution.solver == "ortools" and initial is not None and initial.solver == "pyvrp":
        solution = replace(solution, solver="pyvrp+ortools", seconds=clock.perf_counter() - began)
    return solution


def solve_ortools(
    problem: Problem,
    seconds: float = 5.0,
    *,
    first: str = "PARALLEL_CHEAPEST_INSERTION",
    initial: Solution | None = None,
) -> Solution:
    """The best routes OR-Tools finds for `problem` within `seconds` (from `initial` if given)."""
    began = clock.perf_counter()
    vehicles, visits = problem.vehicles, problem.visits
    # nodes: one home node per vehicle, then one node per visit
    places = [v.home for v in vehicles] + [v.place for v in visits]
    service = [0] * len(vehicles) + [v.duration for v in visits]
    n_v = len(vehicles)
    manager = pywrapcp.RoutingIndexManager(len(places), n_v, list(range(n_v)), list(range(n_v)))
    routing = pywrapcp.RoutingModel(manager)

    # Whole matrices, handed to OR-Tools once: its search then never calls back into Python,
    # which is most of the time a callback per arc costs (several times more moves per second).
    cost_matrix = [
        [round(problem.cost[places[a]][places[b]] * COST_SCALE) for b in range(len(places))]
        for a in range(len(places))
    ]
    time_matrix = [
        [
            service[a]
            if b < n_v and not problem.home_within_shift  # the drive home is not timed
            else service[a] + problem.time[places[a]][places[b]]
            for b in range(len(places))
        ]
        for a in range(len(places))
    ]

    cost_index = routing.RegisterTransitMatrix(cost_matrix)
    routing.SetArcCostEvaluatorOfAllVehicles(cost_index)
    if problem.vehicle_fixed_cost:
        routing.SetFixedCostOfAllVehicles(round(problem.vehicle_fixed_cost * COST_SCALE))

    horizon = max(v.end for v in vehicles)
    time_index = routing.RegisterTransitMatrix(time_matrix)
    routing.AddDimension(time_index, horizon, horizon, False, "time")
    times = routing.GetDimensionOrDie("time")

    if any(v.capacity is not None for v in vehicles):
        demand = [0] * n_v + [v.demand for v in visits]
        demand_index = routing.RegisterUnaryTransitVector(demand)
        routing.AddDimensionWithVehicleCapacity(
            demand_index,
            0,
            [v.capacity if v.capacity is not None else 10**9 for v in vehicles],
            True,
            "load",
        )

    for k, vehicle in enumerate(vehicles):
        times.CumulVar(routing.Start(k)).SetRange(vehicle.start, vehicle.end)
        times.CumulVar(routing.End(k)).SetRange(vehicle.start, vehicle.end)
        routing.AddVariableMaximizedByFinalizer(times.CumulVar(routing.Start(k)))
        routing.AddVariableMinimizedByFinalizer(times.CumulVar(routing.End(k)))

    for n, visit in enumerate(visits, start=n_v):
        index = manager.NodeToIndex(n)
        cumul = times.CumulVar(index)
        if problem.hard_windows:
            cumul.SetRange(visit.earliest, min(visit.latest, horizon))
        else:
            cumul.SetRange(visit.earliest, horizon)
            if problem.late_penalty:
                times.SetCumulVarSoftUpperBound(
                    index, visit.latest, round(problem.late_penalty * COST_SCALE)
                )
            routing.AddDisjunction([index], DROP_PENALTY)
        allowed = [k for k, vehicle in enumerate(vehicles) if problem.can_serve(vehicle, visit)]
        if len(allowed) < n_v:  # -1: left undone (only reachable through the disjunction)
            routing.VehicleVar(index).SetValues([-1, *allowed])
        routing.AddVariableMinimizedByFinalizer(cumul)

    solver = routing.solver()
    intervals: dict[int, list] = {}
    transits = [service[manager.IndexToNode(i)] for i in range(routing.Size())]
    for k, vehicle in enumerate(vehicles):
        if vehicle.breaks:
            intervals[k] = [
                solver.FixedDurationIntervalVar(
                    b.earliest, b.latest, b.duration, False, f"break {vehicle.id} {i}"
                )
                for i, b in enumerate(vehicle.breaks)
            ]
            times.SetBreakIntervalsOfVehicle(intervals[k], k, transits)

    params = search_parameters(problem, first)
    params.time_limit.FromMilliseconds(
        max(1, int((seconds - (clock.perf_counter() - began)) * 1000))
    )
    found = None
    if initial is not None:  # start from the day as booked: every job placed, mostly on time
        routing.CloseModelWithParameters(params)
        node_of = {v.id: n for n, v in enumerate(visits, start=n_v)}
        wanted = {
            r.vehicle: [
                manager.NodeToIndex(node_of[s.visit]) for s in r.stops if s.visit in node_of
            ]
            for r in initial.routes
        }
        start = routing.ReadAssignmentFromRoutes([wanted.get(v.id, []) for v in vehicles], True)
        if start is not None:
            found = routing.SolveFromAssignmentWithParameters(start, params)
    if found is None:
        found = routing.SolveWithParameters(params)
    if found is None:
        return Solution(
            routes=(),
            unassigned=tuple(v.id for v in visits),
            seconds=clock.perf_counter() - began,
            solver="ortools",
        )

    breaks_of: dict[int, list[BreakTaken]] = {}
    container = found.IntervalVarContainer()
    names = {iv.Name(): k for k, ivs in intervals.items() for iv in ivs}
    for i in range(container.Size()):
        element = container.Element(i)
        k = names.get(element.Var().Name())
        if k is not None and element.PerformedValue():
            breaks_of.setdefault(k, []).append(BreakTaken(element.StartValue(), element.EndValue()))

    routes: list[Route] = []
    served: set[str] = set()
    visits_by_id = {v.id: v for v in visits}
    for k, vehicle in enumerate(vehicles):
        taken = sorted(breaks_of.get(k, []), key=lambda b: b.start)
        index = routing.Start(k)
        leave = found.Value(times.CumulVar(index))
        stops: list[Stop] = []
        prev_place, prev_end = vehicle.home, leave
        index = found.Value(routing.NextVar(index))
        while not routing.IsEnd(index):
            visit = visits[manager.IndexToNode(index) - n_v]
            start = found.Value(times.CumulVar(index))
            pause = sum(b.end - b.start for b in taken if prev_end <= b.start and b.end <= start)
            arrival = min(start, prev_end + problem.time[prev_place][visit.place] + pause)
            stops.append(Stop(visit.id, arrival, start, start + visit.duration))
            served.add(visit.id)
            prev_place, prev_end = visit.place, start + visit.duration
            index = found.Value(routing.NextVar(index))
        back = found.Value(times.CumulVar(index))
        if stops and not problem.home_within_shift:
            back = prev_end + problem.time[prev_place][vehicle.home]
        if not stops:
            leave = back = vehicle.start
        else:  # leave as late as still arrives on time, unless a break sits in between
            latest = stops[0].start - problem.time[vehicle.home][visits_by_id[stops[0].visit].place]
            if latest > leave and not any(
                b.start < stops[0].start and b.end > leave for b in taken
            ):
                leave = latest
                stops[0] = Stop(stops[0].visit, stops[0].start, stops[0].start, stops[0].end)
        routes.append(Route(vehicle.id, leave, tuple(stops), back, tuple(taken)))
    return Solution(
        routes=tuple(routes),
        unassigned=tuple(v.id for v in visits if v.id not in served),
        seconds=clock.perf_counter() - began,
        solver="ortools",
    )
