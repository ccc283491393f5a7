"""Reading a Solomon VRPTW instance (the standard reference benchmark) into a routing Problem."""

from __future__ import annotations

import math
from pathlib import Path

from bot.field.routing.model import Problem, Vehicle, Visit

SCALE = 100  # Solomon times and distances are scaled by this to integers (two decimals kept)


def read(path: Path) -> Problem:
    """The instance in `path` as a Problem: hard windows, Euclidean unrounded cost, one vehicle pool."""
    lines = path.read_text().splitlines()
    fleet = next(i for i, line in enumerate(lines) if line.strip().startswith("NUMBER"))
    count, capacity = (int(x) for x in lines[fleet + 1].split())
    rows = [
        [float(x) for x in line.split()]
        for line in lines[fleet + 2 :]
        if line.strip() and line.split()[0].isdigit()
    ]
    points = [(row[1], row[2]) for row in rows]
    cost = tuple(tuple(math.dist(a, b) for b in points) for a in points)
    time = tuple(tuple(round(d * SCALE) for d in row) for row in cost)
    depot = rows[0]
    vehicles = tuple(
        Vehicle(
            id=f"v{k + 1}",
            start=int(depot[4]) * SCALE,
            end=int(depot[5]) * SCALE,
            home=0,
            capacity=capacity,
        )
        for k in range(count)
    )
    visits = tuple(
        Visit(
            id=str(int(row[0])),
            place=i,
            duration=int(row[6]) * SCALE,
            earliest=int(row[4]) * SCALE,
            latest=int(row[5]) * SCALE,
            demand=int(row[3]),
        )
        for i, row in enumerate(rows)
        if i > 0
    )
    return Problem(
        vehicles=vehicles,
        visits=visits,
        time=time,
        cost=cost,
        hard_windows=True,
        vehicle_fixed_cost=10_000,
    )
