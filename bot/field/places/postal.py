"""Offline geocoding by postal code: the centroid of a US ZIP code found in an address.

The `zipcodes` package ships the US postal codes with their centroids; a centroid is good
to a few kilometres, enough to plan a day's driving. Pure: no database, no network.
"""

from __future__ import annotations

import re

import zipcodes

from bot.field.places.geo import LatLon

# A ZIP or ZIP+4 standing alone; the last one in an address is the postal code (street
# numbers come first: "12345 Main St, Austin, TX 78701").
_ZIP = re.compile(r"(?<![\d-])(\d{5})(?:-\d{4})?(?![\d-])")


def postal_code_in(address: str) -> str | None:
    """The last five-digit US postal code written in `address`, if any."""
    found = _ZIP.findall(address)
    return found[-1] if found else None


def postal_centroid(address: str) -> LatLon | None:
    """The centroid of the address's US postal code; None when it has no known one."""
    code = postal_code_in(address)
    if code is None:
        return None
    try:
        matches = zipcodes.matching(code)
    except (TypeError, ValueError):
        return None
    for match in matches:
        try:
            return LatLon(float(match["lat"]), float(match["long"]))
        except (KeyError, TypeError, ValueError):
            continue
    return None
