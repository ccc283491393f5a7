"""A field visit promised as an arrival window is shown to the customer as that window
everywhere they see it: the confirmation, "my appointments", the .ics and the portal."""

from __future__ import annotations

from html import unescape

import time_machine
from flask import Flask
from icalendar import Calendar
from sqlalchemy import select

from bot.config.context import business_context
from bot.customers.portal import issue_link
from bot.messaging.notify import calendar_file
from storage.db import Database
from storage.messaging import OutboxMessage
from storage.models import Appointment, Customer
from tests.dialogue import Chat
from tests.field_day import NOW, ZONE, seed

ADDRESS = "4600 N Broadway, Chicago, IL 60640"


def book_on_wednesday(db: Database) -> tuple[Chat, Appointment]:
    """Rosa books a boiler service for the day after the busy Tuesday, by chat."""
    chat = Chat(db, NOW, channel="web", sender="visitor-rosa")
    chat.say("I need a boiler service on wednesday morning")
    chat.say("anyone")
    chat.say(ADDRESS)
    chat.expect("Here's what I have", "between")
    chat.say("1")
    chat.say("Rosa Diaz")
    chat.say("yes")
    chat.expect("You're booked", "between")
    with db.read() as session:
        customer = session.scalars(select(Customer).where(Customer.name == "Rosa Diaz")).one()
        job = session.scalars(
            select(Appointment).where(Appointment.customer_id == customer.id)
        ).one()
        assert job.window_start is not None and job.window_end is not None
        assert job.window_start <= job.starts_at < job.window_end
        session.expunge(job)
    return chat, job


def test_the_confirmation_and_my_appointments_say_the_window_not_a_minute(db: Database) -> None:
    seed(db)
    chat, job = book_on_wednesday(db)
    with db.read() as session:
        confirmation = session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.ref_id == job.id, OutboxMessage.purpose == "confirmation"
            )
        ).first()
    assert confirmation is not None and "between" in confirmation.body["text"]
    chat.say("my appointments")
    chat.expect("Boiler service with", "Wed, Dec 9, between")
    exact = job.starts_at.astimezone(ZONE).strftime("%-I:%M %p")
    if job.starts_at != job.window_start:
        chat.expect_not(exact)


def test_the_calendar_file_spans_the_window_and_names_it(db: Database) -> None:
    seed(db)
    _, job = book_on_wednesday(db)
    with db.read() as session:
        appointment = session.get(Appointment, job.id)
        ics = calendar_file(session, appointment, business_context(session), now=NOW)
    event = next(c for c in Calendar.from_ical(ics.data).walk("VEVENT"))
    assert event.decoded("dtstart") == job.window_start
    assert event.decoded("dtend") == job.window_end + (job.ends_at - job.starts_at)
    assert "between" in str(event["summary"])
    assert "arrives" in str(event["description"]) and "75 min" in str(event["description"])


def test_a_salon_appointment_keeps_its_exact_times_in_the_calendar_file(db: Database) -> None:
    seed(db)
    _, job = book_on_wednesday(db)
    with db.write() as session:
        appointment = session.get(Appointment, job.id)
        appointment.window_start = appointment.window_end = None
        session.flush()
        ics = calendar_file(session, appointment, business_context(session), now=NOW)
    event = next(c for c in Calendar.from_ical(ics.data).walk("VEVENT"))
    assert event.decoded("dtstart") == job.starts_at and event.decoded("dtend") == job.ends_at
    assert "between" not in str(event["summary"])


def test_the_portal_lists_the_visit_with_its_window(app: Flask) -> None:
    db = app.extensions["slotbot.db"]
    seed(db)
    _, job = book_on_wednesday(db)
    with db.write() as session:
        url = issue_link(session, customer_id=job.customer_id, role="customer", now=NOW)
    with time_machine.travel(NOW, tick=False):
        page = app.test_client().get("/" + url.split("/", 3)[3])
    assert page.status_code == 200
    html = unescape(page.get_data(as_text=True))
    assert "Boiler service" in html and "Wed, Dec 9, between" in html
