"""The field-service example: its business, its busiest day, and booking a visit by chat
(address or shared pin first, unknown addresses asked again, arrival windows offered)."""

from __future__ import annotations

import itertools
import subprocess
import sys
import zlib
from datetime import date
from itertools import pairwise
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.config import apply_config, load_config
from bot.field.places import LatLon, PlaceSource, TravelConfig, travel
from bot.field.places.demo import EXAMPLES_DIR, JOBS, customers_csv, seed_busiest_day
from bot.messaging.messages import Inbound, Location, Reply
from storage.db import Database
from storage.models import CANCELLED, Appointment, Customer, Staff
from tests.conftest import ROOT
from tests.dialogue import Chat
from tests.factories import local

EXAMPLE = EXAMPLES_DIR / "field-service" / "business.toml"
ZONE = "America/Chicago"
NOW = local("2026-12-07 09:00", ZONE)  # Monday morning; "tomorrow" is a working Tuesday
BUSIEST = date(2026, 12, 8)
_pins = itertools.count(1)


class FieldChat(Chat):
    """A customer of the field-service business, who can also share a map pin."""

    def share_location(self, lat: float, lon: float) -> list[Reply]:
        """Send a location pin, as Telegram and WhatsApp deliver one."""
        self.transcript.append(f"> [pin {lat}, {lon}]")
        self.replies = self.engine.handle(
            Inbound(
                channel=self.channel,
                sender=self.sender,
                location=Location(lat, lon),
                provider_id=f"pin-{next(_pins)}",
                received_at=self.now,
            )
        )
        self.transcript += [reply.text for reply in self.replies]
        return self.replies


@pytest.fixture
def field(db: Database) -> Database:
    apply_config(db, load_config(EXAMPLE))
    return db


@pytest.fixture
def chat(field: Database) -> FieldChat:
    return FieldChat(field, NOW, sender="visitor-field-1")


