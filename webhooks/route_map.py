"""The day's routes as an inline SVG map drawn from coordinates (no tile server, no script).

Each technician gets a colour: a square for the home base, a line through the jobs in
order and back, a numbered circle per job. Coordinates are projected equirectangularly
(longitude scaled by the cosine of the mean latitude), which is true enough across a metro.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from markupsafe import Markup, escape

from bot.field.places import LatLon

PALETTE = ("#1b6ca8", "#c0392b", "#2e8540", "#8e44ad", "#d35400", "#16a085", "#7f6000", "#b03a79")
WIDTH, HEIGHT, PAD = 720, 460, 28


@dataclass(frozen=True)
class MapRoute:
    """What the map needs of one technician: a name, a home, the jobs' points and labels."""

    name: str
    home: LatLon
    points: tuple[LatLon, ...]
    labels: tuple[str, ...]


def colour(index: int) -> str:
    """The colour of the index-th technician."""
    return PALETTE[index % len(PALETTE)]


def route_map(routes: list[MapRoute], *, title: str) -> Markup:
    """An accessible inline SVG of every route."""
    everything = [p for r in routes for p in (r.home, *r.points)]
    if not everything:
        return Markup("")
    mean_lat = sum(p.lat for p in everything) / len(everything)
    squash = math.cos(math.radians(mean_lat))
    xs = [p.lon * squash for p in everything]
    ys = [p.lat for p in everything]
    span = max(max(xs) - min(xs), max(ys) - min(ys), 1e-6)
    scale = min(
        (WIDTH - 2 * PAD) / max(max(xs) - min(xs), span * 0.2),
        (HEIGHT - 2 * PAD) / max(max(ys) - min(ys), span * 0.2),
    )
    left = PAD + ((WIDTH - 2 * PAD) - (max(xs) - min(xs)) * scale) / 2
    top = PAD + ((HEIGHT - 2 * PAD) - (max(ys) - min(ys)) * scale) / 2

    def at(p: LatLon) -> tuple[float, float]:
        return left + (p.lon * squash - min(xs)) * scale, top + (max(ys) - p.lat) * scale

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" '
        f'role="img" aria-labelledby="route-map-title" class="route-map">',
        f'<title id="route-map-title">{escape(title)}</title>',
        f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#f6f7f4" stroke="#d5d8d0"/>',
    ]
    for i, route in enumerate(routes):
        c = colour(i)
        if route.points:
            path = [at(route.home), *(at(p) for p in route.points), at(route.home)]
            points = " ".join(f"{x:.1f},{y:.1f}" for x, y in path)
            parts.append(
                f'<polyline points="{points}" fill="none" stroke="{c}" stroke-width="2.5" '
                f'stroke-linejoin="round" stroke-opacity="0.85"><title>{escape(route.name)}</title></polyline>'
            )
        hx, hy = at(route.home)
        parts.append(
            f'<rect x="{hx - 7:.1f}" y="{hy - 7:.1f}" width="14" height="14" fill="{c}" stroke="#fff" '
            f'stroke-width="2"><title>{escape(route.name)}: home base</title></rect>'
        )
        for n, (p, label) in enumerate(zip(route.points, route.labels, strict=False), start=1):
            x, y = at(p)
            parts.append(
                f"<g><title>{escape(route.name)} {n}: {escape(label)}</title>"
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="9" fill="#fff" stroke="{c}" stroke-width="2.5"/>'
                f'<text x="{x:.1f}" y="{y + 3.5:.1f}" text-anchor="middle" font-size="10" '
                f'font-family="sans-serif" font-weight="bold" fill="{c}">{n}</text></g>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))
