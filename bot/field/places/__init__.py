"""Places for on-site work: coordinates for every visit and the travel time between them.

`geo` (LatLon, distance), `postal` (offline ZIP centroids), `geocode` (addresses to
coordinates, cached in the `place` table; shared pins), `travel` (drive time, estimated or
routed), `settings` (the `[travel]` section) and `demo` (the field-service example).
"""

from bot.field.places.geo import LatLon, PlaceSource, haversine_km
from bot.field.places.geocode import Located, address_key, geocode, locate, located, place_from_pin
from bot.field.places.settings import TravelConfig, travel_from_settings
from bot.field.places.travel import Travel, TravelSource, estimate, travel

__all__ = [
    "LatLon",
    "Located",
    "PlaceSource",
    "Travel",
    "TravelConfig",
    "TravelSource",
    "address_key",
    "estimate",
    "geocode",
    "haversine_km",
    "locate",
    "located",
    "place_from_pin",
    "travel",
    "travel_from_settings",
]
