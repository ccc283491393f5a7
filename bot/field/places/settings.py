"""The `[travel]` settings: how places are found and how travel time is worked out.

Pure data, read from business.toml by bot.config and from `Business.settings["travel"]`
by everything else; this module imports nothing of slotbot so bot.config can use it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

DEFAULT_ROAD_FACTOR = 1.3  # roads are this much longer than the straight line
DEFAULT_AVERAGE_KMH = 40.0  # door to door in a metro area, parking included


@dataclass(frozen=True)
class TravelConfig:
    """How far and how long between two places.

    By default everything is offline: addresses by postal-code centroid, travel as the
    straight line × `road_factor` at `average_kmh`. `routing_url` names an OSRM-compatible
    server (…/route/v1/driving/…); `geocoder` a geopy service name ("nominatim",
    "googlev3", "mapbox" …) with `geocoder_key` its API key (`geocoder_url` its domain,
    for a self-hosted one).
    """

    road_factor: float = DEFAULT_ROAD_FACTOR
    average_kmh: float = DEFAULT_AVERAGE_KMH
    routing_url: str | None = None
    routing_timeout_seconds: float = 2.0
    geocoder: str | None = None
    geocoder_key: str | None = None
    geocoder_url: str | None = None


def travel_from_settings(settings: Mapping[str, Any] | None) -> TravelConfig:
    """Rebuild TravelConfig from `Business.settings`; missing or unknown keys are ignored."""
    data = (settings or {}).get("travel") or {}
    known = {f.name for f in fields(TravelConfig)}
    return TravelConfig(**{name: value for name, value in data.items() if name in known})
