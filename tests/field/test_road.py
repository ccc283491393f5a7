"""Staff on the job and on the road: the day's jobs with where and what to know, "on my way"
with an arrival time, "running late", "arrived" and "done" stamped and told, time in transit
and on the job on the owner's agenda — by SMS (and a location pin by Telegram)."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot.config import apply_config, load_config
from bot.field import eta
from bot.field.places import LatLon, travel, travel_from_settings
from bot.messaging.messages import Inbound, Location
from bot.messaging.outbox import dispatch_due
from bot.messaging.senders import build_senders
from bot.scheduling.booking import book
from bot.scheduling.timeline import Kind
from conversations.admin.road import late_minutes
from storage.db import Database
from storage.messaging import OutboxMessage
from storage.models import COMPLETED, IN_PROGRESS, AppointmentEvent, Business, Customer
from storage.models import CustomerIdentity as Identity
from tests.conftest import DEMO_CONFIG
from tests.dialogue import Chat
from tests.factories import local, service_id, staff_id
from tests.fakes.twilio_api import FakeTwilio, make_fake_twilio, twilio_env

DAY = "2026-11-17"  # a Tuesday: Sam works 9-17
SAM_SMS = "+12125550101"
SAM_TELEGRAM = "1001"
JANE_PHONE = "+12125550201"
BOB_PHONE = "+12125550202"
JANE_ADDRESS = "55 Water St, Brooklyn, NY 11201"
BOB_ADDRESS = "350 5th Ave, New York, NY 10118"
_pins = itertools.count(1)


class FieldChat(Chat):
    """A chat that can also share a location pin, as Telegram and WhatsApp deliver it."""

    def pin(self, latitude: float, longitude: float) -> None:
        """Share a map pin (no text), like a Telegram location message."""
        self.transcript.append(f"> [pin {latitude}, {longitude}]")
        self.replies = self.engine.handle(
            Inbound(
                channel=self.channel,
                sender=self.sender,
                location=Location(latitude, longitude),
                provider_id=f"pin-{next(_pins)}",
                received_at=self.now,
            )
        )
        self.transcript += [r.text for r in self.replies]


@pytest.fixture
def salon(db: Database) -> Database:
    apply_config(db, load_config(DEMO_CONFIG))
    return db


def customer(db: Database, name: str, phone: str, address: str | None = None, **fields: str) -> int:
    with db.write() as session:
        row = Customer(
            name=name, phone=phone, address=address, created_at=local(DAY + " 07:00"), **fields
        )
        row.notes = fields.get("notes", "")
        session.add(row)
        session.flush()
        session.add(
            Identity(customer_id=row.id, channel="sms", address=phone, created_at=row.created_at)
        )
        return row.id


def home_visit(db: Database, who: int, at: str, service: str = "home-haircut") -> int:
    with db.write() as session:
        outcome = book(
            session,
            customer_id=who,
            service_id=service_id(session, service),
            start=local(f"{DAY} {at}"),
            staff_id=staff_id(session, "sam"),
            now=local(DAY + " 07:00"),
            enforce_rules=False,
        )
        return outcome.appointment.id


def sam(db: Database, at: str, channel: str = "sms") -> FieldChat:
    sender = SAM_SMS if channel == "sms" else SAM_TELEGRAM
    return FieldChat(db, local(f"{DAY} {at}"), channel=channel, sender=sender)


def sent(db: Database, purpose: str) -> list[OutboxMessage]:
    with db.read() as session:
        return list(
            session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.purpose == purpose)
                .order_by(OutboxMessage.id)
            )
        )


def events(db: Database, appointment_id: int, kind: Kind) -> list[AppointmentEvent]:
    with db.read() as session:
        return list(
            session.scalars(
                select(AppointmentEvent)
                .where(
                    AppointmentEvent.appointment_id == appointment_id,
                    AppointmentEvent.kind == kind,
                )
                .order_by(AppointmentEvent.id)
            )
        )


def clock(moment: datetime) -> str:
    return moment.astimezone(local(DAY + " 00:00").tzinfo).strftime("%-I:%M %p")


def drive_minutes(db: Database, a: str, b: str) -> int:
    """The drive bot.field.places gives between two addresses (the figure the ETA must use)."""
    with db.write() as session:
        settings = dict(session.get(Business, 1).settings)
        here = eta.place_of_address(session, a, travel_from_settings(settings))
        there = eta.place_of_address(session, b, travel_from_settings(settings))
        return travel(here, there, travel_from_settings(settings)).minutes


# ------------------------------------------------------------------------------ the day


@pytest.mark.parametrize("asks", ["today", "my jobs", "what's on today?", "/today"])
def test_staff_see_each_jobs_address_with_a_maps_link_access_and_client_notes(salon, asks):
    jane = customer(
        salon,
        "Jane Doe",
        JANE_PHONE,
        JANE_ADDRESS,
        notes="Prefers scissors, no clippers",
        access_notes="Buzz 4B, the lift is at the back",
    )
    home_visit(salon, jane, "10:00")
    chat = sam(salon, "08:30")
    chat.say(asks)
    chat.expect(
        "10:00 AM Home visit haircut · Jane Doe",
        JANE_ADDRESS,
        "https://www.google.com/maps/search/?api=1&query=55+Water+St%2C+Brooklyn%2C+NY+11201",
        "Access: Buzz 4B, the lift is at the back",
        "Notes: Prefers scissors, no clippers",
    )


def test_tomorrows_jobs_show_where_to_go_too(salon):
    jane = customer(salon, "Jane Doe", JANE_PHONE, JANE_ADDRESS)
    with salon.write() as session:
        book(
            session,
            customer_id=jane,
            service_id=service_id(session, "home-haircut"),
            start=local("2026-11-18 11:00"),
            staff_id=staff_id(session, "sam"),
            now=local(DAY + " 07:00"),
            enforce_rules=False,
        )
    chat = sam(salon, "16:00")
    chat.say("tomorrow")
    chat.expect("Jane Doe", JANE_ADDRESS, "google.com/maps")


def test_staff_and_owners_can_keep_access_notes_that_show_with_the_job(salon):
    jane = customer(salon, "Jane Doe", JANE_PHONE, JANE_ADDRESS)
    home_visit(salon, jane, "10:00")
    owner = Chat(salon, local(DAY + " 08:00"), channel="telegram", sender="1000")
    owner.say("access Jane Doe: gate code 4321, dog in the yard")
    owner.expect("Access notes for Jane Doe: gate code 4321")
    chat = sam(salon, "08:30")
    chat.say("access: key under the mat")
    chat.expect("Access notes for Jane Doe: key under the mat")
    chat.say("today")
    chat.expect("Access: key under the mat")
    owner.say("customer jane")
    owner.expect("Access: key under the mat")
    with salon.read() as session:
        assert session.get(Customer, jane).access_notes == "key under the mat"


# ----------------------------------------------------------------------- on the road


def test_on_my_way_gives_the_customer_an_arrival_time_from_the_previous_jobs_address(salon):
    first = home_visit(salon, customer(salon, "Bob Stone", BOB_PHONE, BOB_ADDRESS), "09:30")
    jane_visit = home_visit(salon, customer(salon, "Jane Doe", JANE_PHONE, JANE_ADDRESS), "13:30")
    chat = sam(salon, "09:25")
    chat.say("arrived")
    chat.wait(minutes=60)
    chat.say("done")
    chat.now = local(f"{DAY} 12:55")
    chat.say("on my way")
    minutes = drive_minutes(salon, BOB_ADDRESS, JANE_ADDRESS)
    arrive = eta.rounded_up(chat.now + timedelta(minutes=minutes))
    assert 5 <= minutes <= 40  # Midtown to Brooklyn Heights, by the default estimate
    chat.expect(
        f"Told Jane Doe you're on the way, arriving about {clock(arrive)}",
        f"{minutes} min from the previous job, estimated",
    )
    [notice] = sent(salon, "en_route")
    assert notice.address == JANE_PHONE and notice.ref_id == jane_visit
    assert notice.body["text"] == (
        f"Sam from Maple & Mane Salon is on the way, arriving about {clock(arrive)}."
    )
    [event] = events(salon, jane_visit, Kind.ON_THE_WAY)
    assert event.detail["origin"] == "the previous job" and event.detail["minutes"] == minutes
    assert datetime.fromisoformat(event.detail["eta"]) == arrive
    assert events(salon, first, Kind.COMPLETED)


def test_the_first_job_of_the_day_is_timed_from_the_shop(salon):
    visit = home_visit(salon, customer(salon, "Jane Doe", JANE_PHONE, JANE_ADDRESS), "10:00")
    chat = sam(salon, "09:30")
    chat.say("omw")
    chat.expect("Told Jane Doe you're on the way, arriving about", "from the shop")
    [event] = events(salon, visit, Kind.ON_THE_WAY)
    assert event.detail["origin"] == "the shop"


def test_a_shared_location_pin_times_the_drive_from_where_the_staff_member_is(salon):
    visit = home_visit(salon, customer(salon, "Jane Doe", JANE_PHONE, JANE_ADDRESS), "13:30")
    chat = sam(salon, "12:40", channel="telegram")
    chat.pin(40.7580, -73.9855)  # Times Square
    chat.expect("Got your location")
    chat.wait(minutes=2)
    chat.say("heading to Jane now")
    with salon.write() as session:
        settings = dict(session.get(Business, 1).settings)
        there = eta.place_of_address(session, JANE_ADDRESS, travel_from_settings(settings))
        drive = travel(LatLon(40.7580, -73.9855), there, travel_from_settings(settings))
    chat.expect(f"{drive.minutes} min from your location")
    [event] = events(salon, visit, Kind.ON_THE_WAY)
    assert event.detail["origin"] == "your location"
    assert (event.detail["latitude"], event.detail["longitude"]) == (40.7580, -73.9855)
    assert "arriving about" in sent(salon, "en_route")[0].body["text"]


def test_saying_on_my_way_twice_tells_the_customer_once(salon):
    home_visit(salon, customer(salon, "Jane Doe", JANE_PHONE, JANE_ADDRESS), "10:00")
    chat = sam(salon, "09:30")
    chat.say("on my way")
    chat.say("on the way")
    chat.expect("already knows you're on the way", "running late 15")
    assert len(sent(salon, "en_route")) == 1


@pytest.mark.parametrize(
    "says",
    [
        "running late 20",
        "20 min late",
        "stuck in traffic, 20 minutes",
        "sorry, running about 20 minutes behind",
    ],
)
def test_running_late_tells_the_customer_the_new_time(salon, says):
    visit = home_visit(salon, customer(salon, "Jane Doe", JANE_PHONE, JANE_ADDRESS), "10:00")
    chat = sam(salon, "09:40")
    chat.say(says)
    chat.expect("Told Jane Doe you're running 20 min late: arriving about 10:20 AM")
    [notice] = sent(salon, "running_late")
    assert notice.address == JANE_PHONE
    assert "running about 20 minutes late" in notice.body["text"]
    assert "10:20 AM" in notice.body["text"]
    [event] = events(salon, visit, Kind.RUNNING_LATE)
    assert event.detail["minutes"] == 20


def test_late_after_on_my_way_moves_the_promised_time_on_and_each_notice_is_sent(salon):
    visit = home_visit(salon, customer(salon, "Jane Doe", JANE_PHONE, JANE_ADDRESS), "10:00")
    chat = sam(salon, "09:30")
    chat.say("on my way")
    [promised] = events(salon, visit, Kind.ON_THE_WAY)
    first = datetime.fromisoformat(promised.detail["eta"])
    chat.wait(minutes=5)
    chat.say("15 min late")
    chat.expect(f"arriving about {clock(first + timedelta(minutes=15))}")
    chat.wait(minutes=5)
    chat.say("held up again, another 10")
    chat.expect(f"arriving about {clock(first + timedelta(minutes=25))}")
    assert len(sent(salon, "running_late")) == 2


def test_late_without_a_number_asks_how_late(salon):
    home_visit(salon, customer(salon, "Jane Doe", JANE_PHONE, JANE_ADDRESS), "10:00")
    chat = sam(salon, "09:40")
    chat.say("running late")
    chat.expect("How late?")
    assert sent(salon, "running_late") == []


def test_arrived_tells_the_customer_and_arrival_and_finish_carry_time_and_location(salon):
    visit = home_visit(salon, customer(salon, "Jane Doe", JANE_PHONE, JANE_ADDRESS), "10:00")
    chat = sam(salon, "09:58", channel="telegram")
    chat.pin(40.7033, -73.9881)
    chat.wait(minutes=1)
    chat.say("I'm here")
    chat.expect("in progress", "Told Jane Doe you're here", "stamped with your location")
    [notice] = sent(salon, "arrived")
    assert notice.address == JANE_PHONE and "has arrived" in notice.body["text"]
    [arrival] = events(salon, visit, Kind.ARRIVED)
    assert arrival.at == local(f"{DAY} 09:59") and arrival.to_status == IN_PROGRESS
    assert (arrival.detail["latitude"], arrival.detail["longitude"]) == (40.7033, -73.9881)
    chat.wait(minutes=55)
    chat.pin(40.7034, -73.9880)
    chat.say("finished")
    chat.expect("completed", "Time on the job: 55 min", "Finish stamped with your location")
    [finish] = events(salon, visit, Kind.COMPLETED)
    assert finish.to_status == COMPLETED and finish.detail["latitude"] == 40.7034


def test_arriving_without_a_pin_is_stamped_with_the_time_only(salon):
    visit = home_visit(salon, customer(salon, "Jane Doe", JANE_PHONE, JANE_ADDRESS), "10:00")
    chat = sam(salon, "10:02")
    chat.say("arrived")
    chat.expect("in progress", "Told Jane Doe you're here")
    chat.expect_not("location")
    [arrival] = events(salon, visit, Kind.ARRIVED)
    assert arrival.at == local(f"{DAY} 10:02") and "latitude" not in arrival.detail


def test_an_in_shop_job_does_not_text_the_customer_on_arrival(salon):
    visit = home_visit(salon, customer(salon, "Jane Doe", JANE_PHONE), "10:00", service="haircut")
    chat = sam(salon, "10:00")
    chat.say("arrived")
    chat.expect("in progress")
    assert sent(salon, "arrived") == []
    assert events(salon, visit, Kind.ARRIVED)


def test_a_pin_that_is_no_place_on_earth_is_ignored(salon):
    home_visit(salon, customer(salon, "Jane Doe", JANE_PHONE, JANE_ADDRESS), "10:00")
    chat = sam(salon, "09:30", channel="telegram")
    chat.pin(123.0, 500.0)
    chat.say("on my way")
    chat.expect("from the shop")


# ----------------------------------------------------------------- transit and job time


def _a_day_on_the_road(salon: Database) -> tuple[int, int]:
    bob = home_visit(salon, customer(salon, "Bob Stone", BOB_PHONE, BOB_ADDRESS), "09:30")
    jane = home_visit(salon, customer(salon, "Jane Doe", JANE_PHONE, JANE_ADDRESS), "13:30")
    chat = sam(salon, "09:00")
    for wait, says in [
        (0, "on my way"),
        (25, "arrived"),
        (60, "done"),
        (150, "omw"),  # 12:55
        (30, "arrived"),
        (45, "done"),
    ]:
        chat.wait(minutes=wait)
        chat.say(says)
    return bob, jane


@pytest.mark.parametrize("asks", ["today", "agenda", "/today"])
def test_the_owners_agenda_shows_time_in_transit_and_on_the_job_per_job_and_per_day(salon, asks):
    _a_day_on_the_road(salon)
    owner = Chat(salon, local(f"{DAY} 17:00"), channel="telegram", sender="1000")
    owner.say(asks)
    owner.expect(
        "9:30 AM Home visit haircut · Bob Stone (completed)",
        "Drive 25 min, on the job 1 h",
        "1:30 PM Home visit haircut · Jane Doe (completed)",
        "Drive 30 min, on the job 45 min",
        "Sam's day: driving 55 min, on jobs 1 h 45 min",
    )


def test_staff_see_their_own_times_on_their_day(salon):
    _a_day_on_the_road(salon)
    chat = sam(salon, "17:30")
    chat.say("my schedule")
    chat.expect("Your day: driving 55 min, on jobs 1 h 45 min")


def test_customer_notices_reach_the_fake_twilio_as_sms(salon):
    _a_day_on_the_road(salon)
    with make_fake_twilio() as fake:
        dispatch_due(salon, build_senders(twilio_env(fake)), now=local(f"{DAY} 17:00"))
        to_jane = _bodies(fake, JANE_PHONE)
        to_bob = _bodies(fake, BOB_PHONE)
    assert any("is on the way, arriving about" in b for b in to_jane), to_jane
    assert any("has arrived" in b for b in to_jane), to_jane
    assert any("is on the way, arriving about" in b for b in to_bob), to_bob


def _bodies(fake: FakeTwilio, phone: str) -> list[str]:
    return [m["body"] for m in fake.to(phone)]


def test_an_arrival_that_mentions_traffic_is_an_arrival(salon):
    visit = home_visit(salon, customer(salon, "Jane Doe", JANE_PHONE, JANE_ADDRESS), "10:00")
    chat = sam(salon, "10:12")
    chat.say("arrived, traffic was awful")
    chat.expect("in progress", "Told Jane Doe you're here")
    assert events(salon, visit, Kind.ARRIVED) and sent(salon, "running_late") == []


def test_on_my_way_but_late_sends_the_late_time_and_starts_the_transit_clock(salon):
    visit = home_visit(salon, customer(salon, "Jane Doe", JANE_PHONE, JANE_ADDRESS), "10:00")
    chat = sam(salon, "09:45")
    chat.say("on my way, about 10 min late")
    chat.expect("running 10 min late: arriving about 10:10 AM")
    chat.wait(minutes=25)
    chat.say("arrived")
    owner = Chat(salon, local(f"{DAY} 10:30"), channel="telegram", sender="1000")
    owner.say("today")
    owner.expect("Drive 25 min")
    assert len(events(salon, visit, Kind.ON_THE_WAY)) == 1


@pytest.mark.parametrize(
    ("says", "minutes"),
    [
        ("running late 20", 20),
        ("15 min late", 15),
        ("half an hour behind", 30),
        ("an hour late, sorry", 60),
        ("1 hr late", 60),
        ("ten minutes late", 10),
        ("running late", None),
    ],
)
def test_how_late_a_message_says(says, minutes):
    assert late_minutes(says) == minutes
