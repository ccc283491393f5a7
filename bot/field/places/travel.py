"""Travel time and distance between two places, and where each figure came from.

By default an estimate: the straight line × the road factor at the average speed, offline
and instant. With `routing_url` set, an OSRM-compatible server is asked
(`GET {url}/route/v1/driving/{lon},{lat};{lon},{lat}?overview=false`); when it fails or
answers nonsense the estimate is used, so a routing outage never stops bookings.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

import httpx

from bot.field.places.geo import LatLon, haversine_km
from bot.field.places.settings import TravelConfig

log = logging.getLogger(__name__)
_ROUTE_CACHE = 4096


class TravelSource(StrEnum):
    """Where a travel figure came from."""

    ESTIMATED = "estimated"  # straight line × road factor at the average speed
    ROUTED = "routed"  # a routing service's answer


@dataclass(frozen=True)
class Travel:
    """How long (whole minutes, rounded up) and how far (km) from one place to another."""

    minutes: int
    km: float
    source: TravelSource


def estimate(a: LatLon, b: LatLon, settings: TravelConfig) -> Travel:
    """The offline figure: straight-line distance × road factor at the average speed."""
    km = haversine_km(a, b) * settings.road_factor
    minutes = math.ceil(km / settings.average_kmh * 60 - 1e-9) if km > 0 else 0
    return Travel(minutes=max(0, minutes), km=round(km, 3), source=TravelSource.ESTIMATED)


@lru_cache(maxsize=_ROUTE_CACHE)
def _routed(
    url: str, timeout: float, a: tuple[float, float], b: tuple[float, float]
) -> tuple[int, float] | None:
    """(minutes, km) from an OSRM-compatible server; None when it cannot say."""
    path = f"{url.rstrip('/')}/route/v1/driving/{a[1]:.6f},{a[0]:.6f};{b[1]:.6f},{b[0]:.6f}"
    try:
        response = httpx.get(path, params={"overview": "false"}, timeout=timeout)
        response.raise_for_status()
        body = response.json()
        route = body["routes"][0]
        seconds, metres = float(route["duration"]), float(route["distance"])
    except (httpx.HTTPError, ValueError, KeyError, IndexError, TypeError) as exc:
        log.warning("routing service failed, using the estimate: %s", exc)
        return None
    if body.get("code", "Ok") != "Ok" or not (
        math.isfinite(seconds) and math.isfinite(metres) and seconds >= 0 and metres >= 0
    ):
        return None
    return math.ceil(seconds / 60 - 1e-9), round(metres / 1000, 3)


def travel(a: LatLon, b: LatLon, settings: TravelConfig) -> Travel:
    """From `a` to `b`: routed when a routing service is configured and answers."""
    if a == b:
        return Travel(
            0, 0.0, TravelSource.ROUTED if settings.routing_url else TravelSource.ESTIMATED
        )
    if settings.routing_url:
        found = _routed(
            settings.routing_url, settings.routing_timeout_seconds, (a.lat, a.lon), (b.lat, b.lon)
        )
        if found is not None:
            return Travel(minutes=found[0], km=found[1], source=TravelSource.ROUTED)
    return estimate(a, b, settings)