def slotbot(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "webhooks.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def booked(db: Database) -> list[Appointment]:
    with db.read() as session:
        return list(session.scalars(select(Appointment).where(Appointment.status != CANCELLED)))


# --- the example ---------------------------------------------------------------------


def test_init_writes_the_field_service_example_which_validates_and_seeds(tmp_path: Path) -> None:
    folder = tmp_path / "lakeshore"
    made = slotbot("init", "--example", "field-service", str(folder))
    assert made.returncode == 0, made.stderr
    config = folder / "business.toml"
    assert "SLOTBOT_CONFIG=" in made.stdout
    checked = slotbot("config", "check", str(config))
    assert checked.returncode == 0, checked.stderr
    assert "Lakeshore Home Services" in checked.stdout and "8 staff" in checked.stdout
    assert (folder / "customers.csv").read_text() == customers_csv()
    url = f"sqlite:///{tmp_path / 'field.db'}"
    seeded = slotbot("--config", str(config), "--database", url, "seed", "field-service",
                     "--day", "2026-12-08")  # fmt: skip
    assert seeded.returncode == 0, seeded.stderr
    assert "60 jobs for 8 technicians on Tue 08 Dec 2026" in seeded.stdout
    again = slotbot("init", "--example", "field-service", str(folder))
    assert again.returncode != 0 and "already exists" in again.stderr
    assert again.stderr.count("\n") == 1


def test_the_salon_stays_the_default_business() -> None:
    assert load_config(ROOT / "business.toml").name == "Maple & Mane Salon"


def test_the_busiest_day_books_sixty_jobs_for_eight_technicians_that_can_all_be_driven(
    field: Database,
) -> None:
    with field.write() as session:
        jobs = seed_busiest_day(session, BUSIEST)
        ids = [job.id for job in jobs]
    with field.write() as session:
        assert [job.id for job in seed_busiest_day(session, BUSIEST)] == ids  # once only
    with field.read() as session:
        jobs = list(session.scalars(select(Appointment).order_by(Appointment.staff_id,
                                                                 Appointment.starts_at)))  # fmt: skip
        staff = {member.id: member for member in session.scalars(select(Staff))}
        assert len(jobs) == JOBS
        assert len({job.staff_id for job in jobs}) == 8
        durations = {job.service.duration_minutes for job in jobs}
        assert min(durations) == 45 and max(durations) == 180
        for job in jobs:
            assert job.lat is not None and job.place_source == PlaceSource.POSTAL_CODE
            assert job.window_start is not None and job.window_end is not None
            assert job.window_start <= job.starts_at < job.window_end
            assert job.service.skill in staff[job.staff_id].skills
        for before, after in pairwise(jobs):
            if before.staff_id == after.staff_id:
                drive = travel(LatLon(before.lat, before.lon), LatLon(after.lat, after.lon),
                               TravelConfig())  # fmt: skip
                assert (after.starts_at - before.ends_at).total_seconds() >= drive.minutes * 60


# --- booking a visit by chat ---------------------------------------------------------


def test_a_field_visit_asks_where_first_and_offers_arrival_windows(chat: FieldChat) -> None:
    chat.say("I need a drain cleaning tomorrow morning")
    chat.expect("address for the visit", "ZIP code")  # a day given: whoever is free then
    chat.say("2150 W Fulton St, Chicago, IL 60612")
    chat.expect("Here's what I have", "between 9 and 11 AM")
    assert all("between" in label for label in chat.options if " with " in label)
    chat.press("between 9 and 11 AM")
    chat.expect("What name")
    chat.say("Rosa Diaz")
    chat.expect("shall I book this?", "Tue, Dec 8, between 9 and 11 AM", "2150 W Fulton St")
    chat.say("yes")
    chat.expect("You're booked", "between 9 and 11 AM")
    [visit] = booked(chat.db)
    assert visit.place_source == PlaceSource.POSTAL_CODE
    assert visit.window_start == local("2026-12-08 09:00", ZONE)  # windows count from 7:00
    assert visit.window_end == local("2026-12-08 11:00", ZONE)
    assert visit.window_start <= visit.starts_at < visit.window_end


def test_an_address_nobody_can_find_on_the_map_is_asked_again(chat: FieldChat) -> None:
    chat.say("gutter cleaning please")
    chat.say("whoever is free")
    chat.expect("address for the visit")
    chat.say("12 Imaginary Lane, Nowhereville 00000")
    chat.expect("couldn't find that address on the map", "ZIP code")
    chat.say("Okay it is 12 Imaginary Lane, Evanston, IL 60201")
    chat.expect("When would you like")
    assert booked(chat.db) == []


def test_a_shared_location_pin_answers_where_and_the_visit_keeps_it(chat: FieldChat) -> None:
    chat.say("can someone fix an electrical outlet on tuesday")
    chat.expect("share your location")
    chat.share_location(41.9484, -87.6553)  # Wrigley Field
    chat.expect("Here's what I have", "between")
    chat.say("1")
    chat.say("Hank")
    chat.expect("shall I book", "the location you shared")
    chat.say("yes please")
    chat.expect("You're booked")
    [visit] = booked(chat.db)
    assert (visit.lat, visit.lon, visit.place_source) == (41.9484, -87.6553, PlaceSource.PIN)


def test_a_pin_shared_instead_of_typing_the_address_later_also_counts(field: Database) -> None:
    chat = FieldChat(field, NOW, sender="visitor-field-2")
    chat.say("furnace tune-up with Maria tomorrow afternoon")
    chat.expect("address")
    chat.share_location(41.8789, -87.6359)
    chat.expect("between")
    assert "address" not in chat.text.lower()


@pytest.mark.parametrize(
    "request_text",
    [
        "my drain is blocked, can someone come tuesday morning?",
        "drain cleaning on Tuesday am please",
        "Need a plumber for a leaky faucet tomorrow before noon",
    ],
)
def test_field_visits_are_offered_as_windows_however_they_are_asked_for(
    field: Database, request_text: str
) -> None:
    chat = FieldChat(field, NOW, sender=f"visitor-{zlib.crc32(request_text.encode())}")
    chat.say(request_text)
    if "any preference" in chat.text:
        chat.say("anyone")
    chat.expect("address for the visit")
    chat.say("4410 N Lincoln Ave, Chicago, IL 60625")
    chat.expect("Here's what I have", "between 9 and 11 AM")
    labels = [label for label in chat.options if " with " in label]
    assert labels and all(", between " in label for label in labels)
    assert not any(":15" in label or ":45" in label for label in labels)


def test_an_exact_time_for_a_field_visit_is_promised_as_its_window(chat: FieldChat) -> None:
    chat.say("smoke detector install tomorrow at 10, I'm Omar")
    chat.say("anyone is fine")
    chat.say("1200 W Armitage Ave, Chicago, IL 60614")
    chat.expect("Omar, shall I book this?", "Tue, Dec 8, between 9 and 11 AM")
    chat.say("yes")
    [visit] = booked(chat.db)
    assert visit.starts_at == local("2026-12-08 10:00", ZONE)
    assert visit.window_start == local("2026-12-08 09:00", ZONE)


@pytest.mark.parametrize(
    "nowhere",
    ["5 Fictional Rd, Springfield 00000", "77 Made Up Street, Atlantis, ZZ 99999"],
)
def test_addresses_off_the_map_are_asked_again_and_nothing_is_booked(
    field: Database, nowhere: str
) -> None:
    chat = FieldChat(field, NOW, sender=f"visitor-{zlib.crc32(nowhere.encode())}")
    chat.say("window cleaning wednesday with Luis")
    chat.expect("address for the visit")
    chat.say(nowhere)
    chat.expect("couldn't find that address on the map")
    chat.expect_not("Here's what I have")
    assert booked(field) == []


def test_an_owner_booking_a_visit_for_a_customer_locates_it_from_their_address(
    field: Database,
) -> None:
    with field.write() as session:
        session.add(
            Customer(name="Jane Doe", phone="+13125550299", created_at=NOW,
                     address="3300 N Broadway, Chicago, IL 60657")
        )  # fmt: skip
    owner = Chat(field, NOW, sender="owner")
    owner.say("book Jane Doe 312-555-0299 furnace tune-up with maria tomorrow at 10")
    owner.expect("Book Furnace tune-up with Maria for Jane Doe")
    owner.say("yes")
    owner.expect("Booked:")
    [visit] = booked(field)
    assert visit.place_source == PlaceSource.POSTAL_CODE and visit.lat is not None
