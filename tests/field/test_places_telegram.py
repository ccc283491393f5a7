"""A location shared on Telegram (`message.location`) answers "where's the visit?" and
becomes the visit's coordinates, source "pin"."""

# ruff: noqa: F811  (the fixtures imported from the channel tests are the parameters)
from __future__ import annotations

from sqlalchemy import select

from storage.models import Appointment
from tests.fakes.telegram_api import location_update, text_update
from tests.messaging.test_telegram import CHAT, app, db, fake, post  # noqa: F401


def test_a_telegram_location_answers_the_address_question_and_locates_the_visit(
    client,
    db,
    fake,
) -> None:
    post(client, text_update(CHAT, "home visit haircut with Sam on wednesday at 10, I'm Ann"))
    assert "address for the visit" in fake.messages(CHAT)[-1]["text"]
    post(client, location_update(CHAT, 40.7191, -73.9973))
    summary = fake.messages(CHAT)[-1]["text"]
    assert "shall I book" in summary and "the location you shared" in summary
    post(client, text_update(CHAT, "yes"))
    with db.read() as session:
        visit = session.scalars(select(Appointment)).one()
        assert (visit.lat, visit.lon, visit.place_source) == (40.7191, -73.9973, "pin")
