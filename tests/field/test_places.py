"""Places: addresses to coordinates (postal code, geocoder, cache), pins, travel times."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.config import parse_config
from bot.core.errors import ConfigError
from bot.field.places import (
    LatLon,
    PlaceSource,
    TravelConfig,
    TravelSource,
    address_key,
    estimate,
    geocode,
    haversine_km,
    locate,
    place_from_pin,
    travel,
    travel_from_settings,
)
from bot.field.places.postal import postal_centroid, postal_code_in
from storage.db import Database
from storage.models import Business, Place, Staff
from tests.factories import salon_toml, setup_business
from tests.fakes.geo_services import fake_maps

LOOP = LatLon(41.8786, -87.6251)  # Chicago, the Loop
EVANSTON = LatLon(42.0451, -87.6877)
DEFAULTS = TravelConfig()


def test_the_postal_code_is_the_last_five_digit_number_of_an_address() -> None:
    assert postal_code_in("12345 Main St, Austin, TX 78701") == "78701"
    assert postal_code_in("1 Infinite Loop, Cupertino CA 95014-2083") == "95014"
    assert postal_code_in("Flat 2, 10 High Street") is None


def test_a_us_postal_code_gives_its_centroid_good_to_a_few_km() -> None:
    point = postal_centroid("214 Grand St, New York, NY 10013")
    assert point is not None
    assert haversine_km(point, LatLon(40.7193, -73.9969)) < 3  # 214 Grand St itself


def test_an_unknown_postal_code_gives_nothing() -> None:
    assert postal_centroid("1 Nowhere Rd, Atlantis 99999") is None


def test_addresses_that_differ_only_in_case_and_punctuation_share_a_cache_key() -> None:
    assert address_key("12 Oak St., Evanston, IL 60201") == address_key(
        "12 oak st evanston IL  60201"
    )


def test_a_postal_code_address_is_geocoded_once_and_cached(db: Database) -> None:
    setup_business(db)
    with db.write() as session:
        place = geocode(session, "12 Oak St, Evanston, IL 60201", DEFAULTS)
        assert place is not None and place.source == PlaceSource.POSTAL_CODE
        again = geocode(session, "12 oak st. evanston il 60201", DEFAULTS)
        assert again is not None and again.id == place.id
        assert session.scalar(select(func.count()).select_from(Place)) == 1
    assert haversine_km(LatLon(place.lat, place.lon), EVANSTON) < 5


def test_an_address_nobody_knows_is_not_found(db: Database) -> None:
    setup_business(db)
    with db.write() as session:
        assert geocode(session, "the blue house past the church", DEFAULTS) is None
        assert locate(session, DEFAULTS, address="somewhere nice") is None


def test_a_shared_pin_wins_over_the_address_and_says_so(db: Database) -> None:
    setup_business(db)
    with db.write() as session:
        found = locate(session, DEFAULTS, address="12 Oak St, Evanston, IL 60201", pin=LOOP)
    assert found == place_from_pin(LOOP.lat, LOOP.lon)
    assert found is not None and found.source == PlaceSource.PIN and found.point == LOOP


def test_a_pin_off_the_earth_is_refused() -> None:
    with pytest.raises(ValueError):
        place_from_pin(91.0, 0.0)


def test_a_configured_geocoder_is_asked_first_and_its_answer_cached(db: Database) -> None:
    setup_business(db)
    with fake_maps() as maps:
        maps.addresses["5 Elm Ct, Evanston, IL 60201"] = (42.05, -87.69)
        settings = TravelConfig(geocoder="nominatim", geocoder_url=maps.url)
        with db.write() as session:
            place = geocode(session, "5 Elm Ct, Evanston, IL 60201", settings)
            assert place is not None and place.source == PlaceSource.GEOCODER
            assert (place.lat, place.lon) == (42.05, -87.69)
            geocode(session, "5 Elm Ct, Evanston, IL 60201", settings)
        assert len(maps.calls) == 1


def test_a_failing_geocoder_falls_back_to_the_postal_code(db: Database) -> None:
    setup_business(db)
    with fake_maps() as maps:
        maps.fail()
        settings = TravelConfig(geocoder="nominatim", geocoder_url=maps.url)
        with db.write() as session:
            place = geocode(session, "9 Ash Ave, Evanston, IL 60201", settings)
    assert place is not None and place.source == PlaceSource.POSTAL_CODE


def test_the_estimate_is_the_straight_line_times_the_road_factor_at_the_average_speed() -> None:
    found = estimate(LOOP, EVANSTON, DEFAULTS)
    straight = haversine_km(LOOP, EVANSTON)
    assert found.source == TravelSource.ESTIMATED
    assert found.km == pytest.approx(straight * 1.3, abs=0.01)
    assert found.minutes == pytest.approx(straight * 1.3 / 40 * 60, abs=1)
    slower = estimate(LOOP, EVANSTON, TravelConfig(road_factor=1.5, average_kmh=20))
    assert slower.minutes > found.minutes
    assert travel(LOOP, LOOP, DEFAULTS).minutes == 0


def test_a_routing_service_gives_routed_figures_and_a_failure_falls_back() -> None:
    with fake_maps() as maps:
        routed = travel(LOOP, EVANSTON, TravelConfig(routing_url=maps.url))
        assert routed.source == TravelSource.ROUTED
        assert routed.km == pytest.approx(haversine_km(LOOP, EVANSTON) * 1.5, abs=0.01)
        maps.fail()
        other = LatLon(41.95, -87.65)
        fallback = travel(LOOP, other, TravelConfig(routing_url=maps.url))
    assert fallback.source == TravelSource.ESTIMATED
    assert fallback == estimate(LOOP, other, DEFAULTS)


def test_an_unreachable_routing_service_falls_back_to_the_estimate() -> None:
    settings = TravelConfig(routing_url="http://127.0.0.1:9", routing_timeout_seconds=0.5)
    assert travel(EVANSTON, LOOP, settings) == estimate(EVANSTON, LOOP, settings)


FIELD = """
[business]
name = "Fixit"
timezone = "America/Chicago"
currency = "USD"

