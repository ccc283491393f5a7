"""The route optimiser and its independent checker, on small hand-made days (pure data, no DB)."""

from __future__ import annotations

import math
from dataclasses import replace

from bot.field.routing.check import Rule, check
from bot.field.routing.model import (
    Break,
    BreakTaken,
    Problem,
    Route,
    Solution,
    Stop,
    Vehicle,
    Visit,
    driving,
)
from bot.field.routing.solver import solve

# places 0-1 are two home bases, 2.. are customers on a line east and west of town
POINTS = [(0, 0), (10, 0), (-6, 1), (-5, -2), (-4, 2), (4, 1), (5, -1), (12, 2), (13, -1), (11, 3)]


def day(**changes) -> Problem:
    """Two technicians (gas+electrical, cleaning) from 8:00 to 17:00 with a lunch, eight jobs."""
    cost = tuple(tuple(math.dist(a, b) for b in POINTS) for a in POINTS)
    time = tuple(tuple(math.ceil(d * 2) for d in row) for row in cost)
    lunch = (Break(12 * 60, 13 * 60, 30),)
    vehicles = (
        Vehicle("ana", 8 * 60, 17 * 60, 0, frozenset({"gas", "electrical"}), lunch),
        Vehicle("ben", 8 * 60, 17 * 60, 1, frozenset({"cleaning"}), lunch),
    )
    visits = tuple(
        Visit(
            f"job{p}",
            p,
            60,
            8 * 60,
            16 * 60,
            skill=("cleaning" if p in (7, 8) else "gas" if p in (2, 3) else None),
        )
        for p in range(2, len(POINTS))
    )
    problem = Problem(vehicles=vehicles, visits=visits, time=time, cost=cost, late_penalty=50)
    return replace(problem, **changes)


def test_the_optimiser_keeps_every_rule_of_a_small_day() -> None:
    problem = day()
    found = solve(problem, seconds=1)
    assert check(problem, found) == []
    ana, ben = found.route_of("ana"), found.route_of("ben")
    assert {s.visit for s in ana.stops} >= {"job2", "job3"}  # gas goes to the gas technician
    assert {s.visit for s in ben.stops} >= {"job7", "job8"}
    assert len(ana.breaks) == 1 and len(ben.breaks) == 1


def test_the_optimiser_honours_a_pinned_job_even_when_it_costs_driving() -> None:
    visits = tuple(replace(v, pinned="ben") if v.id == "job4" else v for v in day().visits)
    problem = day(visits=visits)
    found = solve(problem, seconds=1)
    assert check(problem, found) == []
    assert "job4" in {s.visit for s in found.route_of("ben").stops}


def test_the_optimiser_drives_less_than_a_round_robin_day() -> None:
    problem = day()
    found = solve(problem, seconds=1)
    ana_only = [v for v in problem.visits if v.skill != "cleaning"]
    assert driving(problem, found) < sum(problem.cost[0][v.place] * 2 for v in ana_only)


def test_a_job_nobody_is_skilled_for_is_left_unassigned_and_reported() -> None:
    visits = (*day().visits, Visit("roof", 9, 30, 8 * 60, 16 * 60, skill="roofing"))
    problem = day(visits=visits)
    found = solve(problem, seconds=1)
    assert found.unassigned == ("roof",)
    assert [v.rule for v in check(problem, found)] == [Rule.UNASSIGNED]
    assert check(problem, found, allow_unassigned=True) == []


def test_windows_too_tight_for_one_technician_make_a_late_arrival_not_a_failure() -> None:
    # two jobs at 9:00 sharp far apart, only ana can do them: one of them is late
    visits = (
        Visit("a", 2, 60, 9 * 60, 9 * 60, skill="gas"),
        Visit("b", 7, 60, 9 * 60, 9 * 60, skill="gas"),
    )
    problem = day(visits=visits)
    found = solve(problem, seconds=1)
    assert found.unassigned == ()
    assert [v.rule for v in check(problem, found)] == [Rule.LATE]


LUNCH = (BreakTaken(12 * 60, 12 * 60 + 30),)


def _hand_made(problem: Problem, stops: list[Stop], breaks=LUNCH, who="ana") -> Solution:
    return Solution(
        (Route(who, stops[0].arrival - 30, tuple(stops), stops[-1].end + 30, tuple(breaks)),)
    )


