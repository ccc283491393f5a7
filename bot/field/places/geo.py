"""Coordinates and straight-line distance: `LatLon`, `haversine_km`, a pin from a channel."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

EARTH_RADIUS_KM = 6371.0088


class PlaceSource(StrEnum):
    """How a place's coordinates were found, best first."""

    PIN = "pin"  # a location the customer shared: exact
    GEOCODER = "geocoder"  # a configured geocoding service
    POSTAL_CODE = "postal_code"  # the postal code's centroid: good to a few km


@dataclass(frozen=True)
class LatLon:
    """A point on the map in decimal degrees (WGS 84)."""

    lat: float
    lon: float

    def __post_init__(self) -> None:
        if not (-90.0 <= self.lat <= 90.0 and -180.0 <= self.lon <= 180.0):
            raise ValueError(f"not a place on Earth: {self.lat}, {self.lon}")


def haversine_km(a: LatLon, b: LatLon) -> float:
    """The great-circle distance between two points, in kilometres."""
    lat1, lon1, lat2, lon2 = map(math.radians, (a.lat, a.lon, b.lat, b.lon))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))
