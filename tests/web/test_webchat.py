"""The web chat: its JSON API, and a whole booking by clicking buttons in real Chromium."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import time_machine
from sqlalchemy import select

from storage.models import Appointment
from tests.browser import chromium_page, live_server

# Monday 16 November 2026, 10:00 in New York.
MONDAY = datetime(2026, 11, 16, 10, 0, tzinfo=ZoneInfo("America/New_York"))


def test_the_chat_api_answers_and_returns_messages_since_after(client):
    first = client.post("/api/chat", json={"session": "api-test-01", "text": "hi"}).get_json()
    assert first["messages"] and "Maple & Mane" in first["messages"][0]["text"]
    assert first["messages"][0]["options"][0] == {"id": "book", "label": "Book an appointment"}
    again = client.get(f"/api/chat/messages?session=api-test-01&after={first['after']}")
    assert again.get_json()["messages"] == []


def test_a_retried_post_with_the_same_message_id_is_handled_once(client):
    body = {"session": "api-test-02", "text": "hi", "message_id": "m-1"}
    first = client.post("/api/chat", json=body).get_json()
    second = client.post("/api/chat", json={**body, "after": first["after"]}).get_json()
    assert first["messages"] and second["messages"] == []


def test_bad_chat_requests_get_a_4xx_not_a_500(client):
    assert client.post("/api/chat", data="not json").status_code == 400
    assert client.post("/api/chat", json={"session": "x", "text": "hi"}).status_code == 400
    assert client.post("/api/chat", json={"session": "abcdefgh", "text": 5}).status_code == 400
    assert client.post("/api/chat", json={"owner_key": "wrong", "text": "hi"}).status_code == 403
    assert client.get("/api/chat/messages?session=abcdefgh&after=x").status_code == 400


def test_the_owner_key_signs_in_as_the_owner_address(client):
    response = client.post("/api/chat", json={"owner_key": "demo-owner-key", "text": "hi"})
    assert response.status_code == 200


def test_booking_by_clicking_buttons_in_chromium(app, artifacts):
    with (
        time_machine.travel(MONDAY, tick=True),
        live_server(app) as base,
        chromium_page(viewport={"width": 390, "height": 844}) as page,
    ):
        page.goto(base + "/")
        page.get_by_role("button", name="Book an appointment").click()
        page.get_by_role("button", name="Haircut", exact=True).click()
        page.get_by_role("button", name="Sam").click()
        page.get_by_label("Your message").fill("tomorrow afternoon")
        page.get_by_role("button", name="Send").click()
        page.locator("button[data-option^='slot:']").first.click()
        page.get_by_label("Your message").fill("Jane Smith")
        page.get_by_role("button", name="Send").click()
        page.get_by_role("button", name="Yes, book it").click()
        page.get_by_text("You're booked").first.wait_for()
        page.screenshot(path=str(artifacts / "webchat-booking.png"), full_page=True)
    with app.extensions["slotbot.db"].read() as session:
        [booked] = session.scalars(select(Appointment)).all()
        assert booked.customer.name == "Jane Smith"
        assert booked.staff.name == "Sam Rivera"


def test_a_message_scheduled_for_later_waits_for_its_time(app, client):
    from datetime import timedelta

    from bot.core.clock import utcnow
    from bot.messaging.messages import Reply
    from bot.messaging.outbox import enqueue

    with app.extensions["slotbot.db"].write() as session:
        enqueue(
            session,
            channel="web",
            address="later-test-01",
            reply=Reply("Reminder: tomorrow"),
            send_at=utcnow() + timedelta(hours=3),
        )
    body = client.get("/api/chat/messages?session=later-test-01&after=0").get_json()
    assert body["messages"] == []
