"""Solving a pure VRPTW Problem with PyVRP's hybrid genetic search (the other half of the portfolio).

PyVRP models one thing, and models it better than OR-Tools (README, "Why OR-Tools and PyVRP"):
vehicles with a shift and a home, visits with hard time windows and a load. It has no breaks,
no skills or pinned jobs and no soft windows, so `bot.field.routing.solver.solve` hands it only the
problems that have none of those (`pure`), and for a field day with soft windows uses its
answer as OR-Tools' starting point rather than the final word.
"""

from __future__ import annotations

import time as clock
import warnings

from pyvrp import Model
from pyvrp.exceptions import PenaltyBoundWarning
from pyvrp.stop import MaxRuntime

from bot.field.routing.model import Problem, Route, Solution, Stop

COST_SCALE = 1000  # the same integer driving units as the OR-Tools model
SEED = 1  # the search is randomised; a fixed seed makes each answer reproducible


def pure(problem: Problem) -> bool:
    """Whether PyVRP can model `problem` exactly: no breaks, skills or pins (windows aside)."""
    return not any(v.breaks for v in problem.vehicles) and all(
        problem.can_serve(vehicle, visit)
        for visit in problem.visits
        for vehicle in problem.vehicles
    )


def solve(problem: Problem, seconds: float) -> Solution | None:
    """PyVRP's best routes for `problem` with every window hard, or None if it found none feasible."""
    began = clock.perf_counter()
    model = Model()
    locations = [model.add_location(0, 0) for _ in problem.cost]
    depots: dict[int, object] = {}
    for vehicle in problem.vehicles:
        if vehicle.home not in depots:
            depots[vehicle.home] = model.add_depot(locations[vehicle.home])
    # Identical technicians share a vehicle type (Solomon's 25 vehicles are one type).
    kinds: dict[tuple, list[str]] = {}
    for vehicle in problem.vehicles:
        kinds.setdefault((vehicle.home, vehicle.start, vehicle.end, vehicle.capacity), []).append(
            vehicle.id
        )
    for (home, start, end, capacity), ids in kinds.items():
        model.add_vehicle_type(
            num_available=len(ids),
            capacity=capacity if capacity is not None else 0,
            start_depot=depots[home],
            end_depot=depots[home],
            fixed_cost=round(problem.vehicle_fixed_cost * COST_SCALE),
            tw_early=start,
            tw_late=end,
        )
    for visit in problem.visits:
        model.add_client(
            locations[visit.place],
            delivery=visit.demand if any(v.capacity is not None for v in problem.vehicles) else 0,
            service_duration=visit.duration,
            tw_early=visit.earliest,
            tw_late=visit.latest,
        )
    homes = set(depots)
    client_places = {visit.place for visit in problem.visits}
    for a in homes | client_places:
        for b in homes | client_places:
            if a == b:
                continue
            # A field day's drive home is not timed (it may end after the shift); Solomon's is.
            untimed = b in homes and not problem.home_within_shift
            model.add_edge(
                locations[a],
                locations[b],
                distance=round(problem.cost[a][b] * COST_SCALE),
                duration=0 if untimed else problem.time[a][b],
            )
    with warnings.catch_warnings():  # windows no route can keep: an answer (None), not a warning
        warnings.simplefilter("ignore", PenaltyBoundWarning)
        result = model.solve(stop=MaxRuntime(max(0.1, seconds)), seed=SEED, display=False)
    best = result.best
    if not best.is_feasible():
        return None
    type_ids = [list(ids) for ids in kinds.values()]
    homes_of = {v.id: v.home for v in problem.vehicles}
    routes = []
    for route in best.routes():
        vehicle = type_ids[route.vehicle_type()].pop(0)
        stops = tuple(
            Stop(
                problem.visits[activity.idx].id,
                activity.start_time - activity.wait_duration,
                activity.start_time,
                activity.end_time,
            )
            for activity in route.schedule()
            if activity.is_client()
        )
        if not stops:
            continue
        home = homes_of[vehicle]
        first = next(v for v in problem.visits if v.id == stops[0].visit)
        last = next(v for v in problem.visits if v.id == stops[-1].visit)
        # leave as late as still arrives in time for the first job (no waiting at the door)
        leave = stops[0].start - problem.time[home][first.place]
        stops = (Stop(stops[0].visit, stops[0].start, stops[0].start, stops[0].end), *stops[1:])
        back = stops[-1].end + problem.time[last.place][home]
        routes.append(Route(vehicle, leave, stops, back))
    return Solution(tuple(routes), seconds=clock.perf_counter() - began, solver="pyvrp")