def test_the_checker_catches_a_job_given_to_someone_without_the_skill() -> None:
    problem = day(visits=(Visit("gas", 2, 60, 480, 900, skill="gas"),))
    wrong = _hand_made(problem, [Stop("gas", 540, 540, 600)], who="ben")
    assert Rule.SKILL in {v.rule for v in check(problem, wrong)}


def test_the_checker_catches_a_pinned_job_done_by_another_technician() -> None:
    problem = day(visits=(Visit("mine", 5, 60, 480, 900, pinned="ben"),))
    wrong = _hand_made(problem, [Stop("mine", 540, 540, 600)])
    assert {v.rule for v in check(problem, wrong)} == {Rule.PINNED}


def test_the_checker_catches_two_jobs_without_time_to_drive_between_them() -> None:
    problem = day(visits=(Visit("w", 2, 60, 480, 900), Visit("e", 8, 60, 480, 900)))
    wrong = _hand_made(problem, [Stop("w", 540, 540, 600), Stop("e", 605, 605, 665)])
    assert {v.rule for v in check(problem, wrong)} == {Rule.TRAVEL}


def test_the_checker_catches_a_break_over_a_job_and_a_missing_break() -> None:
    problem = day(visits=(Visit("noon", 5, 60, 480, 900),))
    over = _hand_made(problem, [Stop("noon", 720, 720, 780)])
    assert {v.rule for v in check(problem, over)} == {Rule.BREAK}
    skipped = _hand_made(problem, [Stop("noon", 540, 540, 600)], breaks=())
    assert [v.rule for v in check(problem, skipped)] == [Rule.BREAK]


def test_the_checker_catches_a_late_start_an_early_start_and_a_day_past_the_shift() -> None:
    problem = day(visits=(Visit("x", 5, 60, 540, 560), Visit("y", 6, 60, 900, 960)))
    late = _hand_made(problem, [Stop("x", 600, 600, 660), Stop("y", 1000, 1000, 1060)])
    rules = {v.rule for v in check(problem, late)}
    assert rules == {Rule.LATE, Rule.SHIFT}
    early = _hand_made(problem, [Stop("x", 520, 520, 580), Stop("y", 900, 900, 960)])
    assert {v.rule for v in check(problem, early)} == {Rule.EARLY}


def test_the_checker_catches_a_job_done_twice_or_not_at_all() -> None:
    problem = day(visits=(Visit("x", 5, 60, 480, 900), Visit("y", 6, 60, 480, 900)))
    twice = _hand_made(problem, [Stop("x", 540, 540, 600), Stop("x", 640, 640, 700)])
    assert {v.rule for v in check(problem, twice)} == {Rule.TWICE, Rule.UNASSIGNED}


def _plain_day(**changes) -> Problem:
    """The small day without lunch breaks or skills: what PyVRP models (windows aside)."""
    problem = day()
    plain = {
        "vehicles": tuple(replace(v, skills=frozenset(), breaks=()) for v in problem.vehicles),
        "visits": tuple(replace(v, skill=None) for v in problem.visits),
    }
    return replace(problem, **(plain | changes))


def test_a_pure_vrptw_is_solved_by_pyvrp_and_keeps_every_rule() -> None:
    problem = _plain_day(hard_windows=True, late_penalty=0)
    found = solve(problem, seconds=1)
    assert found.solver == "pyvrp"
    assert found.unassigned == ()
    assert check(problem, found) == []


def test_a_day_with_soft_windows_starts_ortools_from_pyvrp_routes() -> None:
    problem = _plain_day()
    found = solve(problem, seconds=2)
    assert found.solver == "pyvrp+ortools"
    assert found.unassigned == ()
    assert check(problem, found) == []


def test_windows_pyvrp_cannot_keep_fall_back_to_ortools_with_one_late_arrival() -> None:
    visits = (Visit("a", 2, 60, 9 * 60, 9 * 60), Visit("b", 7, 60, 9 * 60, 9 * 60))
    vehicles = (Vehicle("ana", 8 * 60, 17 * 60, 0),)
    problem = _plain_day(visits=visits, vehicles=vehicles)
    found = solve(problem, seconds=2)
    assert found.solver == "ortools"
    assert found.unassigned == ()
    assert [v.rule for v in check(problem, found)] == [Rule.LATE]
