"""Where an on-site visit is, in a booking dialogue: a shared pin or the geocoded address,
and how a field visit's time reads (an arrival window, "between 8 and 10 AM").

A field team's services (on-site, done by staff with a home base) need the place before
times are offered — the slot engine leaves room to drive there — so the address is asked
first, and one nobody can find on the map is asked again. Other on-site services (the
salon's home visit) keep asking for the address after the time; their visits get
coordinates whenever the address can be found.
"""

from __future__ import annotations

from datetime import datetime

from bot.core.text import N_
from bot.field.places import LatLon, Located, geocode, located, place_from_pin
from bot.field.places.windows import format_window, window_for
from conversations.flows.draft import draft_of
from conversations.turn import Turn
from storage.models import Appointment, Service

NOT_ON_MAP = N_(
    "I couldn't find that address on the map. Could you check it and add the ZIP code "
    "(or share your location)?"
)


def is_field_visit(turn: Turn, service: Service) -> bool:
    """Whether the service sends a field technician: on-site, done by staff with a home base."""
    return service.on_site and any(
        member.home_lat is not None for member in turn.staff_for(service)
    )


def take_pin(turn: Turn) -> bool:
    """Keep a location the customer shared for the visit; False when there is none."""
    location = turn.inbound.location
    if location is None:
        return False
    try:
        pin = place_from_pin(location.latitude, location.longitude)
    except (TypeError, ValueError):
        return False
    draft_of(turn).pin = (pin.lat, pin.lon)
    return True


def has_place(turn: Turn) -> bool:
    """Whether the visit's place is known: a shared pin or an address on file."""
    return bool(draft_of(turn).pin) or bool(turn.customer.address)


def field_place_known(turn: Turn) -> bool:
    """For a field visit: a shared pin, or an address on file that is on the map."""
    if draft_of(turn).pin:
        return True
    return bool(turn.customer.address) and on_the_map(turn, turn.customer.address or "")


def visit_place(turn: Turn, service: Service) -> Located | None:
    """The visit's coordinates: the shared pin, else the customer's geocoded address."""
    if not service.on_site:
        return None
    pin = draft_of(turn).pin
    if pin:
        return place_from_pin(pin[0], pin[1])
    if not turn.customer.address:
        return None
    place = geocode(turn.session, turn.customer.address, turn.business.travel)
    return located(place) if place is not None else None


def visit_point(turn: Turn, service: Service) -> LatLon | None:
    """The visit's coordinates alone, for the slot engine."""
    place = visit_place(turn, service)
    return place.point if place is not None else None


def visit_point_of(appointment: Appointment) -> LatLon | None:
    """A booked visit's coordinates, when known (moving it keeps room to drive)."""
    if appointment.lat is None or appointment.lon is None:
        return None
    return LatLon(appointment.lat, appointment.lon)


def on_the_map(turn: Turn, address: str) -> bool:
    """Whether an address can be found on the map (and cache it when it can)."""
    return geocode(turn.session, address, turn.business.travel) is not None


def when_text(turn: Turn, service: Service, start: datetime) -> str:
    """A visit's time as promised: an arrival window when the service has them."""
    if not service.window_minutes:
        return turn.when(start)
    opens, closes = window_for(turn.session, start, service.window_minutes, turn.business.zone)
    return format_window(opens, closes, turn.business.zone, turn.business.locale)


def where_text(turn: Turn) -> str | None:
    """Where the visit is, for the confirmation summary."""
    if turn.customer.address:
        return turn.customer.address
    return "the location you shared" if draft_of(turn).pin else None
