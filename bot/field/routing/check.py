"""Checking a schedule against its problem without trusting the solver that made it.

Every rule is re-derived from the problem's data and the routes' stated times: each job done
once, by a technician with the skill (and the pinned one when pinned), inside the shift, the
arrival window kept, breaks taken in their window and never over a job, and between any two
consecutive activities enough time to drive (plus any break taken in between).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from enum import StrEnum

from bot.field.routing.model import BreakTaken, Problem, Route, Solution


class Rule(StrEnum):
    """The kinds of broken rule the checker reports."""

    UNASSIGNED = "unassigned"
    TWICE = "twice"
    UNKNOWN = "unknown"
    SKILL = "skill"
    PINNED = "pinned"
    SHIFT = "shift"
    EARLY = "early"
    LATE = "late"
    DURATION = "duration"
    TRAVEL = "travel"
    BREAK = "break"
    CAPACITY = "capacity"


@dataclass(frozen=True)
class Violation:
    """One broken rule: which, who, and a sentence about it."""

    rule: Rule
    vehicle: str
    visit: str
    detail: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.vehicle} {self.visit} {self.detail}".strip()


def check(
    problem: Problem, solution: Solution, *, allow_unassigned: bool = False
) -> list[Violation]:
    """Every rule of `problem` that `solution` breaks (an empty list when it keeps them all)."""
    out: list[Violation] = []
    vehicles = {v.id: v for v in problem.vehicles}
    visits = {v.id: v for v in problem.visits}
    seen = Counter(s.visit for r in solution.routes for s in r.stops)
    for visit_id, n in seen.items():
        if visit_id not in visits:
            out.append(Violation(Rule.UNKNOWN, "", visit_id, "is not a job of this day"))
        elif n > 1:
            out.append(Violation(Rule.TWICE, "", visit_id, f"is done {n} times"))
    if not allow_unassigned:
        out += [
            Violation(Rule.UNASSIGNED, "", v, "is not done by anyone")
            for v in visits
            if v not in seen
        ]
    for route in solution.routes:
        if route.vehicle not in vehicles:
            out.append(
                Violation(Rule.UNKNOWN, route.vehicle, "", "is not a technician of this day")
            )
            continue
        out += _check_route(problem, route)
    return out


def _check_route(problem: Problem, route: Route) -> list[Violation]:
    """The rules one technician's route breaks."""
    out: list[Violation] = []
    vehicle = next(v for v in problem.vehicles if v.id == route.vehicle)
    visits = {v.id: v for v in problem.visits}
    stops = [s for s in route.stops if s.visit in visits]
    if not stops:
        return out
    vid = vehicle.id
    if route.leave < vehicle.start:
        out.append(
            Violation(
                Rule.SHIFT,
                vid,
                "",
                f"leaves at {route.leave}, before the shift starts at {vehicle.start}",
            )
        )
    if problem.home_within_shift and route.back > vehicle.end:
        out.append(
            Violation(
                Rule.SHIFT,
                vid,
                "",
                f"is back at {route.back}, after the shift ends at {vehicle.end}",
            )
        )
    if stops[-1].end > vehicle.end:
        out.append(
            Violation(
                Rule.SHIFT,
                vid,
                stops[-1].visit,
                f"ends at {stops[-1].end}, after the shift ends at {vehicle.end}",
            )
        )
    load = 0
    for stop in stops:
        visit = visits[stop.visit]
        load += visit.demand
        if visit.pinned is not None and visit.pinned != vid:
            out.append(Violation(Rule.PINNED, vid, visit.id, f"is pinned to {visit.pinned}"))
        if visit.skill is not None and visit.skill not in vehicle.skills:
            out.append(Violation(Rule.SKILL, vid, visit.id, f"needs {visit.skill}"))
        if stop.start < visit.earliest:
            out.append(
                Violation(
                    Rule.EARLY,
                    vid,
                    visit.id,
                    f"starts at {stop.start}, window opens {visit.earliest}",
                )
            )
        if stop.start > visit.latest:
            out.append(
                Violation(
                    Rule.LATE,
                    vid,
                    visit.id,
                    f"starts at {stop.start}, window closes {visit.latest}",
                )
            )
        if stop.end - stop.start < visit.duration:
            out.append(
                Violation(
                    Rule.DURATION,
                    vid,
                    visit.id,
                    f"takes {stop.end - stop.start}, needs {visit.duration}",
                )
            )
    if vehicle.capacity is not None and load > vehicle.capacity:
        out.append(Violation(Rule.CAPACITY, vid, "", f"carries {load} over {vehicle.capacity}"))

    places = [vehicle.home, *(visits[s.visit].place for s in stops), vehicle.home]
    starts = [route.leave, *(s.start for s in stops), route.back]
    ends = [route.leave, *(s.end for s in stops), route.back]
    names = ["home", *(s.visit for s in stops), "home"]
    for k in range(len(places) - 1):
        gap_from, gap_to = ends[k], starts[k + 1]
        pause = sum(
            b.end - b.start for b in route.breaks if gap_from <= b.start and b.end <= gap_to
        )
        need = problem.time[places[k]][places[k + 1]] + pause
        if gap_to - gap_from < need:
            out.append(
                Violation(
                    Rule.TRAVEL,
                    vid,
                    names[k + 1],
                    f"has {gap_to - gap_from} after {names[k]}, needs {need}",
                )
            )
    out += _check_breaks(
        vid, vehicle.breaks, route.breaks, [(s.start, s.end, s.visit) for s in stops]
    )
    return out


def _check_breaks(
    vid: str, wanted, taken: tuple[BreakTaken, ...], jobs: list[tuple[int, int, str]]
) -> list[Violation]:
    """Breaks: one per required break, in its window, long enough, never over a job."""
    out: list[Violation] = []
    ordered = sorted(taken, key=lambda b: b.start)
    if len(ordered) < len(wanted):
        out.append(Violation(Rule.BREAK, vid, "", f"takes {len(ordered)} of {len(wanted)} breaks"))
    for rule, got in zip(sorted(wanted, key=lambda b: b.earliest), ordered, strict=False):
        if not rule.earliest <= got.start <= rule.latest:
            out.append(
                Violation(
                    Rule.BREAK,
                    vid,
                    "",
                    f"break at {got.start} outside {rule.earliest}-{rule.latest}",
                )
            )
        if got.end - got.start < rule.duration:
            out.append(
                Violation(
                    Rule.BREAK, vid, "", f"break of {got.end - got.start}, needs {rule.duration}"
                )
            )
    for got in ordered:
        for start, end, visit in jobs:
            if got.start < end and start < got.end:
                out.append(
                    Violation(
                        Rule.BREAK, vid, visit, f"break {got.start}-{got.end} overlaps the job"
                    )
                )
    return out