[hours]
mon = "08:00-18:00"

[travel]
road_factor = 1.4
average_kmh = 35

[[services]]
key = "boiler"
name = "Boiler service"
duration_minutes = 90
price = "150.00"
location = "on_site"
skill = "gas"
window_minutes = 120
staff = "*"

[[staff]]
key = "gus"
name = "Gus"
skills = ["gas"]
home_address = "1 Main St, Evanston, IL 60201"

[[staff]]
key = "ed"
name = "Ed"
skills = ["electrical"]
home_lat = 41.9
home_lon = -87.7
"""


def test_the_travel_section_skills_and_home_bases_are_read_from_business_toml() -> None:
    cfg = parse_config(FIELD)
    assert cfg.travel == TravelConfig(road_factor=1.4, average_kmh=35.0)
    gus, ed = cfg.staff
    assert gus.services == ["boiler"] and ed.services == []  # only the gas fitter does gas
    assert haversine_km(LatLon(gus.home_lat, gus.home_lon), EVANSTON) < 5
    assert (ed.home_lat, ed.home_lon) == (41.9, -87.7)
    service = cfg.service("boiler")
    assert (service.skill, service.window_minutes, service.outdoor) == ("gas", 120, False)


def test_the_salon_needs_no_travel_section() -> None:
    assert parse_config(salon_toml()).travel == TravelConfig()


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (("road_factor = 1.4", "road_factor = 7"), "travel.road_factor"),
        (
            ('home_address = "1 Main St, Evanston, IL 60201"', 'home_address = "1 Main St"'),
            "staff[gus].home_address",
        ),
        (('staff = "*"', 'staff = ["ed"]'), "services[0].staff"),
        (("home_lon = -87.7", ""), "staff[ed].home_lat"),
        (("window_minutes = 120", "window_minutes = 5"), "services[0].window_minutes"),
    ],
)
def test_a_bad_travel_or_home_setting_is_refused_naming_the_field(
    change: tuple[str, str], path: str
) -> None:
    with pytest.raises(ConfigError) as error:
        parse_config(FIELD.replace(*change))
    assert error.value.field == path


def test_travel_settings_survive_the_trip_through_the_database(db: Database) -> None:
    setup_business(db, FIELD)
    with db.read() as session:
        business = session.get(Business, 1)
        assert business is not None
        assert travel_from_settings(business.settings) == TravelConfig(
            road_factor=1.4, average_kmh=35.0
        )
        gus = session.scalars(select(Staff).where(Staff.key == "gus")).one()
        assert gus.skills == ["gas"] and gus.home_lat is not None
