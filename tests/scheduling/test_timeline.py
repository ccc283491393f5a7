"""The event log of an appointment: booked, moved, reassigned, reminded, confirmed, on the way,
arrived, completed, paid — each recorded where it happens, read back in the owner's chat
("history Jane", "history #12") and on the dashboard's appointment page (and in Chromium)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from html import unescape

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from bot.config import apply_config, load_config
from bot.customers.portal import issue_link
from bot.engagement.reminders import queue_reminders
from bot.messaging.messages import Inbound, Location
from bot.scheduling.booking import book, reschedule
from bot.scheduling.timeline import Kind
from storage.billing import Invoice
from storage.db import Database
from storage.models import AppointmentEvent, Customer, CustomerIdentity
from tests.browser import chromium_page, live_server
from tests.conftest import DEMO_CONFIG
from tests.customers.test_portal import path_of
from tests.dialogue import Chat
from tests.factories import local, service_id, staff_id

JANE = "+12125550201"
ADDRESS = "55 Water St, Brooklyn, NY 11201"
BOOKED_AT = local("2026-11-16 09:00")  # Monday
OWNER = ("telegram", "1000")

EVERY_KIND = [
    Kind.BOOKED,
    Kind.MOVED,
    Kind.REASSIGNED,
    Kind.REMINDED,
    Kind.CONFIRMED,
    Kind.ON_THE_WAY,
    Kind.ARRIVED,
    Kind.COMPLETED,
    Kind.PAID,
]


def _jane(db: Database) -> int:
    with db.write() as session:
        row = Customer(
            name="Jane Doe",
            phone=JANE,
            address=ADDRESS,
            created_at=BOOKED_AT,
            notes="Prefers scissors",
            access_notes="Buzz 4B",
        )
        session.add(row)
        session.flush()
        session.add(
            CustomerIdentity(customer_id=row.id, channel="sms", address=JANE, created_at=BOOKED_AT)
        )
        return row.id


def live_a_whole_appointment(db: Database) -> int:
    """Book, move to another day and staff member, remind, confirm, work it, get paid."""
    jane = _jane(db)
    with db.write() as session:
        booked = book(
            session,
            customer_id=jane,
            service_id=service_id(session, "haircut"),
            start=local("2026-11-19 15:00"),
            staff_id=staff_id(session, "alex"),
            now=BOOKED_AT,
            actor="customer",
            enforce_rules=False,
        )
        appointment_id = booked.appointment.id
    with db.write() as session:
        moved = reschedule(
            session,
            appointment_id,
            new_start=local("2026-11-17 10:00"),
            staff_id=staff_id(session, "sam"),
            now=BOOKED_AT + timedelta(minutes=30),
            actor="owner:telegram:1000",
            enforce_rules=False,
        )
        assert moved.appointment.staff.name == "Sam Rivera"
    with db.write() as session:
        assert queue_reminders(session, local("2026-11-16 10:00"))
    customer = Chat(db, local("2026-11-16 10:05"), channel="sms", sender=JANE)
    customer.say("confirm")
    customer.expect("confirmed")
    sam = Chat(db, local("2026-11-17 09:30"), channel="sms", sender="+12125550101")
    for wait, says in [(0, "on my way"), (20, "arrived"), (45, "done")]:
        sam.wait(minutes=wait)
        sam.say(says)
    with db.read() as session:
        invoice = session.scalars(
            select(Invoice).where(Invoice.appointment_id == appointment_id)
        ).one()
        number = invoice.number
    owner = Chat(db, local("2026-11-17 11:00"), channel=OWNER[0], sender=OWNER[1])
    owner.say(f"mark {number} paid 45 cash")
    if "?" in owner.text:  # asked to confirm
        owner.say("yes")
    owner.expect("45.00")
    return appointment_id


@pytest.fixture
def salon(db: Database) -> Database:
    apply_config(db, load_config(DEMO_CONFIG))
    return db


def test_every_step_of_an_appointments_life_is_in_its_event_log_in_order(salon):
    appointment_id = live_a_whole_appointment(salon)
    with salon.read() as session:
        log = list(
            session.scalars(
                select(AppointmentEvent)
                .where(AppointmentEvent.appointment_id == appointment_id)
                .order_by(AppointmentEvent.at, AppointmentEvent.id)
            )
        )
    assert [e.kind for e in log] == EVERY_KIND
    by_kind = {e.kind: e for e in log}
    assert by_kind[Kind.MOVED].old_starts_at == local("2026-11-19 15:00")
    assert by_kind[Kind.MOVED].new_starts_at == local("2026-11-17 10:00")
    assert by_kind[Kind.REMINDED].detail == {"channel": "sms"}
    assert by_kind[Kind.CONFIRMED].actor == "customer"
    assert by_kind[Kind.ON_THE_WAY].actor == "staff:sms:+12125550101"
    assert by_kind[Kind.PAID].detail["amount_minor"] == 4500
    assert by_kind[Kind.PAID].detail["method"] == "cash"


@pytest.mark.parametrize("asks", ["history jane", "history Jane Doe", "/history jane", "log jane"])
def test_the_owner_reads_a_customers_visit_history_as_its_event_log(salon, asks):
    live_a_whole_appointment(salon)
    owner = Chat(salon, local("2026-11-17 12:00"), channel=OWNER[0], sender=OWNER[1])
    owner.say("customer jane")
    owner.expect('Say "history Jane"')
    owner.say(asks)
    owner.expect(
        "Haircut, Tue, Nov 17, 10:00 AM:",
        "Mon, Nov 16, 9:00 AM: Booked (the customer)",
        "Moved from Thu, Nov 19, 3:00 PM to Tue, Nov 17, 10:00 AM (the owner)",
        "Reassigned from Alex to Sam (the owner)",
        "Reminder sent by SMS",
        "Confirmed (the customer)",
        "On the way (Sam)",
        "Arrived, job started (Sam)",
        "Completed (Sam)",
        "Paid $45.00 on INV-",
        "by cash (the owner)",
    )


def test_the_owner_reads_one_appointments_log_by_number(salon):
    appointment_id = live_a_whole_appointment(salon)
    owner = Chat(salon, local("2026-11-17 12:00"), channel=OWNER[0], sender=OWNER[1])
    owner.say(f"history #{appointment_id}")
    owner.expect(f"#{appointment_id} Haircut", "Reassigned from Alex to Sam", "Paid $45.00")
    owner.say("history #9999")
    owner.expect("No appointment #9999")


def test_staff_cannot_read_the_event_log(salon):
    live_a_whole_appointment(salon)
    sam = Chat(salon, local("2026-11-17 12:00"), channel="sms", sender="+12125550101")
    sam.say("history jane")
    sam.expect_not("Reassigned", "Paid")


# ---------------------------------------------------------------------------- dashboard


@pytest.fixture
def lived(app: Flask) -> Iterator[tuple[Database, int]]:
    db = app.extensions["slotbot.db"]
    with time_machine.travel(local("2026-11-17 12:00"), tick=False):
        yield db, live_a_whole_appointment(db)


def _owner_path(db: Database) -> str:
    with db.write() as session:
        url = issue_link(
            session,
            customer_id=None,
            role="owner",
            now=local("2026-11-17 12:00"),
            ttl=timedelta(days=30),
        )
    return path_of(url)


def test_the_dashboards_appointment_page_shows_the_job_and_its_event_log(
    client: FlaskClient, lived: tuple[Database, int]
) -> None:
    db, appointment_id = lived
    base = _owner_path(db)
    response = client.get(f"{base}/appointments/{appointment_id}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = unescape(response.get_data(as_text=True))
    for fragment in [
        "Haircut · Jane Doe",
        "Sam Rivera",
        "Buzz 4B",
        "Prefers scissors",
        "Moved from Thu, Nov 19, 3:00 PM to Tue, Nov 17, 10:00 AM",
        "Reassigned from Alex to Sam",
        "Reminder sent by SMS",
        "On the way",
        "Arrived, job started",
        "Completed",
        "Paid $45.00",
        "20 min",  # in transit
        "45 min",  # on the job
    ]:
        assert fragment in html, fragment
    day = client.get(f"{base}/day/2026-11-17")
    day_html = unescape(day.get_data(as_text=True))
    assert f"/appointments/{appointment_id}" in day_html
    assert "Drive 20 min · on the job 45 min" in day_html
    assert "Driving 20 min · on jobs 45 min" in day_html
    assert client.get(f"{base}/appointments/99999").status_code == 404
    assert client.get(f"/dashboard/not-a-token/appointments/{appointment_id}").status_code in (
        403,
        404,
        410,
    )


def test_the_appointment_page_in_chromium(app: Flask, lived, artifacts) -> None:
    db, appointment_id = lived
    base = _owner_path(db)
    with live_server(app) as root, chromium_page(viewport={"width": 1100, "height": 1400}) as page:
        page.goto(f"{root}{base}/appointments/{appointment_id}")
        log = page.locator("table.event-log tbody tr")
        assert log.count() == len(EVERY_KIND)
        assert "Reassigned from Alex to Sam" in log.nth(2).inner_text()
        page.screenshot(path=str(artifacts / "appointment_event_log.png"), full_page=True)


def test_a_home_visits_page_has_the_address_a_maps_link_and_the_arrival_pin(
    app: Flask, client: FlaskClient
) -> None:
    db = app.extensions["slotbot.db"]
    jane = _jane(db)
    with db.write() as session:
        visit = book(
            session,
            customer_id=jane,
            service_id=service_id(session, "home-haircut"),
            start=local("2026-11-17 11:00"),
            staff_id=staff_id(session, "sam"),
            now=BOOKED_AT,
            enforce_rules=False,
        ).appointment.id
    sam = Chat(db, local("2026-11-17 10:58"), channel="telegram", sender="1001")
    sam.engine.handle(
        Inbound(
            channel="telegram",
            sender="1001",
            location=Location(40.7033, -73.9881),
            provider_id="pin-page-1",
            received_at=sam.now,
        )
    )
    sam.say("arrived")
    sam.expect("stamped with your location")
    with time_machine.travel(local("2026-11-17 12:00"), tick=False):
        html = unescape(
            client.get(f"{_owner_path(db)}/appointments/{visit}").get_data(as_text=True)
        )
    assert ADDRESS in html
    assert "https://www.google.com/maps/search/?api=1&query=55+Water+St%2C+Brooklyn" in html
    assert "Arrived, job started (location shared)" in html
    assert "https://www.google.com/maps/search/?api=1&query=40.703300,-73.988100" in html


def test_a_change_of_staff_at_the_same_time_reads_as_a_reassignment_only(salon):
    jane = _jane(salon)
    with salon.write() as session:
        appointment = book(
            session,
            customer_id=jane,
            service_id=service_id(session, "haircut"),
            start=local("2026-11-17 11:00"),
            staff_id=staff_id(session, "sam"),
            now=BOOKED_AT,
            enforce_rules=False,
        ).appointment
        reschedule(
            session,
            appointment.id,
            new_start=local("2026-11-17 11:00"),
            staff_id=staff_id(session, "alex"),
            now=BOOKED_AT + timedelta(hours=1),
            actor="owner:telegram:1000",
            enforce_rules=False,
        )
    owner = Chat(salon, local("2026-11-16 12:00"), channel=OWNER[0], sender=OWNER[1])
    owner.say("history jane")
    owner.expect("Reassigned from Sam to Alex (the owner)")
    owner.expect_not("Moved from")
