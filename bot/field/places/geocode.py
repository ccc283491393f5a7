"""Addresses to coordinates, cached in the `place` table.

Offline by default (the postal code's centroid); a configured geopy geocoder is asked
first when there is one, falling back to the centroid when it fails or finds nothing.
Every answer is cached on the normalised address, so a customer's address costs one
lookup ever. A shared map pin needs no lookup: `place_from_pin`.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from geopy.exc import GeopyError
from geopy.geocoders import get_geocoder_for_service
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.core.clock import utcnow
from bot.field.places.geo import LatLon, PlaceSource
from bot.field.places.postal import postal_centroid
from bot.field.places.settings import TravelConfig
from storage.models import Customer, Place

log = logging.getLogger(__name__)
MAX_KEY = 500
USER_AGENT = "slotbot (https://github.com/slotbot/slotbot)"


@dataclass(frozen=True)
class Located:
    """Where a visit is, and how we know: a pin, a geocoder or a postal-code centroid."""

    lat: float
    lon: float
    source: PlaceSource

    @property
    def point(self) -> LatLon:
        """The coordinates alone."""
        return LatLon(self.lat, self.lon)


def address_key(address: str) -> str:
    """The cache key of an address: case, punctuation and spacing do not matter."""
    folded = unicodedata.normalize("NFKC", address).casefold()
    return " ".join(re.sub(r"[^\w]+", " ", folded).split())[:MAX_KEY]


def place_from_pin(lat: float, lon: float) -> Located:
    """A location the customer shared (Telegram, WhatsApp): exact, no lookup needed."""
    point = LatLon(float(lat), float(lon))
    return Located(point.lat, point.lon, PlaceSource.PIN)


def located(place: Place) -> Located:
    """A cached place as a `Located`."""
    return Located(place.lat, place.lon, PlaceSource(place.source))


def _ask_geocoder(address: str, settings: TravelConfig) -> LatLon | None:
    """The configured geopy geocoder's answer; None when it fails or finds nothing."""
    assert settings.geocoder is not None
    try:
        geocoder_class = get_geocoder_for_service(settings.geocoder)
    except GeopyError:
        log.warning("unknown geocoder %r; using postal codes", settings.geocoder)
        return None
    options: dict[str, object] = {"timeout": 5}
    if settings.geocoder_key:
        options["api_key"] = settings.geocoder_key
    if settings.geocoder_url:
        parts = urlsplit(settings.geocoder_url)
        options["domain"] = parts.netloc + parts.path.rstrip("/")
        options["scheme"] = parts.scheme or "https"
    if settings.geocoder == "nominatim":
        options["user_agent"] = USER_AGENT
    try:
        found = geocoder_class(**options).geocode(address, exactly_one=True)
    except (GeopyError, TypeError, ValueError, OSError) as exc:
        log.warning("geocoder %s failed for an address: %s", settings.geocoder, exc)
        return None
    if found is None:
        return None
    try:
        return LatLon(float(found.latitude), float(found.longitude))
    except (TypeError, ValueError):
        return None


def _look_up(address: str, settings: TravelConfig) -> tuple[LatLon, PlaceSource] | None:
    if settings.geocoder:
        point = _ask_geocoder(address, settings)
        if point is not None:
            return point, PlaceSource.GEOCODER
    point = postal_centroid(address)
    return (point, PlaceSource.POSTAL_CODE) if point is not None else None


def geocode(
    session: Session, address: str, settings: TravelConfig, *, now: datetime | None = None
) -> Place | None:
    """The cached place for `address`, looked up on first use; None when nobody knows it.

    A figure cached from a postal code is looked up again once a geocoder is configured.
    """
    key = address_key(address)
    if not key:
        return None
    cached = session.scalar(select(Place).where(Place.address_key == key))
    if cached is not None and not (settings.geocoder and cached.source == PlaceSource.POSTAL_CODE):
        return cached
    found = _look_up(address, settings)
    if found is None:
        return cached
    point, source = found
    if cached is not None:
        if source == PlaceSource.GEOCODER:
            cached.lat, cached.lon, cached.source = point.lat, point.lon, source
        return cached
    place = Place(
        address_key=key,
        address=address.strip()[:2000],
        lat=point.lat,
        lon=point.lon,
        source=source,
        created_at=now or utcnow(),
    )
    try:
        with session.begin_nested():
            session.add(place)
            session.flush()
    except IntegrityError:
        # Another worker cached the same address a moment ago: theirs is as good.
        return session.scalar(select(Place).where(Place.address_key == key))
    return place


def locate(
    session: Session,
    settings: TravelConfig,
    *,
    address: str | None = None,
    pin: LatLon | None = None,
) -> Located | None:
    """Where a visit is: the shared pin when there is one, else the geocoded address."""
    if pin is not None:
        return place_from_pin(pin.lat, pin.lon)
    if address:
        place = geocode(session, address, settings)
        if place is not None:
            return located(place)
    return None


def customer_location(session: Session, customer_id: int, settings: TravelConfig) -> Located | None:
    """Where a customer's visits are: their address on file, geocoded (None if unknown)."""
    customer = session.get(Customer, customer_id)
    if customer is None or not customer.address:
        return None
    place = geocode(session, customer.address, settings)
    return located(place) if place is not None else None
