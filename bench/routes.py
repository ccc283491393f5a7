"""Benchmark: the route optimiser on the Solomon VRPTW reference instances and a field day.

Solomon C101 and C104 (from ../shared/data/solomon/, skipped with a message when absent):
vehicles, total Euclidean distance and the gap to the best known result, within a time budget
per instance, one line each, solved as the product solves them (`bot.field.routing.solver.solve`: a
pure VRPTW like these goes to PyVRP); `--solver ortools` and `--solver pyvrp` run one solver
alone, the comparison behind that portfolio (README, "Why OR-Tools and PyVRP"). The busiest
day of the demo field business (60 jobs, 8 technicians) is measured when that demo is
available: optimisation time and total driving as booked and after, with every constraint
checked by bot/field/routing/check.py.

    .venv/bin/python bench/routes.py                     # as slotbot solves, 10 s per instance
    .venv/bin/python bench/routes.py --solver ortools --skip-day
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.bootstrap import bootstrap  # noqa: E402
from bot.config import apply_config, load_config  # noqa: E402
from bot.field.places.demo import EXAMPLES_DIR, seed_busiest_day  # noqa: E402
from bot.field.routing import hgs, solomon, solver  # noqa: E402
from bot.field.routing.check import check  # noqa: E402
from bot.field.routing.day import as_booked, load_day  # noqa: E402
from bot.field.routing.model import Solution, driving, driving_time  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
# ../shared/data/solomon from the checkout (a worktree one level deeper looks one more up)
CANDIDATES = [
    ROOT.parent / "shared" / "data" / "solomon",
    ROOT.parent.parent / "shared" / "data" / "solomon",
]
SOLOMON = next((c for c in CANDIDATES if c.is_dir()), CANDIDATES[0])
BEST_KNOWN = {"C101": (10, 828.94), "C104": (10, 824.78)}
# slotbot: what the product runs (bot.field.routing.solver.solve picks PyVRP for a pure VRPTW such
# as Solomon); ortools and pyvrp: each solver alone, the comparison behind that choice.
SOLVERS = {
    "slotbot": solver.solve,
    "ortools": solver.solve_ortools,
    "pyvrp": lambda problem, seconds: hgs.solve(problem, seconds) or Solution(()),
}


def solomon_lines(seconds: float, which: str, folder: Path = SOLOMON) -> list[str]:
    """One line per Solomon instance, or a single line saying why none ran."""
    if not folder.is_dir():
        return [f"Solomon instances not found in {folder}; skipped."]
    lines = []
    for name, (_, best) in BEST_KNOWN.items():
        path = folder / f"{name.lower()}.txt"
        if not path.exists():
            lines.append(f"{name}: not found in {folder}; skipped.")
            continue
        problem = solomon.read(path)
        found = SOLVERS[which](problem, seconds)
        broken = check(problem, found)
        used = sum(1 for r in found.routes if r.stops)
        distance = driving(problem, found)
        gap = (distance - best) / best * 100
        gap = 0.0 if abs(gap) < 0.005 else gap  # no "-0.00%" from rounding
        line = f"{name}: vehicles {used}, distance {distance:.2f}, gap {gap:.2f}% to best known {best:.2f}"
        if broken:
            line += f" ({len(broken)} broken rules: {broken[0]})"
        lines.append(line)
    return lines


def busiest_day_lines(seconds: float, day: date) -> list[str]:
    """The demo field business's busiest day: time, driving before and after, rules kept."""
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.db"
        upgrade(url)
        db = Database(url)
        apply_config(db, load_config(EXAMPLES_DIR / "field-service" / "business.toml"))
        now = datetime.combine(day - timedelta(days=1), clock_time(23), ZoneInfo("UTC"))
        with db.write() as session:
            seed_busiest_day(session, day, now=now - timedelta(days=7))
        with db.read() as session:
            began = time.perf_counter()
            loaded = load_day(session, day, now=now)
            booked = as_booked(session, loaded)
            found = solver.solve(loaded.problem, seconds, initial=booked)
            took = time.perf_counter() - began
            broken = check(loaded.problem, found)
        db.dispose()
    jobs, techs = len(loaded.problem.visits), len(loaded.problem.vehicles)
    before_min, after_min = (
        driving_time(loaded.problem, booked),
        driving_time(loaded.problem, found),
    )
    before_km, after_km = driving(loaded.problem, booked), driving(loaded.problem, found)
    booked_broken = check(loaded.problem, booked)
    return [
        f"busiest day {day}: {jobs} jobs x {techs} technicians, optimised in {took:.1f} s "
        f"(solver budget {seconds:g} s)",
        f"  driving as booked {before_min} min / {before_km:.1f} km -> after {after_min} min / "
        f"{after_km:.1f} km: {(before_min - after_min) / before_min * 100:.1f}% less time, "
        f"{(before_km - after_km) / before_km * 100:.1f}% less distance",
        f"  checker: {len(broken)} broken rules after ({', '.join(sorted({v.rule for v in broken})) or 'none'}); "
        f"as booked {len(booked_broken)} ({', '.join(sorted({v.rule for v in booked_broken})) or 'none'})",
    ]


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its lines."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="budget per Solomon instance")
    parser.add_argument("--solver", choices=sorted(SOLVERS), default="slotbot")
    parser.add_argument(
        "--solomon", type=Path, default=SOLOMON, help="folder of c101.txt, c104.txt"
    )
    parser.add_argument("--skip-solomon", action="store_true")
    parser.add_argument("--skip-day", action="store_true", help="only the Solomon instances")
    parser.add_argument("--day-seconds", type=float, default=4.0, help="solver budget, busiest day")
    parser.add_argument("--day", type=date.fromisoformat, default=date(2026, 12, 8))
    args = parser.parse_args(argv)
    bootstrap()  # seeding the busiest day books through the slot engine, which publishes events
    if not args.skip_solomon:
        for line in solomon_lines(args.seconds, args.solver, args.solomon):
            print(line, flush=True)
    if not args.skip_day:
        for line in busiest_day_lines(args.day_seconds, args.day):
            print(line, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
