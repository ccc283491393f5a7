"""A real day from the database that PyVRP can model (no breaks, every technician able to do
every job) is solved by the portfolio: PyVRP's routes as OR-Tools' start, every rule kept."""

from __future__ import annotations

import re

from bot.config import apply_config, parse_config
from bot.field.routing.check import check
from bot.field.routing.day import as_booked, load_day
from bot.field.routing.model import driving
from bot.field.routing.solver import solve
from storage.db import Database
from tests.field_day import DAY, FIELD, NOW, seed

ALL_SKILLS = 'skills = ["gas", "electrical", "cleaning"]'


def test_a_day_without_breaks_or_skills_starts_ortools_from_pyvrp(db: Database) -> None:
    seed(db)
    plain = re.sub(r"skills = \[[^\]]*\]", ALL_SKILLS, FIELD)
    plain = re.sub(r"breaks = \{[^}]*\}\n", "", plain)
    apply_config(db, parse_config(plain))
    with db.read() as session:
        day = load_day(session, DAY, now=NOW)
        booked = as_booked(session, day)
    assert not any(v.breaks for v in day.problem.vehicles)
    found = solve(day.problem, 2, initial=booked)
    assert found.solver == "pyvrp+ortools"
    assert found.unassigned == ()
    assert check(day.problem, found) == []
    assert driving(day.problem, found) < driving(day.problem, booked)
