"""The `[travel]` settings: how places are found and how travel time is worked out.

Pure data, read from business.toml by bot.config and from `Business.settings["travel"]`
by bot.config.context (everything else reads `business_context(session).travel`); this module
imports nothing of slotbot so bot.config can use it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_ROAD_FACTOR = 1.3  # roads are this much longer than the straight line
DEFAULT_AVERAGE_KMH = 40.0  # door to door in a metro area, parking included
_WEB_ADDRESS = r"^https?://"


class TravelConfig(BaseModel):
    """How far and how long between two places.

    By default everything is offline: addresses by postal-code centroid, travel as the
    straight line × `road_factor` at `average_kmh`. `routing_url` names an OSRM-compatible
    server (…/route/v1/driving/…); `geocoder` a geopy service name ("nominatim",
    "googlev3", "mapbox" …) with `geocoder_key` its API key (`geocoder_url` its domain,
    for a self-hosted one).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    road_factor: float = Field(DEFAULT_ROAD_FACTOR, ge=1, le=3)
    average_kmh: float = Field(DEFAULT_AVERAGE_KMH, ge=5, le=130)
    routing_url: str | None = Field(None, pattern=_WEB_ADDRESS)
    routing_timeout_seconds: float = Field(2.0, ge=0.1, le=30)
    geocoder: str | None = None
    geocoder_key: str | None = None
    geocoder_url: str | None = Field(None, pattern=_WEB_ADDRESS)


def travel_from_settings(settings: Mapping[str, Any] | None) -> TravelConfig:
    """TravelConfig validated from `Business.settings` (defaults where a key is missing)."""
    return TravelConfig.model_validate((settings or {}).get("travel") or {})
