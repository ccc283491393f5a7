"""A location pin shared on WhatsApp (Twilio's Latitude/Longitude fields) reaches the booking
and becomes the visit's coordinates, source "pin"."""

# ruff: noqa: F811  (the fixtures imported from the channel tests are the parameters)
from __future__ import annotations

from sqlalchemy import select

from storage.models import Appointment
from tests.messaging.test_twilio_webhooks import PHONE, app, db, fake, form, post  # noqa: F401

WHATSAPP = f"whatsapp:{PHONE}"


def test_a_whatsapp_pin_answers_the_address_question_and_locates_the_visit(
    client,
    db,
    fake,
) -> None:
    post(client, form(body="home visit haircut with Sam next wednesday at 10, I'm Ann",
                      whatsapp=True), "/twilio/whatsapp")  # fmt: skip
    assert "address for the visit" in fake.to(WHATSAPP)[-1]["body"]
    pin = {"Latitude": "40.7191", "Longitude": "-73.9973", "Label": "Home"}
    post(client, form(body="", whatsapp=True, MessageType="location", **pin), "/twilio/whatsapp")
    summary = fake.to(WHATSAPP)[-1]["body"]
    assert "shall I book" in summary and "the location you shared" in summary
    post(client, form(body="yes", whatsapp=True), "/twilio/whatsapp")
    with db.read() as session:
        visit = session.scalars(select(Appointment)).one()
        assert (visit.lat, visit.lon, visit.place_source) == (40.7191, -73.9973, "pin")
